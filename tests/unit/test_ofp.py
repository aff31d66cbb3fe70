"""Wire encoding: layouts the switch expects, canonical matches, and the reply fields reconciliation reads."""
from __future__ import annotations

import struct

import pytest

from nvapps.core import messages, ofp
from nvapps.core.ofp import Flow, match
from nvapps.pipeline import Priority, Table


def test_match_is_canonical_whatever_the_argument_order():
    assert match(eth_dst="02:00:00:00:00:01", metadata=5) == match(metadata=5, eth_dst="02:00:00:00:00:01")
    assert match(ipv4_dst=("10.0.0.0", "255.255.255.0")) == (("ipv4_dst", 0x0A000000, 0xFFFFFF00),)


def test_unknown_field_and_bad_values_are_refused():
    with pytest.raises(KeyError):
        match(no_such_field=1)
    with pytest.raises(ValueError):
        match(in_port="eth0")


def test_flow_add_layout():
    flow = Flow(21, 100, match(metadata=7, eth_dst="02:00:00:00:00:01"),
                actions=(ofp.SetField("reg15", 5),), goto=60)
    msg = messages.flow_add(flow, cookie=0x0200000000000abc, xid=9)
    version, type_, length, xid, cookie, mask, table, command = struct.unpack_from("!BBHIQQBB", msg)
    assert (version, type_, length, xid, cookie, mask, table, command) == \
        (4, messages.OFPT_FLOW_MOD, len(msg), 9, 0x0200000000000abc, 0, 21, messages.OFPFC_ADD)
    assert struct.unpack_from("!H", msg, 30)[0] == 100            # priority
    assert len(msg) % 8 == 0
    match_type, match_len = struct.unpack_from("!HH", msg, 48)
    assert (match_type, match_len) == (1, 4 + 12 + 10)           # OXM metadata (8) + eth_dst (6)


def test_every_action_encodes_to_a_multiple_of_eight_bytes():
    learn = ofp.Learn(22, 100, 1, (ofp.LearnMatch("metadata"), ofp.LearnMatch("eth_dst", "eth_src"),
                                   ofp.LearnLoad("reg14", "reg15")), idle_timeout=300)
    for action in (ofp.Output(1), ofp.GroupAction(7), ofp.PushVlan(), ofp.PopVlan(),
                   ofp.SetField("vlan_vid", 0x1005), ofp.SetField("reg15", 1), ofp.Resubmit(60), learn,
                   ofp.Move("eth_src", "eth_dst"), ofp.DecTtl(), ofp.SetTtl(64)):
        raw = action.encode()
        assert len(raw) % 8 == 0 and struct.unpack_from("!H", raw, 2)[0] == len(raw), action


def test_delete_by_cookie_targets_all_tables_with_an_exact_cookie():
    msg = messages.flow_delete_by_cookie(0x123)
    _, _, length, _, cookie, mask, table, command = struct.unpack_from("!BBHIQQBB", msg)
    assert (length, cookie, mask, table, command) == (56, 0x123, 2**64 - 1, messages.OFPTT_ALL, messages.OFPFC_DELETE)


def test_bundle_add_carries_the_inner_xid_and_wraps_the_whole_message():
    inner = messages.with_xid(messages.flow_add(Flow(0, 1), 1), 77)
    wrapped = messages.bundle_add(5, inner)
    assert struct.unpack_from("!BBHI", wrapped) == (4, messages.OFPT_EXPERIMENTER, len(wrapped), 77)
    assert struct.unpack_from("!IIIxxH", wrapped, 8) == (messages.ONF_EXPERIMENTER_ID, messages.ONF_ET_BUNDLE_ADD_MESSAGE,
                                                          5, messages.ONF_BF_ATOMIC | messages.ONF_BF_ORDERED)
    assert wrapped[24:] == inner


def _multipart_reply(mp_type: int, body: bytes, flags: int = 0) -> bytes:
    return struct.pack("!BBHIHH4x", 4, messages.OFPT_MULTIPART_REPLY, 16 + len(body), 1, mp_type, flags) + body


def test_flow_stats_reply_yields_cookies():
    def entry(cookie: int) -> bytes:
        m = ofp.encode_match(match(in_port=1))
        return struct.pack("!HBxIIHHHH4xQQQ", 48 + len(m), 0, 1, 0, 100, 0, 0, 0, cookie, 3, 300) + m
    mp_type, flags, body = messages.multipart_body(_multipart_reply(messages.OFPMP_FLOW, entry(11) + entry(22), 1))
    assert (mp_type, flags) == (messages.OFPMP_FLOW, 1)
    assert messages.flow_stats_cookies(body) == [(11, 3), (22, 3)]


