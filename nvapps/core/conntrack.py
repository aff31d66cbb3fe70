"""Conntrack entries by zone kind (GET /metrics): OpenFlow cannot read conntrack, so each chassis's datapath is
dumped with `ovs-appctl dpctl/dump-conntrack` (where --nvapps-ovs-appctl-target reaches its ovs-vswitchd) and
its entries counted by the kind of their zone (nvapps.pipeline.zone_kind). Bridges of one ovs-vswitchd share its
userspace datapath, hence its conntrack: they are read once, together."""
from __future__ import annotations

import re
import subprocess
from collections.abc import Iterable

from nvapps import config, pipeline

TIMEOUT = 10.0
_ZONE = re.compile(r",zone=(\d+)")


def count(dump: str) -> dict[str, int]:
    """Entries of a conntrack dump by zone kind (every kind present, 0 if none)."""
    out = dict.fromkeys([kind for _, kind in pipeline.ZONE_KINDS] + ["none"], 0)
    for line in dump.splitlines():
        if line.strip():
            m = _ZONE.search(line)
            out[pipeline.zone_kind(int(m[1]) if m else 0)] += 1
    return out


def read(chassis: Iterable[str]) -> dict[str, dict[str, int]]:
    """Conntrack entries by zone kind of each datapath the chassis are on, labelled with its chassis' names
    (comma-separated when several bridges share one ovs-vswitchd); a datapath that cannot be read is left out."""
    by_target: dict[tuple[str, ...], list[str]] = {}
    for name in chassis:
        by_target.setdefault(tuple(config.appctl_target(name)), []).append(name)
    out = {}
    for target, names in by_target.items():
        try:
            done = subprocess.run(["ovs-appctl", *target, "dpctl/dump-conntrack"], capture_output=True, text=True,
                                  timeout=TIMEOUT)
        except (OSError, subprocess.TimeoutExpired):
            continue
        if done.returncode == 0:
            out[",".join(sorted(names))] = count(done.stdout)
    return out
