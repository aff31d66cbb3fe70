#!/usr/bin/env python3
"""The mutation score of each module mutmut has run (issue 18): killed / (killed + survived), from mutants/. A
mutant no test reaches counts as survived; one not checked yet counts for nothing. A survivor that only renames
the label of a cached piece's key (`"member"` -> `"XXmemberXX"` or `"MEMBER"` on a line that keys a piece:
`pieces.get((`, `out["member", ...] =`, Pieces' own namespaces) is equivalent, as labels only keep keys apart: it is counted apart,
and left out of the score."""
from __future__ import annotations

import json
import re
import sys
from pathlib import Path

from mutmut.mutation.diff_apply import get_diff_for_mutant
from mutmut.stats import status_by_exit_code

KILLED = {"killed", "timeout", "segfault", "caught by type check"}
SURVIVED = {"survived", "no tests"}
KEYS_A_PIECE = re.compile(r"pieces\.(get|group|value)\(|^\s*out\[|\): pieces\.|self\._kept\(|^\s*full = \(")
LABEL = re.compile(r'"([a-z][a-z ]*)"')


def renames_a_label(diff: str) -> bool:
    """Whether a mutant's diff only renames a piece key's label."""
    removed = [line[1:] for line in diff.splitlines() if line.startswith("-") and not line.startswith("---")]
    added = [line[1:] for line in diff.splitlines() if line.startswith("+") and not line.startswith("+++")]
    if len(removed) != 1 or len(added) != 1 or not KEYS_A_PIECE.search(removed[0]):
        return False
    for label in LABEL.finditer(removed[0]):
        for renamed in (f"XX{label[1]}XX", label[1].upper()):
            if removed[0][:label.start()] + f'"{renamed}"' + removed[0][label.end():] == added[0]:
                return True
    return False


def main(root: Path) -> None:
    print(f"{'module':40s} {'killed':>7s} {'survived':>9s} {'label':>6s} {'not run':>8s} {'score':>6s}")
    for meta in sorted(root.glob("nvapps/**/*.py.meta")):
        statuses = {name: status_by_exit_code[code]
                    for name, code in json.loads(meta.read_text()).get("exit_code_by_key", {}).items()}
        source = meta.with_suffix("")
        labels = sum(s in SURVIVED and renames_a_label(get_diff_for_mutant(name, path=source.relative_to(root)))
                     for name, s in statuses.items())
        killed = sum(s in KILLED for s in statuses.values())
        survived = sum(s in SURVIVED for s in statuses.values()) - labels
        if killed + survived:
            print(f"{str(source.relative_to(root)):40s} {killed:7d} {survived:9d} {labels:6d} "
                  f"{len(statuses) - killed - survived - labels:8d} {100 * killed / (killed + survived):5.1f}%")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "mutants"))
