"""Tenant objects as typed dataclasses whose fields carry their Neutron names and input checks.

Each field says how a REST body sets it: its API name (`binding:host_id`), the check that parses and
normalises a value, and whether POST or PUT may set it. Checks raise BadRequest with a message a user
can act on; relations between objects are checked by nvapps.model.service.
"""
from __future__ import annotations

import uuid
from dataclasses import MISSING, dataclass, field, fields, replace
from typing import Any, Callable, ClassVar

import netaddr

from nvapps.model.errors import BadRequest

MAX_NAME = 255


def attr(check: Callable[[Any], Any] | None = None, *, api: str | None = None, create: bool = True,
         update: bool = True, internal: bool = False, default: Any = MISSING,
         default_factory: Any = MISSING) -> Any:
    """A dataclass field with its API name, check and which requests may set it."""
    meta = {"api": api, "check": check, "create": create, "update": update, "internal": internal}
    if default_factory is not MISSING:
        return field(default_factory=default_factory, metadata=meta)
    return field(default=default, metadata=meta)


# ---- value checks: parse, normalise, or raise BadRequest ----

def check_str(value: Any, name: str = "value") -> str:
    if not isinstance(value, str):
        raise BadRequest(f"'{value}' is not a valid string")
    if len(value) > MAX_NAME:
        raise BadRequest(f"'{value[:20]}...' exceeds maximum length of {MAX_NAME}")
    return value


def check_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise BadRequest(f"'{value}' is not a valid boolean value")


def check_uuid(value: Any) -> str:
    try:
        return str(uuid.UUID(str(value)))
    except (ValueError, TypeError, AttributeError):
        raise BadRequest(f"'{value}' is not a valid UUID") from None


def check_mac(value: Any) -> str:
    try:
        mac = netaddr.EUI(check_str(value), dialect=netaddr.mac_unix_expanded)
    except (netaddr.AddrFormatError, TypeError, ValueError):
        raise BadRequest(f"'{value}' is not a valid MAC address") from None
    if int(mac) >> 40 & 1 or int(mac) == 0:
        raise BadRequest(f"'{value}' is not a valid unicast MAC address")
    return str(mac)


def check_ip(value: Any) -> str:
    try:
        return str(netaddr.IPAddress(check_str(value)))
    except (netaddr.AddrFormatError, ValueError, TypeError):
        raise BadRequest(f"'{value}' is not a valid IP address") from None


def check_cidr(value: Any) -> str:
    text = check_str(value)
    try:
        net = netaddr.IPNetwork(text) if "/" in text else None
    except (netaddr.AddrFormatError, ValueError, TypeError):
        net = None
    if net is None:
        raise BadRequest(f"'{value}' is not a valid IP subnet")
    if net.ip != net.network:
        raise BadRequest(f"'{value}' isn't a recognized IP subnet cidr, '{net.cidr}' is recommended")
    return str(net.cidr)


def check_ip_version(value: Any) -> int:
    if value not in (4, 6) or isinstance(value, bool):
        raise BadRequest(f"'{value}' is not a valid IP version (4 or 6)")
    return value


def list_of(check: Callable[[Any], Any]) -> Callable[[Any], list]:
    def check_list(value: Any) -> list:
        if not isinstance(value, list):
            raise BadRequest(f"'{value}' is not a list")
        return [check(v) for v in value]
    return check_list


def dict_with(keys: dict[str, Callable[[Any], Any]], required: tuple[str, ...] = ()) -> Callable[[Any], dict]:
    """A check for a JSON object whose known keys each have a check."""
    def check_dict(value: Any) -> dict:
        if not isinstance(value, dict):
            raise BadRequest(f"'{value}' is not a dictionary")
        unknown = set(value) - set(keys)
        if unknown:
            raise BadRequest(f"unrecognized keys {sorted(unknown)} in {value}")
        missing = [k for k in required if k not in value]
        if missing:
            raise BadRequest(f"{missing} missing in {value}")
        return {k: keys[k](v) for k, v in value.items()}
    return check_dict


def check_profile(value: Any) -> dict:
    """binding:profile: a flat JSON object; interface_name, when given, must be a string."""
    if not isinstance(value, dict):
        raise BadRequest(f"'{value}' is not a dictionary")
    if "interface_name" in value:
        check_str(value["interface_name"])
    return value


def check_name(value: Any) -> str:
    return check_str(value)


# ---- the objects ----

@dataclass
class Resource:
    """Fields every tenant object has."""

    KIND: ClassVar[str] = ""
    COLLECTION: ClassVar[str] = ""

    id: str = attr(check_uuid, update=False, default="")
    project_id: str = attr(check_str, update=False, default="")
    name: str = attr(check_name, default="")
    description: str = attr(check_str, default="")

    def to_api(self) -> dict:
        """The object as Neutron shows it (internal fields left out)."""
        return {api_name(f): getattr(self, f.name) for f in fields(self) if not f.metadata.get("internal")}

    def to_store(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_store(cls, data: dict):
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})

    @classmethod
    def from_body(cls, body: Any, project_id: str):
        """A new object from a POST body: unknown or read-only attributes and bad values are refused."""
        values = parse_body(cls, body, "create")
        owner = values.pop("tenant_id", None) or values.get("project_id") or project_id
        values["project_id"] = owner
        values.setdefault("id", str(uuid.uuid4()))
        return cls(**values)

    def updated(self, body: Any):
        """A copy with a PUT body applied."""
        return replace(self, **parse_body(type(self), body, "update"))


