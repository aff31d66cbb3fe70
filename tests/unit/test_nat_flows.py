"""Gateway placement and the NAT pipeline on the fake switch (with its conntrack): SNAT, floating IPs, port
forwarding, next hops learned from ARP, and outside traffic sent un-routed to the gateway chassis."""
from __future__ import annotations

import netaddr
import pytest

from nvapps.core import ofp
from nvapps.core.topology import Chassis, Interface, Uplink, fabric, place_gateway
from nvapps.logical.view import build_view
from nvapps.model.chassis import RegisteredChassis
from nvapps.model.network import ROUTER_GATEWAY, ROUTER_INTERFACE, Network, Port, Subnet
from nvapps.model.port_forwarding import PortForwarding
from nvapps.model.router import Router
from nvapps.nat.flows import External, Floating, NatRouter, NatView, chassis_nat
from tests.unit.fakeswitch import FakeSwitch
from tests.unit.pipelinekit import l3_of, switch_of

TRUNK, UPLINK, HOST, CONTROLLER = 1, 9, 2, ofp.OFPP_CONTROLLER
IP, ARP, TCP = 0x0800, 0x0806, 6
ROUTER_MAC, GATEWAY_MAC, PEER_MAC = "fa:16:3e:00:00:01", "fa:16:3e:00:00:99", "02:00:00:ff:00:01"
HOST_MAC = "02:00:00:00:01:11"
GATEWAY_IP, PEER, FAR = "172.16.0.100", "172.16.0.1", "203.0.113.10"
UPLINKS = [Uplink("hv1", "physnet1", "hv1-eth9"), Uplink("hv2", "physnet1", "hv2-eth9")]


def n(address: str) -> int:
    """An IPv4 or MAC address as the integer the fake switch holds."""
    return int(netaddr.EUI(address)) if ":" in address else int(netaddr.IPAddress(address))


def chassis(name: str, uplink_up: bool = True) -> Chassis:
    interfaces = {f"{name}-eth1": Interface(f"{name}-eth1", TRUNK), f"{name}-eth2": Interface(f"{name}-eth2", HOST),
                  f"{name}-eth9": Interface(f"{name}-eth9", UPLINK, uplink_up)}
    return Chassis(name, int(name[-1]), interfaces, frozenset([f"{name}-eth1"]), {"physnet1": f"{name}-eth9"})


def edge(router_key: int = 1, enable_snat: bool = True):
    """One tenant network 10.0.1.0/24 (a host on hv1) on a router with its gateway on physnet1."""
    nets = [Network(id="int", project_id="p", segmentation_id=10),
            Network(id="ext", project_id="admin", segmentation_id=50, external=True, physical_network="physnet1",
                    network_type="flat")]
    subs = [Subnet(id="s-int", network_id="int", cidr="10.0.1.0/24", gateway_ip="10.0.1.1"),
            Subnet(id="s-ext", network_id="ext", cidr="172.16.0.0/24", gateway_ip=PEER)]
    router = Router(id="r", project_id="p", key=router_key, external_gateway_info={
        "network_id": "ext", "enable_snat": enable_snat, "external_fixed_ips": []})
    ports = [
        Port(id="ri", project_id="p", network_id="int", mac_address=ROUTER_MAC, key=1, device_owner=ROUTER_INTERFACE,
             device_id="r", fixed_ips=[{"subnet_id": "s-int", "ip_address": "10.0.1.1"}]),
        Port(id="rg", project_id="", network_id="ext", mac_address=GATEWAY_MAC, key=2, device_owner=ROUTER_GATEWAY,
             device_id="r", fixed_ips=[{"subnet_id": "s-ext", "ip_address": GATEWAY_IP}]),
        Port(id="vm", project_id="p", network_id="int", mac_address=HOST_MAC, key=3, host_id="hv1",
             profile={"interface_name": "hv1-eth2"}, fixed_ips=[{"subnet_id": "s-int", "ip_address": "10.0.1.11"}]),
    ]
    return nets, subs, [router], ports


def switch(here: str, model, floating: dict | None = None, chassis_map=None) -> FakeSwitch:
    """Chassis `here` of `model` with the floating IPs of each router (router id -> its floating IPs)."""
    nets, subs, routers, ports = model
    chs = chassis_map or {"hv1": chassis("hv1"), "hv2": chassis("hv2")}
    view = build_view(nets, ports, subs, routers, chs, UPLINKS)
    floating = floating or {}
    nat = chassis_nat(chs[here], NatView([NatRouter(v, tuple(floating.get(v.router.id, ())))
                                          for v in view.routers if v.gateway], [External(50, "physnet1")]))
    return switch_of(view, chs[here], list(nat.flows.values()))


