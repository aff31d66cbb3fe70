"""Attribute checks against the JSON schemas the OpenAPI document publishes for them: every value a schema allows
is accepted (clients that generate requests from the document get no 400 for them), and every value a check
accepts is one its schema allows (but for Neutron's lax booleans and UUIDs); and what each check normalises."""
from __future__ import annotations

import ipaddress
from dataclasses import fields

import jsonschema_rs
import pytest

from nvapps.model import fields as f
from nvapps.model.errors import BadRequest
from nvapps.model.service import KINDS

UUID = "3f2f4c7e-0d6b-4c1e-9a57-1c2b3d4e5f60"


def _is_ip(text: object) -> bool:
    if "%" in str(text):        # a scoped IPv6 address names an interface of the client's: never an API value
        return False
    try:
        ipaddress.ip_address(text)  # type: ignore[arg-type]
        return True
    except ValueError:
        return False


def _is_network(text: object, strict: bool) -> bool:
    try:
        ipaddress.ip_network(text, strict=strict)  # type: ignore[arg-type]
        return True
    except (ValueError, TypeError):
        return False


# the document's own formats, by the standard library (not netaddr, which the checks use)
FORMATS = {"cidr": lambda t: "/" in t and _is_network(t, strict=True),
           "ip-prefix": lambda t: _is_ip(t) or ("/" in t and _is_network(t, strict=False))}

STRINGS = ["", "a", "web server", "x" * 255, "x" * 256, "a\x00b", "é", "true", "False", "TRUE", "GET", "TCP", "UDP",
           "ROUND_ROBIN", "vxlan", "ingress", "IPv4", "/", "/health", "200", "200-204", "2xx", "ACTIVE",
           UUID, UUID.upper(), UUID.replace("-", ""), UUID[:-1], "10.0.0.1", "10.0.0.1 ", " 10.0.0.1", "10.0.0.01",
           "10.1", "10.0.0.256", "fd00::1", "FD00::1", "fe80::1%eth0", "10.0.0.0/24", "10.0.0.1/24", "10.0.0.0/33",
           "0.0.0.0/0", "::/0", "fd00::/64", "fd00::1/64", "aa:bb:cc:dd:ee:ff", "AA:BB:CC:DD:EE:FF",
           "01:00:00:00:00:00", "00:00:00:00:00:00", "aa-bb-cc-dd-ee-ff", "aa:bb:cc:dd:ee", "fa:16:3e:00:00:01"]
NUMBERS = [None, True, False, 0, 1, -1, -2, 4.0, 4.5, 53, 255, 256, 4094, 4095, 3600, 3601, 65535, 65536,
           1 << 31, (1 << 31) + 1, 1 << 32, (1 << 32) + 1]
SIMPLE = STRINGS + NUMBERS
OBJECTS = [[], [UUID], [UUID, "nope"], ["10.0.0.1", "fd00::1"], [{}], {}, {"interface_name": "eth0"},
           {"interface_name": "x" * 256}, {"interface_name": 5}, {"vlan": 5}, {"vlan": 0}, {"vlan": 4095},
           {"vlan": "5"}, {"other": 1}, {"network_id": UUID}, {"network_id": UUID, "enable_snat": False},
           {"network_id": UUID, "external_fixed_ips": [{"ip_address": "10.0.0.1"}]}, {"enable_snat": True},
           [{"destination": "10.0.0.0/24", "nexthop": "10.0.0.1"}], [{"destination": "10.0.0.1/24", "nexthop": "x"}],
           [{"start": "10.0.0.2", "end": "10.0.0.9"}], [{"start": "10.0.0.2"}], [{"subnet_id": UUID}],
           [{"ip_address": "10.0.0.0/24", "mac_address": "aa:bb:cc:dd:ee:ff"}], [{"ip_address": "10.0.0.1/24"}],
           [{"segmentation_id": [5]}], [{"device_name": "sw", "interfaces": [{"name": "eth1"}]}],
           [{"device_name": "sw", "interfaces": []}], [{"device_name": "sw", "interfaces": [{"name": ""}]}],
           [{"device_name": "sw", "interfaces": [{"name": "eth1", "segmentation_id": [4095]}]}]]
VALUES = SIMPLE + OBJECTS


def every_check() -> dict[str, f.Check]:
    """Each attribute's check (one per distinct check), named kind.attribute."""
    checks: dict[int, tuple[str, f.Check]] = {}
    for kind, cls in KINDS.items():
        for fl in fields(cls):
            check = fl.metadata.get("check")
            if check is not None:
                checks.setdefault(id(check), (f"{kind}.{fl.name}", check))
    return dict(checks.values())


