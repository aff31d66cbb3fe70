"""Pure functions: the NAT flows of one chassis, for the router gateways active on it and its uplinks.

A router's gateway lives on one chassis (nvapps.logical.gateways). There, packets from the uplink to the
router's gateway MAC enter the router's conntrack zone, where replies get their internal addresses back
(un-SNAT) and new connections to a floating IP or a forwarded port get the internal one (DNAT) before
routing. Packets routed out by the gateway pass the same zone again: replies of DNAT connections get the
floating IP back, new connections leave from their floating IP or masqueraded as the router's address
(SNAT). Next-hop MACs on the external network are learned from ARP on the uplink; an unknown one sends
the packet to the controller, which asks for it.

An uplink with a BGP speaker (nvapps.bgp) also carries the speaker's sessions: its ARP and TCP 179 with its
peers pass between the uplink and the speaker's port, and what the peers route to the speaker's address as
next hop (the router's gateway address and floating IPs announced there) enters the router as if sent to
its gateway MAC.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

import netaddr

from nvapps import pipeline
from nvapps.core import ofp
from nvapps.core.nd import ADVERTISEMENT, ICMPV6, IPV6, NA_OVERRIDE, NA_ROUTER, NA_SOLICITED, SOLICITATION
from nvapps.core.ofp import Flow, match
from nvapps.core.pieces import Pieces, Service
from nvapps.core.reconcile import Desired, Piece
from nvapps.core.topology import Chassis, Speaker
from nvapps.l2.flows import ARP, ARP_REQUEST, arp_reply, neighbor_advert
from nvapps.l3.flows import IPV4
from nvapps.logical.gateways import Gateway
from nvapps.logical.routers import RouterView
from nvapps.model.port_forwarding import PortForwarding
from nvapps.model.service import Model
from nvapps.pipeline import Priority, Reg, Table

if TYPE_CHECKING:
    from nvapps.logical.view import LogicalView

MAC_BINDING_IDLE_TIMEOUT = 300
UNRESOLVED = "00:00:00:00:00:00"
SNAT_PORTS = (1024, 65535)
PROTOCOLS = {"tcp": (6, "tcp_dst"), "udp": (17, "udp_dst")}
BGP_PORT = 179
TCP = 6
NEW = ofp.ct_state("+new+trk")
ADVERT = dict(eth_type=IPV6, ip_proto=ICMPV6, icmpv6_type=ADVERTISEMENT, icmpv6_code=0)


@dataclass(frozen=True)
class Floating:
    """A floating IP on a router: 1:1 to `fixed`, or (fixed None) only its forwarded ports."""

    address: str
    fixed: str | None
    forwards: tuple[PortForwarding, ...] = ()
    fip_id: str = ""
    project: str = ""


@dataclass(frozen=True)
class NatRouter:
    """A router with a gateway: its view (interfaces, gateway) and its floating IPs."""

    view: RouterView
    floating: tuple[Floating, ...]

    @property
    def zone(self) -> int:
        return pipeline.router_zone(self.view.router.key)

    @property
    def gateway(self) -> Gateway:
        """The router's gateway (a NAT router has one)."""
        assert self.view.gateway is not None
        return self.view.gateway


@dataclass(frozen=True)
class External:
    """An external network on a physical network."""

    key: int
    physnet: str


@dataclass(frozen=True)
class NatView:
    """Routers with gateways, and the external networks."""

    routers: list[NatRouter]
    externals: list[External]


def nat_view(model: Model, view: "LogicalView", previous: NatView | None) -> NatView:
    """Each router with a gateway and its floating IPs (with their forwarded ports), and the up external
    networks on physical networks."""
    forwards = defaultdict(list)
    for pf in model.list("port_forwarding"):
        forwards[pf.floatingip_id].append(pf)
    floating = defaultdict(list)
    for fip in model.list("floatingip"):
        if fip.router_id and (fip.port_id or forwards[fip.id]):
            floating[fip.router_id].append(Floating(fip.floating_ip_address,
                                                    fip.fixed_ip_address if fip.port_id else None,
                                                    tuple(forwards[fip.id]), fip.id, fip.project_id))
    routers = [NatRouter(v, tuple(floating[v.router.id])) for v in view.routers if v.gateway is not None]
    externals = [External(n.key, n.physical_network) for n in model.networks()
                 if n.external and n.physical_network and n.admin_state_up]
    return NatView(routers, externals)


