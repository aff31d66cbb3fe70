"""Attribute declarations and value checks: each check parses and normalises a value or raises BadRequest,
and carries the JSON schema of what it accepts (the OpenAPI document is built from them)."""
from __future__ import annotations

import re
import uuid
from dataclasses import MISSING, field
from typing import Any, Callable

import netaddr

from nvapps.model.errors import BadRequest

MAX_NAME = 255

Check = Callable[[Any], Any]


def attr(check: Check | None = None, *, api: str | None = None, create: bool = True, update: bool = True,
         admin: bool = False, internal: bool = False, required: bool = False, default: Any = MISSING,
         default_factory: Any = MISSING, schema: dict | None = None) -> Any:
    """A dataclass field with its API name, check, which requests may set it, whether only admins may and
    whether a POST must."""
    meta = {"api": api, "check": check, "create": create, "update": update, "admin": admin,
            "internal": internal, "required": required, "schema": schema}
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


NO_NUL = "^[^\\u0000]*$"


@with_schema({"type": "string", "maxLength": MAX_NAME, "pattern": NO_NUL})
def check_str(value: Any) -> str:
    if not isinstance(value, str):
        raise BadRequest(f"'{value}' is not a valid string")
    if "\x00" in value:
        raise BadRequest("strings may not contain NUL characters")
    if len(value) > MAX_NAME:
        raise BadRequest(f"'{value[:20]}...' exceeds maximum length of {MAX_NAME}")
    return value


@with_schema({"type": "string", "minLength": 1, "maxLength": MAX_NAME, "pattern": NO_NUL})
def check_name(value: Any) -> str:
    """A string that names something (not empty)."""
    if not check_str(value):
        raise BadRequest("the name may not be empty")
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


UNICAST_MAC = "^[0-9a-fA-F][02468aceACE](:[0-9a-fA-F]{2}){5}$"


@with_schema({"type": "string", "pattern": UNICAST_MAC, "not": {"enum": ["00:00:00:00:00:00"]}})
def check_mac(value: Any) -> str:
    """A unicast MAC address other than all zeros, in colon notation; kept in lower case."""
    if not isinstance(value, str) or not re.fullmatch(UNICAST_MAC, value) or value == "00:00:00:00:00:00":
        raise BadRequest(f"'{value}' is not a valid unicast MAC address (aa:bb:cc:dd:ee:ff)")
    return value.lower()


@with_schema({"type": "string", "anyOf": [{"format": "ipv4"}, {"format": "ipv6"}]})
def check_ip(value: Any) -> str:
    """An IPv4 or IPv6 address, normalised."""
    try:
        return str(netaddr.IPAddress(check_address_text(value)))
    except (netaddr.AddrFormatError, ValueError, TypeError, BadRequest):
        raise BadRequest(f"'{value}' is not a valid IP address") from None


@with_schema({"type": "string", "format": "ipv4"})
def check_ipv4(value: Any) -> str:
    ip = check_ip(value)
    if ":" in ip:
        raise BadRequest(f"'{value}' is not an IPv4 address")
    return ip


@with_schema({"anyOf": [{"type": "string", "format": "ipv4"}, {"type": "string", "format": "ipv6"},
                        {"type": "null"}]})
def check_optional_ip(value: Any) -> str | None:
    return None if value is None else check_ip(value)


@with_schema({"type": "string", "format": "ip-prefix", "example": "10.0.0.20"})
def check_ip_or_cidr(value: Any) -> str:
    """An address or a prefix (allowed address pairs), host bits cleared: "10.0.0.20" or "10.0.0.0/24"."""
    text = check_address_text(value)
    try:
        return str(netaddr.IPNetwork(text).cidr) if "/" in text else str(netaddr.IPAddress(text))
    except (netaddr.AddrFormatError, ValueError, TypeError):
        raise BadRequest(f"'{value}' is not a valid IP address or prefix") from None


@with_schema({"type": "string", "format": "cidr", "example": "10.0.0.0/24"})
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


def integral(value: Any) -> Any:
    """A JSON number with no fraction as the integer it is (JSON Schema counts 4.0 as an integer); else as is."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


def one_of(*choices: Any) -> Check:
    """A check that accepts exactly one of `choices`."""
    @with_schema({"enum": list(choices)})
    def check_choice(value: Any) -> Any:
        value = integral(value)
        if not any(value == c and type(value) is type(c) for c in choices):     # True is not 1, "4" not 4
            raise BadRequest(f"'{value}' is not one of {list(choices)}")
        return value
    return check_choice


def int_range(low: int, high: int, nullable: bool = False) -> Check:
    """A check for an integer in [low, high] (or null when `nullable`)."""
    @with_schema({"type": ["integer", "null"] if nullable else "integer", "minimum": low, "maximum": high})
    def check_int(value: Any) -> int | None:
        if value is None and nullable:
            return None
        value = integral(value)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise BadRequest(f"'{value}' is not an integer in [{low}, {high}]")
        return value
    return check_int


check_l4_port = int_range(1, 65535)       # a TCP/UDP port


def list_of(check: Check, min_items: int = 0) -> Check:
    """A check for a list (of at least `min_items`) whose items each pass `check`."""
    schema = {"type": "array", "items": schema_of(check), **({"minItems": min_items} if min_items else {})}

    @with_schema(schema)
    def check_list(value: Any) -> list:
        if not isinstance(value, list):
            raise BadRequest(f"'{value}' is not a list")
        if len(value) < min_items:
            raise BadRequest(f"'{value}' needs at least {min_items} item(s)")
        return [check(v) for v in value]
    return check_list


def dict_with(keys: dict[str, Check], required: tuple[str, ...] = (), any_of: tuple[str, ...] = ()) -> Check:
    """A check for a JSON object whose known keys each have a check; `required` keys must be there, and at
    least one of `any_of`."""
    schema: dict = {"type": "object", "properties": {k: schema_of(c) for k, c in keys.items()},
                    "additionalProperties": False}
    if required:
        schema["required"] = list(required)
    if any_of:
        schema["anyOf"] = [{"required": [k]} for k in any_of]

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
        if any_of and not set(any_of) & set(value):
            raise BadRequest(f"{value} needs one of {list(any_of)}")
        return {k: keys[k](v) for k, v in value.items()}
    return check_dict


def nullable(check: Check) -> Check:
    """`check`, or null."""
    schema = schema_of(check)

    @with_schema({"anyOf": [schema, {"type": "null"}]})
    def check_or_null(value: Any) -> Any:
        return None if value is None else check(value)
    return check_or_null


@with_schema({"type": "object", "properties": {"interface_name": schema_of(check_str),
                                              "vlan": schema_of(int_range(1, 4094))}})
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


def given(name: str) -> dict:
    """A body rule (JSON schema): attribute `name` is given, not null."""
    return {"required": [name], "properties": {name: {"not": {"type": "null"}}}}


def either(a: str, b: str) -> dict:
    """A body rule (JSON schema): attribute `a` or `b` (or both) is given, not null."""
    return {"anyOf": [given(a), given(b)]}


def together(a: str, b: str) -> dict:
    """A body rule (JSON schema): attributes `a` and `b` are both given (not null), or neither."""
    return {"allOf": [{"if": given(a), "then": given(b)}, {"if": given(b), "then": given(a)}]}


def exclusive(a: str, b: str) -> dict:
    """A body rule (JSON schema): not both `a` and `b` (not null)."""
    return {"not": {"allOf": [given(a), given(b)]}}
