"""REST throughput for port creation (sequential and 8 concurrent clients) and POST -> flows in the switch.

    .venv/bin/python -m bench.rest_ports [--ports 400] [--samples 20]

Uses a scratch userspace bridge (nvbench1, one internal interface) that it creates and deletes.
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from nvapps.lab.controller import Controller
from nvapps.lab.ovs import dump_flows, ensure_ovs

BRIDGE, IFACE = "nvbench1", "nvb1-p1"


def rate(controller: Controller, network_id: str, count: int, clients: int) -> float:
    """Ports created per second by `clients` concurrent REST clients, `count` in all."""
    def make(n: int) -> None:
        for _ in range(n):
            controller.client.create("port", network_id=network_id)
    start = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(make, [count // clients] * clients))
    return count / (time.perf_counter() - start)


def post_to_flows(controller: Controller, network_id: str, samples: int) -> list[float]:
    """Seconds from POST of a port bound to the bridge's interface until its MAC is in the switch's flows."""
    out = []
    for i in range(samples):
        mac = f"02:be:00:00:00:{i:02x}"
        start = time.perf_counter()
        port = controller.client.create("port", network_id=network_id, mac_address=mac, **{
            "binding:host_id": BRIDGE, "binding:profile": {"interface_name": IFACE}})
        while not any(f"dl_dst={mac}" in f.match for f in dump_flows(BRIDGE)):
            pass
        out.append(time.perf_counter() - start)
        controller.client.delete("port", port["id"])
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ports", type=int, default=400)
    parser.add_argument("--samples", type=int, default=20)
    args = parser.parse_args()
    ensure_ovs()
    controller = Controller(Path(tempfile.mkdtemp(prefix="nvbench-")))
    controller.start()
    subprocess.run(["ovs-vsctl", "--may-exist", "add-br", BRIDGE, "--", "set", "bridge", BRIDGE,
                    "datapath_type=netdev", "fail_mode=secure", "protocols=OpenFlow13", "--",
                    "--may-exist", "add-port", BRIDGE, IFACE, "--", "set", "interface", IFACE, "type=internal",
                    "--", "set-controller", BRIDGE, f"tcp:127.0.0.1:{controller.of_port}"], check=True)
    try:
        controller.wait_chassis([BRIDGE])
        api = controller.client
        net = api.create("network", name="bench")
        api.create("subnet", network_id=net["id"], cidr="10.128.0.0/16", ip_version=4)
        sequential = rate(controller, net["id"], args.ports, 1)
        concurrent = rate(controller, net["id"], args.ports, 8)
        latency = post_to_flows(controller, net["id"], args.samples)
    finally:
        subprocess.run(["ovs-vsctl", "--if-exists", "del-br", BRIDGE], check=True)
        controller.stop()
    print(f"port creation over REST: {sequential:.0f} ports/s sequential, {concurrent:.0f} ports/s with 8 clients "
          f"({args.ports} ports each run)")
    print(f"POST /v2.0/ports -> flows in the switch, {args.samples} samples: median "
          f"{statistics.median(latency) * 1000:.0f} ms, max {max(latency) * 1000:.0f} ms")


if __name__ == "__main__":
    main()