CHECKS = every_check()


def accepts(check: f.Check, value: object) -> bool:
    try:
        check(value)
        return True
    except BadRequest:
        return False


def lax(schema: dict, value: object) -> bool:
    """Neutron's own laxness, kept: "true"/"false" strings as booleans, UUIDs in other spellings, protocol names
    in any case."""
    text = str(schema)
    return isinstance(value, str) and (
        ("'boolean'" in text and value.lower() in ("true", "false"))
        or ("'uuid'" in text and value.replace("-", "").lower() == UUID.replace("-", ""))
        or ("'tcp'" in text and value.lower() in ("tcp", "udp") and value != value.lower()))


@pytest.mark.parametrize("name", sorted(CHECKS))
def test_every_check_accepts_exactly_what_its_published_schema_allows(name):
    check = CHECKS[name]
    schema = f.schema_of(check)
    assert schema, f"{name} publishes no schema"
    validator = jsonschema_rs.validator_for(schema, validate_formats=True, formats=FORMATS)
    for value in VALUES:
        allowed, taken = validator.is_valid(value), accepts(check, value)
        assert allowed == taken or (taken and lax(schema, value)), (name, value, schema)


def test_the_check_list_covers_every_kind_of_check():
    names = {c.__name__ for c in CHECKS.values()}
    assert {"check_str", "check_name", "check_bool", "check_uuid", "check_mac", "check_ip", "check_ipv4",
            "check_optional_ip", "check_prefix", "check_cidr", "check_choice", "check_int", "check_list",
            "check_or_null", "check_protocol", "check_profile", "check_codes", "check_url_path"} <= names
    assert len(CHECKS) > 40


def test_checks_normalise_what_they_accept():
    assert f.check_mac("AA:BB:CC:DD:EE:0F") == "aa:bb:cc:dd:ee:0f"
    assert f.check_ip("FD00:0::1") == "fd00::1" and f.check_ip("10.0.0.1") == "10.0.0.1"
    assert f.check_ipv4("10.0.0.9") == "10.0.0.9"
    assert f.check_optional_ip(None) is None and f.check_optional_ip("FD00::2") == "fd00::2"
    assert f.check_ip_or_cidr("10.0.0.7/24") == "10.0.0.0/24" and f.check_ip_or_cidr("FD00::7") == "fd00::7"
    assert f.check_cidr("FD00::/64") == "fd00::/64" and f.check_cidr("10.0.0.0/24") == "10.0.0.0/24"
    assert f.check_uuid(UUID.upper()) == UUID and f.check_uuid(UUID.replace("-", "")) == UUID
    assert f.check_bool("True") is True and f.check_bool("FALSE") is False and f.check_bool(False) is False
    assert f.int_range(1, 5)(4.0) == 4 and type(f.int_range(1, 5)(4.0)) is int
    assert f.int_range(1, 5, nullable=True)(None) is None
    assert f.one_of(4, "a")(4.0) == 4 and f.one_of(None)(None) is None
    assert f.list_of(f.check_ip)(["FD00::1"]) == ["fd00::1"]
    assert f.dict_with({"ip": f.check_ip})({"ip": "FD00::1"}) == {"ip": "fd00::1"}
    assert f.nullable(f.check_ip)(None) is None and f.nullable(f.check_ip)("FD00::3") == "fd00::3"
    assert f.check_profile({"vlan": 7, "other": "kept"}) == {"vlan": 7, "other": "kept"}
    assert f.check_name("a") == "a" and f.check_str("") == ""


