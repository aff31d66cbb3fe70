"""Pure functions: all ACL flows of one chassis, from a snapshot of ports, groups, rules and network ACLs."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from nvapps.acl.directions import DIRECTIONS
from nvapps.acl.network_acls import network_acl_flows
from nvapps.acl.port_security import port_security_flows
from nvapps.acl.security_groups import security_group_flows
from nvapps.core.ofp import Flow, match
from nvapps.l2.flows import BoundPort
from nvapps.model.network import Port
from nvapps.model.security import NetworkAcl, SecurityGroup, SecurityGroupRule
from nvapps.pipeline import Priority


@dataclass(frozen=True)
class AclView:
    """What the ACL flows of every chassis are computed from, read once per sync."""

    bound: list[BoundPort]                          # VM ports whose interface exists, with their location
    groups: dict[str, SecurityGroup]
    rules: dict[str, list[SecurityGroupRule]]       # by security group id
    members: dict[str, list[Port]]                  # security group id -> its ports (on any chassis)
    acls: dict[int, list[NetworkAcl]]               # network key -> its ACLs

    @classmethod
    def build(cls, bound: list[BoundPort], ports: list[Port], groups: list[SecurityGroup],
              rules: list[SecurityGroupRule], acls: list[NetworkAcl], network_keys: dict[str, int]) -> "AclView":
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
        return cls(bound, {g.id: g for g in groups}, dict(by_group), dict(members), dict(by_network))


def chassis_acl(here: str, view: AclView) -> list[Flow]:
    """Port security, network ACLs and security groups for the VM ports on chassis `here`."""
    local = [b for b in view.bound if b.location is not None and b.location.chassis == here]
    if not local:
        return []
    flows = [Flow(d.entry, Priority.SPECIFIC, match(**{d.port_reg: b.port.key}), goto=d.nacl)
             for b in local for d in DIRECTIONS]
    for b in local:
        flows += port_security_flows(b.port)
    flows += network_acl_flows({b.network_key for b in local}, view.acls)
    secured = [b.port for b in local if b.port.port_security_enabled and b.port.security_groups]
    flows += security_group_flows(secured, view.groups, view.rules, view.members)
    return flows
