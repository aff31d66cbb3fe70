"""DHCP answers built from the model: OFFER/ACK with the port's address and the subnet's settings, NAK."""
from __future__ import annotations

from dataclasses import replace

import netaddr
from os_ken.lib.packet import dhcp, ethernet, ipv4, packet, udp

from nvapps import pipeline
from nvapps.core import ofp
from nvapps.core.topology import Chassis, Interface
from nvapps.dhcp.flows import DhcpView, chassis_dhcp, lease_for
from nvapps.dhcp.server import ACK, DISCOVER, NAK, OFFER, REQUEST, Lease, parse_request, reply
from nvapps.logical.ports import bound_ports
from nvapps.model.network import ROUTER_INTERFACE, Network, Port, Subnet

CLIENT = "02:00:00:00:00:07"
LEASE = Lease(CLIENT, "10.0.2.12", "10.0.2.0/24", "10.0.2.1", ("10.0.0.53",), (), 1450, "fa:16:3e:00:00:02")


def request_frame(kind: int, requested: str | None = None, server: str | None = None) -> bytes:
    options = [dhcp.option(tag=53, value=bytes([kind]))]
    if requested:
        options.append(dhcp.option(tag=50, value=netaddr.IPAddress(requested).packed))
    if server:
        options.append(dhcp.option(tag=54, value=netaddr.IPAddress(server).packed))
    frame = packet.Packet()
    frame.add_protocol(ethernet.ethernet(dst="ff:ff:ff:ff:ff:ff", src=CLIENT, ethertype=0x0800))
    frame.add_protocol(ipv4.ipv4(src="0.0.0.0", dst="255.255.255.255", proto=17))
    frame.add_protocol(udp.udp(src_port=68, dst_port=67))
    frame.add_protocol(dhcp.dhcp(op=dhcp.DHCP_BOOT_REQUEST, chaddr=CLIENT, xid=0x1234,
                                 options=dhcp.options(option_list=options)))
    frame.serialize()
    return bytes(frame.data)


def answer(kind: int, lease: Lease = LEASE, **kw) -> tuple[dhcp.dhcp, dict[int, bytes]] | None:
    raw = reply(parse_request(request_frame(kind, **kw)), lease)
    if raw is None:
        return None
    message = packet.Packet(raw).get_protocol(dhcp.dhcp)
    return message, {o.tag: o.value for o in message.options.option_list}


def test_discover_gets_an_offer_of_the_ports_address_with_mask_router_dns_and_mtu():
    message, options = answer(DISCOVER)
    assert (message.yiaddr, message.xid, message.chaddr) == ("10.0.2.12", 0x1234, CLIENT)
    assert options[53] == bytes([OFFER]) and options[1] == bytes([255, 255, 255, 0])
    assert options[3] == bytes([10, 0, 2, 1]) and options[6] == bytes([10, 0, 0, 53])
    assert options[26] == (1450).to_bytes(2, "big") and options[54] == bytes([10, 0, 2, 1])


def test_request_for_the_ports_address_is_acked_and_for_another_nakked():
    assert answer(REQUEST, requested="10.0.2.12", server="10.0.2.1")[1][53] == bytes([ACK])
    message, options = answer(REQUEST, requested="10.0.2.99")
    assert options[53] == bytes([NAK]) and message.yiaddr == "0.0.0.0"


def test_a_request_for_another_servers_offer_is_left_alone():
    assert answer(REQUEST, requested="10.0.2.12", server="10.9.9.9") is None


def test_host_routes_travel_as_classless_routes_with_the_default_route():
    lease = Lease(CLIENT, "10.0.2.12", "10.0.2.0/24", "10.0.2.1", (), (("192.168.0.0/16", "10.0.2.5"),), 1500,
                  "fa:16:3e:00:00:02")
    assert answer(DISCOVER, lease)[1][121] == bytes([16, 192, 168, 10, 0, 2, 5, 0, 10, 0, 2, 1])