def test_group_desc_reply_round_trips_our_bucket_encoding():
    group = ofp.Group(0x02000007, "all", (ofp.Bucket((ofp.SetField("reg15", 5), ofp.Resubmit(60))),))
    buckets = group.encoded_buckets()
    body = struct.pack("!HBxI", 8 + len(buckets), 0, group.group_id) + buckets
    assert messages.group_desc_entries(body) == {group.group_id: (0, buckets)}


def test_error_names_the_cookie_of_the_refused_flow_inside_a_bundle():
    inner = messages.bundle_add(1, messages.flow_add(Flow(0, 1), 0xABC, xid=3))
    err = struct.pack("!BBHIHH", 4, messages.OFPT_ERROR, 12 + 64, 3, 5, 0) + inner[:64]
    assert messages.error_details(err) == (5, 0, 0xABC)


def test_meter_instruction_comes_first():
    flow = Flow(30, 1, match(), actions=(ofp.Output(ofp.OFPP_CONTROLLER, 0xFFFF),), meter=3)
    body = flow.body()
    instructions = body[3 + len(ofp.encode_match(())):]
    assert struct.unpack_from("!HHI", instructions) == (6, 8, 3)


def test_meter_and_packet_out_layouts():
    meter = messages.meter_add(3, 100)
    assert struct.unpack_from("!BBHIHHI", meter) == (4, messages.OFPT_METER_MOD, 32, 0, messages.OFPMC_ADD, messages.OFPMF_PKTPS, 3)
    out = messages.packet_out(b"x" * 10, (ofp.Output(2),))
    assert struct.unpack_from("!BBHIIIH", out) == (4, messages.OFPT_PACKET_OUT, 24 + 16 + 10, 0, messages.OFP_NO_BUFFER,
                                                   ofp.OFPP_CONTROLLER, 16)


def _parse_action(raw: bytes):
    from os_ken.ofproto import ofproto_v1_3_parser as parser
    return parser.OFPAction.parser(raw, 0)


def test_conntrack_and_conjunction_actions_decode_as_os_ken_reads_them():
    ct = _parse_action(ofp.Ct(zone_reg="reg13", commit=True, exec=(ofp.SetField("ct_mark", 1),)).encode())
    assert (ct.flags, ct.zone_src, ct.zone_ofs_nbits, ct.recirc_table) == (1, "reg13", 15, 255)
    assert [(a.key, a.value) for a in ct.actions] == [("ct_mark", 1)]
    recirc = _parse_action(ofp.Ct(zone=7, table=13).encode())
    assert (recirc.flags, recirc.zone_src, recirc.zone_ofs_nbits, recirc.recirc_table) == (0, "", 7, 13)
    conj = _parse_action(ofp.Conjunction(0x1234, 2, 2).encode())
    assert (conj.clause, conj.n_clauses, conj.id) == (1, 2, 0x1234)     # os-ken keeps the wire's 0-based clause
    assert len(ofp.CtClear().encode()) == 16


def test_ct_state_specs_and_ipv6_and_conntrack_fields_match():
    assert ofp.ct_state("+trk+est-rpl") == (ofp.CT_TRK | ofp.CT_EST, ofp.CT_TRK | ofp.CT_EST | ofp.CT_RPL)
    for bad in ("", "trk", "+TRK", "+trk+invX", "X+trk", "+trk +est", "+bogus"):
        with pytest.raises(ValueError):
            ofp.ct_state(bad)
    items = match(ct_state=ofp.ct_state("+trk+new"), eth_type=0x86DD, ipv6_src="fe80::1", conj_id=9)
    assert [name for name, _, _ in items] == ["eth_type", "ipv6_src", "conj_id", "ct_state"]
    assert len(ofp.encode_match(items)) % 8 == 0


def test_nicira_field_numbers_agree_with_os_kens_definitions():
    from os_ken.ofproto import nicira_ext
    theirs = {f.name: f.oxm_field for f in nicira_ext.oxm_types if type(f).__name__ == "NiciraExtended1"}
    ours = {name: f.number for name, f in ofp.FIELDS.items() if f.oxm_class == 0x0001}
    renamed = {"ip_ttl": "nw_ttl"}
    assert {name: theirs[renamed.get(name, name)] for name in ours} == ours


