"""Pure functions: load balancing at the edge, on the client's chassis (one virtual hop, no central node).

A client's packet to a VIP:port is translated right after its from-VM ACL (LB_FROM_VM), in its network's
LB conntrack zone: an existing connection keeps its member (ct nat); a new one goes to the pool's select
group, whose buckets commit it translated to one member (weights are bucket weights). The packet then
carries the member's MAC, or the router's when the member is on another subnet, and goes on to L2 (and
L3). A member's reply reaches the client's chassis, where LB_TO_VM undoes the translation in the same
zone (the client sees the VIP), before the client's to-VM ACL, which sees the connection its VM opened.
Chassis with no port on a network that reaches the VIP hold nothing of it.
"""
from __future__ import annotations

import math
from collections.abc import Hashable
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

import netaddr

from nvapps import pipeline
from nvapps.acl.matches import address_match
from nvapps.acl.port_security import allowed_pairs
from nvapps.core import ofp
from nvapps.core.ofp import Flow, ct_state, match
from nvapps.core.pieces import Pieces, Service
from nvapps.core.reconcile import Desired, Piece
from nvapps.core.topology import Chassis
from nvapps.l2.flows import ARP, ARP_REQUEST, TO_ASKER, arp_reply
from nvapps.lb import probes
from nvapps.lb.health import Target
from nvapps.logical.ports import BoundPort
from nvapps.model.loadbalancer import HealthMonitor, LoadBalancer, Member, Pool
from nvapps.model.network import ROUTER_INTERFACE, Port
from nvapps.model.security import protocol_number
from nvapps.pipeline import Priority, Reg, Table

if TYPE_CHECKING:
    from nvapps.logical.routers import RouterView
    from nvapps.logical.view import LogicalView

IPV4 = 0x0800
PROTOCOLS = {"TCP": 6, "UDP": 17}
L4_DST = {6: "tcp_dst", 17: "udp_dst"}
L4_SRC = {6: "tcp_src", 17: "udp_src"}
HAIRPIN_PORTS = (1024, 65279)       # a hairpin's source port on the VIP: never one of health probes' (65280-)
AFTER_LB = pipeline.next_stage("lb_from_vm")
AFTER_UNNAT = pipeline.next_stage("lb_to_vm")


@dataclass(frozen=True)
class Balancer:
    """A load balancer as its flows need it: the VIP, the networks whose ports reach it (with the MAC the
    VIP has for them: its own on its network, the router's elsewhere), its listeners and the MAC towards
    each member from each of those networks."""

    vip: str
    vip_mac: str
    vip_key: int
    clients: tuple[tuple[int, str], ...]                # (network key, the VIP's MAC there)
    listeners: tuple[tuple[int, int, int, int], ...]    # (IP protocol, port, the pool's group id, its hashing)
    towards: tuple[tuple[int, str, str], ...]           # (network key, member address, MAC to send it to)
    on: tuple[tuple[int, str, str, int, str], ...] = ()  # members on those networks: key, address, MAC, port
                                                         # key, chassis
    interfaces: tuple[tuple[int, int], ...] = ()        # the VIP's router on those networks: (key, its port key)
    entries: tuple["Entry", ...] = ()                    # routers that bring it connections from floating IPs
    admitted: tuple[tuple[int, int, tuple[str, ...]], ...] = ()  # listeners (protocol, port) the VIP port's
                                                         # security groups open to these sources only


@dataclass(frozen=True)
class Entry:
    """A router that brings connections to a VIP from outside (a floating IP of the VIP's port): they are
    balanced on its gateway chassis, in the router's load balancing zone, and the members' replies are given
    the VIP back there as they enter the router."""

    chassis: str
    zone: int
    interface: int                                      # the router's port key on the VIP's network
    replies: tuple[tuple[int, int, str, int, int], ...]  # (a member's network key, the router's port key
                                                         # there, the member's address, protocol, port)


