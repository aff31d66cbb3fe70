"""IPv6 on the fake switch: routing between a router's IPv6 subnets (connected, static, longest prefix), VRF
isolation, echo to the router's addresses, hop limits, and neighbour solicitations answered in flows."""
from __future__ import annotations

import netaddr
from os_ken.lib.packet import ethernet, icmpv6, ipv6, packet

from nvapps.core import ofp
from nvapps.core.topology import Chassis, Interface
from nvapps.l3.icmp import TIME_EXCEEDED, UNREACHABLE, icmp_error
from nvapps.logical.view import build_view
from nvapps.model.ipam import link_local
from nvapps.model.network import ROUTER_INTERFACE, Network, Port, Subnet
from nvapps.model.router import Router
from tests.unit.fakeswitch import FakeSwitch
from tests.unit.pipelinekit import l3_of, switch_of

TRUNK, CONTROLLER = 1, ofp.OFPP_CONTROLLER
IPV6, ICMPV6 = 0x86DD, 58
NS, NA, ECHO, ECHO_REPLY = 135, 136, 128, 129
ROUTER_FLAGS, HOST_FLAGS = 0xE0000000, 0x60000000     # R|S|O, S|O


def ip6(text: str) -> int:
    return int(netaddr.IPAddress(text))


def mac(text: str) -> int:
    return int(netaddr.EUI(text))


def tenant(t: int, router_key: int, routes=()):
    """Tenant t: networks A/B (keys 10t, 10t+1), each dual-stack (10.0.s.0/24 and 2001:db8:s::/64), a router
    with an interface port per subnet, hosts A1 (hv1, ofport 2t), B1 (hv1, 2t+1) and B2 (hv2)."""
    nets = [Network(id=f"t{t}A", project_id="p", segmentation_id=10 * t),
            Network(id=f"t{t}B", project_id="p", segmentation_id=10 * t + 1)]
    subs = [Subnet(id=f"t{t}s{n}{v}", network_id=f"t{t}{n}", ip_version=v,
                   cidr=f"10.0.{s}.0/24" if v == 4 else f"2001:db8:{s}::/64",
                   gateway_ip=f"10.0.{s}.1" if v == 4 else f"2001:db8:{s}::1")
            for s, n in ((1, "A"), (2, "B")) for v in (4, 6)]
    router = Router(id=f"t{t}r", project_id="p", key=router_key, routes=list(routes))

    def port(key, net, ips, mac_, host=None, iface=None, owner=""):
        return Port(id=f"t{t}p{key}", project_id="p", network_id=f"t{t}{net}", mac_address=mac_, key=100 * t + key,
                    fixed_ips=[{"subnet_id": f"t{t}s{net}{6 if ':' in ip else 4}", "ip_address": ip} for ip in ips],
                    host_id=host or "", profile={"interface_name": iface} if iface else {}, device_owner=owner,
                    device_id=router.id if owner else "")
    ports = [
        port(1, "A", ["10.0.1.1"], f"fa:16:3e:00:0{t}:01", owner=ROUTER_INTERFACE),
        port(2, "B", ["10.0.2.1"], f"fa:16:3e:00:0{t}:02", owner=ROUTER_INTERFACE),
        port(6, "A", ["2001:db8:1::1"], f"fa:16:3e:00:0{t}:61", owner=ROUTER_INTERFACE),
        port(7, "B", ["2001:db8:2::1"], f"fa:16:3e:00:0{t}:62", owner=ROUTER_INTERFACE),
        port(3, "A", ["10.0.1.11", "2001:db8:1::11"], f"02:00:00:0{t}:01:11", "hv1", f"hv1-eth{2 * t}"),
        port(4, "B", ["10.0.2.11", "2001:db8:2::11"], f"02:00:00:0{t}:02:11", "hv1", f"hv1-eth{2 * t + 1}"),
        port(5, "B", ["10.0.2.12", "2001:db8:2::12"], f"02:00:00:0{t}:02:12", "hv2", "hv2-eth2"),
    ]
    return nets, subs, [router], ports


def switch(*tenants) -> FakeSwitch:
    nets, subs, routers, ports = ([x for t in tenants for x in t[i]] for i in range(4))
    hv1 = Chassis("hv1", 1, {n: Interface(n, i + 1) for i, n in enumerate(
        ["hv1-eth1", "hv1-eth2", "hv1-eth3", "hv1-eth4", "hv1-eth5"])}, frozenset(["hv1-eth1"]))
    hv2 = Chassis("hv2", 2, {"hv2-eth1": Interface("hv2-eth1", 1), "hv2-eth2": Interface("hv2-eth2", 2)},
                  frozenset(["hv2-eth1"]))
    return switch_of(build_view(nets, ports, subs, routers, {"hv1": hv1, "hv2": hv2}, []), hv1)


