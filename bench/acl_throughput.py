"""iperf3 TCP between two hosts on one switch with security groups on (the default group: conntrack in
both ports' zones, remote-group rules) vs. off (port security disabled on both ports), ACL app loaded.

    .venv/bin/python -m bench.acl_throughput [--seconds 5] [--runs 3]
"""
from __future__ import annotations

import tempfile
import time
from pathlib import Path

from bench.l2_throughput import iperf_options, median_runs
from nvapps.lab.net import wait_ping
from nvapps.lab.scenarios import tenants_lab
from topologies.tenants import TenantsTopo, host_ip


def main() -> None:
    args = iperf_options(__doc__)
    topo = TenantsTopo(switches=1, hosts=2, tenants="a")
    with tenants_lab(topo, Path(tempfile.mkdtemp(prefix="nvbench-")), apps=("nvapps.acl.app", "nvapps.l2.app")) as lab:
        a1, a2 = lab.host("a1"), lab.host("a2")
        wait_ping(a1, host_ip(2))
        on = median_runs(a1, a2, args.seconds, args.runs)
        for port in lab.tenants["a"].ports.values():
            lab.api.update("port", port["id"], port_security_enabled=False, security_groups=[])
        time.sleep(1)
        wait_ping(a1, host_ip(2))
        off = median_runs(a1, a2, args.seconds, args.runs)
    print(f"security groups on {on:.2f} Gbit/s, off {off:.2f} Gbit/s, ratio on/off {on / off:.3f}")


if __name__ == "__main__":
    main()