@dataclass(frozen=True)
class PoolGroup:
    """A pool's members that take connections, with their weights: a select group, or links chosen by a hash
    of the packet (`hashed`)."""

    group_id: int
    members: tuple[tuple[str, int, int], ...]           # (address, port, weight)

    def links(self) -> list[tuple[str, int]]:
        """Each member as many links as its weight (reduced by the weights' common divisor; none without members)."""
        unit = math.gcd(*(w for _, _, w in self.members))
        return [(address, port) for address, port, w in self.members for _ in range(w // unit)]


@dataclass(frozen=True)
class LbView:
    """What every chassis's load balancing is computed from."""

    balancers: tuple[Balancer, ...]
    pools: dict[int, PoolGroup]
    local_keys: dict[str, frozenset[int]]               # chassis -> networks of its ports
    targets: dict[str, Target]                          # monitored member id -> how it is checked


def pool_group_id(pool: Pool) -> int:
    return pipeline.group_id(pipeline.AppId.LB, pool.key)


def read(model: Any, view: "LogicalView", previous: LbView | None, down: frozenset[str] = frozenset()) -> LbView:
    """The load balancers that are up with their listeners, default pools and members that are up and have
    not failed their health checks (`down`), and how each monitored member is checked."""
    lbs: list[LoadBalancer] = [lb for lb in model.list("loadbalancer") if lb.admin_state_up and lb.vip_port_id]
    pools = {p.id: p for p in model.list("pool")}
    members_of: dict[str, list[Member]] = {}
    for m in model.list("member"):
        members_of.setdefault(m.pool_id, []).append(m)
    monitors: dict[str, HealthMonitor] = {hm.pool_id: hm for hm in model.list("healthmonitor") if hm.admin_state_up}
    groups = {}
    for pool in pools.values():
        up = tuple(sorted((m.address, m.protocol_port, m.weight) for m in members_of.get(pool.id, ())
                          if m.admin_state_up and m.weight > 0 and m.id not in down)) if pool.admin_state_up else ()
        groups[pool_group_id(pool)] = PoolGroup(pool_group_id(pool), up)
    keys = {n.id: n.key for n in model.networks() if n.admin_state_up}
    floating: dict[str, set[str]] = {}
    for fip in model.list("floatingip"):
        if fip.port_id and fip.router_id:
            floating.setdefault(fip.port_id, set()).add(fip.router_id)
    grouped = _group_members(model) if any(lb.vip_sg_ids is not None for lb in lbs) else {}
    balancers, targets = [], {}
    for lb in lbs:
        vip_port = model.find("port", lb.vip_port_id)
        if vip_port is None or lb.vip_network_id not in keys:
            continue
        vip_key = keys[lb.vip_network_id]
        routers = {i.port.device_id for i in view.members_of(vip_key).interfaces}
        router_ports = {i.network_key: i.port for i in view.interfaces
                        if i.port.device_id in routers and i.port.device_owner == ROUTER_INTERFACE}
        router_macs = {k: p.mac_address for k, p in router_ports.items()}
        clients = {vip_key: vip_port.mac_address, **{k: mac for k, mac in router_macs.items() if k != vip_key}}
        listeners = tuple(sorted(
            (PROTOCOLS[li.protocol], li.protocol_port, pool_group_id(pools[li.default_pool_id]),
             _hashing(pools[li.default_pool_id]))
            for li in model.list("listener", {"loadbalancer_id": [lb.id]})
            if li.admin_state_up and li.default_pool_id in pools))
        addresses = {a for _, _, gid, _ in listeners for a, _, _ in groups[gid].members}
        located: dict[str, BoundPort] = {}
        towards: list[tuple[int, str, str]] = []
        on: list[tuple[int, str, str, int, str]] = []
        for key in sorted(clients):
            on_key = {ip: b for b in view.members_of(key).ports for ip in b.port.ip_addresses}
            located.update(on_key)
            for address in sorted(addresses):
                mac = on_key[address].port.mac_address if address in on_key else router_macs.get(key)
                if mac is not None:
                    towards.append((key, address, mac))
                if address in on_key:
                    member = on_key[address].port
                    on.append((key, address, member.mac_address, member.key, on_key[address].chassis))
        vip = lb.vip_address or ""
        for pool in pools.values():
            monitor = monitors.get(pool.id)
            if pool.loadbalancer_id != lb.id or monitor is None or not pool.admin_state_up:
                continue
            for m in members_of.get(pool.id, ()):
                if m.admin_state_up:
                    targets[m.id] = _target(m, monitor, located.get(m.monitor_address or m.address), vip_key,
                                            (vip, vip_port.mac_address), router_ports)
        served = sorted({(address, proto, port) for pool in pools.values() if pool.loadbalancer_id == lb.id
                         and pool.admin_state_up for m in members_of.get(pool.id, ()) if m.admin_state_up
                         for address, proto, port in [(m.address, PROTOCOLS[pool.protocol], m.protocol_port)]})
        admitted = _admitted(model, vip_port, [(proto, port) for proto, port, _, _ in listeners], grouped) \
            if lb.vip_sg_ids is not None else ()
        entries = tuple(_entry(rv, vip_key, served, located) for rv in view.routers
                        if rv.router.id in floating.get(vip_port.id, ()))
        balancers.append(Balancer(vip, vip_port.mac_address, vip_key,
                                  tuple(sorted(clients.items())), listeners, tuple(towards), tuple(on),
                                  tuple(sorted((k, p.key) for k, p in router_ports.items())),
                                  tuple(e for e in entries if e is not None), admitted))
    return LbView(tuple(balancers), groups, view.presence.own, targets)


def _group_members(model: Any) -> dict[str, list[str]]:
    """Each security group's member addresses (fixed IPs and allowed address pairs, IPv4)."""
    out: dict[str, list[str]] = {}
    for port in model.ports():
        for gid in port.security_groups or ():
            out.setdefault(gid, []).extend(a for _, a in allowed_pairs(port) if ":" not in a)
    return out


def _admitted(model: Any, vip_port: Port, listeners: list[tuple[int, int]],
              grouped: dict[str, list[str]]) -> tuple[tuple[int, int, tuple[str, ...]], ...]:
    """The listeners that the VIP port's security groups (the load balancer's vip_sg_ids) open to some sources
    only, with those sources (as few prefixes as cover them): an ingress IPv4 rule admits a listener when its
    protocol and port range cover it, from its prefix or its remote group's members."""
    rules = [r for gid in vip_port.security_groups or () for r in model.list("security_group_rule",
                                                                          {"security_group_id": [gid]})
             if r.direction == "ingress" and r.ethertype == "IPv4"]
    out = []
    for proto, port in listeners:
        sources: list[str] = []
        for r in rules:
            if protocol_number(r.protocol) not in (None, proto) or not (
                    (r.port_range_min or 0) <= port <= (65535 if r.port_range_max is None else r.port_range_max)):
                continue
            sources += grouped.get(r.remote_group_id, []) if r.remote_group_id else [r.remote_ip_prefix or "0.0.0.0/0"]
        merged = netaddr.cidr_merge(sources)
        if not any(net.prefixlen == 0 for net in merged):
            out.append((proto, port, tuple(str(net) for net in merged)))
    return tuple(out)


def _entry(rv: "RouterView", vip_key: int, served: list[tuple[str, int, int]],
           located: dict[str, BoundPort]) -> Entry | None:
    """Router `rv` as an entry to a VIP on network `vip_key` (its members `served`: address, protocol,
    port), if it has an interface there."""
    ports = {i.network_key: i.port.key for i in rv.interfaces}
    if vip_key not in ports or rv.gateway is None or rv.gateway.chassis is None:
        return None
    replies = tuple((located[a].network_key, ports[located[a].network_key], a, proto, port)
                    for a, proto, port in served if a in located and located[a].network_key in ports)
    return Entry(rv.gateway.chassis, pipeline.router_lb_zone(rv.router.key), ports[vip_key], replies)


def _target(m: Member, hm: HealthMonitor, port: BoundPort | None, vip_key: int, vip: tuple[str, str],
            router_ports: dict[int, Any]) -> Target:
    """How member `m` is checked: from the VIP on the VIP's network, from the router's interface elsewhere."""
    source, source_mac = vip
    if port is not None and port.network_key != vip_key and port.network_key in router_ports:
        interface = router_ports[port.network_key]
        source, source_mac = interface.ip_addresses[0], interface.mac_address
    path = probes.Path(port.port.mac_address if port else "00:00:00:00:00:00", m.monitor_address or m.address,
                       m.monitor_port or m.protocol_port, source_mac, source)
    return Target(m.id, hm.type, path, hm.delay, hm.timeout, hm.max_retries, hm.max_retries_down, hm.url_path,
                  hm.expected_codes, port.chassis if port is not None else None,
                  port.port.key if port is not None else 0)


def chassis_lb(here: Chassis, view: LbView, pieces: Pieces | None = None) -> Desired:
    """The load balancing of the clients on chassis `here`: for each balancer its local client networks."""
    pieces = pieces or Pieces(pipeline.AppId.LB)
    local = view.local_keys.get(here.name, frozenset())
    out: dict[Hashable, Piece] = {}
    groups: dict[int, ofp.Group] = {}
    for b in view.balancers:
        keys = tuple(k for k, _ in b.clients if k in local)
        entries = tuple(e for e in b.entries if e.chassis == here.name)
        if not keys and not entries:
            continue
        if keys:
            out["balancer", b.vip_key, b.vip] = pieces.get(("balancer", b, keys), partial(_balancer, b, keys))
        if entries:
            out["entries", b.vip_key, b.vip] = pieces.get(("entries", b, entries), partial(_entries, b, entries))
        selecting = tuple(sorted(set(keys) | ({b.vip_key} if entries else set())))
        for proto, port, gid, hashing in b.listeners:
            pool = view.pools[gid]
            if hashing:
                out["hashed", b.vip_key, b.vip, proto, port] = pieces.get(
                    ("hashed", b.vip, proto, port, pool, selecting, hashing),
                    partial(_hashed_flows, b, proto, port, pool, selecting, hashing))
            else:
                groups[gid] = pieces.group(("pool", pool), partial(_select_group, pool))
        hairpins = _hairpins(b, keys, view.pools, here.name)
        if hairpins:
            out["hairpin", b.vip_key, b.vip] = pieces.get(("hairpin", b.vip, hairpins), partial(_hairpin, b.vip, hairpins))
        for key, interface in b.interfaces:
            if key in keys:
                out["to router", key] = pieces.get(("to router", key, interface), partial(_to_router, key, interface))
        for key, address, *_ in hairpins:
            out["hairpin reply", key, address] = pieces.get(("hairpin reply", key, address),
                                                            partial(_hairpin_reply, key, address))
    for target in view.targets.values():
        if target.chassis == here.name:     # members checked alike (one port, two pools) share their flow
            answered = _answered(target)
            out["monitor", answered] = pieces.get(("monitor", answered), partial(_answers, *answered))
    if out:
        out["chassis"] = pieces.get(("chassis",), _chassis_flows)
    return Desired(out, groups)


def _answered(target: Target) -> tuple[int, str, str, int, int]:
    """What the answers to a member's probes are told apart by: its port, address, the probes' source, and
    TCP's member port or the ICMP type of the answer (PING: echo reply, UDP-CONNECT: unreachable)."""
    path = target.path
    what = path.port if target.kind in ("TCP", "HTTP") else 0 if target.kind == "PING" else 3
    return target.port_key, path.address, path.source, probes.TCP if target.kind in ("TCP", "HTTP") else probes.ICMP, what


def _answers(port_key: int, address: str, source: str, proto: int, what: int) -> list[Flow]:
    """The member's answers to its health probes go to the controller (metered), not on."""
    fields: dict[str, int | str | tuple[int | str, int]] = {
        Reg.IN_PORT: port_key, "eth_type": IPV4, "ipv4_src": address, "ipv4_dst": source, "ip_proto": proto}
    fields.update(dict(tcp_src=what, tcp_dst=probes.PROBE_PORTS) if proto == probes.TCP else dict(icmpv4_type=what))
    return [Flow(Table.LB_FROM_VM, Priority.CONTROL, match(**fields), actions=(ofp.PUNT,),
                 meter=pipeline.app_meter(pipeline.AppId.LB))]


def _chassis_flows() -> list[Flow]:
    """What came from another chassis was balanced at its source; what the tables below do not claim goes on."""
    return [
        Flow(Table.LB_FROM_VM, Priority.OVERRIDE, match(**{Reg.IN_PORT: pipeline.REMOTE_PORT_KEY}), goto=AFTER_LB),
        Flow(Table.LB_SELECT, Priority.FALLBACK, goto=Table.LB_DELIVER),
        Flow(Table.LB_DELIVER, Priority.FALLBACK, goto=AFTER_LB),
        Flow(Table.LB_UNNAT, Priority.FALLBACK, goto=AFTER_UNNAT),
    ]


def _balancer(b: Balancer, keys: tuple[int, ...]) -> list[Flow]:
    """One balancer for the clients on networks `keys`."""
    flows = []
    macs = dict(b.clients)
    for key in keys:
        zone = (ofp.SetField(Reg.CT_ZONE, pipeline.lb_zone(key)),)
        net = dict(metadata=key)
        if key == b.vip_key:
            flows.append(Flow(Table.LB_FROM_VM, Priority.SPECIFIC,
                              match(**net, eth_type=ARP, arp_op=ARP_REQUEST, arp_tpa=b.vip),
                              actions=arp_reply(b.vip_mac, b.vip, TO_ASKER)))
        flows += [Flow(Table.LB_FROM_VM, Priority.SPECIFIC, match(**_to_vip(b, key, proto, port), **source),
                       actions=(*zone, *_balance(b))) for proto, port, _, _ in b.listeners
                  for source in _sources(b, proto, port)]
        flows += _select_and_deliver(b, key)
        # what this pass balanced (reg10 set) needs no translation back: it is not a reply
        flows.append(Flow(Table.LB_TO_VM, Priority.SPECIFIC, match(**net, eth_type=IPV4, **{Reg.LB_VIP: 0}),
                          actions=(*zone, ofp.Ct(zone_reg=Reg.CT_ZONE, nat=ofp.Nat(), table=Table.LB_UNNAT))))
        flows += [Flow(Table.LB_UNNAT, Priority.SPECIFIC,      # per listener: its counters are its bytes out
                       match(**net, eth_type=IPV4, ipv4_src=b.vip, ip_proto=proto, **{L4_SRC[proto]: port},
                             ct_state=ct_state("+trk+rpl")),
                       actions=(ofp.SetField("eth_src", macs[key]),), goto=AFTER_UNNAT)
                  for proto, port, _, _ in b.listeners]
    return flows


def _sources(b: Balancer, proto: int, port: int) -> list[dict]:
    """The source matches of connections the VIP port's security groups admit to a listener (the VIP drops
    the others)."""
    for p, listen, prefixes in b.admitted:
        if (p, listen) == (proto, port):
            return [{"ipv4_src": address_match(prefix)} for prefix in prefixes]
    return [{}]


def _balance(b: Balancer) -> tuple[ofp.Action, ...]:
    """In the zone reg13 names: an existing connection keeps its member, a new one is selected (table 17)."""
    return ofp.SetField(Reg.LB_VIP, _int(b.vip)), ofp.Ct(zone_reg=Reg.CT_ZONE, nat=ofp.Nat(), table=Table.LB_SELECT)


def _select_and_deliver(b: Balancer, key: int) -> list[Flow]:
    """Packets to `b`'s listeners from network `key`: new connections to the pool's group (hashed pools:
    `_hashed_flows`), and each member's MAC as seen from `key`; anything else to the VIP is dropped."""
    net = dict(metadata=key, eth_type=IPV4)
    flows = [Flow(Table.LB_SELECT, Priority.SPECIFIC, match(**_to_vip(b, key, proto, port), ct_state=ct_state("+new+trk")),
                  actions=(ofp.GroupAction(gid),)) for proto, port, gid, hashing in b.listeners if not hashing]
    flows += [Flow(Table.LB_DELIVER, Priority.SPECIFIC, match(**net, ipv4_dst=address),
                   actions=(ofp.SetField("eth_dst", mac),), goto=AFTER_LB)
              for k, address, mac in b.towards if k == key]
    return flows + [Flow(Table.LB_FROM_VM, Priority.FALLBACK, match(**net, ipv4_dst=b.vip))]


def _entries(b: Balancer, entries: tuple[Entry, ...]) -> list[Flow]:
    """Connections that routers bring to `b` from floating IPs (handed over by L3 as from the router's
    interface on the VIP's network), balanced in each router's zone; the members' replies get the VIP back
    in that zone as they enter the router (before its NAT gives them the floating IP)."""
    flows = _select_and_deliver(b, b.vip_key)
    for e in entries:
        zone = ofp.SetField(Reg.CT_ZONE, e.zone)
        flows += [Flow(Table.LB_FROM_VM, Priority.OVERRIDE,
                       match(**_to_vip(b, b.vip_key, proto, port), **{Reg.IN_PORT: e.interface}, **source),
                       actions=(zone, *_balance(b))) for proto, port, _, _ in b.listeners
                  for source in _sources(b, proto, port)]
        flows += [Flow(Table.LB_TO_VM, Priority.REPLY,
                       match(metadata=key, **{Reg.OUT_PORT: interface}, eth_type=IPV4, ipv4_src=address,
                             ip_proto=proto, **{L4_SRC[proto]: port}),
                       actions=(zone, ofp.Ct(zone_reg=Reg.CT_ZONE, nat=ofp.Nat(), table=Table.LB_UNNAT)))
                  for key, interface, address, proto, port in e.replies]
        flows += [Flow(Table.LB_UNNAT, Priority.OVERRIDE,      # per listener: its counters are its bytes out
                       match(metadata=key, **{Reg.OUT_PORT: interface}, eth_type=IPV4, ipv4_src=b.vip,
                             ip_proto=proto, **{L4_SRC[proto]: port}, ct_state=ct_state("+trk+rpl")),
                       goto=AFTER_UNNAT)
                  for key, interface in sorted({(k, i) for k, i, *_ in e.replies}) for proto, port, _, _ in b.listeners]
    return flows


Hairpin = tuple[tuple[int, str, str, int, int, int], ...]     # (key, address, MAC, port key, protocol, member port)


def _hairpins(b: Balancer, keys: tuple[int, ...], pools: dict[int, PoolGroup], here: str) -> Hairpin:
    """The members of `b` on chassis `here` (on its client networks `keys`) that may reach themselves
    through the VIP."""
    on = {(key, address): (mac, port_key) for key, address, mac, port_key, chassis in b.on
          if key in keys and chassis == here}
    return tuple(sorted({(key, address, *on[key, address], proto, member_port)
                         for proto, _, gid, _ in b.listeners for address, member_port, _ in pools[gid].members
                         for key in keys if (key, address) in on}))


def _hairpin(vip: str, hairpins: Hairpin) -> list[Flow]:
    """A member that reached itself through VIP `vip` gets the connection from the VIP (its source translated
    in the network's hairpin zone, so its reply comes back here) and out of its own port; its replies go to
    the hairpin zone, then (table 17, `_hairpin_reply`) to the load balancing zone."""
    flows: dict[tuple, Flow] = {}
    for key, address, mac, port_key, proto, member_port in hairpins:
        net = dict(metadata=key, eth_type=IPV4)
        hairpin = (ofp.SetField(Reg.CT_ZONE, pipeline.hairpin_zone(key)),)
        flows[Table.LB_DELIVER, key, address] = Flow(
            Table.LB_DELIVER, Priority.OVERRIDE, match(**net, **{Reg.LB_VIP: _int(vip)}, ipv4_src=address, ipv4_dst=address),
            actions=(ofp.SetField("eth_dst", mac), ofp.SetField("nx_in_port", 0), *hairpin,
                     ofp.Ct(zone_reg=Reg.CT_ZONE, commit=True, nat=ofp.Nat("src", vip, HAIRPIN_PORTS), table=AFTER_LB)))
        flows[Table.LB_FROM_VM, key, address, proto, member_port] = Flow(
            Table.LB_FROM_VM, Priority.OVERRIDE,
            match(**net, **{Reg.IN_PORT: port_key}, ipv4_src=address, ipv4_dst=vip, ip_proto=proto,
                  **{L4_SRC[proto]: member_port}),
            actions=(*hairpin, ofp.Ct(zone_reg=Reg.CT_ZONE, nat=ofp.Nat(), table=Table.LB_SELECT)))
        flows[Table.LB_TO_VM, key, address] = Flow(Table.LB_TO_VM, Priority.OVERRIDE, match(**net, ipv4_src=vip, ipv4_dst=address),
                                       goto=AFTER_UNNAT)
    return list(flows.values())


def _to_router(key: int, interface: int) -> list[Flow]:
    """Packets from network `key` into its router need no translation back (a reply reaches its client in the
    client's network), and each conntrack pass costs one of the datapath's few recirculations."""
    return [Flow(Table.LB_TO_VM, Priority.OVERRIDE, match(metadata=key, **{Reg.OUT_PORT: interface}), goto=AFTER_UNNAT)]


def _hairpin_reply(key: int, address: str) -> list[Flow]:
    """A hairpin reply, given its member back as destination by the hairpin zone, gets the VIP back as its
    source in the load balancing zone (whichever VIP it was: one flow per member)."""
    return [Flow(Table.LB_SELECT, Priority.OVERRIDE,
                 match(metadata=key, eth_type=IPV4, ipv4_src=address, ipv4_dst=address, ct_state=ct_state("+trk+rpl")),
                 actions=(ofp.SetField("nx_in_port", 0), ofp.SetField(Reg.CT_ZONE, pipeline.lb_zone(key)),
                          ofp.Ct(zone_reg=Reg.CT_ZONE, nat=ofp.Nat(), table=Table.LB_DELIVER)))]


def _int(ip: str) -> int:
    """An IPv4 address as a register holds it."""
    return int(netaddr.IPAddress(ip))


def _to_vip(b: Balancer, key: int, proto: int, port: int) -> dict:
    """The match of packets from network `key` to a listener of `b`."""
    return dict(metadata=key, eth_type=IPV4, ip_proto=proto, ipv4_dst=b.vip, **{L4_DST[proto]: port})


def _hashing(pool: Pool) -> int:
    """How a pool's new connections pick a member: by the source address (SOURCE_IP), by the flow's
    addresses and ports (UDP: OVS's select groups leave UDP ports out of their hash), or the pool's select
    group (0)."""
    if pool.lb_algorithm == "SOURCE_IP":
        return ofp.HASH_NW_SRC
    return ofp.HASH_L3L4_UDP if pool.protocol == "UDP" else 0


def _hashed_flows(b: Balancer, proto: int, port: int, pool: PoolGroup, keys: tuple[int, ...],
                  fields: int) -> list[Flow]:
    """A pool whose new connections are hashed on `fields` to a link (highest random weight: the same hash,
    the same member while the members are the same); the link's member gets the connection."""
    links = pool.links()
    flows = []
    for key in keys:
        to_vip = _to_vip(b, key, proto, port)
        new = match(**to_vip, ct_state=ct_state("+new+trk"))
        flows.append(Flow(Table.LB_SELECT, Priority.SPECIFIC, new, actions=(ofp.Multipath(len(links), Reg.LB_LINK, fields),),
                          goto=Table.LB_SOURCE) if links else Flow(Table.LB_SELECT, Priority.SPECIFIC, new))
        flows += [Flow(Table.LB_SOURCE, Priority.SPECIFIC, match(**to_vip, **{Reg.LB_LINK: i}),
                       actions=(_commit(address, member_port),))
                  for i, (address, member_port) in enumerate(links)]
    return flows


def _commit(address: str, port: int) -> ofp.Ct:
    """Commit the new connection translated to member `address`:`port`, on to delivery."""
    return ofp.Ct(zone_reg=Reg.CT_ZONE, commit=True, nat=ofp.Nat("dst", address, (port, port)), table=Table.LB_DELIVER)


def _select_group(pool: PoolGroup) -> ofp.Group:
    """Each member a bucket of its weight: commit the new connection translated to the member."""
    return ofp.Group(pool.group_id, "select", tuple(
        ofp.Bucket((_commit(address, port),), weight=weight)
        for address, port, weight in pool.members))


SERVICE = Service(pipeline.AppId.LB, read, chassis_lb)