def from_host(dst: str, **extra) -> dict:
    return dict(eth_src=HOST_MAC, eth_dst=ROUTER_MAC, eth_type=IP, ipv4_src="10.0.1.11", ipv4_dst=dst, ip_ttl=64,
                **extra)


def from_outside(dst: str, src: str = FAR, **extra) -> dict:
    return dict(eth_src=PEER_MAC, eth_dst=GATEWAY_MAC, eth_type=IP, ipv4_src=src, ipv4_dst=dst, ip_ttl=64, **extra)


def learn_peer(sw: FakeSwitch) -> None:
    """The peer's ARP reaches the uplink: the switch learns its MAC."""
    sw.send(UPLINK, eth_src=PEER_MAC, eth_dst=GATEWAY_MAC, eth_type=ARP, arp_op=2, arp_spa=PEER, arp_sha=PEER_MAC,
            arp_tpa=GATEWAY_IP, arp_tha=GATEWAY_MAC)


def test_gateways_spread_over_uplinks_by_key_and_fail_over_in_configured_order():
    up = {"hv1": chassis("hv1"), "hv2": chassis("hv2")}
    assert [place_gateway(k, "physnet1", UPLINKS, up) for k in (1, 2, 3, 4)] == ["hv2", "hv1", "hv2", "hv1"]
    hv2_down = {"hv1": chassis("hv1"), "hv2": chassis("hv2", uplink_up=False)}
    assert place_gateway(1, "physnet1", UPLINKS, hv2_down) == "hv1"
    assert place_gateway(1, "physnet1", UPLINKS, {"hv2": chassis("hv2")}) == "hv2"
    assert place_gateway(2, "physnet1", UPLINKS, {"hv2": chassis("hv2")}) == "hv2"
    assert place_gateway(1, "physnet2", UPLINKS, up) is None
    assert place_gateway(1, "physnet1", UPLINKS, {"hv1": chassis("hv1", uplink_up=False)}) is None


def test_a_controller_that_just_started_keeps_gateways_on_chassis_not_back_yet():
    registered = [RegisteredChassis(id="1", name="hv1"), RegisteredChassis(id="2", name="hv2")]
    only_hv1 = {"hv1": chassis("hv1")}
    assert place_gateway(1, "physnet1", UPLINKS, fabric(only_hv1, registered, presume_up=True)) == "hv2"
    assert place_gateway(1, "physnet1", UPLINKS, fabric(only_hv1, registered)) == "hv1"     # after the grace


def test_outside_traffic_goes_to_the_gateway_chassis_unrouted():
    [(port, wire)] = switch("hv1", edge()).send(HOST, **from_host(FAR))        # router key 1: gateway on hv2
    assert port == TRUNK and wire["vlan_vid"] == ofp.OFPVID_PRESENT | 10
    assert (wire["eth_dst"], wire["ip_ttl"], wire["ipv4_src"]) == (n(ROUTER_MAC), 64, n("10.0.1.11"))


def test_the_gateway_chassis_masquerades_resolves_the_next_hop_and_translates_replies_back():
    sw = switch("hv2", edge())
    arriving = dict(vlan_vid=ofp.OFPVID_PRESENT | 10, **from_host(FAR, ip_proto=TCP, tcp_src=40000, tcp_dst=80))
    assert [p for p, _ in sw.send(TRUNK, **arriving)] == [CONTROLLER]        # next hop's MAC unknown: ask
    learn_peer(sw)
    [(port, wire)] = sw.send(TRUNK, **arriving)
    assert port == UPLINK
    assert (wire["ipv4_src"], wire["tcp_src"], wire["ipv4_dst"], wire["ip_ttl"]) == (n(GATEWAY_IP), 40000, n(FAR), 63)
    assert (wire["eth_src"], wire["eth_dst"]) == (n(GATEWAY_MAC), n(PEER_MAC))
    [(port, wire)] = sw.send(UPLINK, **from_outside(GATEWAY_IP, ip_proto=TCP, tcp_src=80, tcp_dst=40000))
    assert port == TRUNK and wire["vlan_vid"] == ofp.OFPVID_PRESENT | 10      # to the host on hv1
    assert (wire["ipv4_dst"], wire["tcp_dst"], wire["eth_dst"]) == (n("10.0.1.11"), 40000, n(HOST_MAC))
    assert sw.send(UPLINK, **from_outside(GATEWAY_IP, ip_proto=TCP, tcp_src=80, tcp_dst=40001)) == []   # no connection


