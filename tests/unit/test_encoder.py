"""The encoder proven against os-ken: every kind of action nvapps has, and every flow and group of every
app on random clouds, is read by os-ken's OpenFlow 1.3 + Nicira parser and written back to the same bytes
(every flow a unit test puts into the fake switch is checked the same way: tests/unit/fakeswitch.py)."""
from __future__ import annotations

import struct

import pytest

from nvapps import pipeline
from nvapps.core import ofp
from nvapps.pipeline import Priority, Table
from tests.unit.test_incremental import random_rounds
from tests.unit.wirecheck import check_flow, check_group

EXAMPLES: list[ofp.Action] = [
    ofp.Output(3), ofp.Output(ofp.OFPP_CONTROLLER, 65535), ofp.GroupAction(pipeline.group_id(pipeline.AppId.L2, 5)),
    ofp.PushVlan(), ofp.SetField("vlan_vid", 0x1000 | 7), ofp.PopVlan(),
    ofp.SetField("metadata", 0x80000003), ofp.SetField("reg12", 0x7F000001), ofp.SetField("tun_ipv4_dst", "127.0.0.2"),
    ofp.SetField("tunnel_id", 42), ofp.SetField("eth_src", "02:00:00:00:00:01"), ofp.SetField("arp_op", 2),
    ofp.Move("eth_src", "eth_dst"), ofp.Move("reg14", "reg15"), ofp.Move("ipv4_dst", "reg0"),
    ofp.DecTtl(), ofp.SetTtl(64), ofp.Resubmit(Table.L2_LOOKUP),
    ofp.Learn(Table.L2_LEARNED, Priority.SPECIFIC, pipeline.learned_cookie(pipeline.AppId.L2),
              (ofp.LearnMatch("metadata"), ofp.LearnMatch("eth_dst", "eth_src"), ofp.LearnLoad("reg14", "reg15")),
              idle_timeout=300),
    ofp.Conjunction(0x1234, 2, 2),
    ofp.Ct(zone_reg="reg13", table=Table.SG_FROM_VM_STATE),
    ofp.Ct(zone_reg="reg13", commit=True, exec=(ofp.SetField("ct_mark", 1),)),
    ofp.Ct(zone=0xC001, commit=True, nat=ofp.Nat("src", "172.16.0.100", (1024, 65535)), table=Table.NAT_EGRESS),
    ofp.Ct(zone=0xC001, nat=ofp.Nat(), table=Table.NAT_DNAT),
    ofp.Ct(zone=0xC001, commit=True, nat=ofp.Nat("dst", "10.0.0.5"), table=Table.L3_INPUT),
    ofp.CtClear(), ofp.Multipath(5, "reg11"), ofp.Multipath(3, "reg11", ofp.HASH_L3L4_UDP),
]


def _kinds(cls: type) -> set[type]:
    return {sub for direct in cls.__subclasses__() for sub in {direct} | _kinds(direct)}


def test_every_kind_of_action_reads_back_identically_in_os_ken():
    assert {type(a) for a in EXAMPLES} | {ofp.Nat} == _kinds(ofp.Action)      # Nat lives inside Ct
    names = set()
    for action in EXAMPLES:
        names |= set(check_flow(ofp.Flow(Table.L2_LOOKUP, Priority.SPECIFIC, ofp.match(reg14=1), (action,))))
    assert {"NXActionNAT", "NXActionLearn", "NXActionCT", "NXActionConjunction", "NXActionRegMove",
            "NXActionResubmitTable", "NXActionCTClear", "NXActionMultipath"} <= names
    check_flow(ofp.Flow(Table.L2_CONTROL, Priority.SPECIFIC, ofp.match(eth_type=0x0800, ip_proto=17, udp_dst=67),
                        (ofp.Output(ofp.OFPP_CONTROLLER),), meter=8, write_metadata=(5, 0xFFFFFFFF),
                        goto=Table.L2_LEARN))


def stops_on_the_wire(instructions: bytes) -> bool:
    """Whether encoded instructions stop the packet (none, or only a ct() that does not recirculate): read from
    the bytes, apart from `reconcile.stops`, which reads the flow."""
    if not instructions:
        return True
    kind, length = struct.unpack_from("!HH", instructions, 0)
    actions = instructions[8:length]
    if kind != ofp.OFPIT_APPLY_ACTIONS or length != len(instructions) or len(actions) < 24:
        return False
    atype, alen, vendor, subtype = struct.unpack_from("!HHIH", actions, 0)
    return (atype, alen, vendor, subtype) == (0xFFFF, len(actions), ofp.NX_VENDOR_ID, ofp.NXAST_CT) and \
        actions[18] == ofp.NX_CT_RECIRC_NONE


def test_the_wire_oracle_tells_where_packets_stop():
    def actions(*acts: ofp.Action) -> bytes:
        encoded = b"".join(a.encode() for a in acts)
        return struct.pack("!HH4x", ofp.OFPIT_APPLY_ACTIONS, 8 + len(encoded)) + encoded
    goto = struct.pack("!HHB3x", ofp.OFPIT_GOTO_TABLE, 8, 20)
    blocked = ofp.Ct(zone_reg="reg13", commit=True, exec=(ofp.SetField("ct_mark", 1),))
    assert [stops_on_the_wire(i) for i in (b"", actions(blocked), actions(ofp.Ct(zone_reg="reg13", table=13)), goto,
                                           actions(ofp.PUNT), actions(blocked) + goto)] == \
        [True, True, False, False, False, False]


@pytest.mark.parametrize("seed", range(3))
def test_every_flow_and_group_of_random_clouds_reads_back_identically_in_os_ken(seed):
    flows, groups = {}, {}
    for plane in random_rounds(seed, 100):
        for table in plane.tables.values():
            flows.update(table.flows)
            groups.update({g.encoded_buckets(): g for g in table.groups.values()})
    for cookie, flow in flows.items():
        check_flow(flow)
        instructions = flow.wire[3 + ofp.pad8(int.from_bytes(flow.wire[5:7], "big")):]
        assert bool(cookie & pipeline.COOKIE_DROP) == (stops_on_the_wire(instructions) or
                                                      (flow.table, flow.priority) == pipeline.NO_ROUTE), flow
    assert any(cookie & pipeline.COOKIE_DROP for cookie in flows) and not all(c & pipeline.COOKIE_DROP for c in flows)
    for group in groups.values():
        check_group(group)
    assert len(flows) > 200 and any(g.type == "select" for g in groups.values())     # LB pools too