def packet6(t: int, dst: str, hops: int = 64, src: str = "2001:db8:1::11", eth_dst: str | None = None, **extra):
    """From host A1 of tenant t to the router's interface MAC on A."""
    return dict(eth_src=f"02:00:00:0{t}:01:11", eth_dst=eth_dst or f"fa:16:3e:00:0{t}:61", eth_type=IPV6,
                ipv6_src=src, ipv6_dst=dst, ip_ttl=hops, **extra)


def solicitation(t: int, target: str, src: str = "2001:db8:1::11"):
    return packet6(t, "ff02::1:ff00:1", 255, src, "33:33:ff:00:00:01", ip_proto=ICMPV6, icmpv6_type=NS,
                   icmpv6_code=0, ipv6_nd_target=target, ipv6_nd_sll=f"02:00:00:0{t}:01:11")


def test_a_routed_ipv6_packet_reaches_the_other_subnets_host_from_the_routers_mac_with_hop_limit_decremented():
    [(port, wire)] = switch(tenant(1, 1)).send(2, **packet6(1, "2001:db8:2::11"))
    assert port == 3
    assert (wire["eth_src"], wire["eth_dst"], wire["ip_ttl"]) == (mac("fa:16:3e:00:01:62"), mac("02:00:00:01:02:11"), 63)


def test_an_ipv6_packet_for_another_chassis_leaves_routed_in_the_destination_network():
    [(port, wire)] = switch(tenant(1, 1)).send(2, **packet6(1, "2001:db8:2::12"))
    assert port == TRUNK and wire["vlan_vid"] == ofp.OFPVID_PRESENT | 11 and wire["eth_dst"] == mac("02:00:00:01:02:12")


def test_two_tenants_with_the_same_ipv6_prefixes_route_only_inside_their_own_vrf():
    sw = switch(tenant(1, 1), tenant(2, 2))
    [(port, wire)] = sw.send(4, **packet6(2, "2001:db8:2::11"))
    assert port == 5 and wire["eth_src"] == mac("fa:16:3e:00:02:62")
    # tenant 1's host sends to tenant 2's router MAC: no flow of tenant 1's network knows it
    assert sw.send(2, **packet6(1, "2001:db8:2::11", eth_dst="fa:16:3e:00:02:61")) == []


def test_static_ipv6_routes_use_the_longest_prefix_and_a_known_next_hop():
    sw = switch(tenant(1, 1, routes=[{"destination": "2001:db8:f::/48", "nexthop": "2001:db8:2::11"},
                                     {"destination": "2001:db8:f:7::/64", "nexthop": "2001:db8:2::12"}]))
    [(port, wire)] = sw.send(2, **packet6(1, "2001:db8:f:1::5"))
    assert port == 3 and wire["eth_dst"] == mac("02:00:00:01:02:11")
    [(port, wire)] = sw.send(2, **packet6(1, "2001:db8:f:7::5"))
    assert port == TRUNK and wire["eth_dst"] == mac("02:00:00:01:02:12")


def test_routers_answer_echo_on_their_global_and_link_local_addresses():
    sw = switch(tenant(1, 1))
    for address in ("2001:db8:1::1", "2001:db8:2::1", link_local("fa:16:3e:00:01:61")):
        [(port, wire)] = sw.send(2, **packet6(1, address, ip_proto=ICMPV6, icmpv6_type=ECHO, icmpv6_code=0))
        assert port == 2, address
        assert (wire["ipv6_src"], wire["ipv6_dst"], wire["icmpv6_type"], wire["ip_ttl"]) == \
            (ip6(address), ip6("2001:db8:1::11"), ECHO_REPLY, 64)
        assert (wire["eth_src"], wire["eth_dst"]) == (mac("fa:16:3e:00:01:61"), mac("02:00:00:01:01:11"))


def test_other_packets_for_the_router_and_link_local_or_multicast_destinations_are_not_routed():
    sw = switch(tenant(1, 1))
    assert sw.send(2, **packet6(1, "2001:db8:2::1", ip_proto=17, udp_src=5, udp_dst=7)) == []
    assert sw.send(2, **packet6(1, link_local("02:00:00:01:02:11"))) == []
    assert sw.send(2, **packet6(1, "ff05::2")) == []


def test_expiring_hop_limits_and_missing_routes_go_to_the_controller_and_hop_limit_0_is_dropped():
    sw = switch(tenant(1, 1))
    assert [p for p, _ in sw.send(2, **packet6(1, "2001:db8:2::11", hops=1))] == [CONTROLLER]
    assert [p for p, _ in sw.send(2, **packet6(1, "2001:db8:99::1"))] == [CONTROLLER]
    assert sw.send(2, **packet6(1, "2001:db8:2::11", hops=0)) == []


