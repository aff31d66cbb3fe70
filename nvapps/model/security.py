"""Security groups and their rules (Neutron), and network ACLs (nvapps extension): attributes and rules."""
from __future__ import annotations

import uuid
from dataclasses import replace
from typing import TYPE_CHECKING, Any, ClassVar

import netaddr

from nvapps import pipeline
from nvapps.model.base import Change, Resource, Rules, resource
from nvapps.model.context import Context
from nvapps.model.errors import BadRequest, Conflict, Forbidden
from nvapps.model.fields import (
    attr,
    check_address_text,
    check_bool,
    check_uuid,
    exclusive,
    int_range,
    integral,
    nullable,
    one_of,
    with_schema,
)

if TYPE_CHECKING:
    from nvapps.model.service import Model

PROTOCOL_NUMBERS = {"icmp": 1, "tcp": 6, "udp": 17, "icmpv6": 58, "ipv6-icmp": 58, "sctp": 132}
PORTED = {6, 17, 132}
ICMP = {1, 58}
DEFAULT_GROUP = "default"
MAX_GROUP_KEY = 0xFFFFFF


@with_schema({"anyOf": [{"enum": [*sorted(PROTOCOL_NUMBERS), "any", None]},
                        {"type": "integer", "minimum": 0, "maximum": 255},
                        {"type": "string", "pattern": "^0*([0-9]{1,2}|1[0-9]{2}|2[0-4][0-9]|25[0-5])$"}],
              "example": "tcp"})
def check_protocol(value: Any) -> str | None:
    """tcp, udp, icmp, icmpv6, sctp, any, or an IP protocol number 0-255 (as Neutron, kept as text)."""
    value = integral(value)
    if value is None or value == "any":
        return None
    text = str(value).lower() if isinstance(value, (str, int)) and not isinstance(value, bool) else ""
    if text in PROTOCOL_NUMBERS:
        return text
    if text.isascii() and text.isdigit() and 0 <= int(text) <= 255:
        return str(int(text))        # "003" and 3 are the same rule as "3"
    raise BadRequest(f"Security group rule protocol {value} not supported. Only protocol values "
                     f"{sorted(PROTOCOL_NUMBERS)} and integer representations [0 to 255] are supported.",
                     "SecurityGroupRuleInvalidProtocol")


@with_schema({"anyOf": [{"type": "string", "format": "ip-prefix"}, {"type": "null"}], "example": "10.0.0.0/24"})
def check_prefix(value: Any) -> str | None:
    """A CIDR; host bits are cleared as Neutron does."""
    if value is None:
        return None
    try:
        return str(netaddr.IPNetwork(check_address_text(value)).cidr)
    except (netaddr.AddrFormatError, ValueError, TypeError, BadRequest):
        raise BadRequest(f"'{value}' is not a valid IP prefix") from None


def protocol_number(protocol: str | None) -> int | None:
    if protocol is None:
        return None
    return PROTOCOL_NUMBERS.get(protocol, int(protocol) if protocol.isascii() and protocol.isdigit() else None)


def check_l4(protocol: str | None, low: int | None, high: int | None, what: str) -> None:
    """Port ranges need a protocol with ports (or ICMP type/code); low <= high."""
    if low is None and high is None:
        return
    number = protocol_number(protocol)
    if number in PORTED:
        if low is None or high is None or low > high:
            raise BadRequest(f"For TCP/UDP protocols, {what}_min must be <= {what}_max", "SecurityGroupInvalidPortRange")
    elif number in ICMP:
        for value in (low, high):
            if value is not None and value > 255:
                raise BadRequest(f"Invalid value for ICMP {what}: {value}", "SecurityGroupInvalidIcmpValue")
    else:
        raise BadRequest(f"{what} ranges need protocol tcp, udp, sctp or icmp", "SecurityGroupInvalidPortRange")


def check_version(prefix: str | None, ethertype: str) -> None:
    if prefix is not None and netaddr.IPNetwork(prefix).version != (4 if ethertype == "IPv4" else 6):
        raise BadRequest(f"Conflicting value ethertype {ethertype} for CIDR {prefix}", "SecurityGroupRuleParameterConflict")


@resource
class SecurityGroup(Resource):
    """A named set of stateful allow rules that ports are members of."""

    KIND: ClassVar[str] = "security_group"
    COLLECTION: ClassVar[str] = "security-groups"

    stateful: bool = attr(check_bool, default=True)
    is_default: bool = attr(create=False, update=False, internal=True, default=False)
    key: int = attr(create=False, update=False, internal=True, default=0)   # names its conjunctive matches


