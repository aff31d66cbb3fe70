"""iperf3 through SNAT and through a floating IP vs. plain routing, in one run; then new TCP connections per
second through SNAT.

    .venv/bin/python -m bench.nat_throughput [--seconds 5] [--runs 3] [--connections 2000]

One switch with an uplink to the physical network (host inet behind a learning bridge). Baselines: routed
between two tenant subnets, and routed out by the gateway without translation (enable_snat false, inet
routing the tenant's subnets back to the router). Then the same path with SNAT, and a floating IP in both
directions. Connection rate: a Python client opens and closes connections to a server on inet, one after
another, through SNAT.
"""
from __future__ import annotations

import json
import statistics
import tempfile
import time
from pathlib import Path

from bench.l2_throughput import iperf_options
from nvapps.lab.net import background, wait_listening, wait_ping
from nvapps.lab.scenarios import create_external, tenants_lab
from topologies.tenants import INTERNET_HOST, TenantsTopo, host_ip

APPS = ("nvapps.nat.app", "nvapps.l3.app", "nvapps.l2.app")
ACCEPT_AND_CLOSE = ("import socket\ns = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
                    "s.bind(('0.0.0.0', 7001)); s.listen(1024)\nwhile True:\n    c, _ = s.accept(); c.close()")
CONNECT_LOOP = ("import socket, sys, time\nn, start = 0, time.monotonic()\n"
                "while n < {count} and time.monotonic() - start < 20:\n"
                "    c = socket.create_connection(('{address}', 7001), timeout=2); c.close(); n += 1\n"
                "print(n, time.monotonic() - start)")


def iperf_to(client, server, address: str, seconds: int) -> float:
    """Gbit/s of one iperf3 TCP run from `client` to `server`, addressed as `address`."""
    server.cmd("iperf3 -s -D -1 -p 5201 >/dev/null 2>&1")
    time.sleep(0.5)
    out = client.cmd(f"iperf3 -c {address} -p 5201 -t {seconds} -J")
    return json.loads(out)["end"]["sum_received"]["bits_per_second"] / 1e9


def median(client, server, address: str, args) -> float:
    return statistics.median(iperf_to(client, server, address, args.seconds) for _ in range(args.runs))


def connection_rate(client, server, count: int, workdir: Path) -> tuple[int, float]:
    """(connections, seconds) for up to `count` sequential connect/close from `client` to `server` (inet)."""
    accept, connect = workdir / "accept.py", workdir / "connect.py"
    accept.write_text(ACCEPT_AND_CLOSE)
    connect.write_text(CONNECT_LOOP.format(count=count, address=INTERNET_HOST))
    with background(server, f"/usr/bin/python3 {accept}"):
        wait_listening(server, 7001)
        done, seconds = client.cmd(f"/usr/bin/python3 {connect}").split()
    return int(done), float(seconds)


def main() -> None:
    parser_args = iperf_options(__doc__, connections=2000)
    topo = TenantsTopo(switches=1, hosts=2, tenants="a", subnets=2, internet=True)
    workdir = Path(tempfile.mkdtemp(prefix="nvbench-"))
    with tenants_lab(topo, workdir, apps=APPS) as lab:
        api, tenant = lab.api, lab.tenants["a"]
        a11, a12, a21, inet = lab.host("a11"), lab.host("a12"), lab.host("a21"), lab.host("inet")
        ext, _ = create_external(api)
        router = api.update("router", tenant.router["id"],
                            external_gateway_info={"network_id": ext["id"], "enable_snat": False})
        gateway_ip = router["external_gateway_info"]["external_fixed_ips"][0]["ip_address"]
        inet.cmd(f"ip route add 10.0.0.0/16 via {gateway_ip}")
        wait_ping(a11, host_ip(1, 2))
        wait_ping(a11, INTERNET_HOST)
        results = {"routed between tenant subnets (a11 -> a21)": median(a11, a21, host_ip(1, 2), parser_args),
                   "routed out, no NAT (a11 -> inet)": median(a11, inet, INTERNET_HOST, parser_args)}
        inet.cmd("ip route del 10.0.0.0/16")
        api.update("router", tenant.router["id"], external_gateway_info={"network_id": ext["id"], "enable_snat": True})
        time.sleep(0.5)
        wait_ping(a11, INTERNET_HOST)
        results["SNAT (a11 -> inet)"] = median(a11, inet, INTERNET_HOST, parser_args)
        fip = api.create("floatingip", floating_network_id=ext["id"], port_id=tenant.ports["a12"]["id"],
                         project_id=tenant.name)
        time.sleep(0.5)
        wait_ping(inet, fip["floating_ip_address"])
        results["floating IP in (inet -> a12)"] = median(inet, a12, fip["floating_ip_address"], parser_args)
        results["floating IP out (a12 -> inet)"] = median(a12, inet, INTERNET_HOST, parser_args)
        done, seconds = connection_rate(a11, inet, parser_args.connections, workdir)
    inside, out = results["routed between tenant subnets (a11 -> a21)"], results["routed out, no NAT (a11 -> inet)"]
    print("(the uplink path crosses one more bridge, the physical network's; without NAT it still passes the "
          "router's conntrack zone, uncommitted)")
    for name, gbps in results.items():
        print(f"{name:45s} {gbps:.2f} Gbit/s  ratio to routing inside {gbps / inside:.3f}, "
              f"to routing out without NAT {gbps / out:.3f}")
    print(f"new TCP connections through SNAT: {done} in {seconds:.2f} s = {done / seconds:,.0f} per second "
          f"(sequential, one client)")


if __name__ == "__main__":
    main()
