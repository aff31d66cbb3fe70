"""The flow vocabulary: OpenFlow 1.3 (+ Nicira extension) fields, matches, actions, flows and groups as plain
data, each with its wire encoding, without per-flow os-ken objects.

os-ken builds an object tree per flow mod (~6k flows/s); the switch accepts ~120k/s. Here a flow spec is
packed straight into bytes, with the parts that repeat (match fields, actions) cached, so the sending path
keeps up with the switch. The messages that carry flows and groups to a switch, and the replies read back,
are nvapps.core.messages.
"""
from __future__ import annotations

import re
import struct
from dataclasses import dataclass, field
from typing import Any, Callable

import netaddr

OFPP_IN_PORT = 0xFFFFFFF8
OFPP_CONTROLLER = 0xFFFFFFFD
OFPP_LOCAL = 0xFFFFFFFE
OFPP_ANY = 0xFFFFFFFF
OFPG_ANY = 0xFFFFFFFF
OFPG_ALL = 0xFFFFFFFC
OFPCML_NO_BUFFER = 0xFFFF


NX_VENDOR_ID = 0x00002320
OFPIT_GOTO_TABLE, OFPIT_WRITE_METADATA, OFPIT_APPLY_ACTIONS, OFPIT_METER = 1, 2, 4, 6
NXAST_REG_MOVE = 6
NXAST_MULTIPATH = 10
NXAST_RESUBMIT_TABLE = 14
NXAST_LEARN = 16
NXAST_CONJUNCTION = 34
NXAST_CT = 35
NXAST_NAT = 36
NXAST_CT_CLEAR = 43
NX_CT_F_COMMIT = 1
NX_CT_RECIRC_NONE = 0xFF
NX_NAT_F_SRC, NX_NAT_F_DST = 1, 2
NX_NAT_RANGE_IPV4_MIN, NX_NAT_RANGE_IPV4_MAX, NX_NAT_RANGE_PROTO_MIN, NX_NAT_RANGE_PROTO_MAX = 1, 2, 16, 32

_OXM_BASIC = 0x8000
_NXM0 = 0x0000
_NXM1 = 0x0001
_ERICSSON = 0x1000      # OVS's ND extension fields (reserved bits, option type), writable by set_field


@dataclass(frozen=True)
class Field:
    """A match field: its OXM/NXM class and number, width in bytes, and how to read text values."""

    name: str
    oxm_class: int
    number: int
    width: int
    kind: str = "int"   # "int", "mac", "ipv4" or "ipv6"

    def header(self, masked: bool = False) -> int:
        """The 32-bit OXM header of this field."""
        length = self.width * 2 if masked else self.width
        return (self.oxm_class << 16) | (self.number << 9) | (int(masked) << 8) | length

    def parse(self, value: int | str) -> int:
        """The integer value of `value` (ints pass; MAC/IPv4 text is parsed)."""
        if isinstance(value, int):
            return value
        if self.kind == "mac":
            return int(netaddr.EUI(value))
        if self.kind == "ipv4":
            return int(netaddr.IPAddress(value, 4))
        if self.kind == "ipv6":
            return int(netaddr.IPAddress(value, 6))
        raise ValueError(f"field {self.name} takes an integer, not {value!r}")


