"""The demo: two tenants with the same two subnets behind a router each, placed unevenly over the switches
(every network has a switch without a port of it); each tenant reaches all its hosts, never the other's.

    python -m nvapps.lab.demo                   # show it and clean up
    python -m nvapps.lab.demo --stay            # then keep controller, REST API and topology up (Mininet CLI on a TTY)
    python -m nvapps.lab.demo --overlay geneve  # the same on three chassis (own OVS each) joined by tunnels
"""
from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path

from mininet.log import setLogLevel

from nvapps.lab.controller import ADMIN_TOKEN
from nvapps.lab.reach import reach_matrix
from nvapps.lab.scenarios import Lab, tenants_lab
from topologies.tenants import TenantsTopo

RUN_DIR = Path(__file__).resolve().parents[2] / "run" / "demo"
PINGS = 3


def show(lab: Lab) -> bool:
    """Print who reaches whom; True when every tenant reaches all its hosts and nothing crosses tenants."""
    ok = True
    for tenant in lab.topo.tenants:
        for pair in reach_matrix(lab, tenant, PINGS):
            print(f"  {pair.line(lab, PINGS)}")
            ok &= pair.ok and pair.replies == PINGS
    for status in lab.api.chassis():
        print(f"  chassis {status['name']}: {status['flow_mods']} flow mods, {status['group_mods']} group mods, "
              f"{status['packet_ins']} packet-ins")
    return ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stay", action="store_true", help="keep everything running until interrupted")
    parser.add_argument("--rest-port", type=int, default=9696)
    parser.add_argument("--of-port", type=int, default=6653)
    parser.add_argument("--overlay", choices=["vxlan", "geneve"], help="three chassis joined by this tunnel type")
    args = parser.parse_args(argv)

    setLogLevel("warning")
    RUN_DIR.mkdir(parents=True, exist_ok=True)
    (RUN_DIR / "nvapps.db").unlink(missing_ok=True)
    topo = TenantsTopo(switches=3 if args.overlay else 2, hosts=1, subnets=2, overlay=args.overlay or "",
                       placement="asymmetric")
    apps = ("nvapps.l3.app", "nvapps.l2.app")
    apps = ("nvapps.overlay.app", *apps) if args.overlay else apps
    with tenants_lab(topo, RUN_DIR, of_port=args.of_port, rest_port=args.rest_port, apps=apps) as lab:
        print(f"controller: {' '.join(lab.controller.command())}\n  log: {lab.controller.log_path}")
        for t in lab.tenants.values():
            nets = ", ".join(f"{t.subnets[s]['cidr']} (key {n['provider:segmentation_id']})" for s, n in t.networks.items())
            print(f"tenant {t.name}: router {t.router['name']} on {nets}; ports {', '.join(t.ports)}")
        ok = show(lab)
        print("isolation and reachability: " + ("OK" if ok else "FAILED"))
        if args.stay:
            stay(lab)
    return 0 if ok else 1


def stay(lab: Lab) -> None:
    """Keep everything up: the Mininet CLI on a terminal, else until SIGINT/SIGTERM."""
    print(f"REST API: curl -s -H 'X-Auth-Token: {ADMIN_TOKEN}' {lab.controller.url}/v2.0/networks")
    print(f"          nvctl --url {lab.controller.url} --token {ADMIN_TOKEN} network list")
    if sys.stdin.isatty():
        from mininet.cli import CLI
        CLI(lab.net)
        return
    print("running until interrupted (Ctrl-C or SIGTERM)")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass

if __name__ == "__main__":
    sys.exit(main())
