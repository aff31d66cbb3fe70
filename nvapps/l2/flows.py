"""Pure functions: the L2 flows and flood groups one chassis needs, from bound ports and the topology."""
from __future__ import annotations

from collections.abc import Hashable
from functools import partial
from typing import TYPE_CHECKING

from nvapps import pipeline
from nvapps.core import ofp
from nvapps.core.nd import (
    ADVERTISEMENT,
    ICMPV6,
    IPV6,
    NA_OVERRIDE,
    NA_ROUTER,
    NA_SOLICITED,
    SOLICITATION,
    TARGET_LINK_LAYER,
)
from nvapps.core.ofp import Flow, match
from nvapps.core.pieces import Pieces, Service, the_view
from nvapps.core.reconcile import Desired, Piece
from nvapps.core.topology import Chassis
from nvapps.logical.ports import BoundPort
from nvapps.model.ipam import link_local
from nvapps.model.network import ROUTER_INTERFACE
from nvapps.pipeline import Priority, Reg, Table

if TYPE_CHECKING:
    from nvapps.logical.view import Endpoints, LogicalView, Members

LEARN_IDLE_TIMEOUT = 300
ARP = 0x0806
ARP_REQUEST, ARP_REPLY = 1, 2


def flood_group_id(network_key: int) -> int:
    return pipeline.group_id(pipeline.AppId.L2, network_key)


TO_VM_STAGE = pipeline.next_stage("l2")      # where a packet goes once its out-port is known


def _to_port(key: int) -> ofp.SetField:
    return ofp.SetField(Reg.OUT_PORT, key)


def chassis_l2(here: Chassis, view: "LogicalView", pieces: Pieces | None = None) -> Desired:
    """All L2 flows and groups of chassis `here`, for the networks it must know (nvapps.logical.presence), in
    pieces: the chassis's own, per network (its members, shared by every chassis; towards the members on
    other chassis; its flooding) and per local port; the same state while none of its inputs changed."""
    pieces = pieces or Pieces(pipeline.AppId.L2)
    keys = sorted(view.presence.networks_on(here.name))
    if not keys:
        return Desired()
    trunk, linked = here.trunk_ofport, here.reaches_others
    local, members = view.local.get(here.name, ()), tuple(view.members_of(key) for key in keys)
    return pieces.chassis(here.name, (trunk, linked, local, members, view.fabric),
                          lambda: _l2_state(here.name, trunk, linked, local, members, view, pieces))


def _l2_state(here: str, trunk: int | None, linked: bool, local: tuple[BoundPort, ...],
              networks: tuple["Members", ...], view: "LogicalView", pieces: Pieces) -> Desired:
    sections = [pieces.value(("local", local), lambda: {("port", b.port.id): pieces.get(
        ("port", b), partial(_local_port_flows, b)) for b in local})]
    groups = []
    fabric = view.fabric if linked else None
    for members in networks:
        sections.append(pieces.value(("network", members, here, trunk, fabric),
                                     partial(_network_pieces, members, here, trunk, fabric, pieces)))
        groups.append(pieces.group(("flood", members, here, fabric),
                                   partial(_flood_group, members, here, fabric.ips if fabric else None)))
    return Desired({("chassis", linked): pieces.get(("chassis", linked), partial(_chassis_flows, linked))},
                   {g.group_id: g for g in groups}, tuple(sections))


def _network_pieces(members: "Members", here: str, trunk: int | None, fabric: "Endpoints | None",
                    pieces: Pieces) -> dict[Hashable, Piece]:
    """A network on chassis `here`: its flooding, and each member port (all of them when other chassis are
    reached from here, else those on this chassis) with, on another chassis, the way there, as a piece of
    its own (shared by every chassis), so a port joining builds its own pieces only; keyed by what they read
    (the port, its network, the way there), not where on its chassis it is: a chassis (re)connecting builds
    none of them anew."""
    key = members.key
    out: dict[Hashable, Piece] = {("network", key): pieces.get(("network", key, trunk),
                                                                 partial(_network_flows, key, trunk))}
    for b in members.ports + members.interfaces:
        if b.location is not None and b.chassis != here:
            if fabric is None:
                continue
            ip = fabric.ips.get(b.chassis, 0)
            out[ofp.shared(("remote", b.port.id))] = pieces.get(("remote", b.port, ip), partial(_remote_flows, b, ip))
        out[ofp.shared(("member", b.port.id))] = pieces.get(("member", b.port, b.network_key),
                                                            partial(_member_and_arp_flows, b))
    return out


