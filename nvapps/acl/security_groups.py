"""Pure functions: stateful security group flows, after Neutron's OVS firewall driver.

Each secured port's IP traffic goes through conntrack in the port's own zone. Replies and related packets
of accepted connections pass; invalid ones drop. New connections, and every packet in the originating
direction of established ones, are checked against the port's rules: allowed new connections are
committed; an established connection no rule allows any more is committed with ct_mark BLOCKED, which
drops it both ways from then on (so removing a rule ends the connections it allowed). Rules naming a
remote group are conjunctive matches, (member addresses) x (port and protocol): flows grow with members
plus ports, not their product.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from functools import partial
from typing import NamedTuple

from nvapps import pipeline
from nvapps.acl.directions import DIRECTIONS, FROM_VM, TO_VM, Direction
from nvapps.acl.matches import ETH_TYPES, Traffic, address_match
from nvapps.acl.port_security import allowed_pairs
from nvapps.core import ofp
from nvapps.core.ofp import Flow, ct_state, match
from nvapps.model.network import Port
from nvapps.model.security import SecurityGroup, SecurityGroupRule
from nvapps.pipeline import Priority, Reg


class Member(NamedTuple):
    """Where a remote group's member address is matched: the rules table, ethertype, field and address."""

    table: int
    ethertype: str
    field: str
    address: str


BLOCKED = 1    # ct_mark of a connection that lost the rule allowing it

# ICMPv6 neighbour discovery and MLD (router solicitation/advertisement, neighbour solicitation/
# advertisement, redirect, MLD query/report/done, MLDv2 report) bypass conntrack, as in Neutron.
ICMPV6_CONTROL = (130, 131, 132, 133, 134, 135, 136, 137, 143)


def conj_id(group: SecurityGroup, d: Direction, ethertype: str) -> int:
    """The conjunctive match of "remote group `group`" rules in direction `d` for `ethertype`."""
    return (group.key << 2) | (d.bit << 1) | int(ethertype == "IPv6")


def stage_flows(d: Direction) -> list[Flow]:
    """A direction's conntrack machinery, the same for every port."""
    ct = partial(ofp.Ct, zone_reg=Reg.CT_ZONE)
    flows = [
        Flow(d.ct, Priority.FALLBACK, goto=d.accept),     # not IP, or not a secured port
        *(Flow(d.ct, Priority.OVERRIDE, match(eth_type=0x86DD, ip_proto=58, icmpv6_type=t), goto=d.accept)
          for t in ICMPV6_CONTROL),
        Flow(d.state, Priority.OVERRIDE, match(ct_state=ct_state("+trk+inv"))),
        Flow(d.state, Priority.OVERRIDE, match(ct_state=ct_state("+trk"), ct_mark=(BLOCKED, BLOCKED))),
        Flow(d.state, Priority.SPECIFIC, match(ct_state=ct_state("+trk+est+rpl")), goto=d.accept),
        Flow(d.state, Priority.SPECIFIC, match(ct_state=ct_state("+trk+rel")), goto=d.accept),
        Flow(d.state, Priority.FALLBACK, goto=d.rules),
        Flow(d.commit, Priority.FALLBACK, goto=d.accept),
    ]
    for eth_type in ETH_TYPES.values():      # ct() needs an IP match
        flows += [
            Flow(d.rules, Priority.FALLBACK, match(eth_type=eth_type, ct_state=ct_state("+trk+est")),
                 actions=(ct(commit=True, exec=(ofp.SetField("ct_mark", BLOCKED),)),)),
            # a new connection no rule allows: dropped by a flow (not a table miss), so its counters show it
            Flow(d.rules, Priority.FALLBACK, match(eth_type=eth_type, ct_state=ct_state("+trk+new"))),
            Flow(d.commit, Priority.SPECIFIC, match(eth_type=eth_type, ct_state=ct_state("+trk+new")),
                 actions=(ct(commit=True),), goto=d.accept),
        ]
    if d is FROM_VM:     # DHCP requests reach the edge's DHCP server whatever the egress rules say
        flows.append(Flow(d.ct, Priority.OVERRIDE, match(eth_type=0x0800, ip_proto=17, udp_src=68, udp_dst=67),
                          goto=d.accept))
    return flows


def port_flows(port: Port) -> list[Flow]:
    """The port's IPv4 and IPv6 enter conntrack in its zone, in both directions."""
    zone = pipeline.port_zone(port.key)
    return [Flow(d.ct, Priority.SPECIFIC, match(**{d.port_reg: port.key}, eth_type=eth_type),
                 actions=(ofp.SetField(Reg.CT_ZONE, zone), ofp.Ct(zone_reg=Reg.CT_ZONE, table=d.state)))
            for d in DIRECTIONS for eth_type in ETH_TYPES.values()]


