"""Proof of the encoder: os-ken (an independent OpenFlow 1.3 + Nicira implementation) parses what nvapps
sends and serialises it back to the very same bytes, with every action decoded as a known class."""
from __future__ import annotations

from os_ken.ofproto import ofproto_parser
from os_ken.ofproto import ofproto_v1_3 as ofproto
from os_ken.ofproto import ofproto_v1_3_parser as parser

from nvapps.core import messages, ofp

_checked: set[bytes] = set()


class _Datapath:
    ofproto = ofproto
    ofproto_parser = parser
    id = 1


def _names(actions) -> list[str]:
    out = []
    for action in actions:
        out.append(type(action).__name__)
        out += _names(getattr(action, "actions", None) or [])
    return out


def check_flow(flow: ofp.Flow) -> list[str]:
    """Assert os-ken reads `flow`'s FLOW_MOD and writes it back byte for byte; the action classes it read."""
    buf = messages.flow_add(flow, 0x0200000000000001)
    version, msg_type, length, xid = ofproto_parser.header(buf)
    msg = ofproto_parser.msg(_Datapath(), version, msg_type, length, xid, buf)
    msg.serialize()
    assert bytes(msg.buf) == buf, f"os-ken re-encodes {flow} differently:\n{buf.hex()}\n{bytes(msg.buf).hex()}"
    names = [n for inst in msg.instructions for n in _names(getattr(inst, "actions", None) or [])]
    assert not [n for n in names if "Unknown" in n], f"os-ken does not know an action of {flow}: {names}"
    return names


def check_group(group: ofp.Group) -> list[str]:
    """Assert os-ken reads the group's buckets and writes them back byte for byte; the action classes read."""
    buf, offset, again, names = group.encoded_buckets(), 0, bytearray(), []
    while offset < len(buf):
        bucket = parser.OFPBucket.parser(buf, offset)
        bucket.serialize(again, len(again))
        names += _names(bucket.actions)
        offset += bucket.len
    assert bytes(again) == buf, f"os-ken re-encodes {group} differently"
    return names


def check_once(flows: list[ofp.Flow], groups: list[ofp.Group]) -> None:
    """check_flow/check_group for each flow and group not seen before in this test session."""
    for flow in flows:
        if flow.wire not in _checked:
            check_flow(flow)
            _checked.add(flow.wire)
    for group in groups:
        key = group.encoded_buckets()
        if key not in _checked:
            check_group(group)
            _checked.add(key)
