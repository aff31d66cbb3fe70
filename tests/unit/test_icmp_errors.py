"""ICMP errors the router sends for IPv4 (ICMPv6: test_ipv6_routing): to the sender, from the router, with
the original header and 8 bytes quoted, and never in answer to an ICMP error."""
from __future__ import annotations

from os_ken.lib.packet import ethernet, icmp, ipv4, packet, udp

from nvapps.l3.icmp import TIME_EXCEEDED, UNREACHABLE, expired, icmp_error, ip_header

ROUTER_MAC, HOST_MAC = "fa:16:3e:00:00:01", "02:00:00:00:01:11"


def frame(*payload, ttl: int = 1, options: bytes = b"") -> bytes:
    """A frame from the host to the router's MAC, for 10.0.2.11; IPv4 options make its header longer."""
    pkt = packet.Packet()
    pkt.add_protocol(ethernet.ethernet(dst=ROUTER_MAC, src=HOST_MAC, ethertype=0x0800))
    pkt.add_protocol(ipv4.ipv4(src="10.0.1.11", dst="10.0.2.11", proto=1 if isinstance(payload[0], icmp.icmp) else 17,
                               ttl=ttl, header_length=5 + len(options) // 4, option=options or None))
    for p in payload:
        pkt.add_protocol(p)
    pkt.serialize()
    return bytes(pkt.data)


def read(raw: bytes):
    pkt = packet.Packet(raw)
    return (pkt.get_protocol(ethernet.ethernet), pkt.get_protocol(ipv4.ipv4), pkt.get_protocol(icmp.icmp))


def test_time_exceeded_and_unreachable_go_from_the_router_to_the_sender_quoting_header_and_8_bytes():
    original = frame(udp.udp(src_port=5000, dst_port=33434), b"x" * 100, options=b"\x01\x01\x01\x00")
    for kind, (type_, code) in ((TIME_EXCEEDED, (11, 0)), (UNREACHABLE, (3, 0))):
        eth, ip, message = read(icmp_error(original, kind, ROUTER_MAC, "10.0.1.1"))
        assert (eth.src, eth.dst, eth.ethertype) == (ROUTER_MAC, HOST_MAC, 0x0800)
        assert (ip.src, ip.dst, ip.proto, ip.ttl) == ("10.0.1.1", "10.0.1.11", 1, 64)
        assert (message.type, message.code) == (type_, code)
        assert message.data.data == original[14:14 + 24 + 8]            # 24-byte header (options), 8 bytes


def test_no_error_answers_an_icmp_error_but_echo_gets_one():
    echo = frame(icmp.icmp(type_=8, code=0, csum=0, data=icmp.echo(id_=1, seq=1, data=b"ping")))
    assert read(icmp_error(echo, TIME_EXCEEDED, ROUTER_MAC, "10.0.1.1"))[2].type == 11
    error = frame(icmp.icmp(type_=3, code=1, csum=0, data=icmp.dest_unreach(data=b"\0" * 28)))
    assert icmp_error(error, UNREACHABLE, ROUTER_MAC, "10.0.1.1") is None
    assert icmp_error(bytes(14), UNREACHABLE, ROUTER_MAC, "10.0.1.1") is None     # not IP


def test_a_packet_had_no_hop_left_at_ttl_1_or_less():
    assert expired(ip_header(frame(udp.udp(), ttl=1)))
    assert not expired(ip_header(frame(udp.udp(), ttl=2)))
    assert ip_header(bytes(14)) is None