def api_name(f) -> str:
    return f.metadata.get("api") or f.name


def parse_body(cls, body: Any, action: str) -> dict:
    """Checked attribute values (by Python field name) of a POST/PUT body for `cls`."""
    if not isinstance(body, dict):
        raise BadRequest(f"body must be a JSON object with a '{cls.KIND}' object")
    by_api = {api_name(f): f for f in fields(cls) if not f.metadata.get("internal")}
    out = {}
    for key, value in body.items():
        if key == "tenant_id" and action == "create":
            out["tenant_id"] = check_str(value)
            continue
        f = by_api.get(key)
        if f is None:
            raise BadRequest(f"Unrecognized attribute(s) '{key}'")
        if not f.metadata.get(action):
            raise BadRequest(f"Attribute '{key}' not allowed in {'POST' if action == 'create' else 'PUT'}")
        check = f.metadata.get("check")
        out[f.name] = check(value) if check else value
    return out


@dataclass
class Network(Resource):
    """A tenant's L2 broadcast domain."""

    KIND: ClassVar[str] = "network"
    COLLECTION: ClassVar[str] = "networks"

    admin_state_up: bool = attr(check_bool, default=True)
    shared: bool = attr(check_bool, default=False)
    mtu: int = attr(create=False, update=False, default=1500)
    status: str = attr(create=False, update=False, default="ACTIVE")
    subnets: list = attr(create=False, update=False, default_factory=list)
    network_type: str = attr(api="provider:network_type", create=False, update=False, default="vlan")
    segmentation_id: int = attr(api="provider:segmentation_id", create=False, update=False, default=0)
    external: bool = attr(api="router:external", create=False, update=False, default=False)

    @property
    def key(self) -> int:
        """The network's key in the pipeline (metadata) and on the wire (VLAN id / VNI)."""
        return self.segmentation_id


@dataclass
class Subnet(Resource):
    """An IP range on a network."""

    KIND: ClassVar[str] = "subnet"
    COLLECTION: ClassVar[str] = "subnets"

    network_id: str = attr(check_uuid, update=False, default="")
    ip_version: int = attr(check_ip_version, update=False, default=4)
    cidr: str = attr(check_cidr, update=False, default="")
    gateway_ip: str | None = attr(lambda v: None if v is None else check_ip(v), default="")
    allocation_pools: list = attr(list_of(dict_with({"start": check_ip, "end": check_ip}, ("start", "end"))),
                                  default_factory=list)
    enable_dhcp: bool = attr(check_bool, default=True)
    dns_nameservers: list = attr(list_of(check_ip), default_factory=list)
    host_routes: list = attr(list_of(dict_with({"destination": check_cidr, "nexthop": check_ip},
                                               ("destination", "nexthop"))), default_factory=list)


@dataclass
class Port(Resource):
    """A tenant's attachment point on a network: a MAC, fixed IPs and where it is bound."""

    KIND: ClassVar[str] = "port"
    COLLECTION: ClassVar[str] = "ports"

    network_id: str = attr(check_uuid, update=False, default="")
    mac_address: str = attr(check_mac, default="")
    fixed_ips: list = attr(list_of(dict_with({"subnet_id": check_uuid, "ip_address": check_ip})),
                           default=None)
    admin_state_up: bool = attr(check_bool, default=True)
    device_id: str = attr(check_str, default="")
    device_owner: str = attr(check_str, default="")
    status: str = attr(create=False, update=False, default="DOWN")
    host_id: str = attr(check_str, api="binding:host_id", default="")
    profile: dict = attr(check_profile, api="binding:profile", default_factory=dict)
    vif_type: str = attr(api="binding:vif_type", create=False, update=False, default="ovs")
    port_security_enabled: bool = attr(check_bool, default=True)
    security_groups: list = attr(list_of(check_uuid), default_factory=list)
    allowed_address_pairs: list = attr(list_of(dict_with({"ip_address": check_str, "mac_address": check_mac},
                                                         ("ip_address",))), default_factory=list)
    key: int = attr(create=False, update=False, internal=True, default=0)

    @property
    def interface_name(self) -> str | None:
        """The switch interface this port is bound to (binding:profile.interface_name)."""
        return self.profile.get("interface_name")

    @property
    def ip_addresses(self) -> list[str]:
        return [ip["ip_address"] for ip in self.fixed_ips or []]


KINDS: dict[str, type[Resource]] = {cls.KIND: cls for cls in (Network, Subnet, Port)}