@resource
class SecurityGroupRule(Resource):
    """One allow rule of a security group."""

    KIND: ClassVar[str] = "security_group_rule"
    COLLECTION: ClassVar[str] = "security-group-rules"

    SCHEMA_RULES: ClassVar[list[dict]] = [exclusive("remote_ip_prefix", "remote_group_id")]

    security_group_id: str = attr(check_uuid, update=False, required=True, default="")
    direction: str = attr(one_of("ingress", "egress"), update=False, required=True, default="")
    ethertype: str = attr(one_of("IPv4", "IPv6"), update=False, default="IPv4")
    protocol: str | None = attr(check_protocol, update=False, default=None)
    port_range_min: int | None = attr(int_range(0, 65535, nullable=True), update=False, default=None)
    port_range_max: int | None = attr(int_range(0, 65535, nullable=True), update=False, default=None)
    remote_ip_prefix: str | None = attr(check_prefix, update=False, default=None)
    remote_group_id: str | None = attr(nullable(check_uuid), update=False, default=None)

    def same_rule(self, other: "SecurityGroupRule") -> bool:
        keys = ("security_group_id", "direction", "ethertype", "protocol", "port_range_min", "port_range_max",
                "remote_ip_prefix", "remote_group_id")
        return all(getattr(self, k) == getattr(other, k) for k in keys)


@resource
class NetworkAcl(Resource):
    """A stateless allow/deny rule on a network; a network's rules run by ascending position, first match wins."""

    KIND: ClassVar[str] = "network_acl"
    COLLECTION: ClassVar[str] = "network-acls"

    network_id: str = attr(check_uuid, update=False, required=True, default="")
    position: int | None = attr(int_range(0, pipeline.MAX_ACL_POSITION, nullable=True), default=None)
    action: str = attr(one_of("allow", "deny"), required=True, default="")
    direction: str = attr(one_of("ingress", "egress"), required=True, default="")
    ethertype: str = attr(one_of("IPv4", "IPv6"), default="IPv4")
    protocol: str | None = attr(check_protocol, default=None)
    source_ip_prefix: str | None = attr(check_prefix, default=None)
    destination_ip_prefix: str | None = attr(check_prefix, default=None)
    source_port_range_min: int | None = attr(int_range(0, 65535, nullable=True), default=None)
    source_port_range_max: int | None = attr(int_range(0, 65535, nullable=True), default=None)
    destination_port_range_min: int | None = attr(int_range(0, 65535, nullable=True), default=None)
    destination_port_range_max: int | None = attr(int_range(0, 65535, nullable=True), default=None)


# ---- rules ----

def default_group(model: "Model", project_id: str) -> tuple[SecurityGroup, list[Change]]:
    """The project's default group, and the changes that create it (with Neutron's four rules) if missing."""
    for group in model.list("security_group", {"project_id": [project_id]}):
        if group.is_default:
            return group, []
    group = SecurityGroup(id=str(uuid.uuid4()), project_id=project_id, name=DEFAULT_GROUP,
                          description="Default security group", is_default=True, key=new_group_key(model))
    rules = [SecurityGroupRule(id=str(uuid.uuid4()), project_id=project_id, security_group_id=group.id,
                               direction="ingress", ethertype=ethertype, remote_group_id=group.id)
             for ethertype in ("IPv4", "IPv6")]
    return group, [Change("security_group", None, group), *egress_rules(group),
                   *(Change("security_group_rule", None, r) for r in rules)]


def egress_rules(group: SecurityGroup) -> list[Change]:
    """Neutron's rules of every new group: all egress, IPv4 and IPv6."""
    return [Change("security_group_rule", None, SecurityGroupRule(
        id=str(uuid.uuid4()), project_id=group.project_id, security_group_id=group.id, direction="egress",
        ethertype=ethertype)) for ethertype in ("IPv4", "IPv6")]


def new_group_key(model: "Model", taken: int = 0) -> int:
    """A security group key no group has (nor `taken`, a key handed out in the same request)."""
    key = model.next_key("security_group", MAX_GROUP_KEY, (taken,))
    if key is None:
        raise Conflict("no free security group key left")
    return key