def test_only_local_ports_on_dhcp_subnets_are_punted_and_the_router_mac_serves():
    net = Network(id="n", project_id="p", segmentation_id=5)
    subs = {"on": Subnet(id="on", network_id="n", cidr="10.0.2.0/24", gateway_ip="10.0.2.1"),
            "off": Subnet(id="off", network_id="n", cidr="10.0.3.0/24", enable_dhcp=False)}

    def port(key, sub, ip, host, iface, **kw):
        return Port(id=f"p{key}", project_id="p", network_id="n", mac_address=f"02:00:00:00:00:{key:02x}", key=key,
                    fixed_ips=[{"subnet_id": sub, "ip_address": ip}], host_id=host,
                    profile={"interface_name": iface}, **kw)
    ports = [port(1, "on", "10.0.2.11", "hv1", "e1"), port(2, "off", "10.0.3.11", "hv1", "e2"),
             port(3, "on", "10.0.2.12", "hv2", "e1"),
             Port(id="rif", project_id="p", network_id="n", mac_address="fa:16:3e:00:00:02", key=9,
                  device_owner=ROUTER_INTERFACE, fixed_ips=[{"subnet_id": "on", "ip_address": "10.0.2.1"}])]
    chs = {"hv1": Chassis("hv1", 1, {"e1": Interface("e1", 1), "e2": Interface("e2", 2)}),
           "hv2": Chassis("hv2", 2, {"e1": Interface("e1", 1)})}
    bound = bound_ports([net], ports, chs)
    local = {"hv1": tuple(b for b in bound if b.location.chassis == "hv1")}
    flows = list(chassis_dhcp(chs["hv1"], DhcpView(local, subs)).flows.values())
    assert [dict((n, v) for n, v, _ in f.match)["reg14"] for f in flows] == [1]
    assert lease_for(ports[0], net, subs, ports).server_mac == "fa:16:3e:00:00:02"
    assert lease_for(ports[1], net, subs, ports) is None


def test_a_lease_carries_the_subnets_settings_and_ipv4_host_routes_and_a_server_mac_without_a_router():
    net = Network(id="n", project_id="p", segmentation_id=0x1234, mtu=1450)
    sub = Subnet(id="s", network_id="n", cidr="10.0.2.0/24", gateway_ip="10.0.2.1", dns_nameservers=["10.0.0.53"],
                 host_routes=[{"destination": "192.168.0.0/16", "nexthop": "10.0.2.5"},
                              {"destination": "2001:db8::/64", "nexthop": "2001:db8::1"}])
    port = Port(id="p1", project_id="p", network_id="n", mac_address=CLIENT, key=1,
                fixed_ips=[{"subnet_id": "s", "ip_address": "10.0.2.12"}])
    assert lease_for(port, net, {"s": sub}, [port]) == Lease(
        CLIENT, "10.0.2.12", "10.0.2.0/24", "10.0.2.1", ("10.0.0.53",), (("192.168.0.0/16", "10.0.2.5"),), 1450,
        "fa:16:3e:ff:12:34")


def test_a_dual_stack_port_asks_dhcpv4_and_dhcpv6_by_metered_punts_where_its_subnets_serve_them():
    net = Network(id="n", project_id="p", segmentation_id=5)
    subs = {"v4": Subnet(id="v4", network_id="n", cidr="10.0.2.0/24", gateway_ip="10.0.2.1"),
            "v6": Subnet(id="v6", network_id="n", cidr="2001:db8::/64", ip_version=6, gateway_ip="2001:db8::1",
                         ipv6_address_mode="dhcpv6-stateful", ipv6_ra_mode="dhcpv6-stateful")}
    port = Port(id="p1", project_id="p", network_id="n", mac_address=CLIENT, key=1, host_id="hv1",
                profile={"interface_name": "e1"}, fixed_ips=[{"subnet_id": "v4", "ip_address": "10.0.2.11"},
                                                             {"subnet_id": "v6", "ip_address": "2001:db8::11"}])
    chs = {"hv1": Chassis("hv1", 1, {"e1": Interface("e1", 1)})}

    def asks(subnets) -> set:
        view = DhcpView({"hv1": tuple(bound_ports([net], [port], chs))}, subnets)
        flows = list(chassis_dhcp(chs["hv1"], view).flows.values())
        assert all(f.meter == pipeline.app_meter(pipeline.AppId.DHCP) and ofp.PUNT in f.actions for f in flows)
        return {(dict((n, v) for n, v, _ in f.match).get("udp_dst"), dict((n, v) for n, v, _ in f.match).get(
            "icmpv6_type")) for f in flows}
    assert asks(subs) == {(67, None), (547, None), (None, 133)}       # and router solicitations
    assert asks({**subs, "v6": replace(subs["v6"], ipv6_ra_mode=None)}) == {(67, None), (547, None)}
