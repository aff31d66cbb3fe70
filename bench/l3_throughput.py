"""iperf3 through a tenant router vs. same-subnet through nvapps vs. plain actions=NORMAL, in one run;
then flows per chassis as ports and router interfaces grow (computed by the flow builders).

    .venv/bin/python -m bench.l3_throughput [--seconds 5] [--runs 3]
"""
from __future__ import annotations

import tempfile
from pathlib import Path

from bench.l2_throughput import iperf_options, median_runs, use_normal
from nvapps.core.topology import Chassis, Interface
from nvapps.l2.flows import chassis_l2
from nvapps.l3.flows import chassis_l3
from nvapps.lab.net import wait_ping
from nvapps.lab.scenarios import tenants_lab
from nvapps.logical.view import build_view
from nvapps.model.network import ROUTER_INTERFACE, Network, Port, Subnet
from nvapps.model.router import Router
from topologies.tenants import TenantsTopo, host_ip


def flow_counts(ports_per_subnet: int, subnets: int, local_subnets: int | None = None) -> tuple[int, int]:
    """(L2, L3) flows on one chassis of two, for one router over `subnets` subnets, ports spread over both
    (or, with `local_subnets`, hv1 has ports of that many subnets only and hv2 of all the others)."""
    nets = [Network(id=f"n{s}", project_id="p", segmentation_id=s + 1) for s in range(subnets)]
    subs = [Subnet(id=f"s{s}", network_id=f"n{s}", cidr=f"10.{s}.0.0/16", gateway_ip=f"10.{s}.0.1")
            for s in range(subnets)]
    router = Router(id="r", project_id="p", key=1)
    ports, ifaces = [], {"hv1": {}, "hv2": {}}
    for s in range(subnets):
        ports.append(Port(id=f"rif{s}", project_id="p", network_id=f"n{s}", mac_address=f"fa:16:3e:00:00:{s:02x}",
                          key=60000 + s, device_owner=ROUTER_INTERFACE, device_id="r",
                          fixed_ips=[{"subnet_id": f"s{s}", "ip_address": f"10.{s}.0.1"}]))
        for i in range(ports_per_subnet):
            spread = f"hv{i % 2 + 1}"
            host = spread if local_subnets is None else ("hv1" if s < local_subnets else "hv2")
            name = f"p{s}-{i}"
            ifaces[host][name] = Interface(name, len(ifaces[host]) + 2)
            ports.append(Port(id=name, project_id="p", network_id=f"n{s}", key=s * 10000 + i + 1,
                              mac_address=f"02:00:{s:02x}:00:{i >> 8:02x}:{i & 255:02x}",
                              fixed_ips=[{"subnet_id": f"s{s}", "ip_address": f"10.{s}.{(i >> 8) + 1}.{i & 255}"}],
                              host_id=host, profile={"interface_name": name}))
    chs = {h: Chassis(h, n + 1, {"t": Interface("t", 1), **ifaces[h]}, frozenset(["t"]))
           for n, h in enumerate(("hv1", "hv2"))}
    view = build_view(nets, ports, subs, [router], chs, [])
    return len(chassis_l2(chs["hv1"], view).flows), len(chassis_l3(chs["hv1"], view).flows)


def main() -> None:
    args = iperf_options(__doc__)
    topo = TenantsTopo(switches=1, hosts=2, tenants="a", subnets=2)
    with tenants_lab(topo, Path(tempfile.mkdtemp(prefix="nvbench-")), apps=("nvapps.l3.app", "nvapps.l2.app")) as lab:
        a11, a12, a21 = lab.host("a11"), lab.host("a12"), lab.host("a21")
        wait_ping(a11, host_ip(2, 1))       # a12, same subnet
        wait_ping(a11, host_ip(1, 2))       # a21, through the router
        routed = median_runs(a11, a21, args.seconds, args.runs)
        switched = median_runs(a11, a12, args.seconds, args.runs)
        lab.controller.stop()
        use_normal(["s1"])
        wait_ping(a11, host_ip(2, 1))
        normal = median_runs(a11, a12, args.seconds, args.runs)
    print(f"routed (two subnets) {routed:.2f} Gbit/s, same subnet {switched:.2f} Gbit/s, plain NORMAL "
          f"{normal:.2f} Gbit/s: routed/NORMAL {routed / normal:.3f}, same-subnet/NORMAL {switched / normal:.3f}")
    print("flows on one of two chassis, one router over the subnets (ports spread over both chassis):")
    for subnets, ports in ((2, 10), (2, 100), (2, 1000), (4, 100), (8, 100)):
        l2, l3 = flow_counts(ports, subnets)
        print(f"  {subnets} subnets x {ports:4d} ports: L2 {l2:6d}, L3 {l3:5d}  "
              f"({(l2 + l3) / (subnets * ports):.1f} flows per port)")
    print("the same chassis when its ports are on one subnet and the router's other subnets are elsewhere "
          "(it knows them through the router: per remote port, flows per port):")
    for subnets, ports in ((2, 100), (4, 100), (8, 100), (8, 1000)):
        l2, l3 = flow_counts(ports, subnets, local_subnets=1)
        print(f"  {subnets} subnets x {ports:4d} ports, {ports:4d} here: L2 {l2:6d}, L3 {l3:5d}  "
              f"({(l2 + l3) / (subnets * ports):.1f} flows per port of the router)")


if __name__ == "__main__":
    main()
