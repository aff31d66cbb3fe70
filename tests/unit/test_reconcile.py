"""Reconciliation: cookies name flow contents; diffs send only what differs, in a safe order."""
from __future__ import annotations

import struct

from nvapps import pipeline
from nvapps.core import messages, ofp
from nvapps.core.ofp import Flow, match
from nvapps.core.reconcile import Desired, Held, Installed, Piece, diff, flow_cookie, flow_digest, group_entries, update
from nvapps.core.stages import stage_defaults

L2 = pipeline.AppId.L2
A = Flow(0, 100, match(in_port=1), actions=(ofp.SetField("reg14", 1),), goto=5)
B = Flow(0, 100, match(in_port=2), actions=(ofp.SetField("reg14", 2),), goto=5)
G = ofp.Group(pipeline.group_id(L2, 1), "all", (ofp.Bucket((ofp.Output(1),)),))


def held(desired: Desired) -> Held:
    """What a switch holding `desired` reads back as."""
    return Held(frozenset(desired.flows), group_entries(desired.groups))


def both(new: Desired, old: Desired) -> list:
    """The changes from `old` to `new` as reconcile (read back) and update (last sent) compute them."""
    return [diff(new, held(old)), update(new, Installed.of(old))]


def test_cookie_is_the_app_prefix_plus_a_stable_digest_of_the_flow():
    cookie = flow_cookie(L2, A)
    assert cookie >> pipeline.COOKIE_APP_SHIFT == L2
    assert not cookie & pipeline.COOKIE_LEARNED
    assert cookie == flow_cookie(L2, Flow(0, 100, match(in_port=1), actions=(ofp.SetField("reg14", 1),), goto=5))
    assert cookie != flow_cookie(L2, Flow(0, 100, match(in_port=1), actions=(ofp.SetField("reg14", 9),), goto=5))
    assert cookie != flow_cookie(L2, Flow(0, 101, match(in_port=1), actions=(ofp.SetField("reg14", 1),), goto=5))


def test_a_flow_named_by_another_app_has_that_apps_cookie_and_keeps_its_first():
    flow = Flow(0, 100, match(in_port=1), actions=(ofp.SetField("reg14", 1),), goto=5)
    first = flow_cookie(L2, flow)
    other = flow_cookie(pipeline.AppId.L3, flow)
    assert other >> pipeline.COOKIE_APP_SHIFT == pipeline.AppId.L3
    assert other & ~pipeline.app_cookie(pipeline.AppId.L3) == first & ~pipeline.app_cookie(L2)
    assert flow_cookie(L2, flow) == first and flow.cookie == first



def test_a_piece_holds_equal_flows_once_each_named_by_the_pieces_app():
    flow = Flow(0, 100, match(in_port=1), actions=(ofp.SetField("reg14", 1),), goto=5)
    l3 = flow_cookie(pipeline.AppId.L3, flow)
    same = Flow(0, 100, match(in_port=1), actions=(ofp.SetField("reg14", 1),), goto=5)
    piece = Piece.of(L2, [flow, same, B])
    assert [f.cookie for f in piece.flows] == [flow_cookie(L2, same), flow_cookie(L2, B)]
    assert piece.flows[0] == flow and flow.cookie == l3

def test_the_drop_bit_marks_exactly_the_flows_where_packets_stop():
    table, priority = pipeline.NO_ROUTE
    stopping = [Flow(0, 100, match(in_port=1)), Flow(0, 100, actions=(ofp.Ct(commit=True),)),
                Flow(table, priority, actions=(ofp.Output(ofp.OFPP_CONTROLLER),))]
    going = [A, Flow(0, 100, meter=3), Flow(0, 100, write_metadata=(1, 0xFF)), Flow(0, 100, goto=5),
             Flow(0, 100, actions=(ofp.Ct(table=5),)), Flow(0, 100, actions=(ofp.Ct(), ofp.Output(1)))]
    for flow in stopping + going:
        cookie = flow_cookie(L2, flow)
        assert (cookie & pipeline.COOKIE_DROP != 0, cookie & pipeline.COOKIE_DIGEST_MASK) == \
            (flow in stopping, flow_digest(flow)), flow
        assert cookie & ~(pipeline.COOKIE_DROP | pipeline.COOKIE_DIGEST_MASK) == pipeline.app_cookie(L2)


def test_a_switch_that_holds_everything_gets_nothing():
    desired = Desired.build(L2, [A, B], [G])
    for changes in both(desired, desired):
        assert not changes and changes.messages() == []


def test_an_empty_switch_gets_every_flow_and_group():
    changes = diff(Desired.build(L2, [A, B], [G]), Held(frozenset(), {}))
    assert (changes.flow_mods, changes.group_mods) == (2, 1)


def test_a_changed_flow_is_added_before_its_old_version_is_deleted():
    old = Desired.build(L2, [A], [])
    changed = Flow(0, 100, match(in_port=1), actions=(ofp.SetField("reg14", 7),), goto=5)
    for changes in both(Desired.build(L2, [changed], []), old):
        assert [c for c, _ in changes.add_flows] == [flow_cookie(L2, changed)]
        assert changes.delete_cookies == [flow_cookie(L2, A)]
        commands = [struct.unpack_from("!B", m, 25)[0] for m in changes.messages()]
        assert commands == [messages.OFPFC_ADD, messages.OFPFC_DELETE]


