"""eBGP at the provider edge, without a peer: the settings refused with a clear message, what each uplink's
speaker announces, and the speaker's traffic and the traffic routed to it on the fake switch."""
from __future__ import annotations

from dataclasses import replace

import pytest

from nvapps import config
from nvapps.bgp.announce import Order, announcements, order
from nvapps.core import ofp
from nvapps.core.topology import BgpPeer, Interface, Speaker
from nvapps.logical.view import build_view
from nvapps.nat.flows import External, Floating, NatRouter, NatView, chassis_nat
from tests.unit.pipelinekit import switch_of
from tests.unit.test_nat_flows import (
    ARP,
    FAR,
    GATEWAY_IP,
    GATEWAY_MAC,
    HOST,
    HOST_MAC,
    IP,
    PEER,
    PEER_MAC,
    TCP,
    TRUNK,
    UPLINK,
    UPLINKS,
    chassis,
    edge,
    from_host,
    n,
    switch,
)

SPEAKER_PORT = 8
SPEAKER = Speaker("hv2", "physnet1", "hv2-eth8", "nvbgp-hv2", "172.16.0.3", 24, 65001, (BgpPeer(PEER, 65000),))


def speakers(settings, local_as=65001, speakers=("hv2:physnet1:hv2-eth8:nvbgp-hv2:172.16.0.3/24",),
             peers=("hv2:physnet1:172.16.0.1:65000",)):
    settings(bgp_as=local_as, bgp_speakers=list(speakers), bgp_peers=list(peers))
    return config.bgp_speakers(UPLINKS)


def test_settings_make_speakers_with_their_peers(settings):
    assert speakers(settings) == [SPEAKER]
    assert SPEAKER.mac == "02:bb:ac:10:00:03"


@pytest.mark.parametrize("change, message", [
    (dict(local_as=0), "needs the provider edge's AS number"),
    (dict(peers=("hv2:physnet1:172.16.0.1:65000", "hv2:physnet1:172.16.0.1:65002")), "names peer 172.16.0.1 twice"),
    (dict(peers=("hv2:physnet1:2001:db8::1:65000",)), "peer address family IPv6 is not supported"),
    (dict(peers=("hv2:physnet1:172.16.0.1:0",)), "REMOTE_AS '0' is not an AS number"),
    (dict(peers=("hv2:physnet1:172.16.0.1",)), "is not CHASSIS:PHYSNET:ADDRESS:REMOTE_AS"),
    (dict(peers=("hv2:physnet1:10.9.9.9:65000",)), "is not a neighbour on the speaker's subnet 172.16.0.0/24"),
    (dict(peers=("hv2:physnet1:172.16.0.1:65001",)), "only eBGP peers are supported"),
    (dict(peers=("hv1:physnet1:172.16.0.1:65000",)), "names hv1:physnet1, which has no speaker"),
    (dict(speakers=("hv3:physnet1:hv3-eth8:ns:172.16.0.3/24",), peers=()), "hv3 has no uplink to physnet1"),
    (dict(speakers=("hv2:physnet1:hv2-eth8:ns:172.16.0.3",), peers=()), "is not a host address"),
    (dict(speakers=("hv2:physnet1:hv2-eth8:ns:172.16.0.0/24",), peers=()), "is not a host address"),
    (dict(speakers=("hv2:physnet1:hv2-eth8:ns:bad/24",), peers=()), "is not an IPv4 ADDRESS/PREFIXLEN"),
    (dict(speakers=("hv2:physnet1:hv2-eth8:172.16.0.3/24",), peers=()), "is not CHASSIS:PHYSNET:INTERFACE:NETNS"),
    (dict(speakers=("hv2:physnet1:a:ns:172.16.0.3/24", "hv2:physnet1:b:ns2:172.16.0.4/24"), peers=()),
     "names one uplink twice"),
    (dict(speakers=("hv1:physnet1:a:ns:172.16.0.3/24", "hv2:physnet1:b:ns2:172.16.0.3/24"), peers=()),
     "one address to two speakers"),
])
def test_bad_settings_are_refused_with_the_reason(settings, change, message):
    with pytest.raises(config.ConfigError, match=message.replace("(", r"\(").replace("*", r"\*")):
        speakers(settings, **change)


def nat_view(model, floating=(), chs=None):
    nets, subs, routers, ports = model
    chs = chs or {"hv1": chassis("hv1"), "hv2": with_speaker(chassis("hv2"))}
    view = build_view(nets, ports, subs, routers, chs, UPLINKS)
    return view, chs, NatView([NatRouter(v, tuple(floating)) for v in view.routers if v.gateway],
                              [External(50, "physnet1")])


def with_speaker(ch):
    return replace(ch, interfaces={**ch.interfaces, "hv2-eth8": Interface("hv2-eth8", SPEAKER_PORT)},
                   speakers={"physnet1": SPEAKER})