def test_neighbour_solicitations_for_known_addresses_are_answered_in_flows_to_the_asker():
    sw = switch(tenant(1, 1), tenant(2, 2))
    for t, asker in ((1, 2), (2, 4)):
        for target, owner, flags in (("2001:db8:1::1", f"fa:16:3e:00:0{t}:61", ROUTER_FLAGS),
                                     (link_local(f"fa:16:3e:00:0{t}:61"), f"fa:16:3e:00:0{t}:61", ROUTER_FLAGS)):
            [(port, wire)] = sw.send(asker, **solicitation(t, target))
            assert port == asker
            assert (wire["icmpv6_type"], wire["nd_reserved"], wire["nd_options_type"]) == (NA, flags, 2)
            assert (wire["eth_src"], wire["ipv6_nd_tll"], wire["eth_dst"]) == (mac(owner), mac(owner),
                                                                               mac(f"02:00:00:0{t}:01:11"))
            assert (wire["ipv6_src"], wire["ipv6_dst"], wire["ip_ttl"]) == (ip6(target), ip6("2001:db8:1::11"), 255)


def test_a_hosts_address_is_answered_as_a_host_but_not_to_its_owner_nor_for_duplicate_address_detection():
    nets, subs, routers, ports = tenant(1, 1)
    extra = Port(id="a2", project_id="p", network_id="t1A", mac_address="02:00:00:01:01:12", key=120,
                 fixed_ips=[{"subnet_id": "t1sA6", "ip_address": "2001:db8:1::12"}], host_id="hv1",
                 profile={"interface_name": "hv1-eth4"})
    hv1 = Chassis("hv1", 1, {n: Interface(n, i + 1) for i, n in enumerate(
        ["hv1-eth1", "hv1-eth2", "hv1-eth3", "hv1-eth4"])}, frozenset(["hv1-eth1"]))
    sw = switch_of(build_view(nets, ports + [extra], subs, routers, {"hv1": hv1}, []), hv1)
    [(port, wire)] = sw.send(2, **solicitation(1, "2001:db8:1::12"))
    assert port == 2 and (wire["nd_reserved"], wire["ipv6_nd_tll"]) == (HOST_FLAGS, mac("02:00:00:01:01:12"))
    # duplicate address detection (from ::) and the owner's own solicitation go to the network instead
    assert [p for p, _ in sw.send(2, **solicitation(1, "2001:db8:1::12", src="::"))] == [4]
    owner = dict(solicitation(1, "2001:db8:1::12", src="2001:db8:1::12"), eth_src="02:00:00:01:01:12")
    assert [p for p, w in sw.send(4, **owner)] == [2]


def _frame(src: str, dst: str, hops: int, message: icmpv6.icmpv6) -> bytes:
    pkt = packet.Packet()
    pkt.add_protocol(ethernet.ethernet(dst="fa:16:3e:00:01:61", src="02:00:00:01:01:11", ethertype=IPV6))
    pkt.add_protocol(ipv6.ipv6(src=src, dst=dst, nxt=ICMPV6, hop_limit=hops))
    pkt.add_protocol(message)
    pkt.serialize()
    return bytes(pkt.data)


def test_icmpv6_errors_quote_the_packet_to_its_sender_and_never_answer_errors_or_multicast():
    echo = icmpv6.icmpv6(type_=ECHO, data=icmpv6.echo(id_=7, seq=1, data=b"x" * 2000))
    original = _frame("2001:db8:1::11", "2001:db8:2::11", 1, echo)
    reply = packet.Packet(icmp_error(original, TIME_EXCEEDED, "fa:16:3e:00:01:61", "2001:db8:1::1"))
    eth, ip, message = (reply.get_protocol(c) for c in (ethernet.ethernet, ipv6.ipv6, icmpv6.icmpv6))
    assert (eth.dst, eth.src, ip.src, ip.dst) == ("02:00:00:01:01:11", "fa:16:3e:00:01:61", "2001:db8:1::1",
                                                  "2001:db8:1::11")
    assert (message.type_, message.code) == (3, 0) and len(reply.data) - 14 == 1280    # the minimum MTU, filled
    assert message.data[4:44] == original[14:54]                                       # the quoted header
    unreachable = packet.Packet(icmp_error(original, UNREACHABLE, "fa:16:3e:00:01:61", "2001:db8:1::1"))
    assert unreachable.get_protocol(icmpv6.icmpv6).type_ == 1
    error = icmpv6.icmpv6(type_=1, data=b"\0" * 8)
    assert icmp_error(_frame("2001:db8:1::11", "2001:db8:2::11", 1, error), UNREACHABLE, "fa:16:3e:00:01:61",
                      "2001:db8:1::1") is None
    assert icmp_error(_frame("2001:db8:1::11", "ff05::2", 1, echo), UNREACHABLE, "fa:16:3e:00:01:61",
                      "2001:db8:1::1") is None
    assert icmp_error(_frame("::", "2001:db8:2::11", 1, echo), UNREACHABLE, "fa:16:3e:00:01:61",
                      "2001:db8:1::1") is None