def test_without_snat_the_internal_address_goes_out_as_it_is():
    sw = switch("hv2", edge(enable_snat=False))
    learn_peer(sw)
    [(_, wire)] = sw.send(TRUNK, vlan_vid=ofp.OFPVID_PRESENT | 10, **from_host(FAR))
    assert wire["ipv4_src"] == n("10.0.1.11")


def test_a_floating_ip_translates_both_ways_one_to_one():
    sw = switch("hv2", edge(), {"r": [Floating("172.16.0.150", "10.0.1.11")]})
    learn_peer(sw)
    [(port, wire)] = sw.send(UPLINK, **from_outside("172.16.0.150", ip_proto=TCP, tcp_src=5555, tcp_dst=22))
    assert port == TRUNK and (wire["ipv4_src"], wire["ipv4_dst"]) == (n(FAR), n("10.0.1.11"))
    [(port, wire)] = sw.send(TRUNK, vlan_vid=ofp.OFPVID_PRESENT | 10,
                             **from_host(FAR, ip_proto=TCP, tcp_src=22, tcp_dst=5555))      # its reply
    assert port == UPLINK and wire["ipv4_src"] == n("172.16.0.150")
    [(port, wire)] = sw.send(TRUNK, vlan_vid=ofp.OFPVID_PRESENT | 10, **from_host(FAR, ip_proto=TCP, tcp_src=41000,
                                                                                   tcp_dst=443))  # its own
    assert port == UPLINK and wire["ipv4_src"] == n("172.16.0.150")


def test_port_forwarding_reaches_only_the_forwarded_port():
    pf = PortForwarding(id="pf", protocol="tcp", internal_port_id="vm", internal_ip_address="10.0.1.11",
                        internal_port=22, external_port=2222)
    sw = switch("hv2", edge(), {"r": [Floating("172.16.0.151", None, (pf,))]})
    [(port, wire)] = sw.send(UPLINK, **from_outside("172.16.0.151", ip_proto=TCP, tcp_src=5555, tcp_dst=2222))
    assert port == TRUNK and (wire["ipv4_dst"], wire["tcp_dst"]) == (n("10.0.1.11"), 22)
    assert sw.send(UPLINK, **from_outside("172.16.0.151", ip_proto=TCP, tcp_src=5555, tcp_dst=2223)) == []


@pytest.mark.parametrize("here, answers", [("hv2", True), ("hv1", False)])
def test_arp_for_external_addresses_is_answered_by_the_active_gateway_only(here, answers):
    sw = switch(here, edge(), {"r": [Floating("172.16.0.150", "10.0.1.11")]})
    for address in (GATEWAY_IP, "172.16.0.150"):
        out = sw.send(UPLINK, eth_src=PEER_MAC, eth_dst="ff:ff:ff:ff:ff:ff", eth_type=ARP, arp_op=1, arp_spa=PEER,
                      arp_sha=PEER_MAC, arp_tpa=address)
        if not answers:
            assert out == []
            continue
        [(port, wire)] = out
        assert port == UPLINK and (wire["arp_op"], wire["arp_spa"], wire["arp_sha"], wire["eth_dst"]) == \
            (2, n(address), n(GATEWAY_MAC), n(PEER_MAC))


def test_a_failed_uplink_moves_the_gateway_and_its_flows():
    model = edge()
    chs = {"hv1": chassis("hv1"), "hv2": chassis("hv2", uplink_up=False)}
    sw = switch("hv1", model, chassis_map=chs)
    learn_peer(sw)
    [(port, wire)] = sw.send(HOST, **from_host(FAR))
    assert port == UPLINK and wire["ipv4_src"] == n(GATEWAY_IP)