FIELDS: dict[str, Field] = {f.name: f for f in (
    Field("in_port", _OXM_BASIC, 0, 4),
    Field("metadata", _OXM_BASIC, 2, 8),
    Field("eth_dst", _OXM_BASIC, 3, 6, "mac"),
    Field("eth_src", _OXM_BASIC, 4, 6, "mac"),
    Field("eth_type", _OXM_BASIC, 5, 2),
    Field("vlan_vid", _OXM_BASIC, 6, 2),
    Field("ip_proto", _OXM_BASIC, 10, 1),
    Field("ipv4_src", _OXM_BASIC, 11, 4, "ipv4"),
    Field("ipv4_dst", _OXM_BASIC, 12, 4, "ipv4"),
    Field("tcp_src", _OXM_BASIC, 13, 2),
    Field("tcp_dst", _OXM_BASIC, 14, 2),
    Field("udp_src", _OXM_BASIC, 15, 2),
    Field("udp_dst", _OXM_BASIC, 16, 2),
    Field("sctp_src", _OXM_BASIC, 17, 2),
    Field("sctp_dst", _OXM_BASIC, 18, 2),
    Field("icmpv4_type", _OXM_BASIC, 19, 1),
    Field("icmpv4_code", _OXM_BASIC, 20, 1),
    Field("arp_op", _OXM_BASIC, 21, 2),
    Field("arp_spa", _OXM_BASIC, 22, 4, "ipv4"),
    Field("arp_tpa", _OXM_BASIC, 23, 4, "ipv4"),
    Field("arp_sha", _OXM_BASIC, 24, 6, "mac"),
    Field("arp_tha", _OXM_BASIC, 25, 6, "mac"),
    Field("ipv6_src", _OXM_BASIC, 26, 16, "ipv6"),
    Field("ipv6_dst", _OXM_BASIC, 27, 16, "ipv6"),
    Field("icmpv6_type", _OXM_BASIC, 29, 1),
    Field("icmpv6_code", _OXM_BASIC, 30, 1),
    Field("ipv6_nd_target", _OXM_BASIC, 31, 16, "ipv6"),
    Field("ipv6_nd_sll", _OXM_BASIC, 32, 6, "mac"),
    Field("ipv6_nd_tll", _OXM_BASIC, 33, 6, "mac"),
    Field("tunnel_id", _OXM_BASIC, 38, 8),
    *(Field(f"reg{i}", _NXM1, i, 4) for i in range(16)),
    Field("ip_ttl", _NXM1, 29, 1),
    Field("tun_ipv4_src", _NXM1, 31, 4, "ipv4"),
    Field("tun_ipv4_dst", _NXM1, 32, 4, "ipv4"),
    Field("conj_id", _NXM1, 37, 4),
    Field("ct_state", _NXM1, 105, 4),
    Field("ct_zone", _NXM1, 106, 2),
    Field("ct_mark", _NXM1, 107, 4),
    Field("xxreg1", _NXM1, 112, 16, "ipv6"),     # reg4..reg7 as one 128-bit register
    Field("nd_reserved", _ERICSSON, 1, 4),       # an ND message's flags (R, S, O) and reserved bits
    Field("nd_options_type", _ERICSSON, 2, 1),   # the type of an ND message's first option
    Field("nx_in_port", _NXM0, 0, 2),     # writable ingress port: cleared so a packet may leave where it came in
)}

OFPVID_PRESENT = 0x1000

# ct_state bits (match with a mask: ("+trk+est" = value, mask) pairs built by ct_state())
CT_NEW, CT_EST, CT_REL, CT_RPL, CT_INV, CT_TRK, CT_SNAT, CT_DNAT = (1 << i for i in range(8))
_CT_FLAGS = {"new": CT_NEW, "est": CT_EST, "rel": CT_REL, "rpl": CT_RPL, "inv": CT_INV, "trk": CT_TRK,
             "snat": CT_SNAT, "dnat": CT_DNAT}


def ct_state(spec: str) -> tuple[int, int]:
    """The (value, mask) of a ct_state spec in ovs-ofctl's notation, e.g. "+trk+est-rpl"."""
    flags = re.findall(r"([+-])([a-z]+)", spec)
    if not flags or "".join(s + f for s, f in flags) != spec or not all(f in _CT_FLAGS for _, f in flags):
        raise ValueError(f"not a ct_state spec: {spec!r}")
    value = mask = 0
    for sign, flag in flags:
        bit = _CT_FLAGS[flag]
        mask |= bit
        value |= bit if sign == "+" else 0
    return value, mask


def pad8(length: int) -> int:
    return (length + 7) // 8 * 8


class computed_once:
    """functools.cached_property without its lock (Python 3.11 takes one on every first computation): the
    value goes into the instance's __dict__, which shadows this descriptor from then on."""

    def __init__(self, compute: Callable[[Any], Any]) -> None:
        self.compute, self.name = compute, compute.__name__
        self.__doc__ = compute.__doc__

    def __get__(self, obj: Any, owner: type | None = None) -> Any:
        if obj is None:
            return self
        value = obj.__dict__[self.name] = self.compute(obj)
        return value


# name -> (OXM header, masked OXM header, width): packed once, so encoding a field is two concatenations.
_OXM_HEADERS = {name: (struct.pack("!I", f.header()), struct.pack("!I", f.header(True)), f.width)
                for name, f in FIELDS.items()}
