"""Time from the REST POST of a port to the first echo reply through it (median of N).

    .venv/bin/python -m bench.port_to_ping [--runs 20]

a1 pings a2 every 10 ms (ping -D timestamps each reply) while a2's port is deleted and created again.
"""
from __future__ import annotations

import argparse
import re
import statistics
import tempfile
import time
from pathlib import Path

from mininet.log import setLogLevel

from nvapps.lab.net import ping, wait_ping
from nvapps.lab.scenarios import Lab, bind_host, tenants_lab
from topologies.tenants import TenantsTopo, host_ip


def one_run(lab: Lab) -> float:
    """Seconds from POST /v2.0/ports to the first reply a1 gets from a2."""
    a1, tenant = lab.host("a1"), lab.tenants["a"]
    lab.api.delete("port", tenant.ports["a2"]["id"])
    while ping(a1, host_ip(2), count=1, timeout=0.2):
        pass
    pinger = a1.popen(["ping", "-n", "-D", "-i", "0.01", "-c", "1", "-w", "10", host_ip(2)], stdout=-1, text=True)
    time.sleep(0.05)
    posted = time.time()
    tenant.ports["a2"] = bind_host(lab.api, lab.topo, tenant.network, tenant.subnet, "a2")
    out, _ = pinger.communicate(timeout=15)
    m = re.search(r"\[(\d+\.\d+)\] \d+ bytes from", out)
    if not m:
        raise RuntimeError(f"no reply within 10 s: {out}")
    return float(m.group(1)) - posted


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    setLogLevel("warning")
    with tenants_lab(TenantsTopo(switches=1, hosts=2, tenants="a"), Path(tempfile.mkdtemp(prefix="nvbench-"))) as lab:
        wait_ping(lab.host("a1"), host_ip(2))
        times = [one_run(lab) for _ in range(args.runs)]
    print(f"REST port creation -> first ping reply, {args.runs} runs: median {statistics.median(times) * 1000:.0f} ms, "
          f"min {min(times) * 1000:.0f} ms, max {max(times) * 1000:.0f} ms")

if __name__ == "__main__":
    main()
