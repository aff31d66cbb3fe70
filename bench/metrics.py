"""What GET /metrics costs at 1k ports, in one run: the controller's and ovs-vswitchd's CPU while nothing else
happens, with the switches' counters polled every 10 s (the default) and, as the anchor, polled never within
the window (--nvapps-stats-interval 3600); and one scrape's time and size.

    .venv/bin/python -m bench.metrics [--ports 1000] [--chassis 10] [--seconds 60]

The cloud is bench.scale's (10 tenants, a router each, ports as VLANs of one internal port per bridge); run as
root with OVS running. It makes bridges sc0.. and removes them.
"""
from __future__ import annotations

import argparse
import tempfile
import time
import urllib.request
from pathlib import Path

from bench.scale import PREFIX, Step, bridge_args, cpu_seconds, vsctl, wait_synced
from nvapps.lab.controller import ADMIN_TOKEN
from nvapps.lab.ovs import ensure_ovs

VSWITCHD_PID = Path("/var/run/openvswitch/ovs-vswitchd.pid")
SETTLE = 5.0


def measure(ports: int, chassis: int, interval: float, seconds: float) -> tuple[float, float, float, int]:
    """(controller CPU %, ovs-vswitchd CPU %, one scrape in ms, its bytes) with counters polled every `interval`."""
    with tempfile.TemporaryDirectory(prefix="nvmetrics-") as workdir:
        step = Step(ports, chassis, Path(workdir))
        step.ctl.extra_args += ["--nvapps-stats-interval", str(interval)]
        try:
            vsctl(*[a for c in range(chassis) for a in bridge_args(c, step.ctl.of_port)])
            step.ctl.start()
            wait_synced(step.ctl, step.names, timeout=900)
            time.sleep(SETTLE)
            pids = (step.ctl.proc.pid, int(VSWITCHD_PID.read_text()))
            before, start = [cpu_seconds(p) for p in pids], time.monotonic()
            time.sleep(seconds)
            used = [cpu_seconds(p) - b for p, b in zip(pids, before)]
            elapsed = time.monotonic() - start
            request = urllib.request.Request(f"{step.ctl.url}/metrics", headers={"X-Auth-Token": ADMIN_TOKEN})
            start = time.monotonic()
            with urllib.request.urlopen(request) as answer:
                size = len(answer.read())
            scrape = time.monotonic() - start
        finally:
            step.close()
    return 100 * used[0] / elapsed, 100 * used[1] / elapsed, 1000 * scrape, size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ports", type=int, default=1000)
    parser.add_argument("--chassis", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=60.0)
    args = parser.parse_args()
    ensure_ovs()
    print(f"{args.ports} ports on {args.chassis} chassis ({PREFIX}0..), idle for {args.seconds:.0f} s")
    print(f"{'counters polled':<22} {'controller CPU':>15} {'ovs-vswitchd CPU':>17} {'one scrape':>11} {'its size':>9}")
    for label, interval in (("every 10 s (default)", 10.0), ("never (anchor)", 3600.0)):
        ctl, switch, scrape, size = measure(args.ports, args.chassis, interval, args.seconds)
        print(f"{label:<22} {ctl:>14.2f}% {switch:>16.2f}% {scrape:>8.0f} ms {size / 1024:>6.0f} KB", flush=True)


if __name__ == "__main__":
    main()
