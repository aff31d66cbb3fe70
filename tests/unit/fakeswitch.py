"""A small OpenFlow pipeline simulator for unit tests: which ports a packet leaves by, and how.

It runs nvapps flow specs (the subset of fields and actions nvapps emits) the way OVS would: highest priority
match per table, apply-actions then write-metadata then goto, groups of type "all" clone the packet per bucket
(a select group picks one bucket by a hash of the 5-tuple, UDP's ports left out as OVS does, over the weights;
multipath a link by a hash of the source or the 5-tuple), resubmit runs a table and returns, output to the
ingress port is skipped, learn() writes a flow, conjunctive matches complete when every clause matches, and
ct() tracks connections per zone (new/established/reply, commit, nat of addresses and TCP/UDP ports; a port
range keeps the original port; ct_mark set by a commit's exec; a TCP packet sent with `tcp_flags` without SYN
that starts no known connection is invalid, as in OVS's userspace conntrack) before it recirculates into its
table.
"""
from __future__ import annotations

import zlib
from bisect import bisect_right
from dataclasses import dataclass, field
from itertools import accumulate

from nvapps.core import ofp
from tests.unit.wirecheck import check_once

MAX_DEPTH = 64


@dataclass
class Packet:
    """Header fields by nvapps field name (ints); registers and metadata start at 0."""

    fields: dict[str, int]

    def get(self, name: str) -> int:
        return self.fields.get(name, 0)


@dataclass
class Connection:
    """A committed conntrack entry: its original and reply tuples (src, dst, proto, sport, dport)."""

    orig: tuple
    reply: tuple
    mark: int = 0


