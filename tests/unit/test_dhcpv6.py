"""DHCPv6 answers built from the model: the port's fixed IP on a stateful subnet (advertise, reply, rapid
commit), options only on a stateless one, nothing for another server; the requests punted."""
from __future__ import annotations

import struct

import netaddr
from os_ken.lib.packet import ethernet, icmpv6, ipv4, ipv6, packet, udp

from nvapps.core import ofp
from nvapps.core.topology import Chassis, Interface
from nvapps.dhcp import dhcpv6
from nvapps.dhcp.dhcpv6 import (
    ADVERTISE,
    CONFIRM,
    INFORMATION_REQUEST,
    OPT_CLIENTID,
    OPT_DNS_SERVERS,
    OPT_IA_NA,
    OPT_RAPID_COMMIT,
    OPT_SERVERID,
    OPT_STATUS_CODE,
    RELEASE,
    RENEW,
    REPLY,
    REQUEST,
    SOLICIT,
    Lease6,
)
from nvapps.dhcp.flows import DhcpView, chassis_dhcp, lease6_for
from nvapps.logical.ports import bound_ports
from nvapps.model.ipam import link_local
from nvapps.model.network import ROUTER_INTERFACE, Network, Port, Subnet

CLIENT, SERVER = "02:00:00:00:00:07", "fa:16:3e:00:00:02"
CLIENT_DUID = struct.pack("!HH", 3, 1) + netaddr.EUI(CLIENT).packed
IAID = b"\x00\x00\x00\x2a"
STATEFUL = Lease6(CLIENT, "2001:db8:2::12", ("2001:db8::53", "2001:db8::54"), SERVER)
STATELESS = Lease6(CLIENT, None, ("2001:db8::53",), SERVER)


def option(code: int, value: bytes) -> bytes:
    return struct.pack("!HH", code, len(value)) + value


def client_frame(kind: int, *options: bytes) -> bytes:
    frame = packet.Packet()
    frame.add_protocol(ethernet.ethernet(dst="33:33:00:01:00:02", src=CLIENT, ethertype=0x86DD))
    frame.add_protocol(ipv6.ipv6(src=link_local(CLIENT), dst="ff02::1:2", nxt=17, hop_limit=1))
    frame.add_protocol(udp.udp(src_port=546, dst_port=547))
    frame.add_protocol(bytes([kind]) + b"\x12\x34\x56" + b"".join(options))
    frame.serialize()
    return bytes(frame.data)


def answer(kind: int, lease: Lease6, *options: bytes) -> tuple[int, dict[int, bytes]] | None:
    """The answer's message type and options, checked to be a frame from the server to the client."""
    raw = dhcpv6.reply(dhcpv6.parse(client_frame(kind, *options)), lease)
    if raw is None:
        return None
    pkt = packet.Packet(raw)
    eth, ip, datagram = (pkt.get_protocol(c) for c in (ethernet.ethernet, ipv6.ipv6, udp.udp))
    assert (eth.src, eth.dst, ip.src, ip.dst) == (SERVER, CLIENT, link_local(SERVER), link_local(CLIENT))
    assert (datagram.src_port, datagram.dst_port) == (547, 546)
    payload = raw[14 + 40 + 8:]
    assert payload[1:4] == b"\x12\x34\x56"                        # the client's transaction
    return payload[0], {code: values[0] for code, values in dhcpv6._options(payload[4:]).items()}


def address_of(ia_na: bytes) -> str:
    assert ia_na[:4] == IAID
    iaaddr = dhcpv6._options(ia_na[12:])[5][0]
    return str(netaddr.IPAddress(int.from_bytes(iaaddr[:16], "big")))


def test_a_solicit_is_advertised_the_ports_address_and_a_request_gets_it_with_dns():
    ia = option(OPT_IA_NA, IAID + bytes(8))
    kind, options = answer(SOLICIT, STATEFUL, option(OPT_CLIENTID, CLIENT_DUID), ia)
    assert kind == ADVERTISE and address_of(options[OPT_IA_NA]) == "2001:db8:2::12"
    assert options[OPT_CLIENTID] == CLIENT_DUID
    assert options[OPT_DNS_SERVERS] == b"".join(netaddr.IPAddress(d).packed for d in ("2001:db8::53", "2001:db8::54"))
    server = options[OPT_SERVERID]
    for kind_asked in (REQUEST, RENEW):
        kind, options = answer(kind_asked, STATEFUL, option(OPT_CLIENTID, CLIENT_DUID), option(OPT_SERVERID, server), ia)
        assert kind == REPLY and address_of(options[OPT_IA_NA]) == "2001:db8:2::12"
    kind, options = answer(SOLICIT, STATEFUL, ia, option(OPT_RAPID_COMMIT, b""))
    assert kind == REPLY and options[OPT_RAPID_COMMIT] == b""              # rapid commit: the reply at once
    assert address_of(answer(REQUEST, STATEFUL, option(OPT_IA_NA, IAID))[1][OPT_IA_NA]) == "2001:db8:2::12"
    for done in (RELEASE, CONFIRM):
        assert answer(done, STATEFUL, ia)[1][OPT_STATUS_CODE] == b"\0\0"


