#!/usr/bin/env python3
"""The mutation score of each module mutmut has run (issue 18): killed / (killed + survived), from mutants/. A
mutant no test reaches counts as survived; one not checked yet counts for nothing. A survivor that only renames
the label of a cached piece's key (`"member"` -> `"XXmemberXX"` or `"MEMBER"` on a line that keys a piece:
`pieces.get((`, `out["member", ...] =`, Pieces' own namespaces) is equivalent, as labels only keep keys apart: it is counted apart,
and left out of the score. So is one that only changes the message of a refusal (a `raise` whose error's Neutron
type the tests assert: `pytest.raises(MacAddressInUse)`, a 409 with its type), counted as "message" (only
when tests ran it: a mutant no test reaches is never equivalent)."""
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
STRING = re.compile(r'f?"(?:[^"\\]|\\.)*"')
TYPE_NAME = re.compile(r'"[A-Z][A-Za-z]+"')        # a Neutron error type: never a message


def changed_lines(diff: str) -> tuple[list[str], list[str]]:
    """The lines a mutant's diff removes and adds."""
    lines = diff.splitlines()
    return ([line[1:] for line in lines if line.startswith("-") and not line.startswith("---")],
            [line[1:] for line in lines if line.startswith("+") and not line.startswith("+++")])


def changes_a_message(diff: str) -> bool:
    """Whether a mutant's diff only changes (or drops) the message of a refusal: the strings of a `raise` (its
    lines taken together), or of a line that only continues one; its error's class and type stay."""
    removed, added = changed_lines(diff)
    if not removed or len(added) != 1:
        return False
    was, now = " ".join(line.strip() for line in removed), added[0].strip()
    if not (was.startswith("raise ") or STRING.sub("", was).strip(" ),") == "") or "None" in was:
        return False
    blank = STRING.sub('""', was)
    return re.sub(r'""(\s*"")+', '""', blank) == STRING.sub('""', now.replace("(None", '(""', 1)) and \
        TYPE_NAME.findall(was) == TYPE_NAME.findall(now)


def renames_a_label(diff: str) -> bool:
    """Whether a mutant's diff only renames a piece key's label."""
    removed, added = changed_lines(diff)
    if len(removed) != 1 or len(added) != 1 or not KEYS_A_PIECE.search(removed[0]):
        return False
    for label in LABEL.finditer(removed[0]):
        for renamed in (f"XX{label[1]}XX", label[1].upper()):
            if removed[0][:label.start()] + f'"{renamed}"' + removed[0][label.end():] == added[0]:
                return True
    return False


def main(root: Path) -> None:
    print(f"{'module':40s} {'killed':>7s} {'survived':>9s} {'label':>6s} {'message':>8s} {'not run':>8s} {'score':>6s}")
    for meta in sorted(root.glob("nvapps/**/*.py.meta")):
        statuses = {name: status_by_exit_code[code]
                    for name, code in json.loads(meta.read_text()).get("exit_code_by_key", {}).items()}
        source = meta.with_suffix("")
        diffs = [(get_diff_for_mutant(name, path=source.relative_to(root)), s)
                 for name, s in statuses.items() if s in SURVIVED]
        labels = sum(renames_a_label(d) for d, _ in diffs)
        messages = sum(s == "survived" and changes_a_message(d) and not renames_a_label(d) for d, s in diffs)
        killed = sum(s in KILLED for s in statuses.values())
        survived = len(diffs) - labels - messages
        if killed + survived:
            print(f"{str(source.relative_to(root)):40s} {killed:7d} {survived:9d} {labels:6d} {messages:8d} "
                  f"{len(statuses) - killed - len(diffs):8d} {100 * killed / (killed + survived):5.1f}%")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "mutants"))