@dataclass
class FakeSwitch:
    flows: list[ofp.Flow]
    groups: dict[int, ofp.Group] = field(default_factory=dict)
    learned: list[ofp.Flow] = field(default_factory=list)
    conntrack: dict[int, list[Connection]] = field(default_factory=dict)
    _index: dict[int, list[ofp.Flow]] | None = field(default=None, repr=False)

    @classmethod
    def of(cls, flows: list[ofp.Flow], groups: list[ofp.Group]) -> "FakeSwitch":
        """A switch holding `flows` and `groups`, each first proven to encode as os-ken reads it."""
        check_once(flows, groups)
        return cls(list(flows), {g.group_id: g for g in groups})

    def send(self, in_port: int, tcp_flags: int | None = None,
             **headers: int | str) -> list[tuple[int, dict[str, int]]]:
        """(out port, header fields on the wire) for every copy of a packet entering at `in_port` (a TCP
        segment with `tcp_flags`, for conntrack only: no flow matches them)."""
        values = {k: ofp.FIELDS[k].parse(v) for k, v in headers.items()}
        pkt = Packet({"in_port": in_port, **values, **({"tcp_flags": tcp_flags} if tcp_flags is not None else {})})
        out: list[tuple[int, dict[str, int]]] = []
        self._table(0, pkt, out, 0)
        return out

    def _lookup(self, table: int, pkt: Packet) -> ofp.Flow | None:
        """The highest-priority match. As OVS does, flows whose actions are conjunction() clauses never match
        themselves: once every clause of conjunction C matches, the flows matching `conj_id=C` may."""
        flows = self._tables().get(table, [])
        clauses: dict[int, set[int]] = {}
        needed: dict[int, int] = {}
        for f in flows:
            if _clauses_only(f) and _matches(f, pkt):
                for a in f.actions:
                    clauses.setdefault(a.id, set()).add(a.clause)
                    needed[a.id] = a.n_clauses
        done = {cid for cid, seen in clauses.items() if len(seen) == needed[cid]}
        best: list[ofp.Flow] = []
        for f in flows:
            if not _clauses_only(f) and _matches(f, pkt, done):
                if not best or f.priority > best[0].priority:
                    best = [f]
                elif f.priority == best[0].priority:
                    best.append(f)
        if len({_behaviour(f) for f in best}) > 1:
            raise AssertionError(f"flows of one priority in table {table} that do different things both match "
                                 f"(OpenFlow leaves which one applies undefined): {best}")
        return best[0] if best else None

    def _tables(self) -> dict[int, list[ofp.Flow]]:
        """Flows (static and learned) by table; learn() drops the index."""
        if self._index is None:
            self._index = {}
            for f in self.flows + self.learned:
                self._index.setdefault(f.table, []).append(f)
        return self._index

    def _table(self, table: int, pkt: Packet, out: list, depth: int) -> None:
        if depth > MAX_DEPTH:
            raise RuntimeError("pipeline loop")
        flow = self._lookup(table, pkt)
        if flow is None:
            return
        self._actions(flow.actions, pkt, out, depth)
        if flow.write_metadata is not None:
            value, mask = flow.write_metadata
            pkt.fields["metadata"] = (pkt.get("metadata") & ~mask) | (value & mask)
        if flow.goto is not None:
            if flow.goto <= table:
                raise RuntimeError(f"goto_table {flow.goto} from table {table}: OpenFlow only goes forward")
            self._table(flow.goto, pkt, out, depth + 1)

    def _actions(self, actions: tuple, pkt: Packet, out: list, depth: int) -> None:
        for act in actions:
            if isinstance(act, ofp.SetField):
                pkt.fields["in_port" if act.field == "nx_in_port" else act.field] = act.value
            elif isinstance(act, ofp.Move):
                pkt.fields[act.dst] = pkt.get(act.src)
            elif isinstance(act, ofp.DecTtl):
                pkt.fields["ip_ttl"] = pkt.get("ip_ttl") - 1
            elif isinstance(act, ofp.SetTtl):
                pkt.fields["ip_ttl"] = act.ttl
            elif isinstance(act, ofp.Output) and act.port == ofp.OFPP_IN_PORT:
                out.append((pkt.get("in_port"), _wire(pkt)))
            elif isinstance(act, ofp.Output):
                if act.port != pkt.get("in_port"):
                    out.append((act.port, _wire(pkt)))
            elif isinstance(act, ofp.GroupAction):
                group = self.groups[act.group_id]
                buckets = group.buckets if group.type == "all" else _selected(group.buckets, pkt)
                for bucket in buckets:
                    self._actions(bucket.actions, Packet(dict(pkt.fields)), out, depth + 1)
            elif isinstance(act, ofp.Multipath):
                pkt.fields[act.dst] = _hash(pkt, act.fields) % act.links
            elif isinstance(act, ofp.Resubmit):
                self._table(act.table, pkt, out, depth + 1)
            elif isinstance(act, ofp.PushVlan):
                pkt.fields["vlan_vid"] = ofp.OFPVID_PRESENT
            elif isinstance(act, ofp.PopVlan):
                pkt.fields.pop("vlan_vid", None)
            elif isinstance(act, ofp.Learn):
                self._learn(act, pkt)
            elif isinstance(act, ofp.Ct):
                self._ct(act, pkt, out, depth)
                return          # recirculated (nvapps ends action lists with ct)
            else:
                raise NotImplementedError(type(act).__name__)

    def _learn(self, act: ofp.Learn, pkt: Packet) -> None:
        items, loads = [], []
        for spec in act.specs:
            if isinstance(spec, ofp.LearnMatch):
                items.append((spec.dst, pkt.get(spec.src or spec.dst), None))
            else:
                loads.append(ofp.SetField(spec.dst, pkt.get(spec.src)))
        flow = ofp.Flow(act.table, act.priority, tuple(sorted(items)), tuple(loads))
        self.learned = [f for f in self.learned if f.match != flow.match] + [flow]
        self._index = None


    def _ct(self, act: ofp.Ct, pkt: Packet, out: list, depth: int) -> None:
        zone = pkt.get(act.zone_reg) & 0xFFFF if act.zone_reg else act.zone
        entries = self.conntrack.setdefault(zone, [])
        key = _tuple(pkt)
        conn = next((c for c in entries if key in (c.orig, c.reply)), None)
        mark = next((a.value for a in act.exec if isinstance(a, ofp.SetField) and a.field == "ct_mark"), None)
        pkt.fields["ct_mark"] = 0
        if conn is not None:
            reply = key == conn.reply and key != conn.orig
            state = ofp.CT_TRK | ofp.CT_EST | (ofp.CT_RPL if reply else 0)
            if act.nat is not None:          # apply the connection's translation in this direction
                _set_tuple(pkt, _swap(conn.orig) if reply else _swap(conn.reply))
            if act.commit and mark is not None:
                conn.mark = mark
            pkt.fields["ct_mark"] = conn.mark
        elif key[2] == TCP and pkt.fields.get("tcp_flags") is not None and not pkt.get("tcp_flags") & SYN:
            state = ofp.CT_TRK | ofp.CT_INV      # no connection starts without a SYN
        else:
            state = ofp.CT_TRK | ofp.CT_NEW
            if act.commit:
                if act.nat is not None and act.nat.kind is not None:
                    _translate(pkt, act.nat)
                entries.append(Connection(key, _swap(_tuple(pkt)), mark or 0))
        pkt.fields["ct_state"] = state
        if act.table is not None:
            self._table(act.table, pkt, out, depth + 1)