def _chassis_flows(linked: bool) -> list[Flow]:
    """Learning, looking up learned MACs, delivery; with other chassis reachable, what crosses to them."""
    flows = [_learn_flow(), _lookup_learned_flow(), _deliver_flow(), *_advert_flows()]
    if linked:
        remote_in, remote_out = {Reg.IN_PORT: pipeline.REMOTE_PORT_KEY}, {Reg.OUT_PORT: pipeline.REMOTE_PORT_KEY}
        flows += [
            Flow(Table.EGRESS, Priority.SPECIFIC, match(**remote_out), goto=Table.EGRESS_REMOTE),
            # split horizon: what came from another chassis is never flooded on to one
            Flow(Table.EGRESS, Priority.OVERRIDE, match(**remote_in, **remote_out)),
            # ARP that crossed from another chassis was not answered at its source: not ours to answer either
            Flow(Table.L2_CONTROL, Priority.OVERRIDE, match(**remote_in), goto=Table.L2_LEARN),
        ]
    return flows


def _remote_flows(b: BoundPort, ip: int) -> list[Flow]:
    """A port on another chassis is reached through that chassis's tunnel endpoint `ip`."""
    return [Flow(Table.EGRESS, Priority.SPECIFIC, match(**{Reg.OUT_PORT: b.port.key}),
                 actions=(ofp.SetField(Reg.REMOTE_CHASSIS, ip),), goto=Table.EGRESS_REMOTE)]


def _local_port_flows(b: BoundPort) -> list[Flow]:
    """Classify the port's traffic into its network, and deliver to it (a VLAN port: tagged on its interface);
    the port's own ARP for its addresses (probing them) is not answered."""
    assert b.location is not None and b.location.ofport is not None, b     # a local port has its interface
    ofport, vlan = b.location.ofport, b.port.vlan
    into: tuple[ofp.Action, ...] = (ofp.SetField(Reg.IN_PORT, b.port.key),)
    out: tuple[ofp.Action, ...] = (ofp.Output(ofport),)
    match_in = match(in_port=ofport)
    if vlan:
        match_in = match(in_port=ofport, vlan_vid=ofp.OFPVID_PRESENT | vlan)
        into = (ofp.PopVlan(), *into)
        out = (ofp.PushVlan(), ofp.SetField("vlan_vid", ofp.OFPVID_PRESENT | vlan), *out)
    return [
        Flow(Table.CLASSIFY, Priority.SPECIFIC, match_in, actions=into,
             write_metadata=(b.network_key, pipeline.METADATA_MASK), goto=pipeline.AFTER_CLASSIFY),
        Flow(Table.EGRESS, Priority.SPECIFIC, match(**{Reg.OUT_PORT: b.port.key}), actions=out),
    ] + [Flow(Table.L2_CONTROL, Priority.OVERRIDE, match(**asked, **{Reg.IN_PORT: b.port.key}),
              goto=Table.L2_LEARN) for asked in [_arp_request(b, ip) for ip in _ipv4(b)]
         + [_solicitation(b, ip) for ip in _ipv6(b)]]


def _member_and_arp_flows(b: BoundPort) -> list[Flow]:
    return _member_flows(b) + _arp_responder(b) + _nd_responder(b)


def _member_flows(b: BoundPort) -> list[Flow]:
    """A port of one of this chassis's networks: its MAC is known (no learning) and looked up."""
    return [
        Flow(Table.L2_LEARN, Priority.SPECIFIC, match(metadata=b.network_key, eth_src=b.port.mac_address),
             goto=Table.L2_LOOKUP),
        Flow(Table.L2_LOOKUP, Priority.SPECIFIC, match(metadata=b.network_key, eth_dst=b.port.mac_address),
             actions=(_to_port(b.port.key),), goto=TO_VM_STAGE),
    ]


