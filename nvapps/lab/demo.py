"""The demo: two tenants with the same subnet on two switches; each reaches its own hosts, never the other's.

    python -m nvapps.lab.demo           # show it and clean up
    python -m nvapps.lab.demo --stay    # then keep controller, REST API and topology up (Mininet CLI on a TTY)
"""
from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path

from mininet.log import setLogLevel

from nvapps.lab.controller import Controller
from nvapps.lab.net import capture, ping, start_net, wait_ping
from nvapps.lab.ovs import ensure_ovs
from nvapps.lab.scenarios import create_tenants
from topologies.tenants import TenantsTopo, host_ip

RUN_DIR = Path(__file__).resolve().parents[2] / "run" / "demo"


def show(controller: Controller, net, topo: TenantsTopo) -> bool:
    """Print who reaches whom; True when every tenant reaches its own hosts and nothing crosses tenants."""
    ok = True
    for tenant in topo.tenants:
        src, dst = net.get(f"{tenant}1"), net.get(f"{tenant}2")
        wait_ping(src, host_ip(2))
        other = net.get(f"{'b' if tenant == 'a' else 'a'}2")
        with capture(other, f"-Q in ether[6:4] == 0x020000{topo.tenants.index(tenant) + 1:02x}") as cap:
            got = ping(src, host_ip(2), count=5)
        print(f"  {src.name} (s1, {host_ip(1)}) -> {host_ip(2)}: {got}/5 replies from {dst.name} (s2); "
              f"{other.name}, same IP in the other tenant, saw {cap.count} packets")
        ok &= got == 5 and cap.count == 0
    for status in controller.client.chassis():
        print(f"  chassis {status['name']}: {status['flow_mods']} flow mods, {status['group_mods']} group mods, "
              f"{status['packet_ins']} packet-ins")
    return ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stay", action="store_true", help="keep everything running until interrupted")
    parser.add_argument("--rest-port", type=int, default=9696)
    parser.add_argument("--of-port", type=int, default=6653)
    args = parser.parse_args(argv)

    setLogLevel("warning")
    ensure_ovs()
    RUN_DIR.mkdir(parents=True, exist_ok=True)
    (RUN_DIR / "nvapps.db").unlink(missing_ok=True)
    topo = TenantsTopo(switches=2, hosts=1)
    controller = Controller(RUN_DIR, trunks=TenantsTopo.trunks(2), of_port=args.of_port, rest_port=args.rest_port)
    print(f"controller: {' '.join(controller.command())}\n  log: {controller.log_path}")
    controller.start()
    net = None
    try:
        net = start_net(topo, controller.of_port)
        tenants = create_tenants(controller.client, topo)
        for t in tenants.values():
            print(f"tenant {t.name}: network {t.network['id']} (key {t.network['provider:segmentation_id']}), "
                  f"subnet {t.subnet['cidr']}, ports {', '.join(t.ports)}")
        controller.wait_chassis(["s1", "s2"])
        ok = show(controller, net, topo)
        print("isolation and reachability: " + ("OK" if ok else "FAILED"))
        if args.stay:
            print(f"REST API: curl -s http://127.0.0.1:{controller.rest_port}/v2.0/networks")
            if sys.stdin.isatty():
                from mininet.cli import CLI
                CLI(net)
            else:
                print("running until interrupted (Ctrl-C or SIGTERM)")
                stop = threading.Event()
                signal.signal(signal.SIGTERM, lambda *_: stop.set())
                try:
                    stop.wait()
                except KeyboardInterrupt:
                    pass
        return 0 if ok else 1
    finally:
        if net is not None:
            net.stop()
        controller.stop()


if __name__ == "__main__":
    sys.exit(main())