_PORTS = {6: ("tcp_src", "tcp_dst"), 17: ("udp_src", "udp_dst")}
TCP, SYN = 6, 0x02
SELECT = -1              # _hash() as a select group's
IPV6 = 0x86DD


def _tuple(pkt: Packet) -> tuple:
    proto = pkt.get("ip_proto")
    sport, dport = (pkt.get(f) for f in _PORTS.get(proto, ("", "")))
    version = "ipv6" if pkt.get("eth_type") == IPV6 else "ipv4"
    return pkt.get(f"{version}_src"), pkt.get(f"{version}_dst"), proto, sport, dport


def _swap(t: tuple) -> tuple:
    """The tuple of the other direction."""
    return t[1], t[0], t[2], t[4], t[3]


def _set_tuple(pkt: Packet, t: tuple) -> None:
    version = "ipv6" if pkt.get("eth_type") == IPV6 else "ipv4"
    pkt.fields[f"{version}_src"], pkt.fields[f"{version}_dst"] = t[0], t[1]
    if t[2] in _PORTS:
        src, dst = _PORTS[t[2]]
        pkt.fields[src], pkt.fields[dst] = t[3], t[4]


def _translate(pkt: Packet, nat: ofp.Nat) -> None:
    """Apply a new connection's nat(src=...) or nat(dst=...)."""
    side = "src" if nat.kind == "src" else "dst"
    pkt.fields[f"ipv4_{side}"] = ofp.FIELDS["ipv4_src"].parse(nat.ip)
    proto = pkt.get("ip_proto")
    if nat.ports is not None and proto in _PORTS:
        field = _PORTS[proto][0 if side == "src" else 1]
        low, high = nat.ports
        if not low <= pkt.get(field) <= high:
            pkt.fields[field] = low


def _hash(pkt: Packet, fields: int) -> int:
    """A stable hash of the packet's source address (HASH_NW_SRC), of its addresses, protocol and ports
    (HASH_L3L4_UDP), or (SELECT) what OVS's select groups hash: the same, but UDP's ports left out."""
    t = _tuple(pkt)
    if fields == SELECT and t[2] != TCP:
        t = t[:3]
    return zlib.crc32(repr(t[:1] if fields == ofp.HASH_NW_SRC else t).encode())


def _selected(buckets: tuple[ofp.Bucket, ...], pkt: Packet) -> tuple[ofp.Bucket, ...]:
    """A select group's one bucket for `pkt`, by its select hash over the buckets' weights (none for an empty
    group)."""
    ends = list(accumulate(b.weight for b in buckets))
    if not ends or not ends[-1]:
        return ()
    return (buckets[bisect_right(ends, _hash(pkt, SELECT) % ends[-1])],)


def _wire(pkt: Packet) -> dict[str, int]:
    """The header fields a packet leaves with (no pipeline registers)."""
    return {k: v for k, v in pkt.fields.items()
            if not k.startswith(("reg", "xxreg")) and k not in ("metadata", "in_port", "ct_state")}


def _matches(flow: ofp.Flow, pkt: Packet, conjunctions: set[int] | frozenset[int] = frozenset()) -> bool:
    """Whether `pkt` matches; `conj_id=C` matches when conjunction C is among the completed `conjunctions`."""
    for name, value, mask in flow.match:
        if name == "conj_id":
            if value not in conjunctions:
                return False
            continue
        have = pkt.get(name)
        if (have & mask if mask is not None else have) != value:
            return False
    return True


def _clauses_only(flow: ofp.Flow) -> bool:
    """Whether a flow's actions are all conjunction() clauses (it never applies itself)."""
    return bool(flow.actions) and all(isinstance(a, ofp.Conjunction) for a in flow.actions)


def _behaviour(flow: ofp.Flow) -> tuple:
    """What a flow does to a packet it matches."""
    return flow.actions, flow.write_metadata, flow.goto, flow.meter