def chassis_nat(here: Chassis, view: NatView, pieces: Pieces | None = None) -> Desired:
    """The uplink flows of every external network with an uplink here, and the NAT flows of every router
    whose gateway is active here (a piece each)."""
    pieces = pieces or Pieces(pipeline.AppId.NAT)
    out: dict[Hashable, Piece] = {}
    for ext in view.externals:
        ofport = here.uplink_ofport(ext.physnet)
        if ofport is not None:
            out["uplink", ext.key] = pieces.get(("uplink", ext, ofport), partial(uplink_flows, ext, ofport))
    for physnet, speaker in here.speakers.items():
        uplink, port = here.uplink_ofport(physnet), here.ofport(speaker.interface)
        if uplink is not None and port is not None:
            out["speaker", physnet] = pieces.get(("speaker", speaker, uplink, port),
                                                 partial(speaker_flows, speaker, uplink, port))
    for r in view.routers:
        if r.gateway.chassis == here.name:
            on_uplink = here.speakers.get(r.gateway.physnet or "")
            mac = on_uplink.mac if on_uplink is not None else None
            out["router", r.view.router.id] = pieces.get(("router", r, mac), partial(router_nat_flows, r, mac))
    return Desired(out)


def speaker_flows(speaker: Speaker, uplink: int, port: int) -> list[Flow]:
    """The speaker's ARP, and its TCP 179 with each peer, between the uplink and the speaker's port; nothing
    else from the speaker's port (the core's default drops it)."""
    me = (("bgp_speaker", f"{speaker.chassis}:{speaker.physnet}"),)
    flows = [Flow(Table.CLASSIFY, Priority.CONTROL, match(in_port=uplink, eth_type=ARP, arp_tpa=speaker.address),
                  actions=(ofp.Output(port),), origin=me),
             Flow(Table.CLASSIFY, Priority.CONTROL, match(in_port=port, eth_type=ARP, arp_spa=speaker.address),
                  actions=(ofp.Output(uplink),), origin=me)]
    for peer in speaker.peers:
        for field in ("tcp_dst", "tcp_src"):
            flows += [
                Flow(Table.CLASSIFY, Priority.CONTROL,
                     match(in_port=uplink, eth_type=IPV4, ip_proto=TCP, ipv4_src=peer.address,
                           ipv4_dst=speaker.address, **{field: BGP_PORT}),
                     actions=(ofp.Output(port),), origin=(*me, ("bgp_peer", peer.address))),
                Flow(Table.CLASSIFY, Priority.CONTROL,
                     match(in_port=port, eth_type=IPV4, ip_proto=TCP, ipv4_src=speaker.address,
                           ipv4_dst=peer.address, **{field: BGP_PORT}),
                     actions=(ofp.Output(uplink),), origin=(*me, ("bgp_peer", peer.address)))]
    return flows


def uplink_flows(ext: External, ofport: int) -> list[Flow]:
    """Packets from the uplink enter the NAT stage in the external network (ARP teaches a MAC binding
    first); routed packets resolved to a MAC leave by it, unresolved ones go to the controller."""
    learn, learn6 = _binding(Reg.NEXT_HOP, "arp_spa", "arp_sha"), _binding(Reg.NEXT_HOP6, "ipv6_nd_target", "ipv6_nd_tll")
    meta = (ext.key, pipeline.METADATA_MASK)
    return [
        Flow(Table.CLASSIFY, Priority.OVERRIDE, match(in_port=ofport, eth_type=ARP),
             actions=(ofp.SetField("metadata", ext.key), learn), goto=Table.NAT_UPLINK_IN),
        Flow(Table.CLASSIFY, Priority.OVERRIDE, match(in_port=ofport, **ADVERT),
             actions=(ofp.SetField("metadata", ext.key), learn6), goto=Table.NAT_UPLINK_IN),
        # an advertisement built in NAT_UPLINK_IN goes back out of the uplink it was asked on
        Flow(Table.L2_ND_ADVERT, Priority.OVERRIDE, match(metadata=ext.key, **ADVERT),
             actions=(ofp.Move("eth_src", "ipv6_nd_tll"), ofp.Output(ofp.OFPP_IN_PORT))),
        Flow(Table.CLASSIFY, Priority.SPECIFIC, match(in_port=ofport), write_metadata=meta, goto=Table.NAT_UPLINK_IN),
        Flow(Table.NAT_TO_UPLINK, Priority.SPECIFIC, match(metadata=ext.key, eth_dst=UNRESOLVED),
             actions=(ofp.PUNT,), meter=pipeline.app_meter(pipeline.AppId.NAT)),
        Flow(Table.NAT_TO_UPLINK, Priority.FALLBACK, match(metadata=ext.key), actions=(ofp.Output(ofport),)),
    ]


