"""IPv6 through a router's gateway on the fake switch: routed without translation both ways on the gateway
chassis, the next hop's MAC learned from its neighbour advertisement (asked for by the controller), the
gateway's IPv6 address answered on the uplink, outside traffic sent un-routed to the gateway chassis."""
from __future__ import annotations

import netaddr
from os_ken.lib.packet import ethernet, icmpv6, ipv6, packet

from nvapps.core import ofp
from nvapps.core.nd import solicited_node
from nvapps.core.topology import Chassis, Interface, Uplink
from nvapps.logical.view import build_view
from nvapps.model.network import ROUTER_GATEWAY, ROUTER_INTERFACE, Network, Port, Subnet
from nvapps.model.router import Router
from nvapps.nat.app import neighbor_solicitation, next_hop6
from nvapps.nat.flows import External, NatRouter, NatView, chassis_nat
from tests.unit.fakeswitch import FakeSwitch
from tests.unit.pipelinekit import switch_of

TRUNK, UPLINK, HOST, CONTROLLER = 1, 9, 2, ofp.OFPP_CONTROLLER
IPV6 = 0x86DD
ROUTER_MAC, GATEWAY_MAC, PEER_MAC, HOST_MAC = "fa:16:3e:00:00:61", "fa:16:3e:00:00:99", "02:00:00:ff:00:01", \
    "02:00:00:00:01:11"
GATEWAY6, PEER6, FAR6, VM6 = "2001:db8:ff::100", "2001:db8:ff::1", "2001:db8:beef::10", "2001:db8:1::11"
UPLINKS = [Uplink("hv1", "physnet1", "hv1-eth9"), Uplink("hv2", "physnet1", "hv2-eth9")]


def n(address: str) -> int:
    return int(netaddr.EUI(address)) if address.count(":") == 5 and "::" not in address else \
        int(netaddr.IPAddress(address))


def chassis(name: str) -> Chassis:
    interfaces = {f"{name}-eth1": Interface(f"{name}-eth1", TRUNK), f"{name}-eth2": Interface(f"{name}-eth2", HOST),
                  f"{name}-eth9": Interface(f"{name}-eth9", UPLINK)}
    return Chassis(name, int(name[-1]), interfaces, frozenset([f"{name}-eth1"]), {"physnet1": f"{name}-eth9"})


def switch(here: str) -> FakeSwitch:
    """Tenant network 2001:db8:1::/64 (and 10.0.1.0/24; a host on hv1) on router key 1 (gateway on hv2), whose
    gateway port has an address on the external network's IPv6 subnet too."""
    nets = [Network(id="int", project_id="p", segmentation_id=10),
            Network(id="ext", project_id="admin", segmentation_id=50, external=True, physical_network="physnet1",
                    network_type="flat")]
    subs = [Subnet(id="s-int", network_id="int", cidr="10.0.1.0/24", gateway_ip="10.0.1.1"),
            Subnet(id="s-int6", network_id="int", cidr="2001:db8:1::/64", ip_version=6, gateway_ip="2001:db8:1::1"),
            Subnet(id="s-ext", network_id="ext", cidr="172.16.0.0/24", gateway_ip="172.16.0.1"),
            Subnet(id="s-ext6", network_id="ext", cidr="2001:db8:ff::/64", ip_version=6, gateway_ip=PEER6)]
    router = Router(id="r", project_id="p", key=1, external_gateway_info={"network_id": "ext"})
    ports = [
        Port(id="ri", project_id="p", network_id="int", mac_address="fa:16:3e:00:00:01", key=1,
             device_owner=ROUTER_INTERFACE, device_id="r", fixed_ips=[{"subnet_id": "s-int", "ip_address": "10.0.1.1"}]),
        Port(id="ri6", project_id="p", network_id="int", mac_address=ROUTER_MAC, key=4, device_owner=ROUTER_INTERFACE,
             device_id="r", fixed_ips=[{"subnet_id": "s-int6", "ip_address": "2001:db8:1::1"}]),
        Port(id="rg", project_id="", network_id="ext", mac_address=GATEWAY_MAC, key=2, device_owner=ROUTER_GATEWAY,
             device_id="r", fixed_ips=[{"subnet_id": "s-ext", "ip_address": "172.16.0.100"},
                                       {"subnet_id": "s-ext6", "ip_address": GATEWAY6}]),
        Port(id="vm", project_id="p", network_id="int", mac_address=HOST_MAC, key=3, host_id="hv1",
             profile={"interface_name": "hv1-eth2"}, fixed_ips=[{"subnet_id": "s-int", "ip_address": "10.0.1.11"},
                                                                {"subnet_id": "s-int6", "ip_address": VM6}]),
    ]
    chs = {"hv1": chassis("hv1"), "hv2": chassis("hv2")}
    view = build_view(nets, ports, subs, [router], chs, UPLINKS)
    nat = chassis_nat(chs[here], NatView([NatRouter(v, ()) for v in view.routers if v.gateway], [External(50, "physnet1")]))
    return switch_of(view, chs[here], list(nat.flows.values()))


