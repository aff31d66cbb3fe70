"""The load balancer, in one run: new TCP connections per second and iperf3 throughput through a VIP vs.
directly to its member; how long a dead member takes to be found (median of several) vs. delay x
max_retries_down; flows and groups as a pool grows (10/100/1000 members), on a client's chassis and on one
without clients.

    .venv/bin/python -m bench.lb [--seconds 5] [--runs 3] [--connections 2000] [--failures 5]

Two switches, tenant a with subnets 10.0.1.0/24 and 10.0.2.0/24 on its router; the client a11 is on s1, the
member a12 on s2 (the VIP's subnet), so both paths cross the inter-switch link.
"""
from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

from bench.l2_throughput import iperf_options
from bench.nat_throughput import ACCEPT_AND_CLOSE, CONNECT_LOOP, iperf_to
from nvapps import pipeline
from nvapps.core.pieces import Pieces
from nvapps.core.topology import Chassis, Interface, fabric
from nvapps.lab.net import background, wait_listening, wait_ping
from nvapps.lab.scenarios import tenants_lab
from nvapps.lb import flows
from nvapps.logical.view import logical_view
from nvapps.model.context import Context
from nvapps.model.service import Model
from nvapps.store.sqlite import SQLiteStore
from topologies.tenants import TenantsTopo, host_ip

APPS = ("nvapps.lb.app", "nvapps.l3.app", "nvapps.l2.app")
CHECK = dict(type="TCP", delay=1, timeout=1, max_retries=2, max_retries_down=3)
MEMBER_PORT = 7001          # ACCEPT_AND_CLOSE's


def connection_rate(client, address: str, count: int, workdir: Path) -> float:
    """New TCP connections per second, one after another, from `client` to `address`:7001."""
    script = workdir / f"connect-{address}.py"
    script.write_text(CONNECT_LOOP.format(count=count, address=address))
    done, seconds = client.cmd(f"/usr/bin/python3 {script}").split()
    return int(done) / float(seconds)


def balancer(api, subnet_id: str, members: list[str], port: int, monitor: dict | None = None) -> dict:
    lb = api.create("loadbalancer", vip_subnet_id=subnet_id, project_id="tenant-a")
    li = api.create("listener", loadbalancer_id=lb["id"], protocol="TCP", protocol_port=port, project_id="tenant-a")
    pool = api.create("pool", listener_id=li["id"], protocol="TCP", lb_algorithm="ROUND_ROBIN", project_id="tenant-a")
    for address in members:
        api.create("member", parent_id=pool["id"], address=address, protocol_port=port, project_id="tenant-a")
    if monitor:
        api.create("healthmonitor", pool_id=pool["id"], project_id="tenant-a", **monitor)
    deadline = time.monotonic() + 15
    while api.get("loadbalancer", lb["id"])["provisioning_status"] != "ACTIVE":
        assert time.monotonic() < deadline
        time.sleep(0.1)
    return lb | {"pool_id": pool["id"]}


def member_status(api, lb: dict) -> str:
    return api.list("member", parent_id=lb["pool_id"])[0]["operating_status"]


def detection_times(lab, lb: dict, workdir: Path, count: int) -> list[float]:
    """Seconds from killing the member's server to its ERROR status, `count` times (restarted between)."""
    member, times = lab.host("a12"), []
    script = workdir / "accept.py"
    for _ in range(count):
        with background(member, f"/usr/bin/python3 {script}"):
            wait_listening(member, MEMBER_PORT)
            while member_status(lab.api, lb) != "ONLINE":
                time.sleep(0.05)
            time.sleep(CHECK["delay"] * 1.5)                   # a random phase against the checks
        killed = time.monotonic()
        while member_status(lab.api, lb) != "ERROR":
            time.sleep(0.02)
        times.append(time.monotonic() - killed)
    return times


