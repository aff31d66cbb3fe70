"""IPv6 against IPv4 in one run: iperf3 through a tenant router over IPv6 (SLAAC addresses) and over IPv4,
between the same two hosts; then flows per port on a chassis for dual-stack ports against IPv4-only ones
(computed by the flow builders: L2, L3 and port security).

    .venv/bin/python -m bench.ipv6 [--seconds 5] [--runs 3]
"""
from __future__ import annotations

import tempfile
from pathlib import Path

from bench.l2_throughput import iperf_options, median_runs
from nvapps.acl.port_security import port_security_flows
from nvapps.core.topology import Chassis, Interface
from nvapps.l2.flows import chassis_l2
from nvapps.l3.flows import chassis_l3
from nvapps.lab.net import wait_ping
from nvapps.lab.scenarios import tenants_lab
from nvapps.lab.wait import eventually
from nvapps.logical.view import build_view
from nvapps.model.ipam import eui64
from nvapps.model.network import ROUTER_INTERFACE, Network, Port, Subnet
from nvapps.model.router import Router
from topologies.tenants import TenantsTopo, host_ip

PREFIXES = {1: "2001:db8:a1::/64", 2: "2001:db8:a2::/64"}


def flows_per_port(ports: int, dual: bool) -> float:
    """L2 + L3 + port security flows on one chassis per port, for `ports` ports over two subnets of a router
    (IPv4, and with `dual` an IPv6 subnet on each network too), half of them on this chassis."""
    nets = [Network(id=f"n{s}", project_id="p", segmentation_id=s + 1) for s in (1, 2)]
    subs = [Subnet(id=f"s{s}", network_id=f"n{s}", cidr=f"10.{s}.0.0/16", gateway_ip=f"10.{s}.0.1") for s in (1, 2)]
    if dual:
        subs += [Subnet(id=f"s{s}v6", network_id=f"n{s}", cidr=PREFIXES[s], ip_version=6, ipv6_ra_mode="slaac",
                        ipv6_address_mode="slaac", gateway_ip=PREFIXES[s].replace("::/64", "::1")) for s in (1, 2)]
    model_ports, ifaces = [], {"hv1": {}, "hv2": {}}
    for sub in subs:
        s = sub.network_id
        model_ports.append(Port(id=f"rif-{sub.id}", project_id="p", network_id=s, key=60000 + len(model_ports),
                                mac_address=f"fa:16:3e:00:00:{len(model_ports):02x}", device_owner=ROUTER_INTERFACE,
                                device_id="r", fixed_ips=[{"subnet_id": sub.id, "ip_address": sub.gateway_ip}]))
    for i in range(ports):
        s, host = i % 2 + 1, f"hv{i // 2 % 2 + 1}"
        mac, name = f"02:00:{s:02x}:00:{i >> 8:02x}:{i & 255:02x}", f"p{i}"
        fixed = [{"subnet_id": f"s{s}", "ip_address": f"10.{s}.{(i >> 8) + 1}.{i & 255}"}]
        if dual:
            fixed.append({"subnet_id": f"s{s}v6", "ip_address": eui64(PREFIXES[s], mac)})
        ifaces[host][name] = Interface(name, len(ifaces[host]) + 2)
        model_ports.append(Port(id=name, project_id="p", network_id=f"n{s}", key=i + 1, mac_address=mac,
                                fixed_ips=fixed, host_id=host, profile={"interface_name": name}))
    chs = {h: Chassis(h, n + 1, {"t": Interface("t", 1), **ifaces[h]}, frozenset(["t"])) for n, h in enumerate(ifaces)}
    view = build_view(nets, model_ports, subs, [Router(id="r", project_id="p", key=1)], chs, [])
    security = sum(len(port_security_flows(b.port)) for b in view.local.get("hv1", ()))
    total = len(chassis_l2(chs["hv1"], view).flows) + len(chassis_l3(chs["hv1"], view).flows) + security
    return total / ports


def main() -> None:
    args = iperf_options(__doc__)
    topo = TenantsTopo(switches=1, hosts=1, tenants="a", subnets=2)
    with tenants_lab(topo, Path(tempfile.mkdtemp(prefix="nvbench-")), flags=("--nvapps-ra-interval", "1"),
                     apps=("nvapps.dhcp.app", "nvapps.l3.app", "nvapps.l2.app")) as lab:
        a = lab.tenants["a"]
        a11, a21 = lab.host("a11"), lab.host("a21")
        for s, cidr in PREFIXES.items():
            sub = lab.api.create("subnet", network_id=a.networks[s]["id"], ip_version=6, cidr=cidr,
                                 ipv6_ra_mode="slaac", ipv6_address_mode="slaac", project_id=a.name)
            lab.api.action("router", a.router["id"], "add_router_interface", subnet_id=sub["id"])
        target = eui64(PREFIXES[2], a21.defaultIntf().MAC())
        eventually(lambda: target in a21.cmd("ip -6 addr show scope global"), timeout=30, what="a21's address")
        wait_ping(a11, host_ip(1, 2))
        wait_ping(a11, target, timeout=30)
        v4 = median_runs(a11, a21, args.seconds, args.runs)
        v6 = median_runs(a11, a21, args.seconds, args.runs, target)
    print(f"routed through a tenant router, a11 -> a21: IPv4 {v4:.2f} Gbit/s, IPv6 {v6:.2f} Gbit/s "
          f"(IPv6/IPv4 {v6 / v4:.3f})")
    print("flows per port on one of two chassis (L2 + L3 + port security; one router over two networks):")
    for ports in (100, 1000):
        four, dual = flows_per_port(ports, False), flows_per_port(ports, True)
        print(f"  {ports:5d} ports: IPv4-only {four:.2f}, dual-stack {dual:.2f} (ratio {dual / four:.2f})")


if __name__ == "__main__":
    main()
