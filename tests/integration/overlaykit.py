"""What the overlay tests share: network keys, underlay captures, VNIs in tcpdump lines, chassis status,
switching every chassis's tunnel type for a block."""
from __future__ import annotations

import re
import time
from contextlib import contextmanager

from nvapps.lab.net import capture

SETTLE = 0.5
VNI = re.compile(r"vni (\d+)")


def key(lab, tenant: str, subnet: int) -> int:
    return lab.tenants[tenant].networks[subnet]["provider:segmentation_id"]


def underlay(lab, chassis: str, bpf: str):
    """A capture on `chassis`'s underlay interface."""
    return capture(lab.host(chassis), bpf, intf=f"{chassis}-eth0")


def tunnelled(lines: list[str]) -> list[tuple[int, str]]:
    """(VNI, the inner packet's line) of each VXLAN/Geneve packet tcpdump printed."""
    return [(int(VNI.search(line)[1]), inner) for line, inner in zip(lines, lines[1:]) if VNI.search(line)]


def chassis_status(lab) -> dict[str, dict]:
    return {c["name"]: c for c in lab.api.chassis()}


def wait_until(predicate, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


@contextmanager
def tunnel_type(lab, kind: str):
    """Every chassis registered with tunnel type `kind` for the block, vxlan again after."""
    chassis = lab.api.list("chassis")
    try:
        for ch in chassis:
            lab.api.update("chassis", ch["id"], tunnel_type=kind)
        time.sleep(SETTLE)
        yield
    finally:
        for ch in chassis:
            lab.api.update("chassis", ch["id"], tunnel_type=ch["tunnel_type"])
        time.sleep(SETTLE)
