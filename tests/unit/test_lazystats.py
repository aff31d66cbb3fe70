"""Flow-stats and group-description replies: os-ken builds no per-entry objects until an entry is read, and then
the same ones."""
from __future__ import annotations

import struct

from os_ken.ofproto import ofproto_v1_3_parser

from nvapps.core import lazystats, messages, ofp
from nvapps.core.ofp import Flow, match

OFPT_MULTIPART_REPLY = 19


def flow_stats_reply(entries: list[tuple[int, Flow]], xid: int = 7) -> bytes:
    """A FLOW multipart reply holding `entries` (cookie, flow), as a switch sends it."""
    body = b""
    for cookie, flow in entries:
        wire = flow.wire
        table, priority, rest = wire[0], struct.unpack_from("!H", wire, 1)[0], wire[3:]
        body += struct.pack("!HBxIIHHHH4xQQQ", 48 + len(rest), table, 1, 2, priority, 0, 0, 0, cookie, 3, 4) + rest
    return struct.pack("!BBHIHH4x", messages.OFP_VERSION, OFPT_MULTIPART_REPLY, 16 + len(body), xid, messages.OFPMP_FLOW,
                       0) + body


FLOWS = [(0x0200000000000001 + i, Flow(21, 100 + i, match(metadata=i + 1, eth_dst=f"02:00:00:00:00:0{i + 1}"),
                                       actions=(ofp.SetField("reg15", i + 5),), goto=60)) for i in range(3)]


def parse(buf: bytes):
    return ofproto_v1_3_parser.msg_parser(None, messages.OFP_VERSION, OFPT_MULTIPART_REPLY, len(buf), 7, buf)


def test_entries_are_not_parsed_until_read_and_then_read_as_os_ken_would():
    lazystats.install()
    msg = parse(flow_stats_reply(FLOWS))
    assert [type(e) for e in msg.body] == [lazystats.LazyFlowStats] * 3
    assert all(e._parsed is None for e in msg.body)
    assert [e.cookie for e in msg.body] == [c for c, _ in FLOWS]
    assert [e.priority for e in msg.body] == [100, 101, 102]
    assert msg.body[2].match["eth_dst"] == "02:00:00:00:00:03"
    assert msg.body[1].instructions[0].actions[0].value == 6


def test_reconciliation_reads_the_cookies_from_the_bytes():
    buf = flow_stats_reply(FLOWS)
    assert messages.flow_stats_cookies(messages.multipart_body(buf)[2]) == [(c, 3) for c, _ in FLOWS]


def group_desc_reply(groups: list[ofp.Group], xid: int = 7) -> bytes:
    """A GROUP_DESC multipart reply holding `groups`, as a switch sends it."""
    body = b""
    for g in groups:
        buckets = g.encoded_buckets()
        body += struct.pack("!HBxI", 8 + len(buckets), messages.GROUP_TYPES[g.type], g.group_id) + buckets
    return struct.pack("!BBHIHH4x", messages.OFP_VERSION, OFPT_MULTIPART_REPLY, 16 + len(body), xid,
                       messages.OFPMP_GROUP_DESC, 0) + body


GROUPS = [ofp.Group(0x1000 + i, "all", tuple(ofp.Bucket((ofp.SetField("reg15", p), ofp.Resubmit(60)))
                                             for p in range(i + 1))) for i in range(3)]


def test_groups_are_not_parsed_until_read_and_then_read_as_os_ken_would():
    lazystats.install()
    msg = parse(group_desc_reply(GROUPS))
    assert [type(e) for e in msg.body] == [lazystats.LazyGroupDesc] * 3
    assert all(e._parsed is None for e in msg.body)
    assert [e.group_id for e in msg.body] == [0x1000, 0x1001, 0x1002]
    assert [len(e.buckets) for e in msg.body] == [1, 2, 3]
    assert msg.body[2].buckets[1].actions[0].value == 1


def test_reconciliation_reads_the_groups_from_the_bytes():
    buf = group_desc_reply(GROUPS)
    assert messages.group_desc_entries(messages.multipart_body(buf)[2]) == {
        g.group_id: (messages.GROUP_TYPES[g.type], g.encoded_buckets()) for g in GROUPS}
