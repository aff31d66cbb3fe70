"""The demo: a small cloud shown with real packets, a line each (OK/FAIL) and a verdict. Two tenants with the same
two subnets behind a router each, placed unevenly over the switches; each reaches all its hosts, never the
other's; DHCP; a security group opening TCP 80 and not 81; the routers' gateways on an external network with
an internet host (SNAT); a floating IP; a load balancer's VIP, from inside and through a floating IP; the
gateways' BGP speakers announcing a floating IP to the upstream router (FRR), which routes to it.

    python -m nvapps.lab.demo                   # show it and clean up
    python -m nvapps.lab.demo --stay            # then keep controller, REST API and topology up (Mininet CLI on a TTY)
    python -m nvapps.lab.demo --overlay geneve  # the same on three chassis (own OVS each) joined by tunnels
"""
from __future__ import annotations

import argparse
import signal
import sys
import threading
import time
from pathlib import Path

from mininet.log import setLogLevel

from nvapps.lab.controller import ADMIN_TOKEN, MEMBER_TOKENS
from nvapps.lab.scenarios import Lab, tenants_lab
from nvapps.lab.showcase import everything, failover
from topologies.tenants import TenantsTopo

RUN_DIR = Path(__file__).resolve().parents[2] / "run" / "demo"
APPS = ("nvapps.bgp.app", "nvapps.lb.app", "nvapps.nat.app", "nvapps.acl.app", "nvapps.dhcp.app", "nvapps.l3.app", "nvapps.l2.app")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stay", action="store_true", help="keep everything running until interrupted")
    parser.add_argument("--rest-port", type=int, default=9696)
    parser.add_argument("--of-port", type=int, default=6653)
    parser.add_argument("--overlay", choices=["vxlan", "geneve"], help="three chassis joined by this tunnel type")
    parser.add_argument("--ha", action="store_true", help="three controllers on a three-member etcd cluster; "
                        "kill -9 the master during a ping at the end")
    parser.add_argument("--run-dir", type=Path, default=RUN_DIR, help="where the database and logs go")
    args = parser.parse_args(argv)

    setLogLevel("warning")
    args.run_dir.mkdir(parents=True, exist_ok=True)
    (args.run_dir / "nvapps.db").unlink(missing_ok=True)
    topo = TenantsTopo(switches=3 if args.overlay else 2, hosts=1, subnets=2, internet=True,
                       overlay=args.overlay or "", placement="asymmetric", bgp=True)
    apps = ("nvapps.overlay.app", *APPS) if args.overlay else APPS
    start = time.monotonic()
    with tenants_lab(topo, args.run_dir, of_port=args.of_port, rest_port=args.rest_port, apps=apps,
                     controllers=3 if args.ha else 1) as lab:
        for ctl in lab.controllers:
            print(f"controller: {' '.join(ctl.command())}\n  log: {ctl.log_path}")
        for t in lab.tenants.values():
            nets = ", ".join(f"{t.subnets[s]['cidr']} (key {n['provider:segmentation_id']})" for s, n in t.networks.items())
            print(f"tenant {t.name}: router {t.router['name'] if t.router else '-'} on {nets}; ports {', '.join(t.ports)}")
        failed = 0
        for shown in everything(lab, args.run_dir):
            print(shown.line(), flush=True)
            failed += not shown.ok
        if args.ha:
            shown = failover(lab)
            print(shown.line(), flush=True)
            failed += not shown.ok
        print(f"{'all shown' if not failed else f'{failed} FAILED'} in {time.monotonic() - start:.0f} s; metrics: "
              f"curl -H 'X-Auth-Token: {ADMIN_TOKEN}' {lab.controller.url}/metrics")
        print(f"console: {lab.controller.url}/ui/ (log in with the token {ADMIN_TOKEN}, or a tenant's: "
              f"{', '.join(MEMBER_TOKENS.values())})")
        if args.stay:
            stay(lab)
    return 1 if failed else 0


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