def _binding(hop: str, address: str, mac: str) -> ofp.Learn:
    """Teach table NAT_MAC_BINDING the MAC (field `mac`) of the next hop (register `hop`) whose address is in
    field `address` of what the uplink heard (an ARP packet, a neighbour advertisement)."""
    return ofp.Learn(table=Table.NAT_MAC_BINDING, priority=Priority.SPECIFIC,
                     cookie=pipeline.learned_cookie(pipeline.AppId.NAT), idle_timeout=MAC_BINDING_IDLE_TIMEOUT,
                     specs=(ofp.LearnMatch("metadata"), ofp.LearnMatch(hop, address), ofp.LearnLoad(mac, "eth_dst")))


def router_nat_flows(r: NatRouter, speaker_mac: str | None = None) -> list[Flow]:
    """The router's external addresses answered and translated on its gateway chassis (also when routed to
    the uplink's BGP speaker, `speaker_mac`, as their announced next hop)."""
    gw, meta = r.gateway, r.view.metadata
    ct = partial(ofp.Ct, zone=r.zone)
    me = (("router", r.view.router.id),)
    inbound: dict[str, Any] = dict(metadata=gw.network_key, eth_type=IPV4, eth_dst=gw.port.mac_address)
    entry = (ofp.SetField("metadata", meta), ofp.SetField(Reg.IN_PORT, gw.port.key), ct(nat=ofp.Nat(), table=Table.NAT_DNAT))
    egress = (ofp.SetField("eth_src", gw.port.mac_address), ofp.SetField("metadata", gw.network_key),
              ofp.SetField("eth_dst", UNRESOLVED), ofp.Resubmit(Table.NAT_MAC_BINDING))
    flows = [
        Flow(Table.NAT_UPLINK_IN, Priority.SPECIFIC, match(**inbound), actions=entry, origin=(*me, ("port", gw.port.id))),
        Flow(Table.NAT_DNAT, Priority.FALLBACK, match(metadata=meta), actions=(ofp.Resubmit(Table.L3_INPUT),),
             origin=me),
        Flow(Table.NAT_SNAT, Priority.SPECIFIC, match(metadata=meta, eth_type=IPV4),
             actions=(ct(nat=ofp.Nat(), table=Table.NAT_SNAT_COMMIT),), origin=me),
        Flow(Table.NAT_SNAT_COMMIT, Priority.FALLBACK, match(metadata=meta), goto=Table.NAT_EGRESS, origin=me),
        Flow(Table.NAT_EGRESS, Priority.SPECIFIC, match(metadata=meta), actions=egress, goto=Table.NAT_TO_UPLINK,
             origin=(*me, ("port", gw.port.id))),
    ]
    if speaker_mac is not None:
        flows.append(Flow(Table.NAT_UPLINK_IN, Priority.SPECIFIC,
                          match(**{**inbound, "eth_dst": speaker_mac}, ipv4_dst=gw.ip), actions=entry,
                          origin=(*me, ("port", gw.port.id))))
    for f in r.floating:       # the same, by flows of its own: their counters are the floating IP's traffic
        fip = (*me, ("floatingip", f.fip_id))
        if speaker_mac is not None:
            flows.append(Flow(Table.NAT_UPLINK_IN, Priority.OVERRIDE,
                              match(**{**inbound, "eth_dst": speaker_mac}, ipv4_dst=f.address), actions=entry,
                              origin=fip))
        flows += [Flow(Table.NAT_UPLINK_IN, Priority.OVERRIDE, match(**inbound, ipv4_dst=f.address), actions=entry,
                       origin=fip),
                  Flow(Table.NAT_EGRESS, Priority.OVERRIDE, match(metadata=meta, eth_type=IPV4, ipv4_src=f.address),
                       actions=egress, goto=Table.NAT_TO_UPLINK, origin=fip)]
    answered = [gw.ip] + [f.address for f in r.floating]
    flows += [Flow(Table.NAT_UPLINK_IN, Priority.SPECIFIC,
                   match(metadata=gw.network_key, eth_type=ARP, arp_op=ARP_REQUEST, arp_tpa=ip),
                   actions=arp_reply(gw.port.mac_address, ip), origin=me) for ip in answered]
    if gw.ip6 is not None:
        flows += _routed6(r, gw.ip6)
    if gw.enable_snat:
        flows += [Flow(Table.NAT_SNAT_COMMIT, Priority.SPECIFIC,
                       match(metadata=meta, eth_type=IPV4, ct_state=NEW, ipv4_src=_prefix(i.subnet.cidr)),
                       actions=(ct(commit=True, nat=ofp.Nat("src", gw.ip, SNAT_PORTS),
                                       table=Table.NAT_EGRESS),),
                       origin=(*me, ("snat", f"{i.subnet.cidr} as {gw.ip}"), ("subnet", i.subnet.id)))
                  for i in r.view.interfaces]
    for f in r.floating:
        flows += _floating_flows(r, f)
    return flows