def test_groups_are_added_first_and_deleted_last():
    g2 = ofp.Group(pipeline.group_id(L2, 2), "all", (ofp.Bucket((ofp.Output(2),)),))
    for changes in both(Desired.build(L2, [B], [G]), Desired.build(L2, [A], [g2])):
        types = [m[1] for m in changes.messages()]
        assert types == [messages.OFPT_GROUP_MOD, messages.OFPT_FLOW_MOD, messages.OFPT_FLOW_MOD, messages.OFPT_GROUP_MOD]


def test_a_group_with_changed_buckets_is_modified_in_place():
    changed = ofp.Group(G.group_id, "all", (ofp.Bucket((ofp.Output(1),)), ofp.Bucket((ofp.Output(3),))))
    for changes in both(Desired.build(L2, [], [changed]), Desired.build(L2, [], [G])):
        assert changes.modify_groups == [changed] and not changes.add_groups and not changes.delete_groups
        assert changes and changes.group_mods == 1 and changes.flow_mods == 0
        [message] = changes.messages()
        assert struct.unpack_from("!HBxI", message, 8) == (messages.OFPGC_MODIFY, 0, G.group_id)
        assert message[16:] == changed.encoded_buckets()


def test_an_update_looks_only_at_pieces_that_are_not_the_ones_sent():
    a, b = Piece.of(L2, [A]), Piece.of(L2, [B])
    installed = Installed.of(Desired({"a": a, "b": b}))
    bogus = Piece.of(L2, [])                # what a piece holds is not re-read while it is the same object
    assert not update(Desired({"a": a, "b": b}), installed)
    changes = update(Desired({"a": a, "b": bogus}), installed)
    assert (changes.add_flows, changes.delete_cookies) == ([], [flow_cookie(L2, B)])


def test_a_flow_in_several_pieces_stays_until_the_last_one_drops_it():
    installed = Installed.of(Desired({"x": Piece.of(L2, [A]), "y": Piece.of(L2, [A, B])}))
    assert installed.holders[flow_cookie(L2, A)] == 2
    step = Desired({"y": Piece.of(L2, [A, B])})
    changes = update(step, installed)
    assert not changes
    installed.apply(step, changes)
    moved = Desired({"z": Piece.of(L2, [A]), "w": Piece.of(L2, [B])})    # the same flows in other pieces
    changes = update(moved, installed)
    assert not changes
    installed.apply(moved, changes)
    last = Desired({"w": Piece.of(L2, [B])})
    assert update(last, installed).delete_cookies == [flow_cookie(L2, A)]
    installed.apply(last, update(last, installed))
    assert installed.holders == {flow_cookie(L2, B): 1}


def test_a_flow_a_second_piece_also_holds_is_not_sent_again():
    x = Piece.of(L2, [A])
    installed = Installed.of(Desired({"x": x}))
    assert not update(Desired({"x": x, "y": Piece.of(L2, [A])}), installed)


def test_groups_outside_the_apps_range_are_refused():
    try:
        Desired.build(L2, [], [ofp.Group(pipeline.group_id(pipeline.AppId.L3, 1), "all", ())])
    except ValueError as exc:
        assert "outside" in str(exc)
    else:
        raise AssertionError("a group of another app was accepted")


def test_stage_defaults_chain_every_stage_to_the_next():
    flows = list(stage_defaults().flows.values())
    gotos = {f.table: f.goto for f in flows}
    assert gotos[pipeline.Table.CLASSIFY] is None                  # unknown ports are dropped
    assert gotos[pipeline.Table.PORT_SECURITY] == pipeline.Table.ACL_FROM_VM
    assert gotos[pipeline.Table.ACL_FROM_VM] == pipeline.Table.LB_FROM_VM          # LB: before the L2 lookup
    assert gotos[pipeline.Table.LB_FROM_VM] == pipeline.Table.L2_CONTROL
    assert gotos[pipeline.Table.L2_CONTROL] == pipeline.Table.L2_LEARN
    assert gotos[pipeline.Table.LB_TO_VM] == pipeline.Table.ACL_TO_VM              # and before the to-VM ACL
    assert gotos[pipeline.Table.ACL_TO_VM] == pipeline.Table.EGRESS
    assert all(f.priority == pipeline.Priority.STAGE_DEFAULT for f in flows)


class _Counted(dict):
    """A section that counts how often its pieces are read."""

    reads = 0

    def items(self):
        _Counted.reads += 1
        return super().items()


def test_an_update_compares_only_the_sections_not_sent_last_and_those_piece_by_piece():
    kept = _Counted({("a",): Piece.of(L2, [A])})
    b = Piece.of(L2, [B])
    installed = Installed.of(Desired(sections=(kept, {("b",): b})))
    c = Flow(0, 100, match(in_port=3), goto=5)
    reads = _Counted.reads
    moved = Desired(sections=(kept, {("b", "moved"): b, ("c",): Piece.of(L2, [c])}))
    changes = update(moved, installed)
    assert _Counted.reads == reads                                          # the very section sent: not read
    assert (changes.add_flows, changes.delete_cookies) == ([(flow_cookie(L2, c), c)], [])   # b only moved
    installed.apply(moved, changes)
    gone = update(Desired(), installed)
    assert sorted(gone.delete_cookies) == sorted(flow_cookie(L2, f) for f in (A, B, c))