def two_tenants():
    """Tenants a and b with the same internal network 10.0.1.0/24 (VLAN 10 and 11) behind routers of keys 1
    and 3, both with their gateway active on hv2 (172.16.0.100 and .101)."""
    nets, subs, routers, ports = edge()
    nets = nets + [Network(id="int-b", project_id="q", segmentation_id=11)]
    subs = subs + [Subnet(id="s-int-b", network_id="int-b", cidr="10.0.1.0/24", gateway_ip="10.0.1.1")]
    routers = routers + [Router(id="r-b", project_id="q", key=3, external_gateway_info={
        "network_id": "ext", "enable_snat": True, "external_fixed_ips": []})]
    ports = ports + [
        Port(id="ri-b", project_id="q", network_id="int-b", mac_address=ROUTER_MAC, key=4, device_owner=ROUTER_INTERFACE,
             device_id="r-b", fixed_ips=[{"subnet_id": "s-int-b", "ip_address": "10.0.1.1"}]),
        Port(id="rg-b", project_id="", network_id="ext", mac_address=GATEWAY_B_MAC, key=5, device_owner=ROUTER_GATEWAY,
             device_id="r-b", fixed_ips=[{"subnet_id": "s-ext", "ip_address": GATEWAY_B_IP}]),
        Port(id="vm-b", project_id="q", network_id="int-b", mac_address=HOST_MAC, key=6, host_id="hv1",
             profile={"interface_name": "hv1-eth3"}, fixed_ips=[{"subnet_id": "s-int-b", "ip_address": "10.0.1.11"}])]
    return nets, subs, routers, ports


GATEWAY_B_IP, GATEWAY_B_MAC = "172.16.0.101", "fa:16:3e:00:00:98"


def two_tenant_switch(floating: dict) -> FakeSwitch:
    """Tenants a and b of two_tenants() on hv2 with `floating` (router id -> its floating IPs), the peer known."""
    hv1 = chassis("hv1")
    hv1.interfaces["hv1-eth3"] = Interface("hv1-eth3", 3)
    sw = switch("hv2", two_tenants(), floating, chassis_map={"hv1": hv1, "hv2": chassis("hv2")})
    learn_peer(sw)
    return sw


def test_two_tenants_with_the_same_addresses_are_translated_apart_and_answered_each_in_its_own_network():
    sw = two_tenant_switch({})
    vlan = {"a": ofp.OFPVID_PRESENT | 10, "b": ofp.OFPVID_PRESENT | 11}
    same = from_host(FAR, ip_proto=TCP, tcp_src=40000, tcp_dst=80)
    outside = {}
    for tenant in ("a", "b"):
        [(port, wire)] = sw.send(TRUNK, vlan_vid=vlan[tenant], **same)
        assert port == UPLINK
        outside[tenant] = (wire["ipv4_src"], wire["tcp_src"])
    assert outside == {"a": (n(GATEWAY_IP), 40000), "b": (n(GATEWAY_B_IP), 40000)}
    for tenant, (gateway, gateway_mac) in {"a": (GATEWAY_IP, GATEWAY_MAC), "b": (GATEWAY_B_IP, GATEWAY_B_MAC)}.items():
        reply = dict(from_outside(gateway, ip_proto=TCP, tcp_src=80, tcp_dst=40000), eth_dst=gateway_mac)
        [(port, wire)] = sw.send(UPLINK, **reply)
        assert (port, wire["vlan_vid"], wire["ipv4_dst"]) == (TRUNK, vlan[tenant], n("10.0.1.11"))


def test_masquerading_moves_privileged_source_ports_into_the_snat_range():
    sw = switch("hv2", edge())
    learn_peer(sw)
    [(_, wire)] = sw.send(TRUNK, vlan_vid=ofp.OFPVID_PRESENT | 10, **from_host(FAR, ip_proto=TCP, tcp_src=80,
                                                                               tcp_dst=80))
    assert wire["ipv4_src"] == n(GATEWAY_IP) and 1024 <= wire["tcp_src"] <= 65535


def test_an_arp_reply_for_an_external_address_is_learned_not_answered():
    sw = switch("hv2", edge())
    assert sw.send(UPLINK, eth_src=PEER_MAC, eth_dst=GATEWAY_MAC, eth_type=ARP, arp_op=2, arp_spa=PEER,
                   arp_sha=PEER_MAC, arp_tpa=GATEWAY_IP, arp_tha=GATEWAY_MAC) == []


def test_only_the_routers_subnets_are_masqueraded():
    sw = switch("hv2", edge())
    learn_peer(sw)
    stranger = dict(from_host(FAR, ip_proto=TCP, tcp_src=40000, tcp_dst=80), ipv4_src="10.0.9.9")
    [(port, wire)] = sw.send(TRUNK, vlan_vid=ofp.OFPVID_PRESENT | 10, **stranger)
    assert port == UPLINK and wire["ipv4_src"] == n("10.0.9.9")     # not from a subnet of the router


