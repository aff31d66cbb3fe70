"""A small OpenFlow pipeline simulator for unit tests: which ports a packet leaves by, and how.

It runs nvapps flow specs (the subset of fields and actions nvapps emits) the way OVS would: highest
priority match per table, apply-actions then write-metadata then goto, groups of type "all" clone the
packet per bucket, resubmit runs a table and returns, output to the ingress port is skipped, learn()
writes a flow.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from nvapps.core import ofp

MAX_DEPTH = 64


@dataclass
class Packet:
    """Header fields by nvapps field name (ints); registers and metadata start at 0."""

    fields: dict[str, int]

    def get(self, name: str) -> int:
        return self.fields.get(name, 0)


@dataclass
class FakeSwitch:
    flows: list[ofp.Flow]
    groups: dict[int, ofp.Group] = field(default_factory=dict)
    learned: list[ofp.Flow] = field(default_factory=list)

    @classmethod
    def of(cls, flows: list[ofp.Flow], groups: list[ofp.Group]) -> "FakeSwitch":
        return cls(list(flows), {g.group_id: g for g in groups})

    def send(self, in_port: int, **headers: int | str) -> list[tuple[int, dict[str, int]]]:
        """(out port, header fields on the wire) for every copy of a packet entering at `in_port`."""
        values = {k: ofp.FIELDS[k].parse(v) for k, v in headers.items()}
        pkt = Packet({"in_port": in_port, **values})
        out: list[tuple[int, dict[str, int]]] = []
        self._table(0, pkt, out, 0)
        return out

    def _lookup(self, table: int, pkt: Packet) -> ofp.Flow | None:
        best = None
        for f in self.flows + self.learned:
            if f.table == table and _matches(f, pkt) and (best is None or f.priority > best.priority):
                best = f
        return best

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
                for bucket in self.groups[act.group_id].buckets:
                    self._actions(bucket.actions, Packet(dict(pkt.fields)), out, depth + 1)
            elif isinstance(act, ofp.Resubmit):
                self._table(act.table, pkt, out, depth + 1)
            elif isinstance(act, ofp.PushVlan):
                pkt.fields["vlan_vid"] = ofp.OFPVID_PRESENT
            elif isinstance(act, ofp.PopVlan):
                pkt.fields.pop("vlan_vid", None)
            elif isinstance(act, ofp.Learn):
                self._learn(act, pkt)
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


def _wire(pkt: Packet) -> dict[str, int]:
    """The header fields a packet leaves with (no pipeline registers)."""
    return {k: v for k, v in pkt.fields.items() if not k.startswith("reg") and k not in ("metadata", "in_port")}


def _matches(flow: ofp.Flow, pkt: Packet) -> bool:
    for name, value, mask in flow.match:
        have = pkt.get(name)
        if (have & mask if mask is not None else have) != value:
            return False
    return True