def test_nat_inside_ct_decodes_as_os_ken_reads_it():
    ct = _parse_action(ofp.Ct(zone=0xC001, commit=True, table=30,
                              nat=ofp.Nat("src", "172.16.0.5", (1024, 65535))).encode())
    (nat,) = ct.actions
    assert (ct.flags, ct.zone_ofs_nbits, ct.recirc_table) == (1, 0xC001, 30)
    assert (nat.flags, nat.range_ipv4_min, nat.range_proto_min, nat.range_proto_max) == (1, "172.16.0.5", 1024, 65535)
    reverse = _parse_action(ofp.Ct(zone=3, table=41, nat=ofp.Nat()).encode()).actions[0]
    assert (reverse.flags, reverse.range_ipv4_min, reverse.len) == (0, "", 16)
    dnat = _parse_action(ofp.Ct(zone=3, commit=True, nat=ofp.Nat("dst", "10.0.1.11")).encode()).actions[0]
    assert (dnat.flags, dnat.range_ipv4_min, dnat.range_proto_min) == (2, "10.0.1.11", None)


def test_ct_flush_is_byte_for_byte_what_ovs_ofctl_sends():
    # captured from `ovs-ofctl -O OpenFlow13 ct-flush tcp:... ARGS` (Open vSwitch 3.1) by a fake switch
    assert messages.ct_flush(7, messages.CtTuple(dst="10.9.0.11"), xid=2).hex() == (   # zone=7 ct_nw_dst=10.9.0.11
        "04040040000000020000232000000020000000000000000000000020000000000001001400000000000000000000ffff"
        "0a09000b000000000002000800070000")
    assert messages.ct_flush(7, messages.CtTuple(src="10.9.0.1", dst_port=80), ip_proto=6, xid=2).hex() == (
        "04040048000000020000232000000020060000000000000000000028000000000000001400000000000000000000ffff"
        "0a0900010000000000030008005000000002000800070000")      # zone=7 ct_nw_src=..,ct_nw_proto=6,ct_tp_dst=80
    assert messages.ct_flush(0xC001, reply=messages.CtTuple(dst="10.9.0.2"), xid=2).hex() == (  # '' 'ct_nw_dst=10.9.0.2'
        "04040040000000020000232000000020000000000000000000010020000000000001001400000000000000000000ffff"
        "0a0900020000000000020008c0010000")


def _stats_entry(table: int, priority: int, packets: int, instructions: bytes, match=(("reg14", 5, None),)) -> bytes:
    """One entry of a FLOW multipart reply, as a switch sends it."""
    body = ofp.encode_match(match) + instructions
    return struct.pack("!HBxIIHHHH4xQQQ", 48 + len(body), table, 1, 2, priority, 0, 0, 0, 7, packets, 0) + body


def test_flow_stats_counts_are_read_from_the_bytes():
    goto = struct.pack("!HHB3x", ofp.OFPIT_GOTO_TABLE, 8, 20)
    body = _stats_entry(5, 10, 3, b"") + _stats_entry(14, 100, 6, goto) + _stats_entry(16, 160, 7, goto, match=())
    assert list(messages.flow_stats_counts(body)) == [(5, 10, 3), (14, 100, 6), (16, 160, 7)]


def test_flows_built_apart_hold_the_same_match_fields_and_actions_and_encode_alike():
    one = ofp.Flow(Table.L2_LOOKUP, Priority.SPECIFIC, ofp.match(reg14=7, eth_dst="02:00:00:00:00:07"),
                   actions=(ofp.SetField("reg15", 7), ofp.Output(3)))
    two = ofp.Flow(Table.EGRESS, Priority.SPECIFIC, ofp.match(reg14=7), actions=(ofp.SetField("reg15", 7),), goto=40)
    assert one.match[-1] is two.match[0] and one.actions[0] is two.actions[0]      # reg14=7, set reg15
    assert one.wire == ofp.Flow(Table.L2_LOOKUP, Priority.SPECIFIC, ofp.match(reg14=7, eth_dst="02:00:00:00:00:07"),
                                actions=(ofp.SetField("reg15", 7), ofp.Output(3))).wire
    assert ofp.Flow(1, 1, origin=(("port", "p1"),)).origin is ofp.Flow(2, 1, origin=(("port", "p1"),)).origin
    assert one.match is ofp.Flow(Table.L2_LOOKUP, 1, ofp.match(reg14=7, eth_dst="02:00:00:00:00:07")).match
    assert ofp.shared([1]) == [1]           # what cannot be hashed is kept as it is
    ofp.forget_shared()
    three = ofp.Flow(Table.EGRESS, Priority.SPECIFIC, ofp.match(reg14=7), actions=(ofp.SetField("reg15", 7),))
    assert three.match == two.match and three.match[0] is not two.match[0]
    assert three.actions[0] is ofp.Flow(Table.EGRESS, 1, actions=(ofp.SetField("reg15", 7),)).actions[0]