def from_vm(dst: str) -> dict:
    return dict(eth_src=HOST_MAC, eth_dst=ROUTER_MAC, eth_type=IPV6, ipv6_src=VM6, ipv6_dst=dst, ip_ttl=64)


def nd(kind: int, target: str, src: str, **option) -> dict:
    return dict(eth_src=PEER_MAC, eth_dst=GATEWAY_MAC, eth_type=IPV6, ipv6_src=src, ipv6_dst=GATEWAY6, ip_proto=58,
                icmpv6_type=kind, icmpv6_code=0, ipv6_nd_target=target, ip_ttl=255, **option)


def test_ipv6_to_the_outside_leaves_the_gateway_chassis_routed_untranslated_once_the_next_hop_is_known():
    sw = switch("hv2")
    arriving = dict(vlan_vid=ofp.OFPVID_PRESENT | 10, **from_vm(FAR6))
    assert [p for p, _ in sw.send(TRUNK, **arriving)] == [CONTROLLER]      # the next hop's MAC is unknown: ask
    sw.send(UPLINK, **nd(136, PEER6, PEER6, ipv6_nd_tll=PEER_MAC))   # its advertisement teaches the binding
    [(port, wire)] = sw.send(TRUNK, **arriving)
    assert port == UPLINK
    assert (wire["eth_src"], wire["eth_dst"], wire["ipv6_src"], wire["ipv6_dst"], wire["ip_ttl"]) == \
        (n(GATEWAY_MAC), n(PEER_MAC), n(VM6), n(FAR6), 63)


def test_ipv6_from_the_outside_is_routed_to_the_vm_untranslated():
    sw = switch("hv2")
    [(port, wire)] = sw.send(UPLINK, eth_src=PEER_MAC, eth_dst=GATEWAY_MAC, eth_type=IPV6, ipv6_src=FAR6,
                             ipv6_dst=VM6, ip_ttl=64)
    assert port == TRUNK and wire["vlan_vid"] == ofp.OFPVID_PRESENT | 10
    assert (wire["eth_src"], wire["eth_dst"], wire["ipv6_src"], wire["ipv6_dst"], wire["ip_ttl"]) == \
        (n(ROUTER_MAC), n(HOST_MAC), n(FAR6), n(VM6), 63)


def test_the_gateways_ipv6_address_is_answered_on_the_uplink_as_a_router():
    [(port, wire)] = switch("hv2").send(UPLINK, **{**nd(135, GATEWAY6, PEER6, ipv6_nd_sll=PEER_MAC),
                                                   "eth_dst": "33:33:ff:00:01:00", "ipv6_dst": "ff02::1:ff00:100"})
    assert port == UPLINK
    assert (wire["icmpv6_type"], wire["nd_reserved"], wire["ipv6_nd_tll"], wire["eth_dst"], wire["ipv6_dst"]) == \
        (136, 0xE0000000, n(GATEWAY_MAC), n(PEER_MAC), n(PEER6))
    [(port, wire)] = switch("hv2").send(UPLINK, **nd(135, GATEWAY6, PEER6))      # unicast, to the gateway MAC
    assert port == UPLINK and (wire["icmpv6_type"], wire["ipv6_nd_tll"]) == (136, n(GATEWAY_MAC))
    assert switch("hv2").send(UPLINK, **nd(135, "2001:db8:ff::7", PEER6, ipv6_nd_sll=PEER_MAC)) == []