def flows_as_pool_grows(sizes: tuple[int, ...]) -> list[tuple[int, int, int, int, int, int]]:
    """(members, flows on a client's chassis, groups there, buckets, flows on a chassis without clients,
    health answer flows on the members' chassis) for one VIP, one listener, a monitored pool, computed offline."""
    out = []
    for size in sizes:
        model = Model(SQLiteStore(":memory:"))
        ctx = Context("t", is_admin=True)
        net = model.create("network", {"name": "n"}, ctx)
        sub = model.create("subnet", {"network_id": net.id, "cidr": "10.0.0.0/16", "ip_version": 4}, ctx)
        other = model.create("network", {"name": "elsewhere"}, ctx)
        model.create("subnet", {"network_id": other.id, "cidr": "10.1.0.0/16", "ip_version": 4}, ctx)
        chassis = {name: Chassis(name, k, {f"vm{i}": Interface(f"vm{i}", i + 1) for i in range(size + 1)})
                   for k, name in enumerate(("client", "members", "bystander"), start=1)}
        model.create("port", {"network_id": net.id, "binding:host_id": "client",
                              "binding:profile": {"interface_name": "vm0"}}, ctx)
        model.create("port", {"network_id": other.id, "binding:host_id": "bystander",
                              "binding:profile": {"interface_name": "vm0"}}, ctx)
        lb = model.create("loadbalancer", {"vip_subnet_id": sub.id}, ctx)
        li = model.create("listener", {"loadbalancer_id": lb.id, "protocol": "TCP", "protocol_port": 80}, ctx)
        pool = model.create("pool", {"listener_id": li.id, "protocol": "TCP", "lb_algorithm": "ROUND_ROBIN"}, ctx)
        for i in range(1, size + 1):
            port = model.create("port", {"network_id": net.id, "binding:host_id": "members",
                                         "binding:profile": {"interface_name": f"vm{i}"}}, ctx)
            model.create("member", {"address": port.fixed_ips[0]["ip_address"], "protocol_port": 8080}, ctx,
                         parent_id=pool.id)
        model.create("healthmonitor", {"pool_id": pool.id, "type": "TCP", "delay": 5, "timeout": 3,
                                       "max_retries": 2}, ctx)
        reading = flows.read(model, logical_view(model, fabric(chassis, []), []), None)
        desired = {name: flows.chassis_lb(ch, reading, Pieces(pipeline.AppId.LB)) for name, ch in chassis.items()}
        client = desired["client"]
        buckets = sum(len(g.buckets) for g in client.groups.values())
        answers = sum(1 for f in desired["members"].flows.values() if f.meter is not None)
        out.append((size, len(client.flows), len(client.groups), buckets, len(desired["bystander"].flows), answers))
    return out


def main() -> None:
    args = iperf_options(__doc__, connections=2000, failures=5)
    workdir = Path(tempfile.mkdtemp(prefix="nvbench-"))
    (workdir / "accept.py").write_text(ACCEPT_AND_CLOSE)
    topo = TenantsTopo(switches=2, hosts=2, tenants="a", subnets=2)
    with tenants_lab(topo, workdir, apps=APPS) as lab:
        api, subnet = lab.api, lab.tenants["a"].subnets[1]
        client, member, address = lab.host("a11"), lab.host("a12"), host_ip(2, 1)
        wait_ping(client, address)
        one = balancer(api, subnet["id"], [address], MEMBER_PORT)
        with background(member, f"/usr/bin/python3 {workdir / 'accept.py'}"):
            wait_listening(member, MEMBER_PORT)
            rates = {"direct": connection_rate(client, address, args.connections, workdir),
                     "VIP": connection_rate(client, one["vip_address"], args.connections, workdir)}
        iperf = {"direct": statistics.median(iperf_to(client, member, address, args.seconds) for _ in range(args.runs))}
        api.delete("loadbalancer", one["id"], cascade=True)
        through = balancer(api, subnet["id"], [address], 5201)
        iperf["VIP"] = statistics.median(iperf_to(client, member, through["vip_address"], args.seconds)
                                         for _ in range(args.runs))
        api.delete("loadbalancer", through["id"], cascade=True)
        checked = balancer(api, subnet["id"], [address], MEMBER_PORT, monitor=CHECK)
        detections = detection_times(lab, checked, workdir, args.failures)
    print(f"new TCP connections/s (sequential, a11 on s1 -> a12 on s2): direct {rates['direct']:,.0f}, "
          f"through the VIP {rates['VIP']:,.0f}  ratio {rates['VIP'] / rates['direct']:.3f}")
    print(f"iperf3 (median of {args.runs} x {args.seconds} s): direct {iperf['direct']:.2f} Gbit/s, "
          f"through the VIP {iperf['VIP']:.2f} Gbit/s  ratio {iperf['VIP'] / iperf['direct']:.3f}")
    bound = CHECK["delay"] * CHECK["max_retries_down"]
    print(f"dead member found (TCP check, delay {CHECK['delay']} s, max_retries_down {CHECK['max_retries_down']}): "
          f"median {statistics.median(detections):.2f} s of {len(detections)} "
          f"({', '.join(f'{t:.2f}' for t in detections)}); delay x max_retries_down = {bound} s, "
          f"ratio {statistics.median(detections) / bound:.3f}")
    print("members | flows on a client's chassis | groups | buckets | flows on a chassis without clients | "
          "health answer flows on the members' chassis")
    for row in flows_as_pool_grows((10, 100, 1000)):
        print(" | ".join(f"{v:,}" for v in row))


if __name__ == "__main__":
    main()
