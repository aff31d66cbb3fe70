"""L3 flow builders on the fake switch: distributed routing, VRF isolation, ICMP in flows, punts."""
from __future__ import annotations

from nvapps.core import ofp
from nvapps.core.topology import Chassis, Interface
from nvapps.logical.view import build_view
from nvapps.model.network import ROUTER_INTERFACE, Network, Port, Subnet
from nvapps.model.router import Router
from tests.unit.pipelinekit import l3_of, switch_of

TRUNK, CONTROLLER = 1, ofp.OFPP_CONTROLLER
IP = 0x0800


def tenant(t: int, router_key: int, routes=()):
    """Tenant t: networks A/B (keys 10t, 10t+1) with 10.0.1.0/24 and 10.0.2.0/24, a router on both, two hosts
    on hv1 (ofports 2t, 2t+1) and one on hv2 (B)."""
    nets = [Network(id=f"t{t}A", project_id="p", segmentation_id=10 * t),
            Network(id=f"t{t}B", project_id="p", segmentation_id=10 * t + 1)]
    subs = [Subnet(id=f"t{t}sA", network_id=f"t{t}A", cidr="10.0.1.0/24", gateway_ip="10.0.1.1"),
            Subnet(id=f"t{t}sB", network_id=f"t{t}B", cidr="10.0.2.0/24", gateway_ip="10.0.2.1")]
    router = Router(id=f"t{t}r", project_id="p", key=router_key, routes=list(routes))

    def port(key, net, sub, ip, mac, host=None, iface=None, owner=""):
        return Port(id=f"t{t}p{key}", project_id="p", network_id=net, mac_address=mac, key=100 * t + key,
                    fixed_ips=[{"subnet_id": sub, "ip_address": ip}], host_id=host or "",
                    profile={"interface_name": iface} if iface else {}, device_owner=owner,
                    device_id=router.id if owner else "")
    ports = [
        port(1, f"t{t}A", f"t{t}sA", "10.0.1.1", f"fa:16:3e:00:0{t}:01", owner=ROUTER_INTERFACE),
        port(2, f"t{t}B", f"t{t}sB", "10.0.2.1", f"fa:16:3e:00:0{t}:02", owner=ROUTER_INTERFACE),
        port(3, f"t{t}A", f"t{t}sA", "10.0.1.11", f"02:00:00:0{t}:01:11", "hv1", f"hv1-eth{2 * t}"),
        port(4, f"t{t}B", f"t{t}sB", "10.0.2.11", f"02:00:00:0{t}:02:11", "hv1", f"hv1-eth{2 * t + 1}"),
        port(5, f"t{t}B", f"t{t}sB", "10.0.2.12", f"02:00:00:0{t}:02:12", "hv2", "hv2-eth2"),
    ]
    return nets, subs, [router], ports


def switch(*tenants):
    nets, subs, routers, ports = ([x for t in tenants for x in t[i]] for i in range(4))
    hv1 = Chassis("hv1", 1, {n: Interface(n, i + 1) for i, n in enumerate(
        ["hv1-eth1", "hv1-eth2", "hv1-eth3", "hv1-eth4", "hv1-eth5"])}, frozenset(["hv1-eth1"]))
    hv2 = Chassis("hv2", 2, {"hv2-eth1": Interface("hv2-eth1", 1), "hv2-eth2": Interface("hv2-eth2", 2)},
                  frozenset(["hv2-eth1"]))
    chs = {"hv1": hv1, "hv2": hv2}
    return switch_of(build_view(nets, ports, subs, routers, chs, []), hv1)


def ip_packet(t: int, dst: str, ttl: int = 64, **extra):
    return dict(eth_src=f"02:00:00:0{t}:01:11", eth_dst=f"fa:16:3e:00:0{t}:01", eth_type=IP,
                ipv4_src="10.0.1.11", ipv4_dst=dst, ip_ttl=ttl, **extra)


def test_a_routed_packet_reaches_the_other_subnets_host_with_router_mac_and_ttl_decremented():
    [(port, wire)] = switch(tenant(1, 1)).send(2, **ip_packet(1, "10.0.2.11"))
    assert port == 3
    assert (wire["eth_src"], wire["eth_dst"], wire["ip_ttl"]) == (0xFA163E000102, 0x020000010211, 63)