def prepare_group(model: "Model", group: SecurityGroup, old: SecurityGroup | None, ctx: Context):
    if old is None:
        default, extra = default_group(model, group.project_id)
        if group.name == DEFAULT_GROUP:
            raise Conflict("Default security group already exists.", "SecurityGroupDefaultAlreadyExists")
        group = replace(group, key=new_group_key(model, taken=default.key if extra else 0))
        return group, extra + egress_rules(group)
    if old.is_default and group.name != old.name:
        raise BadRequest("Updating default security group not allowed.")
    if group.name == DEFAULT_GROUP and not old.is_default:
        raise Conflict("Default security group already exists.", "SecurityGroupDefaultAlreadyExists")
    return group, []


def deleting_group(model: "Model", group: SecurityGroup, ctx: Context) -> list[Change]:
    users = [p.id for p in model.list("port") if group.id in (p.security_groups or [])]
    if users:
        raise Conflict(f"Security Group {group.id} in use.", "SecurityGroupInUse")
    if group.is_default and not ctx.is_admin:
        raise Conflict("Insufficient rights for removing default security group.", "SecurityGroupCannotRemoveDefault")
    rules = [r for r in model.list("security_group_rule")
             if r.security_group_id == group.id or r.remote_group_id == group.id]
    return [Change("security_group", group, None)] + [Change("security_group_rule", r, None) for r in rules]


def show_group(model: "Model", group: SecurityGroup) -> dict:
    return {"security_group_rules": [r.to_api() for r in
                                     model.list("security_group_rule", {"security_group_id": [group.id]})]}


def prepare_rule(model: "Model", rule: SecurityGroupRule, old: SecurityGroupRule | None, ctx: Context):
    if old is not None:
        return rule, []
    group = model.get("security_group", rule.security_group_id, ctx)
    if not ctx.owns(group):
        raise Forbidden(f"Security group {group.id} belongs to another project")
    rule = replace(rule, project_id=group.project_id)
    if rule.remote_ip_prefix is not None and rule.remote_group_id is not None:
        raise BadRequest("Only remote_ip_prefix or remote_group_id may be provided.", "SecurityGroupRemoteGroupAndRemoteIpPrefix")
    check_version(rule.remote_ip_prefix, rule.ethertype)
    if rule.remote_group_id is not None:
        model.get("security_group", rule.remote_group_id, ctx)
    check_l4(rule.protocol, rule.port_range_min, rule.port_range_max, "port_range")
    for other in model.list("security_group_rule", {"security_group_id": [group.id]}):
        if rule.same_rule(other):
            raise Conflict(f"Security group rule already exists. Rule id is {other.id}.", "SecurityGroupRuleExists")
    return rule, []


def deleting_rule(model: "Model", rule: SecurityGroupRule, ctx: Context) -> list[Change]:
    return [Change("security_group_rule", rule, None)]


def prepare_acl(model: "Model", acl: NetworkAcl, old: NetworkAcl | None, ctx: Context):
    from nvapps.model.network import owned_network
    net = owned_network(model, acl.network_id, ctx)
    if not ctx.owns(net):
        raise Forbidden(f"Network {net.id} belongs to another project")
    siblings = [a for a in model.list("network_acl", {"network_id": [net.id]}) if a.id != acl.id]
    if acl.position is None:
        position = max((a.position for a in siblings), default=0) + 10
        acl = replace(acl, position=position)
        if position > pipeline.MAX_ACL_POSITION:
            raise Conflict(f"Network {net.id} has no free ACL position left after its last one; give one",
                           "NetworkAclPositionInUse")
    if any(a.position == acl.position and a.direction == acl.direction for a in siblings):
        raise Conflict(f"Network {net.id} already has an {acl.direction} ACL at position {acl.position}",
                       "NetworkAclPositionInUse")
    for prefix in (acl.source_ip_prefix, acl.destination_ip_prefix):
        check_version(prefix, acl.ethertype)
    check_l4(acl.protocol, acl.source_port_range_min, acl.source_port_range_max, "source_port_range")
    check_l4(acl.protocol, acl.destination_port_range_min, acl.destination_port_range_max,
             "destination_port_range")
    return acl, []


def deleting_acl(model: "Model", acl: NetworkAcl, ctx: Context) -> list[Change]:
    return [Change("network_acl", acl, None)]


RULES = [
    Rules(SecurityGroup, prepare_group, deleting_group, show_group),
    Rules(SecurityGroupRule, prepare_rule, deleting_rule),
    Rules(NetworkAcl, prepare_acl, deleting_acl),
]