_PADDING = [bytes(n) for n in range(8)]


def encode_oxm(name: str, value: int, mask: int | None = None) -> bytes:
    """One OXM TLV: header, value and (if given) mask."""
    header, masked_header, width = _OXM_HEADERS[name]
    if mask is None:
        return header + value.to_bytes(width, "big")
    return masked_header + value.to_bytes(width, "big") + mask.to_bytes(width, "big")


MatchItem = tuple[str, int, int | None]  # (field name, value, mask or None)


# Canonical field order: OpenFlow basic fields by number (every prerequisite, e.g. eth_type before ip_proto
# before icmp_type, precedes the fields needing it, as OXM requires), then Nicira fields.
_ORDER = {name: (f.oxm_class != _OXM_BASIC, f.oxm_class, f.number) for name, f in FIELDS.items()}


_IP_TYPES = frozenset({0x0800, 0x86DD})
# What OpenFlow 1.3 (and OVS, for the Nicira fields) requires a match to hold before it may name a field: a
# flow that names tcp_dst without ip_proto=6, say, is refused by the switch (OFPBMC_BAD_PREREQ).
PREREQUISITES: dict[str, tuple[str, frozenset[int]]] = {
    **{f: ("eth_type", _IP_TYPES) for f in ("ip_proto", "ip_ttl")},
    **{f: ("eth_type", frozenset({0x0800})) for f in ("ipv4_src", "ipv4_dst")},
    **{f: ("eth_type", frozenset({0x86DD})) for f in ("ipv6_src", "ipv6_dst")},
    **{f: ("eth_type", frozenset({0x0806})) for f in ("arp_op", "arp_spa", "arp_tpa", "arp_sha", "arp_tha")},
    **{f: ("ip_proto", frozenset({6})) for f in ("tcp_src", "tcp_dst")},
    **{f: ("ip_proto", frozenset({17})) for f in ("udp_src", "udp_dst")},
    **{f: ("ip_proto", frozenset({132})) for f in ("sctp_src", "sctp_dst")},
    **{f: ("ip_proto", frozenset({1})) for f in ("icmpv4_type", "icmpv4_code")},
    **{f: ("ip_proto", frozenset({58})) for f in ("icmpv6_type", "icmpv6_code")},
    "ipv6_nd_target": ("icmpv6_type", frozenset({135, 136})),
    "ipv6_nd_sll": ("icmpv6_type", frozenset({135})),
    "ipv6_nd_tll": ("icmpv6_type", frozenset({136})),
}


def missing_prerequisite(items: tuple[MatchItem, ...]) -> str | None:
    """What a match lacks to be accepted by a switch (a field it names without that field's prerequisite),
    or None."""
    exact = {name: value for name, value, mask in items if mask is None}
    for name, _, _ in items:
        need = PREREQUISITES.get(name)
        if need is not None and exact.get(need[0]) not in need[1]:
            return f"{name} needs {need[0]} in {sorted(need[1])}"
    return None


def match(**fields: int | str | tuple[int | str, int | str]) -> tuple[MatchItem, ...]:
    """A canonical match: fields in OXM order, values as ints, `(value, mask)` tuples for masks."""
    items: list[MatchItem] = []
    for name, value in fields.items():
        field = FIELDS[name]
        if isinstance(value, tuple):
            items.append((name, field.parse(value[0]), field.parse(value[1])))
        else:
            items.append((name, field.parse(value), None))
    return tuple(sorted(items, key=lambda item: _ORDER[item[0]]))


def encode_match(items: tuple[MatchItem, ...]) -> bytes:
    """An ofp_match (OXM type) padded to 8 bytes."""
    body = b"".join([encode_oxm(n, v, m) for n, v, m in items])
    length = 4 + len(body)
    return struct.pack("!HH", 1, length) + body + _PADDING[-length % 8]


# ---- actions: frozen dataclasses, each encodes itself once (kept on the instance, no hashing) ----

class Action:
    """Base of actions; subclasses are frozen dataclasses with an `_encode` method."""

    @computed_once
    def wire(self) -> bytes:
        return self._encode()  # type: ignore[attr-defined]

    def encode(self) -> bytes:
        return self.wire


