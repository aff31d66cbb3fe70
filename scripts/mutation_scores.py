#!/usr/bin/env python3
"""The mutation score of each module mutmut has run (issue 18): killed / (killed + survived), from mutants/. A
mutant no test reaches counts as survived; one not checked yet counts for nothing."""
from __future__ import annotations

import json
import sys
from pathlib import Path

from mutmut.stats import status_by_exit_code

KILLED = {"killed", "timeout", "segfault", "caught by type check"}
SURVIVED = {"survived", "no tests"}


def main(root: Path) -> None:
    print(f"{'module':40s} {'killed':>7s} {'survived':>9s} {'not run':>8s} {'score':>6s}")
    for meta in sorted(root.glob("nvapps/**/*.py.meta")):
        statuses = [status_by_exit_code[c] for c in json.loads(meta.read_text()).get("exit_code_by_key", {}).values()]
        killed = sum(s in KILLED for s in statuses)
        survived = sum(s in SURVIVED for s in statuses)
        if killed + survived:
            print(f"{str(meta.relative_to(root))[:-5]:40s} {killed:7d} {survived:9d} "
                  f"{len(statuses) - killed - survived:8d} {100 * killed / (killed + survived):5.1f}%")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "mutants"))
