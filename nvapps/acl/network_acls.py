"""Pure functions: network ACL flows. Stateless allow/deny rules per network, first match by position wins,
default allow; "egress" rules see packets from the network's VMs, "ingress" rules packets to them."""
from __future__ import annotations

from nvapps.acl.directions import DIRECTIONS, FROM_VM, TO_VM
from nvapps.acl.matches import Traffic
from nvapps.core.ofp import Flow, match
from nvapps.model.security import NetworkAcl
from nvapps.pipeline import Priority, nacl_priority


def network_fallbacks() -> list[Flow]:
    """What no network ACL decides continues to the security groups."""
    return [Flow(d.nacl, Priority.FALLBACK, goto=d.ct) for d in DIRECTIONS]


def network_acl_flows(key: int, acls: tuple[NetworkAcl, ...]) -> list[Flow]:
    """Tables NACL_FROM_VM / NACL_TO_VM for network `key` (with VM ports here) and its ACLs."""
    flows = []
    for acl in acls:
        d = FROM_VM if acl.direction == FROM_VM.name else TO_VM
        traffic = Traffic(acl.ethertype, acl.protocol, acl.source_ip_prefix, acl.destination_ip_prefix,
                          (acl.source_port_range_min, acl.source_port_range_max),
                          (acl.destination_port_range_min, acl.destination_port_range_max))
        goto = d.ct if acl.action == "allow" else None      # deny: no instructions, the packet drops
        assert acl.position is not None, "a stored ACL has its position"
        flows += [Flow(d.nacl, nacl_priority(acl.position), match(metadata=key, **m), goto=goto,
                       origin=(("network_acl", acl.id),)) for m in traffic.matches()]
    return flows
