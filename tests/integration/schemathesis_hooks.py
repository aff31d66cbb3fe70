"""What schemathesis must know of /openapi.json beyond JSON Schema (SCHEMATHESIS_HOOKS names this module):
the document's own string formats, and the rules across attributes that a schema cannot state (an order
between two numbers, versions that must agree), applied to the valid cases it generates. docs/api.md lists
the same rules for people."""
from __future__ import annotations

import ipaddress

import schemathesis
from hypothesis import strategies as st
from schemathesis import GenerationMode

from nvapps.model.errors import BadRequest
from nvapps.trace.tracer import packet_fields

ANY_ID = "4f0e2a1c-58b4-4d2e-9c53-0b3c7e8d9a61"     # an id no object has
PORTED = {"tcp", "udp", "sctp", "6", "17", "132"}
ICMP = {"icmp", "icmpv6", "1", "58"}
RANGES = {"security_group_rule": ("port_range",),
          "network_acl": ("source_port_range", "destination_port_range")}
PREFIXES = {"security_group_rule": ("remote_ip_prefix",),
            "network_acl": ("source_ip_prefix", "destination_ip_prefix")}


def _v4() -> st.SearchStrategy:
    """A unicast IPv4 network (not loopback, not multicast), prefix /8 to /30."""
    first = st.integers(1, 223).filter(lambda o: o != 127)
    return st.builds(lambda a, rest, p: ipaddress.ip_network(((a << 24) | rest, p), strict=False),
                     first, st.integers(0, (1 << 24) - 1), st.integers(8, 30))


def _v6() -> st.SearchStrategy:
    """A network under 2001:db8::/32, prefix /48 to /126."""
    return st.builds(lambda rest, p: ipaddress.ip_network(((0x20010DB8 << 96) | rest, p), strict=False),
                     st.integers(0, (1 << 96) - 1), st.integers(48, 126))


_networks = st.one_of(_v4(), _v6())
schemathesis.openapi.format("cidr", _networks.map(str))
schemathesis.openapi.format("ip-prefix", st.one_of(_networks.map(str), _networks.map(lambda n: str(n[1]))))


@schemathesis.hook
def map_case(context, case):
    """Valid cases follow the rules across attributes (invalid ones are left to break what they break)."""
    meta = getattr(case, "_meta", None)
    if meta is None or meta.generation.mode != GenerationMode.POSITIVE:
        return case
    if case.operation.path == "/v2.0/trace" and isinstance(case.query, dict):
        _trace(case.query)
    if not isinstance(case.body, dict):
        return case
    for kind, body in case.body.items():
        if isinstance(body, dict):
            _port_ranges(kind, body)
            _versions(kind, body)
            _monitor(kind, body)
    return case


def _trace(query: dict) -> None:
    """A trace is of a packet (fields OVS's flow syntax takes, not those the trace sets) from exactly one of a
    port and an external network."""
    if "port_id" in query and "network_id" in query:
        query.pop("network_id")
    if "port_id" not in query and "network_id" not in query:
        query["port_id"] = ANY_ID
    try:
        packet_fields(str(query.get("flow", "")))
    except BadRequest:
        query["flow"] = "tcp,nw_dst=10.0.0.1,tp_dst=80"


def _monitor(kind: str, body: dict) -> None:
    """A health monitor answers within its delay (timeout <= delay)."""
    if kind == "healthmonitor" and isinstance(body.get("timeout"), (int, float)) and \
            isinstance(body.get("delay"), (int, float)) and body["timeout"] > body["delay"]:
        body["timeout"], body["delay"] = body["delay"], body["timeout"]


def _port_ranges(kind: str, body: dict) -> None:
    """A range needs a protocol with ports (ICMP: type and code up to 255); with ports, both ends and
    min <= max."""
    names = RANGES.get(kind, ())
    protocol = str(body.get("protocol")).lower()
    if any(body.get(f"{n}_{end}") is not None for n in names for end in ("min", "max")) and (
            protocol not in PORTED | ICMP or protocol in ICMP and any(
                (body.get(f"{n}_{end}") or 0) > 255 for n in names for end in ("min", "max"))):
        body["protocol"] = protocol = "tcp"
    if protocol not in PORTED:
        return
    for name in names:
        low, high = body.get(f"{name}_min"), body.get(f"{name}_max")
        if (low is None) != (high is None):
            low = high = low if low is not None else high
        if low is not None and low > high:
            low, high = high, low
        body[f"{name}_min"], body[f"{name}_max"] = low, high


def _versions(kind: str, body: dict) -> None:
    """A rule's ethertype matches its prefixes; a subnet's ip_version, gateway, pools and IPv6 modes match its
    cidr (and each other)."""
    prefixes = [body[p] for p in PREFIXES.get(kind, ()) if isinstance(body.get(p), str)]
    if prefixes:
        version = ipaddress.ip_network(prefixes[0], strict=False).version
        body["ethertype"] = f"IPv{version}"
        for p in PREFIXES[kind][1:]:
            if isinstance(body.get(p), str) and ipaddress.ip_network(body[p], strict=False).version != version:
                body.pop(p)
    if kind == "subnet" and isinstance(body.get("cidr"), str):
        cidr = ipaddress.ip_network(body["cidr"])
        body["ip_version"] = cidr.version
        hosts = (cidr[1], cidr[-2] if cidr.version == 4 else cidr[-1])
        if isinstance(body.get("gateway_ip"), str) and not _inside(body["gateway_ip"], hosts):
            body.pop("gateway_ip")
        if not _pools_fit(body.get("allocation_pools"), hosts, body.get("gateway_ip")):
            body.pop("allocation_pools", None)
        if cidr.version == 4 or body.get("enable_dhcp") is False:
            body.pop("ipv6_ra_mode", None)
            body.pop("ipv6_address_mode", None)
        if body.get("ipv6_ra_mode") and body.get("ipv6_address_mode") not in (None, body["ipv6_ra_mode"]):
            body["ipv6_address_mode"] = body["ipv6_ra_mode"]
        for mode in ("ipv6_ra_mode", "ipv6_address_mode"):
            if body.get(mode) in ("slaac", "dhcpv6-stateless") and cidr.prefixlen != 64:
                body.pop(mode)


def _inside(address: str, hosts: tuple) -> bool:
    ip = ipaddress.ip_address(address)
    return ip.version == hosts[0].version and hosts[0] <= ip <= hosts[1]


def _pools_fit(pools, hosts: tuple, gateway) -> bool:
    """Pools inside the host range, in order, apart, and around the gateway."""
    if not isinstance(pools, list):
        return True
    if not all(_inside(p["start"], hosts) and _inside(p["end"], hosts) for p in pools):
        return False
    spans = sorted((ipaddress.ip_address(p["start"]), ipaddress.ip_address(p["end"])) for p in pools)
    if any(a > b for a, b in spans):
        return False
    if any(b1 >= a2 for (_, b1), (a2, _) in zip(spans, spans[1:])):
        return False
    return not (isinstance(gateway, str) and any(a <= ipaddress.ip_address(gateway) <= b for a, b in spans))