def test_a_floating_ip_translates_only_its_own_routers_address():
    sw = two_tenant_switch({"r-b": [Floating("172.16.0.150", "10.0.1.11", fip_id="fb")]})
    # a's host has b's floating IP's fixed address: it still leaves masqueraded as a's gateway
    [(port, wire)] = sw.send(TRUNK, vlan_vid=ofp.OFPVID_PRESENT | 10, **from_host(FAR, ip_proto=TCP, tcp_src=40000,
                                                                                  tcp_dst=80))
    assert port == UPLINK and wire["ipv4_src"] == n(GATEWAY_IP)
    [(port, wire)] = sw.send(TRUNK, vlan_vid=ofp.OFPVID_PRESENT | 11, **from_host(FAR, ip_proto=TCP, tcp_src=40000,
                                                                                  tcp_dst=80))
    assert port == UPLINK and wire["ipv4_src"] == n("172.16.0.150")
    # b's floating IP sent to a's gateway MAC does not enter a's router translated to a's host
    to_b = dict(from_outside("172.16.0.150", ip_proto=TCP, tcp_src=5555, tcp_dst=22))
    assert TRUNK not in [port for port, _ in sw.send(UPLINK, **to_b)]
    [(port, wire)] = sw.send(UPLINK, **{**to_b, "eth_dst": GATEWAY_B_MAC})
    assert (port, wire["vlan_vid"], wire["ipv4_dst"]) == (TRUNK, ofp.OFPVID_PRESENT | 11, n("10.0.1.11"))


def test_a_floating_ip_of_forwarded_ports_only_closes_nothing_else():
    pf = PortForwarding(id="pf", protocol="tcp", internal_port_id="vm-b", internal_ip_address="10.0.1.11",
                        internal_port=22, external_port=2222)
    sw = two_tenant_switch({"r": [Floating("172.16.0.150", "10.0.1.11", fip_id="fa")],
                            "r-b": [Floating("172.16.0.151", None, (pf,), fip_id="fb")]})
    [(port, wire)] = sw.send(UPLINK, **from_outside("172.16.0.150", ip_proto=TCP, tcp_src=5555, tcp_dst=22))
    assert (port, wire["vlan_vid"], wire["ipv4_dst"]) == (TRUNK, ofp.OFPVID_PRESENT | 10, n("10.0.1.11"))
    assert sw.send(UPLINK, **{**from_outside("172.16.0.151", ip_proto=TCP, tcp_src=5555, tcp_dst=22),
                              "eth_dst": GATEWAY_B_MAC}) == []


def test_a_forwarded_ports_replies_leave_from_the_floating_ip_and_the_external_port():
    pf = PortForwarding(id="pf", protocol="tcp", internal_port_id="vm", internal_ip_address="10.0.1.11",
                        internal_port=22, external_port=2222)
    sw = switch("hv2", edge(), {"r": [Floating("172.16.0.151", None, (pf,))]})
    learn_peer(sw)
    sw.send(UPLINK, **from_outside("172.16.0.151", ip_proto=TCP, tcp_src=5555, tcp_dst=2222))
    [(port, wire)] = sw.send(TRUNK, vlan_vid=ofp.OFPVID_PRESENT | 10, **from_host(FAR, ip_proto=TCP, tcp_src=22,
                                                                                  tcp_dst=5555))
    assert port == UPLINK and (wire["ipv4_src"], wire["tcp_src"]) == (n("172.16.0.151"), 2222)


def test_nat_flows_name_their_router_and_what_they_stand_for_and_every_punt_is_metered():
    nets, subs, routers, ports = edge()
    chs = {"hv1": chassis("hv1"), "hv2": chassis("hv2")}
    view = build_view(nets, ports, subs, routers, chs, UPLINKS)
    pf = PortForwarding(id="pf", protocol="udp", internal_port_id="vm", internal_ip_address="10.0.1.11",
                        internal_port=53, external_port=5353)
    floating = (Floating("172.16.0.150", "10.0.1.11", fip_id="f1"), Floating("172.16.0.151", None, (pf,), fip_id="f2"))
    nat = chassis_nat(chs["hv2"], NatView([NatRouter(v, floating) for v in view.routers], [External(50, "physnet1")]))
    flows = list(nat.pieces["router", "r"].flows)
    assert all(f.origin[0] == ("router", "r") for f in flows)
    assert {f.origin[1:] for f in flows} == {
        (), (("port", "rg"),), (("snat", f"10.0.1.0/24 as {GATEWAY_IP}"), ("subnet", "s-int")),
        (("floatingip", "f1"),), (("floatingip", "f1"), ("dnat", "172.16.0.150 to 10.0.1.11")),
        (("floatingip", "f1"), ("snat", "10.0.1.11 as 172.16.0.150")), (("floatingip", "f2"),),
        (("floatingip", "f2"), ("port_forwarding", "pf"))}
    punts = [f for p in nat.pieces.values() for f in p.flows if ofp.PUNT in f.actions]
    assert len(punts) == 1 and all(f.meter == 4 for f in punts)