def _routed6(r: NatRouter, ip6: str) -> list[Flow]:
    """IPv6 through the gateway is routed, not translated (as Neutron does): from the uplink to the gateway
    MAC it enters the router; routed out, it skips conntrack; solicitations for the gateway's IPv6 address
    are answered."""
    gw, meta = r.gateway, r.view.metadata
    me = (("router", r.view.router.id), ("port", gw.port.id))
    return [
        Flow(Table.NAT_UPLINK_IN, Priority.SPECIFIC, match(metadata=gw.network_key, eth_type=IPV6, eth_dst=gw.port.mac_address),
             actions=(ofp.SetField("metadata", meta), ofp.SetField(Reg.IN_PORT, gw.port.key)), goto=Table.NAT_DNAT,
             origin=me),
        # before the flow above: a unicast solicitation (to the gateway MAC) is answered, not routed
        Flow(Table.NAT_UPLINK_IN, Priority.OVERRIDE,
             match(metadata=gw.network_key, eth_type=IPV6, ip_proto=ICMPV6, icmpv6_type=SOLICITATION, icmpv6_code=0,
                   ipv6_nd_target=ip6),
             actions=neighbor_advert(gw.port.mac_address, ip6, NA_ROUTER | NA_SOLICITED | NA_OVERRIDE, back=()),
             origin=me),
        Flow(Table.NAT_SNAT, Priority.SPECIFIC, match(metadata=meta, eth_type=IPV6), goto=Table.NAT_SNAT_COMMIT,
             origin=me),
    ]


def _floating_flows(r: NatRouter, f: Floating) -> list[Flow]:
    meta, ct = r.view.metadata, partial(ofp.Ct, zone=r.zone, commit=True)
    new_to: dict[str, Any] = dict(metadata=meta, eth_type=IPV4, ct_state=NEW, ipv4_dst=f.address)
    fip = (("router", r.view.router.id), ("floatingip", f.fip_id))
    flows = []
    if f.fixed is not None:
        flows += [
            Flow(Table.NAT_DNAT, Priority.SPECIFIC, match(**new_to),
                 actions=(ct(nat=ofp.Nat("dst", f.fixed), table=Table.L3_INPUT),),
                 origin=(*fip, ("dnat", f"{f.address} to {f.fixed}"))),
            Flow(Table.NAT_SNAT_COMMIT, Priority.OVERRIDE,
                 match(metadata=meta, eth_type=IPV4, ct_state=NEW, ipv4_src=f.fixed),
                 actions=(ct(nat=ofp.Nat("src", f.address), table=Table.NAT_EGRESS),),
                 origin=(*fip, ("snat", f"{f.fixed} as {f.address}"))),
        ]
    else:   # only its forwarded ports lead inside
        flows.append(Flow(Table.NAT_DNAT, Priority.SPECIFIC, match(**new_to), origin=fip))
    for pf in f.forwards:
        proto, port_field = PROTOCOLS[pf.protocol]
        flows.append(Flow(Table.NAT_DNAT, Priority.OVERRIDE,
                          match(**new_to, ip_proto=proto, **{port_field: pf.external_port}),
                          actions=(ct(nat=ofp.Nat("dst", pf.internal_ip_address,
                                                            (pf.internal_port, pf.internal_port)),
                                          table=Table.L3_INPUT),),
                          origin=(*fip, ("port_forwarding", pf.id))))
    return flows


def _prefix(cidr: str) -> tuple[str, str]:
    net = netaddr.IPNetwork(cidr)
    return str(net.network), str(net.netmask)


SERVICE = Service(pipeline.AppId.NAT, nat_view, chassis_nat)
