"""Pure functions: all ACL flows of one chassis, from a snapshot of ports, groups, rules and network ACLs.

The flows come in pieces (nvapps.core.pieces): the stages' own, one per local port (its entry, port
security and security group rules, keyed by the port and its groups' policies), one per local network (its
network ACLs), and the clause-1 flows of the remote groups the chassis's rules name (the groups' members).
A snapshot keeps unchanged policies and memberships as the same objects, so a change rebuilds only the
pieces that read what changed.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, replace
from functools import partial
from typing import Any

from nvapps import pipeline
from nvapps.acl.directions import DIRECTIONS, FROM_VM, TO_VM
from nvapps.acl.network_acls import network_acl_flows, network_fallbacks
from nvapps.acl.port_security import nd_stage_flows, port_security_flows
from nvapps.acl.security_groups import (
    Member,
    conjunction_flow,
    member_clause,
    member_counts,
    member_flow,
    merge_conjunctions,
    port_flows,
    recounted,
    rule_flows,
    stage_flows,
)
from nvapps.core.ofp import Flow, match
from nvapps.core.pieces import Pieces, Service
from nvapps.core.reconcile import Desired, Piece
from nvapps.core.topology import Chassis
from nvapps.logical.ports import BoundPort
from nvapps.logical.view import LogicalView, by_chassis, place_of, spliced
from nvapps.model.network import Port
from nvapps.model.security import NetworkAcl, SecurityGroup, SecurityGroupRule
from nvapps.model.service import Model
from nvapps.pipeline import Priority


@dataclass(frozen=True, eq=False)
class Policy:
    """A security group's rules, each with the remote group it names (if any); the same object while
    unchanged."""

    group: SecurityGroup
    rules: tuple[tuple[SecurityGroupRule, SecurityGroup | None], ...]

    def same(self, other: "Policy | None") -> bool:
        return other is not None and other.group == self.group and other.rules == self.rules


@dataclass(frozen=True, eq=False)
class GroupMembers:
    """A security group and its ports (on any chassis); the same object while unchanged."""

    group: SecurityGroup
    ports: tuple[Port, ...]

    def same(self, other: "GroupMembers | None") -> bool:
        return other is not None and other.group == self.group and other.ports == self.ports


@dataclass(frozen=True)
class AclView:
    """What the ACL flows of every chassis are computed from, read once per sync."""

    local: dict[str, tuple[BoundPort, ...]]         # VM ports whose interface exists, by chassis
    policies: dict[str, Policy]                     # by security group id
    members: dict[str, GroupMembers]                # by security group id
    acls: dict[int, tuple[NetworkAcl, ...]]         # network key -> its ACLs
    remotes: dict[str, tuple[tuple[str, str, str], ...]]    # chassis -> remote groups its rules name (group
                                                            # id, direction, ethertype)

    serial: int = 0                 # the serial of the logical view it was read from

    @classmethod
    def build(cls, bound: list[BoundPort], ports: list[Port], groups: list[SecurityGroup],
              rules: list[SecurityGroupRule], acls: list[NetworkAcl], network_keys: dict[str, int],
              previous: "AclView | None" = None) -> "AclView":
        """The view of these objects; local ports, policies, memberships and ACLs equal to those of `previous`
        are its own (and so are its dicts of them while all are)."""
        by_id = {g.id: g for g in groups}
        by_group: dict[str, list[SecurityGroupRule]] = defaultdict(list)
        for rule in rules:
            by_group[rule.security_group_id].append(rule)
        members: dict[str, list[Port]] = defaultdict(list)
        for port in ports:
            for gid in port.security_groups or []:
                members[gid].append(port)
        by_network: dict[int, list[NetworkAcl]] = defaultdict(list)
        for acl in acls:
            if acl.network_id in network_keys:
                by_network[network_keys[acl.network_id]].append(acl)
        policies: dict[str, Policy] = {}
        memberships: dict[str, GroupMembers] = {}
        for gid, group in by_id.items():
            policy = Policy(group, tuple((r, by_id.get(r.remote_group_id) if r.remote_group_id else None)
                                         for r in by_group.get(gid, ())))
            old = previous.policies.get(gid) if previous is not None else None
            policies[gid] = old if old is not None and policy.same(old) else policy
            membership = GroupMembers(group, tuple(members.get(gid, ())))
            was = previous.members.get(gid) if previous is not None else None
            memberships[gid] = was if was is not None and membership.same(was) else membership
        local = by_chassis(bound, previous.local if previous is not None else {})
        acls_of = {k: tuple(v) for k, v in by_network.items()}
        if previous is not None:
            policies = _same_or(policies, previous.policies)
            acls_of = previous.acls if previous.acls == acls_of else acls_of
        kept = previous if previous is not None and policies is previous.policies else None
        return cls(local, policies, memberships, acls_of, _remotes(local, policies, kept))

    def patched(self, local: dict[str, tuple[BoundPort, ...]], ports: dict[str, Port | None], model: Model) -> "AclView":
        """This view after the ports of `ports` (id -> the port as this view saw it) changed in `model`, and the
        chassis's ports are `local`; no group, rule, network ACL or network changed."""
        members = dict(self.members)
        place = place_of(model)
        now = {port_id: model.find("port", port_id) for port_id in ports}
        for gid in {g for port in (*ports.values(), *now.values()) if port is not None
                    for g in port.security_groups or []}:
            old = self.members.get(gid)
            if old is not None:             # (a group that does not exist has no members)
                joined = [p for p in now.values() if p is not None and gid in (p.security_groups or [])]
                members[gid] = GroupMembers(old.group, spliced(old.ports, set(ports), joined, place))
        return AclView(local, self.policies, members, self.acls, _remotes(local, self.policies, self))