@dataclass(frozen=True)
class Output(Action):
    """Send out an OpenFlow port (or to the controller with `max_len` bytes)."""

    port: int
    max_len: int = 0

    def _encode(self) -> bytes:
        return struct.pack("!HHIH6x", 0, 16, self.port, self.max_len)


# Send the whole packet to the controller (a packet-in).
PUNT = Output(OFPP_CONTROLLER, OFPCML_NO_BUFFER)


@dataclass(frozen=True)
class GroupAction(Action):
    """Process the packet through an OpenFlow group."""

    group_id: int

    def _encode(self) -> bytes:
        return struct.pack("!HHI", 22, 8, self.group_id)


@dataclass(frozen=True)
class PushVlan(Action):
    """Push an 802.1Q header (set its VID with SetField('vlan_vid', OFPVID_PRESENT | vid))."""

    ethertype: int = 0x8100

    def _encode(self) -> bytes:
        return struct.pack("!HHH2x", 17, 8, self.ethertype)


@dataclass(frozen=True)
class PopVlan(Action):
    """Pop the outer 802.1Q header."""

    def _encode(self) -> bytes:
        return struct.pack("!HH4x", 18, 8)


@dataclass(frozen=True)
class SetField(Action):
    """Set a field or register (OXM/NXM set_field)."""

    field: str
    value: int | str        # a MAC or an IP address may be given as text; kept as an int

    def __post_init__(self) -> None:
        object.__setattr__(self, "value", FIELDS[self.field].parse(self.value))   # canonical: an int

    def _encode(self) -> bytes:
        oxm = encode_oxm(self.field, int(self.value))
        length = pad8(4 + len(oxm))
        return struct.pack("!HH", 25, length) + oxm + bytes(length - 4 - len(oxm))


@dataclass(frozen=True)
class Move(Action):
    """Nicira reg_move: copy field `src` into field `dst` (same width)."""

    src: str
    dst: str

    def _encode(self) -> bytes:
        src, dst = FIELDS[self.src], FIELDS[self.dst]
        n_bits = min(src.width, dst.width) * 8
        return struct.pack("!HHIHHHHII", 0xFFFF, 24, NX_VENDOR_ID, NXAST_REG_MOVE, n_bits, 0, 0,
                           src.header(), dst.header())


@dataclass(frozen=True)
class DecTtl(Action):
    """Decrement the IP TTL."""

    def _encode(self) -> bytes:
        return struct.pack("!HH4x", 24, 8)


@dataclass(frozen=True)
class SetTtl(Action):
    """Set the IP TTL."""

    ttl: int

    def _encode(self) -> bytes:
        return struct.pack("!HHB3x", 23, 8, self.ttl)


@dataclass(frozen=True)
class Resubmit(Action):
    """Nicira resubmit(,table): run `table` now and come back."""

    table: int

    def _encode(self) -> bytes:
        return struct.pack("!HHIHHB3x", 0xFFFF, 16, NX_VENDOR_ID, NXAST_RESUBMIT_TABLE,
                           0xFFF8, self.table)


@dataclass(frozen=True)
class LearnMatch:
    """learn(): the learned flow matches `dst` against the packet's `src` (same field when `src` is None)."""

    dst: str
    src: str | None = None


@dataclass(frozen=True)
class LearnLoad:
    """learn(): the learned flow loads the packet's `src` field into `dst`."""

    src: str
    dst: str


@dataclass(frozen=True)
class Learn(Action):
    """Nicira learn(): write a flow into `table` built from the current packet."""

    table: int
    priority: int
    cookie: int
    specs: tuple[LearnMatch | LearnLoad, ...]
    idle_timeout: int = 0
    hard_timeout: int = 0

    def _encode(self) -> bytes:
        body = b""
        for spec in self.specs:
            if isinstance(spec, LearnMatch):
                src = FIELDS[spec.src or spec.dst]
                dst = FIELDS[spec.dst]
                dst_type = 0
            else:
                src, dst = FIELDS[spec.src], FIELDS[spec.dst]
                dst_type = 1
            n_bits = min(src.width, dst.width) * 8
            body += struct.pack("!HIHIH", (dst_type << 11) | n_bits, src.header(), 0, dst.header(), 0)
        fixed = struct.pack("!HHIHHHHQHBxHH", 0xFFFF, 0, NX_VENDOR_ID, NXAST_LEARN, self.idle_timeout,
                            self.hard_timeout, self.priority, self.cookie, 0, self.table, 0, 0)
        raw = fixed + body
        length = pad8(len(raw))
        raw += bytes(length - len(raw))
        return raw[:2] + struct.pack("!H", length) + raw[4:]