def refusals() -> list[tuple[f.Check, object]]:
    """Checks (built when called: mutation tests see only what runs inside a test) and values each refuses."""
    return [
        (f.one_of(1), True), (f.one_of(True), 1), (f.one_of(4), "4"), (f.int_range(0, 9), True),
        (f.int_range(0, 9), None), (f.int_range(1, 5), 0), (f.int_range(1, 5), 6), (f.int_range(1, 5), 4.5),
        (f.list_of(f.check_uuid, 1), []), (f.list_of(f.check_uuid), UUID), (f.list_of(f.check_uuid), ["x"]),
        (f.dict_with({"a": f.check_uuid}), {"b": UUID}), (f.dict_with({"a": f.check_uuid}), [UUID]),
        (f.dict_with({"a": f.check_uuid}, ("a",)), {}),
        (f.dict_with({"a": f.check_uuid, "b": f.check_str}, any_of=("a", "b")), {}),
        (f.dict_with({"a": f.check_uuid}), {"a": "x"}), (f.check_name, ""), (f.check_name, 5),
        (f.check_ipv4, "fd00::1"), (f.check_cidr, "10.0.0.1"), (f.check_cidr, "10.0.0.1/24"), (f.check_cidr, ""),
        (f.check_ip_or_cidr, "10.0.0.0/33"), (f.check_ip, " 10.0.0.1"), (f.check_ip, None), (f.check_mac, None),
        (f.check_mac, "01:00:5e:00:00:01"), (f.check_profile, []), (f.check_profile, {"vlan": 4095}),
        (f.check_profile, {"interface_name": 1}), (f.check_uuid, None), (f.check_uuid, 5), (f.check_bool, "yes"),
        (f.check_bool, 1), (f.check_str, None), (f.check_str, "x" * 256), (f.check_str, "\x00"),
    ]


def test_checks_refuse_as_a_bad_request_with_a_message():
    for check, value in refusals():
        with pytest.raises(BadRequest) as refused:
            check(value)
        assert refused.value.status == 400 and len(refused.value.message) > 10, (check, value)


def test_combined_checks_accept_exactly_what_their_schemas_allow():
    """Checks made of others (lists, objects, nullable, ranges, choices), built here, against their schemas."""
    made = [f.list_of(f.check_uuid), f.list_of(f.check_ip, 1), f.nullable(f.check_ip), f.nullable(f.list_of(f.check_uuid)),
            f.dict_with({"destination": f.check_cidr, "nexthop": f.check_ip}, ("destination", "nexthop")),
            f.list_of(f.dict_with({"subnet_id": f.check_uuid, "ip_address": f.check_ip}, any_of=("subnet_id", "ip_address"))),
            f.dict_with({"network_id": f.check_uuid, "enable_snat": f.check_bool}, ("network_id",)),
            f.int_range(1, 4094), f.int_range(1, 65535, nullable=True), f.one_of("TCP", "UDP"), f.one_of(None),
            f.one_of(4, 6), f.list_of(f.one_of("a"), 1)]
    for check in made:
        schema = f.schema_of(check)
        validator = jsonschema_rs.validator_for(schema, validate_formats=True, formats=FORMATS)
        for value in VALUES + [["a"], [UUID, UUID], [{"subnet_id": UUID}, {"ip_address": "10.0.0.1"}], 4, 6]:
            allowed, taken = validator.is_valid(value), accepts(check, value)
            assert allowed == taken or (taken and lax(schema, value)), (schema, value)
    assert f.schema_of(None) == {} and f.schema_of(len) == {}
    assert f.list_of(f.check_uuid)([]) == [] and f.int_range(1, 5)(5) == 5


def test_body_rules_are_schemas_of_attributes_given_not_null():
    rules = {"either": f.either("a", "b"), "together": f.together("a", "b"), "exclusive": f.exclusive("a", "b")}
    bodies = [{}, {"a": 1}, {"b": 1}, {"a": 1, "b": 1}, {"a": None, "b": 1}, {"a": None}, {"a": None, "b": None}]
    expected = {"either": [False, True, True, True, True, False, False],
                "together": [True, False, False, True, False, True, True],
                "exclusive": [True, True, True, False, True, True, True]}
    for name, rule in rules.items():
        validator = jsonschema_rs.validator_for(rule)
        assert [validator.is_valid(b) for b in bodies] == expected[name], name
    assert f.given("a") == {"required": ["a"], "properties": {"a": {"not": {"type": "null"}}}}


def test_attr_records_who_may_set_an_attribute():
    declared = f.attr(f.check_str, api="x:y", create=False, update=False, admin=True, internal=True, required=True,
                      default="d")
    assert dict(declared.metadata) == {"api": "x:y", "check": f.check_str, "create": False, "update": False,
                                       "admin": True, "internal": True, "required": True, "schema": None}
    assert declared.default == "d"
    made = f.attr(default_factory=list)
    assert made.default_factory is list and dict(made.metadata)["create"] is True
    assert dict(f.attr().metadata) == {"api": None, "check": None, "create": True, "update": True, "admin": False,
                                       "internal": False, "required": False, "schema": None}


def test_integral_turns_whole_floats_only():
    assert [f.integral(v) for v in (4.0, 4.5, 4, "4", True)] == [4, 4.5, 4, "4", True]
    assert all(type(f.integral(v)) is int for v in (4.0, -2.0))