def _ipv4(b: BoundPort) -> list[str]:
    return [ip for ip in b.port.ip_addresses if ":" not in ip]


def _ipv6(b: BoundPort) -> list[str]:
    return [ip for ip in b.port.ip_addresses if ":" in ip]


def _arp_request(b: BoundPort, ip: str) -> dict:
    return dict(metadata=b.network_key, eth_type=ARP, arp_op=ARP_REQUEST, arp_tpa=ip)


def _arp_responder(b: BoundPort) -> list[Flow]:
    """ARP requests for the port's IPv4 addresses are answered in the datapath, back out the asking port."""
    return [Flow(Table.L2_CONTROL, Priority.SPECIFIC, match(**_arp_request(b, ip)),
                 actions=arp_reply(b.port.mac_address, ip, TO_ASKER)) for ip in _ipv4(b)]


def _solicitation(b: BoundPort, ip: str) -> dict:
    return dict(metadata=b.network_key, eth_type=IPV6, ip_proto=ICMPV6, icmpv6_type=SOLICITATION, icmpv6_code=0,
                ipv6_nd_target=ip)


def _nd_responder(b: BoundPort) -> list[Flow]:
    """Neighbour solicitations for the port's IPv6 addresses (and a router interface's link-local address)
    are answered in the datapath, back to the asker: the IPv6 twin of the ARP responder."""
    addresses, router = _ipv6(b), b.port.device_owner == ROUTER_INTERFACE
    if router and addresses:
        addresses.append(link_local(b.port.mac_address))
    flags = NA_SOLICITED | NA_OVERRIDE | (NA_ROUTER if router else 0)
    return [Flow(Table.L2_CONTROL, Priority.SPECIFIC, match(**_solicitation(b, ip)),
                 actions=neighbor_advert(b.port.mac_address, ip, flags)) for ip in addresses]


def neighbor_advert(mac: str, ip: str, flags: int, back: tuple[ofp.Action, ...] | None = None
                    ) -> tuple[ofp.Action, ...]:
    """Turn a solicitation for `ip` into the advertisement of its owner `mac`, in place, and send it `back`
    through L2_ND_ADVERT (where its option becomes the target link-layer address); by default back to the
    logical port that asked."""
    return (ofp.Move("eth_src", "eth_dst"), ofp.SetField("eth_src", mac), ofp.Move("ipv6_src", "ipv6_dst"),
            ofp.SetField("ipv6_src", ip), ofp.SetField("icmpv6_type", ADVERTISEMENT),
            ofp.SetField("nd_reserved", flags), ofp.SetField("nd_options_type", TARGET_LINK_LAYER),
            *(RETURN if back is None else back), ofp.Resubmit(Table.L2_ND_ADVERT))


def _advert_flows() -> list[Flow]:
    """An advertisement built in L2_CONTROL carries its sender's MAC as the target link-layer address and goes
    back to the asker; duplicate address detection (a solicitation from ::) is not answered here."""
    nd = dict(eth_type=IPV6, ip_proto=ICMPV6, icmpv6_code=0)
    return [
        Flow(Table.L2_ND_ADVERT, Priority.SPECIFIC, match(**nd, icmpv6_type=ADVERTISEMENT),
             actions=(ofp.Move("eth_src", "ipv6_nd_tll"), ofp.Resubmit(Table.EGRESS))),
        Flow(Table.L2_CONTROL, Priority.OVERRIDE, match(**nd, icmpv6_type=SOLICITATION, ipv6_src="::"),
             goto=Table.L2_LEARN),
    ]


# Back to the logical port that asked (its in-port becomes the out-port; in_port cleared so the packet may
# leave where it came in), through its egress flow (which tags for a VLAN port).
RETURN = (ofp.Move(Reg.IN_PORT, Reg.OUT_PORT), ofp.SetField("nx_in_port", 0))
TO_ASKER = (*RETURN, ofp.Resubmit(Table.EGRESS))