def test_a_packet_for_another_chassis_leaves_routed_with_the_destination_networks_key():
    [(port, wire)] = switch(tenant(1, 1)).send(2, **ip_packet(1, "10.0.2.12"))
    assert port == TRUNK and wire["vlan_vid"] == ofp.OFPVID_PRESENT | 11 and wire["eth_dst"] == 0x020000010212


def test_routers_answer_echo_on_every_interface_address():
    for router_ip in ("10.0.1.1", "10.0.2.1"):
        [(port, wire)] = switch(tenant(1, 1)).send(2, **ip_packet(1, router_ip, ip_proto=1, icmpv4_type=8))
        assert port == 2
        assert (wire["ipv4_src"], wire["ipv4_dst"], wire["icmpv4_type"], wire["ip_ttl"]) == \
            (int.from_bytes(bytes(map(int, router_ip.split("."))), "big"), 0x0A00010B, 0, 64)
        assert (wire["eth_src"], wire["eth_dst"]) == (0xFA163E000101, 0x020000010111)


def test_expiring_ttl_and_missing_routes_go_to_the_controller():
    sw = switch(tenant(1, 1))
    assert [p for p, _ in sw.send(2, **ip_packet(1, "10.0.2.11", ttl=1))] == [CONTROLLER]
    assert [p for p, _ in sw.send(2, **ip_packet(1, "8.8.8.8"))] == [CONTROLLER]


def test_static_routes_use_the_longest_prefix_and_a_known_next_hop():
    sw = switch(tenant(1, 1, routes=[{"destination": "192.168.0.0/16", "nexthop": "10.0.2.11"},
                                     {"destination": "192.168.7.0/24", "nexthop": "10.0.2.12"}]))
    [(port, wire)] = sw.send(2, **ip_packet(1, "192.168.1.5"))
    assert port == 3 and wire["eth_dst"] == 0x020000010211
    [(port, wire)] = sw.send(2, **ip_packet(1, "192.168.7.5"))
    assert port == TRUNK and wire["eth_dst"] == 0x020000010212


def test_two_tenants_with_the_same_cidrs_route_only_inside_their_own_vrf():
    sw = switch(tenant(1, 1), tenant(2, 2))
    [(port, _)] = sw.send(2, **ip_packet(1, "10.0.2.11"))
    assert port == 3
    [(port, wire)] = sw.send(4, **ip_packet(2, "10.0.2.11"))
    assert port == 5 and wire["eth_src"] == 0xFA163E000202


def test_router_flows_are_constant_per_port():
    def count(extra: int) -> int:
        nets, subs, routers, ports = tenant(1, 1)
        ports = ports + [Port(id=f"x{i}", project_id="p", network_id="t1B", mac_address=f"02:00:00:09:00:{i:02x}",
                              key=900 + i, fixed_ips=[{"subnet_id": "t1sB", "ip_address": f"10.0.2.{100 + i}"}],
                              host_id="hv2", profile={"interface_name": "hv2-eth2"}) for i in range(extra)]
        hv1 = Chassis("hv1", 1, {"hv1-eth2": Interface("hv1-eth2", 2)})
        hv2 = Chassis("hv2", 2, {"hv2-eth2": Interface("hv2-eth2", 2)})
        return len(l3_of(build_view(nets, ports, subs, routers, {"hv1": hv1, "hv2": hv2}, []), hv1))
    assert count(20) - count(10) == count(30) - count(20) == 10


def test_a_packet_that_arrives_with_ttl_0_is_dropped_not_routed():
    assert switch(tenant(1, 1)).send(2, **ip_packet(1, "10.0.2.11", ttl=0)) == []


def test_a_connected_subnet_wins_over_a_static_route_for_the_same_prefix():
    sw = switch(tenant(1, 1, routes=[{"destination": "10.0.2.0/24", "nexthop": "10.0.1.11"}]))
    [(port, wire)] = sw.send(2, **ip_packet(1, "10.0.2.11"))
    assert port == 3 and wire["eth_dst"] == 0x020000010211           # delivered, not sent to 10.0.1.11