def test_each_uplink_announces_the_gateways_active_on_it_with_its_own_address():
    hv1_speaker = replace(SPEAKER, chassis="hv1", interface="hv1-eth8", address="172.16.0.2")
    _, _, view = nat_view(edge(), [Floating("198.51.100.10", "10.0.1.11")])     # router key 1: active on hv2
    assert announcements(view, [SPEAKER, hv1_speaker]) == {
        SPEAKER: {"172.16.0.0/24": "172.16.0.3", f"{GATEWAY_IP}/32": "172.16.0.3", "198.51.100.10/32": "172.16.0.3"},
        hv1_speaker: {}}
    _, _, moved = nat_view(edge(), [Floating("198.51.100.10", "10.0.1.11")],
                           {"hv1": chassis("hv1"), "hv2": with_speaker(chassis("hv2", uplink_up=False))})
    assert announcements(moved, [SPEAKER, hv1_speaker])[SPEAKER] == {}
    assert set(announcements(moved, [SPEAKER, hv1_speaker])[hv1_speaker].values()) == {"172.16.0.2"}


def test_orders_announce_what_is_new_or_moved_and_withdraw_what_went():
    assert order({"a/32": "x", "b/32": "x"}, {"b/32": "y", "c/32": "x"}) == Order((("b/32", "y"), ("c/32", "x")), ("a/32",))
    assert not order({"a/32": "x"}, {"a/32": "x"})
    assert order({}, {"a/32": "x"}) and order({"a/32": "x"}, {})         # only news, or only withdrawals


def speaker_switch(floating=()):
    view, chs, nat = nat_view(edge(), floating)
    return switch_of(view, chs["hv2"], list(chassis_nat(chs["hv2"], nat).flows.values()))


def test_the_speaker_talks_bgp_and_arp_with_its_peers_through_the_uplink_and_nothing_else():
    sw = speaker_switch()
    bgp_in = dict(eth_src=PEER_MAC, eth_dst=SPEAKER.mac, eth_type=IP, ipv4_src=PEER, ipv4_dst=SPEAKER.address,
                  ip_proto=TCP, ip_ttl=64)
    assert [p for p, _ in sw.send(UPLINK, **bgp_in, tcp_src=40000, tcp_dst=179)] == [SPEAKER_PORT]
    assert [p for p, _ in sw.send(UPLINK, **bgp_in, tcp_src=179, tcp_dst=40000)] == [SPEAKER_PORT]
    assert sw.send(UPLINK, **bgp_in, tcp_src=40000, tcp_dst=22) == []
    assert sw.send(UPLINK, **{**bgp_in, "ipv4_src": "172.16.0.9"}, tcp_src=40000, tcp_dst=179) == []   # not a peer
    bgp_out = dict(eth_src=SPEAKER.mac, eth_dst=PEER_MAC, eth_type=IP, ipv4_src=SPEAKER.address, ipv4_dst=PEER,
                   ip_proto=TCP, ip_ttl=64)
    assert [p for p, _ in sw.send(SPEAKER_PORT, **bgp_out, tcp_src=179, tcp_dst=40000)] == [UPLINK]
    assert sw.send(SPEAKER_PORT, **{**bgp_out, "ipv4_dst": FAR}, tcp_src=179, tcp_dst=40000) == []
    asks = dict(eth_src=PEER_MAC, eth_dst="ff:ff:ff:ff:ff:ff", eth_type=ARP, arp_op=1, arp_spa=PEER,
                arp_sha=PEER_MAC, arp_tpa=SPEAKER.address)
    assert [p for p, _ in sw.send(UPLINK, **asks)] == [SPEAKER_PORT]
    answers = dict(eth_src=SPEAKER.mac, eth_dst=PEER_MAC, eth_type=ARP, arp_op=2, arp_spa=SPEAKER.address,
                   arp_sha=SPEAKER.mac, arp_tpa=PEER)
    assert [p for p, _ in sw.send(SPEAKER_PORT, **answers)] == [UPLINK]
    assert sw.send(SPEAKER_PORT, **{**answers, "arp_spa": GATEWAY_IP}) == []       # not its address