def _remotes(local: dict[str, tuple[BoundPort, ...]], policies: dict[str, Policy],
             kept: AclView | None) -> dict[str, tuple[tuple[str, str, str], ...]]:
    """Each chassis's remote groups: those of `kept` (read with the same policies) where the chassis's ports are
    the very tuple it read them from, else read anew."""
    return {name: kept.remotes[name] if kept is not None and kept.local.get(name) is ports_of
            else _remote_groups(ports_of, policies) for name, ports_of in local.items()}


def _remote_groups(local: tuple[BoundPort, ...], policies: dict[str, Policy]) -> tuple[tuple[str, str, str], ...]:
    """The remote groups that the rules of these ports' groups name (ports with port security), each with
    the rule's direction and ethertype."""
    return tuple(sorted({(remote.id, rule.direction, rule.ethertype) for b in local if b.port.port_security_enabled
                         for g in b.port.security_groups or [] if g in policies
                         for rule, remote in policies[g].rules if remote is not None}))


def _same_or(new: dict, old: dict) -> dict:
    """`old` if it holds the very same values under the same keys, else `new`."""
    if new.keys() == old.keys() and all(v is old[k] for k, v in new.items()):
        return old
    return new


ACL_KINDS = frozenset({"security_group", "security_group_rule", "network_acl", "network"})   # read, ports apart


def acl_view(model: Model, view: LogicalView, previous: AclView | None) -> AclView:
    """The ACL view of the model's ports, groups, rules and network ACLs, on the view's bound ports: `previous`
    patched where only ports changed since the view it was read from, else built whole."""
    if previous is not None and view.delta is not None and previous.serial == view.serial - 1 \
            and not view.delta.touches(ACL_KINDS):
        read = previous.patched(view.local, view.delta.ports(), model)
    else:
        read = replace(AclView.build(view.bound, model.ports(), model.list("security_group"),
                                     model.list("security_group_rule"), model.list("network_acl"),
                                     {n.id: n.key for n in model.networks()}, previous),
                       local=view.local)        # (the view's very tuples, which the next patch compares)
    return replace(read, serial=view.serial)


def chassis_acl(here: Chassis, view: AclView, pieces: Pieces | None = None) -> Desired:
    """Port security, network ACLs and security groups for the VM ports on chassis `here`."""
    pieces = pieces or Pieces(pipeline.AppId.ACL)
    local = view.local.get(here.name, ())
    if not local:
        return Desired()
    refs = tuple((view.members[gid], direction, ethertype) for gid, direction, ethertype in view.remotes[here.name])
    return pieces.chassis(here.name, (local, view.policies, view.acls, refs), lambda: Desired(sections=(
        pieces.value(("local", local), lambda: _local_pieces(local, view, pieces), same=(view.policies, view.acls)),
        pieces.value(("members", refs), lambda: _members_pieces(refs, pieces)))))


