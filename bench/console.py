"""How long the web console takes to show a project, in one run: a member logs in (headless chromium) and the
page has read every object and the counters and drawn the graph, with 10 ports in the project (the anchor)
and with 1,000.

    .venv/bin/python -m bench.console [--ports 1000] [--runs 3]

A controller without switches on a temporary database; the ports are created over the REST API, unbound.
"""
from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path

from nvapps.lab.browser import console_login, headless_chromium
from nvapps.lab.controller import MEMBER_TOKENS, Controller

PROJECT = "tenant-a"


def load_times(ports: int, runs: int) -> list[float]:
    """Seconds from login to the first view drawn, `runs` times, with `ports` ports in the project."""
    with tempfile.TemporaryDirectory(prefix="nvconsole-") as workdir:
        ctl = Controller(Path(workdir))
        ctl.start()
        browser = None
        try:
            member = ctl.member(PROJECT)
            net = member.create("network", name="bench")
            member.create("subnet", network_id=net["id"], cidr="10.128.0.0/16", ip_version=4)
            for n in range(ports):
                member.create("port", network_id=net["id"], name=f"p{n}")
            browser = headless_chromium()
            return [console_login(browser, ctl.url, MEMBER_TOKENS[PROJECT]) for _ in range(runs)]
        finally:
            if browser is not None:
                browser.quit()
            ctl.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ports", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    anchor = statistics.median(load_times(10, args.runs))
    measured = statistics.median(load_times(args.ports, args.runs))
    print(f"{'ports in the project':<22} {'page ready (median of ' + str(args.runs) + ')':>26}")
    print(f"{10:<22} {anchor:>25.2f} s")
    print(f"{args.ports:<22} {measured:>25.2f} s   ({measured / anchor:.1f}x the anchor)")


if __name__ == "__main__":
    main()
