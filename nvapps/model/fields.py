"""Attribute declarations and value checks: each check parses and normalises a value or raises BadRequest,
and carries the JSON schema of what it accepts (the OpenAPI document is built from them)."""
from __future__ import annotations

import uuid
from dataclasses import MISSING, field
from typing import Any, Callable

import netaddr

from nvapps.model.errors import BadRequest

MAX_NAME = 255

Check = Callable[[Any], Any]


def attr(check: Check | None = None, *, api: str | None = None, create: bool = True, update: bool = True,
         admin: bool = False, internal: bool = False, default: Any = MISSING, default_factory: Any = MISSING,
         schema: dict | None = None) -> Any:
    """A dataclass field with its API name, check, which requests may set it and whether only admins may."""
    meta = {"api": api, "check": check, "create": create, "update": update, "admin": admin,
            "internal": internal, "schema": schema}
    if default_factory is not MISSING:
        return field(default_factory=default_factory, metadata=meta)
    return field(default=default, metadata=meta)


def with_schema(schema: dict) -> Callable[[Check], Check]:
    """Attach the JSON schema of the values `check` accepts."""
    def mark(check: Check) -> Check:
        check.schema = schema  # type: ignore[attr-defined]
        return check
    return mark


def schema_of(check: Check | None) -> dict:
    return dict(getattr(check, "schema", {}))


@with_schema({"type": "string", "maxLength": MAX_NAME})
def check_str(value: Any) -> str:
    if not isinstance(value, str):
        raise BadRequest(f"'{value}' is not a valid string")
    if "\x00" in value:
        raise BadRequest("strings may not contain NUL characters")
    if len(value) > MAX_NAME:
        raise BadRequest(f"'{value[:20]}...' exceeds maximum length of {MAX_NAME}")
    return value


@with_schema({"type": "boolean"})
def check_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise BadRequest(f"'{value}' is not a valid boolean value")


def check_address_text(value: Any) -> str:
    """A string naming an address, a prefix or a MAC: no whitespace anywhere (netaddr would ignore some)."""
    text = check_str(value)
    if not text or any(c.isspace() for c in text):
        raise BadRequest(f"'{value}' has whitespace or is empty")
    return text


@with_schema({"type": "string", "format": "uuid"})
def check_uuid(value: Any) -> str:
    try:
        return str(uuid.UUID(str(value)))
    except (ValueError, TypeError, AttributeError):
        raise BadRequest(f"'{value}' is not a valid UUID") from None


@with_schema({"type": "string", "pattern": "^([0-9a-fA-F]{2}[:-]){5}[0-9a-fA-F]{2}$"})
def check_mac(value: Any) -> str:
    try:
        mac = netaddr.EUI(check_address_text(value), dialect=netaddr.mac_unix_expanded)
    except (netaddr.AddrFormatError, TypeError, ValueError):
        raise BadRequest(f"'{value}' is not a valid MAC address") from None
    if int(mac) >> 40 & 1 or int(mac) == 0:
        raise BadRequest(f"'{value}' is not a valid unicast MAC address")
    return str(mac)


@with_schema({"type": "string", "anyOf": [{"format": "ipv4"}, {"format": "ipv6"}]})
def check_ip(value: Any) -> str:
    try:
        return str(netaddr.IPAddress(check_address_text(value)))
    except (netaddr.AddrFormatError, ValueError, TypeError, BadRequest):
        raise BadRequest(f"'{value}' is not a valid IP address") from None


@with_schema({"type": ["string", "null"]})
def check_optional_ip(value: Any) -> str | None:
    return None if value is None else check_ip(value)


@with_schema({"type": "string", "example": "10.0.0.20"})
def check_ip_or_cidr(value: Any) -> str:
    """An address or a prefix (allowed address pairs), host bits cleared: "10.0.0.20" or "10.0.0.0/24"."""
    text = check_address_text(value)
    try:
        return str(netaddr.IPNetwork(text).cidr) if "/" in text else str(netaddr.IPAddress(text))
    except (netaddr.AddrFormatError, ValueError, TypeError):
        raise BadRequest(f"'{value}' is not a valid IP address or prefix") from None


@with_schema({"type": "string", "example": "10.0.0.0/24"})
def check_cidr(value: Any) -> str:
    text = check_address_text(value)
    try:
        net = netaddr.IPNetwork(text) if "/" in text else None
    except (netaddr.AddrFormatError, ValueError, TypeError):
        net = None
    if net is None:
        raise BadRequest(f"'{value}' is not a valid IP subnet")
    if net.ip != net.network:
        raise BadRequest(f"'{value}' isn't a recognized IP subnet cidr, '{net.cidr}' is recommended")
    return str(net.cidr)


def one_of(*choices: Any) -> Check:
    """A check that accepts exactly one of `choices`."""
    @with_schema({"enum": list(choices)})
    def check_choice(value: Any) -> Any:
        if not any(value == c and type(value) is type(c) for c in choices):     # 4.0 and True are not 4 and 1
            raise BadRequest(f"'{value}' is not one of {list(choices)}")
        return value
    return check_choice


def int_range(low: int, high: int, nullable: bool = False) -> Check:
    """A check for an integer in [low, high] (or null when `nullable`)."""
    @with_schema({"type": ["integer", "null"] if nullable else "integer", "minimum": low, "maximum": high})
    def check_int(value: Any) -> int | None:
        if value is None and nullable:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise BadRequest(f"'{value}' is not an integer in [{low}, {high}]")
        return value
    return check_int


def list_of(check: Check) -> Check:
    @with_schema({"type": "array", "items": schema_of(check)})
    def check_list(value: Any) -> list:
        if not isinstance(value, list):
            raise BadRequest(f"'{value}' is not a list")
        return [check(v) for v in value]
    return check_list


def dict_with(keys: dict[str, Check], required: tuple[str, ...] = ()) -> Check:
    """A check for a JSON object whose known keys each have a check."""
    schema = {"type": "object", "properties": {k: schema_of(c) for k, c in keys.items()},
              "additionalProperties": False}
    if required:
        schema["required"] = list(required)

    @with_schema(schema)
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


def nullable(check: Check) -> Check:
    """`check`, or null."""
    schema = schema_of(check)

    @with_schema({"anyOf": [schema, {"type": "null"}]})
    def check_or_null(value: Any) -> Any:
        return None if value is None else check(value)
    return check_or_null


@with_schema({"type": "object", "properties": {"interface_name": {"type": "string"},
                                              "vlan": {"type": "integer", "minimum": 1, "maximum": 4094}}})
def check_profile(value: Any) -> dict:
    """binding:profile: a JSON object; interface_name, when given, must be a string, and vlan (the port is
    that VLAN on the interface) an integer in 1..4094."""
    if not isinstance(value, dict):
        raise BadRequest(f"'{value}' is not a dictionary")
    if "interface_name" in value:
        check_str(value["interface_name"])
    if "vlan" in value:
        int_range(1, 4094)(value["vlan"])
    return value