def arp_reply(mac: str, ip: str, back: tuple[ofp.Action, ...] = (ofp.Output(ofp.OFPP_IN_PORT),)
              ) -> tuple[ofp.Action, ...]:
    """Turn an ARP request for `ip` into the reply of its owner `mac`, in place, and send it `back` (by
    default out of the port it came in)."""
    return (ofp.Move("eth_src", "eth_dst"), ofp.SetField("eth_src", mac), ofp.SetField("arp_op", ARP_REPLY),
            ofp.Move("arp_sha", "arp_tha"), ofp.SetField("arp_sha", mac),
            ofp.Move("arp_spa", "arp_tpa"), ofp.SetField("arp_spa", ip), *back)


def _network_flows(key: int, trunk: int | None) -> list[Flow]:
    flows = [
        Flow(Table.L2_LOOKUP, Priority.BROADCAST,
             match(metadata=key, eth_dst=("01:00:00:00:00:00", "01:00:00:00:00:00")),
             actions=(ofp.GroupAction(flood_group_id(key)),)),
        Flow(Table.L2_UNKNOWN, Priority.SPECIFIC, match(metadata=key, **{Reg.OUT_PORT: 0}),
             actions=(ofp.GroupAction(flood_group_id(key)),)),
    ]
    if trunk is not None:
        vid = ofp.OFPVID_PRESENT | key
        flows += [
            Flow(Table.CLASSIFY, Priority.SPECIFIC, match(in_port=trunk, vlan_vid=vid),
                 actions=(ofp.PopVlan(), ofp.SetField(Reg.IN_PORT, pipeline.REMOTE_PORT_KEY)),
                 write_metadata=(key, pipeline.METADATA_MASK), goto=pipeline.AFTER_CLASSIFY),
            Flow(Table.EGRESS_REMOTE, Priority.SPECIFIC, match(metadata=key),
                 actions=(ofp.PushVlan(), ofp.SetField("vlan_vid", vid), ofp.Output(trunk))),
        ]
    return flows


def _learn_flow() -> Flow:
    """An unknown source teaches the datapath where its MAC is (no packet-in)."""
    learn = ofp.Learn(
        table=Table.L2_LEARNED, priority=Priority.SPECIFIC, cookie=pipeline.learned_cookie(pipeline.AppId.L2),
        idle_timeout=LEARN_IDLE_TIMEOUT,
        specs=(ofp.LearnMatch("metadata"), ofp.LearnMatch("eth_dst", "eth_src"),
               ofp.LearnLoad(Reg.IN_PORT, Reg.OUT_PORT), ofp.LearnLoad("tun_ipv4_src", Reg.REMOTE_CHASSIS)))
    return Flow(Table.L2_LEARN, Priority.FALLBACK, actions=(learn,), goto=Table.L2_LOOKUP)


def _lookup_learned_flow() -> Flow:
    """An unknown destination is looked up among learned MACs (which set the out-port, or leave it 0)."""
    return Flow(Table.L2_LOOKUP, Priority.FALLBACK, actions=(ofp.Resubmit(Table.L2_LEARNED),),
                goto=Table.L2_UNKNOWN)


def _deliver_flow() -> Flow:
    """A learned destination continues to delivery (an unlearned one was flooded above)."""
    return Flow(Table.L2_UNKNOWN, Priority.FALLBACK, goto=TO_VM_STAGE)


def _flood_group(members: "Members", here: str, endpoints: dict[str, int] | None) -> ofp.Group:
    """Every local port of the network, and (`endpoints` of the chassis reached from here) each other chassis
    with ports on it (by tunnel endpoint; one bucket over the inter-chassis link); each copy goes through the
    to-VM stages with its out-port set, so security applies to flooded packets too."""
    key, local = members.key, [b for b in members.ports if b.chassis == here]
    remote = sorted({endpoints.get(c, 0) for c in members.chassis if c != here}) if endpoints is not None else []
    buckets = [ofp.Bucket((_to_port(k), ofp.Resubmit(TO_VM_STAGE))) for k in sorted(b.port.key for b in local)]
    buckets += [ofp.Bucket((_to_port(pipeline.REMOTE_PORT_KEY), ofp.SetField(Reg.REMOTE_CHASSIS, ip),
                            ofp.Resubmit(TO_VM_STAGE))) for ip in remote]
    return ofp.Group(flood_group_id(key), "all", tuple(buckets))


SERVICE = Service(pipeline.AppId.L2, the_view, chassis_l2)