def v4_only(t: int, router_key: int):
    """Tenant t as tenant() without its IPv6 subnets and interfaces, and on other IPv4 subnets (10.9.s.0/24)."""
    nets, subs, routers, ports = tenant(t, router_key)
    subs = [Subnet(id=s.id, network_id=s.network_id, cidr=s.cidr.replace("10.0.", "10.9."),
                   gateway_ip=(s.gateway_ip or "").replace("10.0.", "10.9.")) for s in subs if s.ip_version == 4]
    kept = []
    for p in ports:
        fixed = [{**ip, "ip_address": ip["ip_address"].replace("10.0.", "10.9.")} for ip in p.fixed_ips
                 if ":" not in ip["ip_address"]]
        if fixed:
            kept.append(Port(**{**p.__dict__, "fixed_ips": fixed}))
    return nets, subs, routers, kept


def test_a_router_routes_only_its_own_prefixes_and_ipv6_only_with_ipv6_interfaces():
    sw = switch(tenant(1, 1), v4_only(2, 2))
    to_router2 = dict(eth_src="02:00:00:02:01:11", eth_dst="fa:16:3e:00:02:01", ip_ttl=64)
    # tenant 2's router has no 10.0.1.0/24: no route (the controller answers), not tenant 1's
    assert [p for p, _ in sw.send(4, **to_router2, eth_type=0x0800, ipv4_src="10.9.1.11",
                                  ipv4_dst="10.0.2.11")] == [CONTROLLER]
    six = dict(to_router2, eth_type=IPV6, ipv6_src="2001:db8:1::11", ipv6_dst="2001:db8:2::11")
    assert sw.send(4, **six) == [] and sw.send(4, **{**six, "ip_ttl": 1}) == []     # no IPv6 interface


def test_echo_to_an_interfaces_link_local_address_is_answered_only_from_its_own_link():
    sw = switch(tenant(1, 1))
    echo = dict(ip_proto=ICMPV6, icmpv6_type=ECHO, icmpv6_code=0)
    # from network B, through the router's IPv6 interface there, for network A's interface's address
    from_b = dict(eth_src="02:00:00:01:02:11", eth_dst="fa:16:3e:00:01:62", eth_type=IPV6,
                  ipv6_src="2001:db8:2::11", ip_ttl=64, **echo)
    assert sw.send(3, **from_b, ipv6_dst=link_local("fa:16:3e:00:01:61")) == []
    assert [p for p, _ in sw.send(3, **from_b, ipv6_dst=link_local("fa:16:3e:00:01:62"))] == [3]
    # the IPv4 interface's port has no IPv6 address: its link-local address is not the router's
    assert sw.send(2, **packet6(1, link_local("fa:16:3e:00:01:01"), eth_dst="fa:16:3e:00:01:01", **echo)) == []


def test_a_longer_static_prefix_inside_a_connected_subnet_wins():
    sw = switch(tenant(1, 1, routes=[{"destination": "2001:db8:2:0:8000::/65", "nexthop": "2001:db8:2::12"}]))
    [(port, wire)] = sw.send(2, **packet6(1, "2001:db8:2:0:8000::5"))
    assert port == TRUNK and wire["eth_dst"] == mac("02:00:00:01:02:12")


def test_router_flows_name_their_router_and_what_they_stand_for_and_every_punt_is_metered():
    nets, subs, routers, ports = tenant(1, 1, routes=[{"destination": "2001:db8:f::/48", "nexthop": "2001:db8:2::11"}])
    hv1 = Chassis("hv1", 1, {"hv1-eth2": Interface("hv1-eth2", 2), "hv1-eth3": Interface("hv1-eth3", 3)})
    flows = l3_of(build_view(nets, ports, subs, routers, {"hv1": hv1}, []), hv1)
    assert all(f.origin[0] == ("router", "t1r") for f in flows)
    origins = {f.origin[1:] for f in flows}
    assert origins >= {(("route", "none: ICMP unreachable"),), (("address", "2001:db8:1::1"),),
                       (("address", link_local("fa:16:3e:00:01:61")),), (("subnet", "t1sA6"),),
                       (("route", "2001:db8:1::/64 connected"), ("subnet", "t1sA6")),
                       (("route", "2001:db8:f::/48 via 2001:db8:2::11"),), (("next_hop", "t1p3"),)}
    punts = [f for f in flows if ofp.PUNT in f.actions]
    assert len(punts) == 4 and all(f.meter == 3 for f in punts)         # TTL and no route, IPv4 and IPv6