def test_another_servers_messages_and_address_requests_on_a_stateless_subnet_are_left_alone():
    ia = option(OPT_IA_NA, IAID + bytes(8))
    assert answer(REQUEST, STATEFUL, option(OPT_SERVERID, b"\0\3\0\1" + bytes(6)), ia) is None
    assert answer(SOLICIT, STATELESS, ia) is None
    assert answer(SOLICIT, STATEFUL) is None                             # no address asked for
    assert answer(CONFIRM, STATELESS, ia) is None                        # no address of ours to confirm
    kind, options = answer(INFORMATION_REQUEST, STATELESS, option(OPT_CLIENTID, CLIENT_DUID))
    assert kind == REPLY and OPT_IA_NA not in options
    assert options[OPT_DNS_SERVERS] == netaddr.IPAddress("2001:db8::53").packed


def test_truncated_messages_and_other_packets_are_not_parsed():
    assert dhcpv6.parse(client_frame(SOLICIT, option(OPT_IA_NA, IAID)[:-2])) is None
    assert dhcpv6.parse(client_frame(SOLICIT)[:-2]) is None
    v4 = packet.Packet()
    v4.add_protocol(ethernet.ethernet(src=CLIENT, ethertype=0x0800))
    v4.add_protocol(ipv4.ipv4(src="10.0.0.7", dst="10.0.0.1", proto=17))
    v4.add_protocol(udp.udp(src_port=546, dst_port=547))
    v4.add_protocol(bytes([SOLICIT]) + b"\x12\x34\x56")
    v4.serialize()
    assert dhcpv6.parse(bytes(v4.data)) is None                          # DHCPv6 over IPv4 is no DHCPv6
    echo = packet.Packet()
    echo.add_protocol(ethernet.ethernet(src=CLIENT, ethertype=0x86DD))
    echo.add_protocol(ipv6.ipv6(src=link_local(CLIENT), dst="ff02::1:2", nxt=58))
    echo.add_protocol(icmpv6.icmpv6(type_=128, data=icmpv6.echo(id_=1, seq=1)))
    echo.serialize()
    assert dhcpv6.parse(bytes(echo.data)) is None


def test_ports_on_dhcpv6_subnets_punt_their_requests_and_get_their_leases():
    net = Network(id="n", project_id="p", segmentation_id=5)
    subs = {s.id: s for s in (
        Subnet(id="full", network_id="n", cidr="2001:db8:2::/64", ip_version=6, ipv6_ra_mode="dhcpv6-stateful",
               ipv6_address_mode="dhcpv6-stateful", dns_nameservers=["10.0.0.53", "2001:db8::53"]),
        Subnet(id="opts", network_id="n", cidr="2001:db8:3::/64", ip_version=6, ipv6_ra_mode="dhcpv6-stateless",
               ipv6_address_mode="dhcpv6-stateless"),
        Subnet(id="slaac", network_id="n", cidr="2001:db8:4::/64", ip_version=6, ipv6_ra_mode="slaac",
               ipv6_address_mode="slaac"))}

    def port(key: int, sub: str, ip: str) -> Port:
        return Port(id=f"p{key}", project_id="p", network_id="n", mac_address=f"02:00:00:00:00:{key:02x}", key=key,
                    fixed_ips=[{"subnet_id": sub, "ip_address": ip}], host_id="hv1",
                    profile={"interface_name": f"e{key}"})
    ports = [port(1, "full", "2001:db8:2::12"), port(2, "opts", "2001:db8:3::ff:fe00:2"),
             port(3, "slaac", "2001:db8:4::ff:fe00:3"),
             Port(id="rif", project_id="p", network_id="n", mac_address=SERVER, key=9, device_owner=ROUTER_INTERFACE,
                  fixed_ips=[{"subnet_id": "full", "ip_address": "2001:db8:2::1"}])]
    hv1 = Chassis("hv1", 1, {f"e{k}": Interface(f"e{k}", k) for k in (1, 2, 3)})
    view = DhcpView({"hv1": tuple(bound_ports([net], ports, {"hv1": hv1}))}, subs)
    punted = {dict((n, v) for n, v, _ in f.match)["reg14"] for f in chassis_dhcp(hv1, view).flows.values()
              if ofp.PUNT in f.actions and dict((n, v) for n, v, _ in f.match).get("udp_dst") == 547}
    assert punted == {1, 2}
    assert lease6_for(ports[0], net, subs, ports) == Lease6("02:00:00:00:00:01", "2001:db8:2::12", ("2001:db8::53",),
                                                            SERVER)
    assert lease6_for(ports[1], net, subs, ports).ip is None
    assert lease6_for(ports[2], net, subs, ports) is None