HASH_NW_SRC = 4                 # NX_HASH_FIELDS_NW_SRC: the source IPv4 address
HASH_L3L4_UDP = 3               # NX_HASH_FIELDS_SYMMETRIC_L3L4_UDP: addresses, protocol and TCP/UDP ports


@dataclass(frozen=True)
class Multipath(Action):
    """Nicira multipath: hash the packet's `fields` (by default its source IPv4 address) and pick one of
    `links` links by highest random weight (the same hash, the same link while the links are the same),
    into register `dst`."""

    links: int
    dst: str
    fields: int = HASH_NW_SRC

    def _encode(self) -> bytes:
        hrw = 2                              # NX_MP_ALG_HRW
        field = FIELDS[self.dst]
        return _nx_header(NXAST_MULTIPATH, 32) + struct.pack(
            "!HH2xHHI2xHI", self.fields, 0, hrw, self.links - 1, 0, field.width * 8 - 1, field.header())


def _nx_header(subtype: int, length: int) -> bytes:
    return struct.pack("!HHIH", 0xFFFF, length, NX_VENDOR_ID, subtype)


@dataclass(frozen=True)
class Conjunction(Action):
    """Nicira conjunction(id, clause/n_clauses): this flow is one clause (1-based) of conjunctive match `id`."""

    id: int
    clause: int
    n_clauses: int

    def _encode(self) -> bytes:
        return _nx_header(NXAST_CONJUNCTION, 16) + struct.pack("!BBI", self.clause - 1, self.n_clauses, self.id)


@dataclass(frozen=True)
class Nat(Action):
    """Nicira nat(), only inside ct(): translate the source (`kind` "src") or destination ("dst") to `ip`
    (and a port in `ports`); with no kind, apply the translation an existing connection already has."""

    kind: str | None = None
    ip: str | None = None
    ports: tuple[int, int] | None = None

    def _encode(self) -> bytes:
        flags = {None: 0, "src": NX_NAT_F_SRC, "dst": NX_NAT_F_DST}[self.kind]
        present, params = 0, b""
        if self.ip is not None:
            present |= NX_NAT_RANGE_IPV4_MIN
            params += netaddr.IPAddress(self.ip, 4).packed
        if self.ports is not None:
            present |= NX_NAT_RANGE_PROTO_MIN | NX_NAT_RANGE_PROTO_MAX
            params += struct.pack("!HH", *self.ports)
        length = pad8(16 + len(params))
        return (_nx_header(NXAST_NAT, length) + struct.pack("!2xHH", flags, present) + params
                + bytes(length - 16 - len(params)))


@dataclass(frozen=True)
class Ct(Action):
    """Nicira ct(): send through conntrack in a zone (a constant, or the low 16 bits of register
    `zone_reg`), optionally translating addresses (`nat`), committing (running `exec` on the entry) and
    recirculating into `table`."""

    zone: int = 0
    zone_reg: str | None = None
    commit: bool = False
    table: int | None = None
    nat: Nat | None = None
    exec: tuple[Action, ...] = ()

    def _encode(self) -> bytes:
        nested = encode_actions(((self.nat,) if self.nat else ()) + self.exec)
        zone_src = FIELDS[self.zone_reg].header() if self.zone_reg else 0
        zone = 15 if self.zone_reg else self.zone       # a register: bits 0..15 (ofs 0, n_bits 16)
        table = NX_CT_RECIRC_NONE if self.table is None else self.table
        return (_nx_header(NXAST_CT, 24 + len(nested))
                + struct.pack("!HIHB3xH", NX_CT_F_COMMIT if self.commit else 0, zone_src, zone, table, 0)
                + nested)


@dataclass(frozen=True)
class CtClear(Action):
    """Nicira ct_clear: forget the packet's conntrack state (before tracking it in another zone afresh)."""

    def _encode(self) -> bytes:
        return _nx_header(NXAST_CT_CLEAR, 16) + bytes(6)