def test_a_udp_port_forwarding_forwards_udp_only():
    pf = PortForwarding(id="pf", protocol="udp", internal_port_id="vm", internal_ip_address="10.0.1.11",
                        internal_port=53, external_port=5353)
    sw = switch("hv2", edge(), {"r": [Floating("172.16.0.151", None, (pf,))]})
    [(port, wire)] = sw.send(UPLINK, **from_outside("172.16.0.151", ip_proto=17, udp_src=5555, udp_dst=5353))
    assert port == TRUNK and (wire["ipv4_dst"], wire["udp_dst"]) == (n("10.0.1.11"), 53)
    assert sw.send(UPLINK, **from_outside("172.16.0.151", ip_proto=TCP, tcp_src=5555, tcp_dst=5353)) == []


def routed_edge():
    """edge() with static routes: 10.9.0.0/16 via a host inside, 192.0.2.0/24 via a second router outside."""
    nets, subs, _, ports = edge()
    router = Router(id="r", project_id="p", key=1, routes=[{"destination": "10.9.0.0/16", "nexthop": "10.0.1.50"},
                                                           {"destination": "192.0.2.0/24", "nexthop": "172.16.0.7"}],
                    external_gateway_info={"network_id": "ext", "enable_snat": True, "external_fixed_ips": []})
    return nets, subs, [router], ports


def test_a_static_route_via_an_outside_next_hop_leaves_for_that_hops_mac():
    sw = switch("hv2", routed_edge())
    learn_peer(sw)
    sw.send(UPLINK, eth_src="02:00:00:ff:00:07", eth_dst=GATEWAY_MAC, eth_type=ARP, arp_op=2, arp_spa="172.16.0.7",
            arp_sha="02:00:00:ff:00:07", arp_tpa=GATEWAY_IP, arp_tha=GATEWAY_MAC)
    for dst, mac in (("192.0.2.5", "02:00:00:ff:00:07"), (FAR, PEER_MAC), ("172.16.0.7", "02:00:00:ff:00:07")):
        [(port, wire)] = sw.send(TRUNK, vlan_vid=ofp.OFPVID_PRESENT | 10, **from_host(dst))
        assert (port, wire["eth_dst"], wire["ipv4_src"]) == (UPLINK, n(mac), n(GATEWAY_IP)), dst
    [(port, wire)] = switch("hv1", routed_edge()).send(HOST, **from_host("192.0.2.5"))     # to the gateway chassis
    assert port == TRUNK and (wire["eth_dst"], wire["ip_ttl"]) == (n(ROUTER_MAC), 64)


def test_routes_name_their_router_the_route_and_the_gateway_port_and_chassis_they_lead_to():
    nets, subs, routers, ports = routed_edge()
    chs = {"hv1": chassis("hv1"), "hv2": chassis("hv2")}
    view = build_view(nets, ports, subs, routers, chs, UPLINKS)
    common = {(), (("address", "10.0.1.1"),), (("next_hop", "vm"),), (("subnet", "s-int"),),
              (("route", "10.0.1.0/24 connected"), ("subnet", "s-int")), (("route", "10.9.0.0/16 via 10.0.1.50"),),
              (("route", "none: ICMP unreachable"),)}
    outside = ("0.0.0.0/0 via 172.16.0.1", "172.16.0.0/24 via the gateway subnet", "192.0.2.0/24 via 172.16.0.7")
    for here, there in (("hv1", (("chassis", "hv2"),)), ("hv2", ())):
        flows = l3_of(view, chs[here])
        assert all(f.origin[0] == ("router", "r") for f in flows)
        assert {f.origin[1:] for f in flows} == common | {(("route", r), ("port", "rg"), *there) for r in outside} | (
            {(("address", GATEWAY_IP),), (("port", "rg"),)} if here == "hv2" else set()), here