def _local_pieces(local: tuple[BoundPort, ...], view: AclView, pieces: Pieces) -> dict[Hashable, Piece]:
    """The stages' own flows, and each local port's and each local network's pieces."""
    out: dict[Hashable, Piece] = {("stages",): pieces.get(("stages",), _stage_piece)}
    for b in local:
        secured = b.port.port_security_enabled and bool(b.port.security_groups)
        out["port", b.port.id] = pieces.get(("port", b.port, secured), partial(_port_piece, b.port, secured))
        policies = tuple(view.policies[g] for g in b.port.security_groups or [] if g in view.policies) \
            if secured else ()
        if policies:
            out["rules", b.port.id] = pieces.get(("rules", b.port.key, policies),
                                                 partial(_rules_piece, b.port.key, policies))
    for key in {b.network_key for b in local}:
        acls = view.acls.get(key, ())
        out["nacl", key] = pieces.get(("nacl", key, acls), partial(network_acl_flows, key, acls))
    return out


def _stage_piece() -> list[Flow]:
    return [f for d in DIRECTIONS for f in stage_flows(d)] + network_fallbacks() + nd_stage_flows()


def _port_piece(port: Port, secured: bool) -> list[Flow]:
    """A local port's entry into the ACL stages, its port security and (secured) its conntrack (where on the
    chassis the port is does not matter)."""
    flows = [Flow(d.entry, Priority.SPECIFIC, match(**{d.port_reg: port.key}), goto=d.nacl) for d in DIRECTIONS]
    flows += port_security_flows(port)
    return flows + port_flows(port) if secured else flows


def _rules_piece(port_key: int, policies: tuple[Policy, ...]) -> list[Flow]:
    """The rules of a secured port's groups (a rule added to a group rebuilds this piece of each member)."""
    return merge_conjunctions([f for policy in policies for rule, remote in policy.rules
                               for f in rule_flows(port_key, rule, remote)])


def _members_pieces(refs: tuple[tuple[GroupMembers, str, str], ...], pieces: Pieces) -> dict[Hashable, Piece]:
    """The remote groups named here: what each one's match does, and each member address (in clause 1 of
    every group that has it) as a piece of its own, so a member joining or leaving builds one flow; shared
    by the chassis whose rules name the same groups. Derived from the last such pieces of the same groups
    (kept by `pieces`): only the addresses of the members that left or joined are looked at again."""
    directions = [(FROM_VM if direction == FROM_VM.name else TO_VM, ethertype) for _, direction, ethertype in refs]
    name = ("members", tuple((members.group.id, direction, ethertype) for members, direction, ethertype in refs))
    last = pieces.last(name)
    if last is None:
        counts = [member_counts(members.ports, d, ethertype) for (members, _, _), (d, ethertype) in zip(refs, directions)]
        toggled: set[Member] = set().union(*counts)
        out: dict[Hashable, Piece] = {}
    else:
        was, counted, kept = last
        counts, toggled, out = [], set(), dict(kept)
        for (members, _, _), (old, _, _), count, (d, ethertype) in zip(refs, was, counted, directions):
            if members is not old:
                count, changed = recounted(count, old.ports, members.ports, d, ethertype)
                toggled |= changed
            counts.append(count)
    clauses = [member_clause(members.group, d, ethertype) for (members, _, _), (d, ethertype) in zip(refs, directions)]
    for (members, direction, ethertype), (d, _) in zip(refs, directions):
        out["conjunction", members.group.id, direction, ethertype] = pieces.get(
            ("conjunction", members.group, d.name, ethertype), partial(_listed, conjunction_flow, members.group, d,
                                                                       ethertype))
    for member in toggled:
        of = [clause for clause, count in zip(clauses, counts) if member in count]
        if of:
            out["member", member] = pieces.get(("member", member, *of), partial(_listed, member_flow, member, of))
        else:
            del out["member", member]       # (it had a member that left)
    pieces.remember(name, (refs, counts, out))
    return out


def _listed(build: Callable[..., Flow], *args: Any) -> list[Flow]:
    """One flow as a piece's list."""
    return [build(*args)]


SERVICE = Service(pipeline.AppId.ACL, acl_view, chassis_acl)