def encode_actions(actions: tuple[Action, ...]) -> bytes:
    return b"".join(a.encode() for a in actions)


# ---- flows and groups as plain data ----

SHARED_LIMIT = 1 << 21      # distinct parts kept as one object each; beyond, sharing starts afresh
_SHARED: dict[Any, Any] = {}


def shared(part: Any) -> Any:
    """The one object equal to `part` (a match field, an action, a flow's whole match, actions or origin, a
    piece's key in many chassis's states) that the controller holds: it holds hundreds of thousands of flows
    whose parts repeat (at 10,000 ports, 945k match fields of 131k values, 370k actions of 71k, 304k matches of
    221k, 53k origins of 10k)."""
    if len(_SHARED) > SHARED_LIMIT:
        _SHARED.clear()
    try:
        return _SHARED.setdefault(part, part)
    except TypeError:       # an action holding a list: not hashable, not shared
        return part


def forget_shared() -> None:
    """Flows built from now on share their parts among themselves, not with those built so far: what a round
    built keeps its parts, and the table of shared parts (one entry per distinct part: 10 MB at 10,000
    ports) holds only those of the round under way."""
    _SHARED.clear()


@dataclass(frozen=True, slots=True)
class Flow:
    """One flow as plain data: where, how important, what it matches and what it does (slots: a controller
    holds hundreds of thousands)."""

    table: int
    priority: int
    match: tuple[MatchItem, ...] = ()
    actions: tuple[Action, ...] = ()
    goto: int | None = None
    write_metadata: tuple[int, int] | None = None   # (value, mask)
    meter: int | None = None                        # rate-limit through this meter first
    origin: tuple[tuple[str, str], ...] = field(default=(), compare=False, repr=False)  # (kind, id): what it is for
    cookie: int = field(default=0, init=False, repr=False, compare=False)  # kept by reconcile (0: not named yet)

    def __post_init__(self) -> None:
        """Its match and actions, each of their parts, and its origin are the shared ones (`shared`)."""
        object.__setattr__(self, "match", shared(tuple(shared(item) for item in self.match)))
        object.__setattr__(self, "actions", shared(tuple(shared(action) for action in self.actions)))
        object.__setattr__(self, "origin", shared(self.origin))

    @property
    def wire(self) -> bytes:
        """The flow's identity and behaviour on the wire: table, priority, match, instructions (joined from its
        parts' encodings, which they keep, each time: not kept, as a controller holds hundreds of thousands of
        flows and sends each a few times)."""
        instructions = b""
        if self.meter is not None:
            instructions += struct.pack("!HHI", OFPIT_METER, 8, self.meter)
        if self.actions:
            acts = encode_actions(self.actions)
            instructions += struct.pack("!HH4x", OFPIT_APPLY_ACTIONS, 8 + len(acts)) + acts
        if self.write_metadata is not None:
            instructions += struct.pack("!HH4xQQ", OFPIT_WRITE_METADATA, 24, *self.write_metadata)
        if self.goto is not None:
            instructions += struct.pack("!HHB3x", OFPIT_GOTO_TABLE, 8, self.goto)
        return struct.pack("!BH", self.table, self.priority) + encode_match(self.match) + instructions

    def body(self) -> bytes:
        return self.wire


@dataclass(frozen=True)
class Bucket:
    """A group bucket: its actions (and weight for select groups)."""

    actions: tuple[Action, ...]
    weight: int = 0
    watch_port: int = OFPP_ANY
    watch_group: int = OFPG_ANY

    def encode(self) -> bytes:
        acts = encode_actions(self.actions)
        return struct.pack("!HHII4x", 16 + len(acts), self.weight, self.watch_port,
                           self.watch_group) + acts


@dataclass(frozen=True)
class Group:
    """An OpenFlow group as plain data."""

    group_id: int
    type: str
    buckets: tuple[Bucket, ...]

    @computed_once
    def _wire(self) -> bytes:
        return b"".join(b.encode() for b in self.buckets)

    def encoded_buckets(self) -> bytes:
        """The buckets on the wire (encoded once: groups, like flows, are built once and reused)."""
        return self._wire


# ---- control messages ----


# ---- replies: only what reconciliation reads ----


