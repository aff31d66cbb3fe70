"""iperf3 TCP host-to-host through the nvapps L2 pipeline vs. the same bridges with one actions=NORMAL flow.

    .venv/bin/python -m bench.l2_throughput [--seconds 5] [--runs 3]

Prints the median Gbit/s of each and the ratio (goal: nvapps / NORMAL >= 0.95), for hosts on one
switch and on two switches joined by the trunk.
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from mininet.log import setLogLevel

from nvapps.lab.net import wait_ping
from nvapps.lab.scenarios import tenants_lab
from topologies.tenants import TenantsTopo, host_ip


def iperf(client, server, seconds: int, address: str | None = None) -> float:
    """Gbit/s of one iperf3 TCP run from `client` to `server` (at `address`, by default its IPv4 address)."""
    server.cmd("iperf3 -s -D -1 -p 5201 >/dev/null 2>&1")
    time.sleep(0.5)
    out = client.cmd(f"iperf3 -c {address or server.IP()} -p 5201 -t {seconds} -J")
    return json.loads(out)["end"]["sum_received"]["bits_per_second"] / 1e9


def median_runs(client, server, seconds: int, runs: int, address: str | None = None) -> float:
    return statistics.median(iperf(client, server, seconds, address) for _ in range(runs))


def use_normal(bridges: list[str]) -> None:
    """Replace every flow and group with a single actions=NORMAL flow (the controller is stopped)."""
    for br in bridges:
        subprocess.run(["ovs-ofctl", "-O", "OpenFlow13", "del-flows", br], check=True)
        subprocess.run(["ovs-ofctl", "-O", "OpenFlow13", "del-groups", br], check=True)
        subprocess.run(["ovs-ofctl", "-O", "OpenFlow13", "add-flow", br, "actions=NORMAL"], check=True)


def iperf_options(doc: str, **more: int) -> argparse.Namespace:
    """--seconds per iperf3 run and --runs per median (the throughput benches' common options), and a bench's
    own integer options with their defaults."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--runs", type=int, default=3)
    for name, default in more.items():
        parser.add_argument(f"--{name}", type=int, default=default)
    setLogLevel("warning")
    return parser.parse_args()


def main() -> None:
    args = iperf_options(__doc__)
    with tenants_lab(TenantsTopo(switches=2, hosts=2, tenants="a"), Path(tempfile.mkdtemp(prefix="nvbench-"))) as lab:
        a1, a2, a3 = lab.host("a1"), lab.host("a2"), lab.host("a3")
        for dst in (2, 3):
            wait_ping(a1, host_ip(dst))
        pairs = {"one switch (a1->a3)": (a1, a3), "two switches (a1->a2)": (a1, a2)}
        nv = {name: median_runs(c, s, args.seconds, args.runs) for name, (c, s) in pairs.items()}
        lab.controller.stop()
        use_normal(["s1", "s2"])
        for dst in (2, 3):
            wait_ping(a1, host_ip(dst))
        normal = {name: median_runs(c, s, args.seconds, args.runs) for name, (c, s) in pairs.items()}
    for name in pairs:
        print(f"{name}: nvapps {nv[name]:.2f} Gbit/s, NORMAL {normal[name]:.2f} Gbit/s, "
              f"ratio {nv[name] / normal[name]:.3f}")

if __name__ == "__main__":
    main()