def rule_flows(port_key: int, rule: SecurityGroupRule, remote: SecurityGroup | None) -> list[Flow]:
    """One rule of one of port `port_key`'s groups: plain allow flows, or clause 2 of the remote group's match."""
    d = FROM_VM if rule.direction == FROM_VM.name else TO_VM
    prefix = rule.remote_ip_prefix
    traffic = Traffic(rule.ethertype, rule.protocol, prefix if d.remote_is_source else None,
                      None if d.remote_is_source else prefix, destination_ports=(rule.port_range_min,
                                                                                 rule.port_range_max))
    me = {d.port_reg: port_key}
    origin = (("security_group", rule.security_group_id), ("security_group_rule", rule.id))
    if rule.remote_group_id is None:
        return [Flow(d.rules, Priority.SPECIFIC, match(**me, **m), goto=d.commit, origin=origin)
                for m in traffic.matches()]
    if remote is None:
        return []
    clause = ofp.Conjunction(conj_id(remote, d, rule.ethertype), 2, 2)
    return [Flow(d.rules, Priority.CONJUNCTIVE, match(**me, **m), actions=(clause,), origin=origin)
            for m in traffic.matches()]


def member_clause(group: SecurityGroup, d: Direction, ethertype: str) -> ofp.Conjunction:
    """Clause 1 of a remote group's match (the member addresses)."""
    return ofp.Conjunction(conj_id(group, d, ethertype), 1, 2)


def port_members(port: Port, d: Direction, ethertype: str) -> list[Member]:
    """Where a member port's addresses of `ethertype` are matched by rules in direction `d`."""
    field = ("ipv4_" if ethertype == "IPv4" else "ipv6_") + ("src" if d.remote_is_source else "dst")
    return [Member(d.rules, ethertype, field, address) for _, address in allowed_pairs(port)
            if (":" in address) == (ethertype == "IPv6")]


def member_counts(members: Iterable[Port], d: Direction, ethertype: str) -> dict[Member, int]:
    """A remote group's member addresses (where they are matched), each with the number of its ports that
    have it."""
    counts: dict[Member, int] = {}
    for port in members:
        for member in port_members(port, d, ethertype):
            counts[member] = counts.get(member, 0) + 1
    return counts


def recounted(counts: dict[Member, int], was: tuple[Port, ...], now: tuple[Port, ...], d: Direction,
              ethertype: str) -> tuple[dict[Member, int], set[Member]]:
    """`counts` of members `was`, counted again for members `now` from the ports that left and joined (by
    identity), and the addresses that came or went."""
    before, after = set(map(id, was)), set(map(id, now))
    out, toggled = dict(counts), set()
    for port in was:
        if id(port) not in after:
            for member in port_members(port, d, ethertype):
                left = out[member] - 1
                if left:
                    out[member] = left
                else:
                    del out[member]
                    toggled.add(member)
    for port in now:
        if id(port) not in before:
            for member in port_members(port, d, ethertype):
                if member not in out:
                    toggled.add(member)
                out[member] = out.get(member, 0) + 1
    return out, toggled


def member_flow(member: Member, clauses: Iterable[ofp.Conjunction]) -> Flow:
    """One member address, in clause 1 of each of `clauses` (every remote group matched here that has it)."""
    ordered: list[ofp.Conjunction] = sorted(set(clauses), key=_conjunction_order)
    return Flow(member.table, Priority.CONJUNCTIVE, match(eth_type=ETH_TYPES[member.ethertype],
                                                         **{member.field: address_match(member.address)}),
                actions=tuple(ordered))


def conjunction_flow(group: SecurityGroup, d: Direction, ethertype: str) -> Flow:
    """What a remote group's match does once both clauses hold: the packet is allowed."""
    return Flow(d.rules, Priority.CONJUNCTIVE, match(conj_id=conj_id(group, d, ethertype)), goto=d.commit,
                origin=(("remote_group", group.id),))


def merge_conjunctions(flows: list[Flow]) -> list[Flow]:
    """One flow per (table, priority, match): identical flows once, clauses of several conjunctive matches
    on the same match as one flow with all their conjunction actions (OpenFlow keeps one flow per match)."""
    by_match: dict[tuple, list[Flow]] = defaultdict(list)
    for flow in dict.fromkeys(flows):
        by_match[(flow.table, flow.priority, flow.match)].append(flow)
    out = []
    for (table, priority, m), same in by_match.items():
        if len(same) == 1:
            out.append(same[0])
            continue
        actions = [a for f in same for a in f.actions]
        conjunctions = sorted({a for a in actions if isinstance(a, ofp.Conjunction)}, key=_conjunction_order)
        if len(conjunctions) < len(set(actions)) or any(f.goto is not None for f in same):
            raise ValueError(f"conflicting flows for one match in table {table}: {same}")
        out.append(Flow(table, priority, m, actions=tuple(conjunctions),
                        origin=tuple(dict.fromkeys(o for f in same for o in f.origin))))
    return out


def _conjunction_order(c: ofp.Conjunction) -> tuple[int, int]:
    return c.id, c.clause
