"""Reading what an Open vSwitch bridge really holds (flows, groups, settings) and starting OVS."""
from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass

OVS_CTL = "/usr/share/openvswitch/scripts/ovs-ctl"


def ensure_ovs() -> None:
    """Start ovsdb-server and ovs-vswitchd unless they answer already."""
    if subprocess.run(["ovs-vsctl", "--timeout=5", "show"], capture_output=True).returncode != 0:
        subprocess.run([OVS_CTL, "start"], check=True, capture_output=True)


@dataclass(frozen=True)
class DumpedFlow:
    """One line of `ovs-ofctl dump-flows`."""

    cookie: int
    duration: float
    table: int
    n_packets: int
    priority: int
    match: str
    actions: str


_FLOW = re.compile(r"cookie=(0x[0-9a-f]+), duration=([\d.]+)s, table=(\d+), n_packets=(\d+), n_bytes=\d+, "
                   r"(?:idle_timeout=\d+, )?(?:hard_timeout=\d+, )?(?:idle_age=\d+, )?priority=(\d+),?(\S*) "
                   r"actions=(.*)$")


def dump_flows(bridge: str, matching: str = "") -> list[DumpedFlow]:
    """The bridge's flows (those `matching`, e.g. "table=40,tcp", if given: OVS filters, which is cheaper)."""
    out = subprocess.run(["ovs-ofctl", "-O", "OpenFlow13", "dump-flows", bridge, *([matching] if matching else [])],
                         check=True, capture_output=True, text=True).stdout
    flows = []
    for line in out.splitlines():
        m = _FLOW.search(line)
        if m:
            flows.append(DumpedFlow(int(m[1], 16), float(m[2]), int(m[3]), int(m[4]), int(m[5]), m[6], m[7]))
    return flows


def dump_groups(bridge: str) -> list[str]:
    out = subprocess.run(["ovs-ofctl", "-O", "OpenFlow13", "dump-groups", bridge], check=True,
                         capture_output=True, text=True).stdout
    return [line.strip() for line in out.splitlines() if "group_id=" in line]


def bridge_setting(bridge: str, column: str) -> str:
    return subprocess.run(["ovs-vsctl", "get", "bridge", bridge, column], check=True, capture_output=True,
                          text=True).stdout.strip()