def test_ipv6_to_the_outside_goes_to_the_gateway_chassis_unrouted():
    [(port, wire)] = switch("hv1").send(HOST, **from_vm(FAR6))
    assert port == TRUNK and (wire["eth_dst"], wire["ip_ttl"]) == (n(ROUTER_MAC), 64)


def test_the_controller_asks_for_an_ipv6_next_hop_at_its_solicited_node_address():
    hop = int(netaddr.IPAddress(PEER6))
    assert next_hop6({f"reg{4 + i}": hop >> (96 - 32 * i) & 0xFFFFFFFF for i in range(4)}) == hop
    pkt = packet.Packet(neighbor_solicitation(GATEWAY_MAC, GATEWAY6, PEER6))
    eth, ip, message = (pkt.get_protocol(c) for c in (ethernet.ethernet, ipv6.ipv6, icmpv6.icmpv6))
    assert (eth.dst, eth.src, ip.src, ip.dst, ip.hop_limit) == ("33:33:ff:00:00:01", GATEWAY_MAC, GATEWAY6,
                                                                "ff02::1:ff00:1", 255)
    assert (message.type_, message.data.dst, message.data.option.hw_src) == (135, PEER6, GATEWAY_MAC)


def test_solicited_node_addresses_keep_the_last_24_bits_of_the_address():
    assert solicited_node("2001:db8::12:3456:789a") == ("ff02::1:ff56:789a", "33:33:ff:56:78:9a")


def test_ipv6_on_the_uplink_for_another_mac_does_not_enter_the_router():
    assert switch("hv2").send(UPLINK, eth_src=PEER_MAC, eth_dst="02:00:00:ff:00:09", eth_type=IPV6, ipv6_src=FAR6,
                              ipv6_dst=VM6, ip_ttl=64) == []


def test_ipv4_beside_ipv6_on_the_gateway_is_still_masqueraded_both_ways():
    sw = switch("hv2")
    sw.send(UPLINK, eth_src=PEER_MAC, eth_dst=GATEWAY_MAC, eth_type=0x0806, arp_op=2, arp_spa="172.16.0.1",
            arp_sha=PEER_MAC, arp_tpa="172.16.0.100", arp_tha=GATEWAY_MAC)
    out = dict(eth_src=HOST_MAC, eth_dst="fa:16:3e:00:00:01", eth_type=0x0800, ipv4_src="10.0.1.11",
               ipv4_dst="203.0.113.10", ip_ttl=64, ip_proto=6, tcp_src=40000, tcp_dst=80)
    [(port, wire)] = sw.send(TRUNK, vlan_vid=ofp.OFPVID_PRESENT | 10, **out)
    assert port == UPLINK and wire["ipv4_src"] == n("172.16.0.100")
    [(port, wire)] = sw.send(UPLINK, eth_src=PEER_MAC, eth_dst=GATEWAY_MAC, eth_type=0x0800, ipv4_src="203.0.113.10",
                             ipv4_dst="172.16.0.100", ip_ttl=64, ip_proto=6, tcp_src=80, tcp_dst=40000)
    assert port == TRUNK and (wire["ipv4_dst"], wire["tcp_dst"]) == (n("10.0.1.11"), 40000)


def test_only_a_neighbour_solicitation_of_code_0_is_answered():
    out = switch("hv2").send(UPLINK, **{**nd(135, GATEWAY6, PEER6), "icmpv6_code": 1})
    assert all(wire.get("icmpv6_type") != 136 for _, wire in out)


def test_the_gateways_ipv6_flows_name_the_router_and_its_gateway_port():
    flows = switch("hv2").flows
    nat = [f for f in flows if f.table in (40, 41, 42) and ("eth_type", IPV6, None) in f.match]
    assert len(nat) == 3 and all(f.origin == (("router", "r"), ("port", "rg")) for f in nat)