def test_only_the_uplink_reaches_the_speaker_and_only_its_own_sessions_leave_it():
    sw = speaker_switch()
    bgp_in = dict(eth_src=PEER_MAC, eth_dst=SPEAKER.mac, eth_type=IP, ipv4_src=PEER, ipv4_dst=SPEAKER.address,
                  ip_proto=TCP, ip_ttl=64, tcp_src=40000, tcp_dst=179)
    asks = dict(eth_src=PEER_MAC, eth_dst="ff:ff:ff:ff:ff:ff", eth_type=ARP, arp_op=1, arp_spa=PEER,
                arp_sha=PEER_MAC, arp_tpa=SPEAKER.address)
    for port in (TRUNK, HOST):          # the same packets from inside: never to the speaker
        assert SPEAKER_PORT not in [p for p, _ in sw.send(port, **bgp_in)]
        assert SPEAKER_PORT not in [p for p, _ in sw.send(port, **asks)]
    assert sw.send(UPLINK, **{**asks, "arp_tpa": "172.16.0.9"}) == []                   # not its address
    assert SPEAKER_PORT not in [p for p, _ in sw.send(UPLINK, **{**bgp_in, "eth_dst": GATEWAY_MAC,
                                                                  "ipv4_dst": GATEWAY_IP})]
    bgp_out = dict(eth_src=SPEAKER.mac, eth_dst=PEER_MAC, eth_type=IP, ipv4_src=SPEAKER.address, ipv4_dst=PEER,
                   ip_proto=TCP, ip_ttl=64, tcp_src=179, tcp_dst=40000)
    assert sw.send(SPEAKER_PORT, **{**bgp_out, "ipv4_src": "172.16.0.9"}) == []         # not from its address
    assert sw.send(SPEAKER_PORT, **{**bgp_out, "tcp_src": 22}) == []                    # not BGP
    answers = dict(eth_src=SPEAKER.mac, eth_dst=PEER_MAC, eth_type=ARP, arp_op=2, arp_spa=SPEAKER.address,
                   arp_sha=SPEAKER.mac, arp_tpa=PEER)
    for port in (HOST, TRUNK):           # the speaker's own packets from elsewhere: never out of the uplink
        assert UPLINK not in [p for p, _ in sw.send(port, **{**bgp_out, "vlan_vid": ofp.OFPVID_PRESENT | 10}
                                                    if port == TRUNK else bgp_out)]
        assert UPLINK not in [p for p, _ in sw.send(port, **answers)]


def test_speaker_flows_name_the_speaker_and_their_peer():
    view, chs, nat = nat_view(edge())
    flows = list(chassis_nat(chs["hv2"], nat).pieces["speaker", "physnet1"].flows)
    assert {f.origin for f in flows} == {(("bgp_speaker", "hv2:physnet1"),),
                                         (("bgp_speaker", "hv2:physnet1"), ("bgp_peer", PEER))}


def test_a_floating_ip_routed_to_the_speaker_as_next_hop_reaches_its_port():
    sw = speaker_switch([Floating("198.51.100.10", "10.0.1.11")])
    to_fip = dict(eth_src=PEER_MAC, eth_dst=SPEAKER.mac, eth_type=IP, ipv4_src=FAR, ipv4_dst="198.51.100.10",
                  ip_ttl=64, ip_proto=TCP, tcp_src=5555, tcp_dst=22)
    [(port, wire)] = sw.send(UPLINK, **to_fip)
    assert port == TRUNK and (wire["ipv4_dst"], wire["eth_dst"]) == (n("10.0.1.11"), n(HOST_MAC))
    assert sw.send(UPLINK, **{**to_fip, "ipv4_dst": "198.51.100.11"}) == []       # not announced: not taken


HOPS = {PEER: PEER_MAC, "172.16.0.7": "02:00:00:ff:00:07", "172.16.0.8": "02:00:00:ff:00:08"}


def teach(sw) -> None:
    """Every next hop of HOPS answers the gateway's ARP: the switch knows their MACs."""
    for ip, mac in HOPS.items():
        sw.send(UPLINK, eth_src=mac, eth_dst=GATEWAY_MAC, eth_type=ARP, arp_op=2, arp_spa=ip, arp_sha=mac,
                arp_tpa=GATEWAY_IP, arp_tha=GATEWAY_MAC)


def test_routes_learned_on_the_uplink_route_the_routers_whose_gateway_is_there():
    learned = (("0.0.0.0/0", "172.16.0.7"), ("10.9.0.0/16", "192.0.2.1"), ("198.18.0.0/15", "172.16.0.8"))
    chs = {"hv1": chassis("hv1"), "hv2": replace(chassis("hv2"), learned={"physnet1": learned})}
    sw = switch("hv2", edge(), chassis_map=chs)          # router key 1: its gateway is on hv2
    teach(sw)

    def next_hop_mac(dst: str) -> int:
        [(port, wire)] = sw.send(TRUNK, vlan_vid=ofp.OFPVID_PRESENT | 10, **from_host(dst))
        assert port == UPLINK
        return wire["eth_dst"]
    assert next_hop_mac(FAR) == n(HOPS["172.16.0.7"])           # the learned default, not the subnet's gateway
    assert next_hop_mac("198.18.1.1") == n(HOPS["172.16.0.8"])
    assert next_hop_mac("10.9.1.1") == n(HOPS["172.16.0.7"])    # learned via a next hop off the subnet: unused
    unlearned = switch("hv2", edge())
    teach(unlearned)
    [(_, wire)] = unlearned.send(TRUNK, vlan_vid=ofp.OFPVID_PRESENT | 10, **from_host("198.18.1.1"))
    assert wire["eth_dst"] == n(PEER_MAC)
