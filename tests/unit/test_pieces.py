"""Pieces kept between rounds: found again while their inputs are unchanged, forgotten once nothing uses them."""
from __future__ import annotations

from nvapps import pipeline
from nvapps.core import pieces as pieces_module
from nvapps.core.ofp import Bucket, Flow, Group, Output, match
from nvapps.core.pieces import Pieces
from nvapps.core.reconcile import Desired
from nvapps.pipeline import Priority, Table


def _flows(n: int) -> list[Flow]:
    return [Flow(Table.L2_LOOKUP, Priority.SPECIFIC, match(metadata=1, eth_dst=f"02:00:00:00:{n >> 8:02x}:{n & 255:02x}"),
                 goto=pipeline.next_stage("l2"))]


def _state(pieces: Pieces, keys: range) -> Desired:
    return Desired({k: pieces.get(("port", k), lambda k=k: _flows(k)) for k in keys})


def test_unused_pieces_go_once_they_outnumber_the_live_ones_and_used_ones_stay_the_same(monkeypatch):
    monkeypatch.setattr(pieces_module, "GC_SLACK", 10)
    pieces = Pieces(pipeline.AppId.L2)
    first = pieces.chassis("hv1", (0,), lambda: _state(pieces, range(0, 20)))
    kept = first.pieces[5]
    sizes = []
    for r in range(1, 40):      # each round one port leaves and one joins: the window slides
        pieces.chassis("hv1", (r,), lambda r=r: _state(pieces, range(r, r + 20)))
        pieces.next_round()
        sizes.append(len(pieces._store))
        if r < 5:
            assert pieces.chassis("hv1", (r,), lambda: Desired()).pieces[5] is kept
    assert max(sizes) <= 2 * 20 + 10 + 1         # bounded: the unused were forgotten
    assert min(sizes[30:]) >= 20                 # never the live ones
    assert pieces.get(("port", 5), lambda: _flows(5)) is not kept      # 5 left long ago: built anew
    built = pieces.built
    pieces.get(("port", 39), lambda: _flows(39))                        # live: found again
    assert pieces.built == built


def test_unused_pieces_stay_until_the_store_outgrows_twice_the_live_ones_and_the_slack(monkeypatch):
    monkeypatch.setattr(pieces_module, "GC_SLACK", 4)
    pieces = Pieces(pipeline.AppId.L2)
    for k in range(3):
        pieces.get(("port", k), lambda k=k: _flows(k))
    pieces.next_round()
    pieces.get(("port", 3), lambda: _flows(3))   # 4 = 2 * 0 live + GC_SLACK pieces: not more, none goes
    pieces.next_round()
    built = pieces.built
    assert all(pieces.get(("port", k), lambda: []) for k in range(4)) and pieces.built == built
    pieces.next_round()
    pieces.get(("port", 4), lambda: _flows(4))   # 5 > 4: only what the last round used stays
    pieces.next_round()
    pieces.get(("port", 0), lambda: _flows(0))
    assert pieces.built == built + 2


def test_a_collection_asked_for_forgets_what_no_state_uses_at_once_and_keeps_what_one_does():
    pieces = Pieces(pipeline.AppId.L2)
    pieces.chassis("hv1", (0,), lambda: _state(pieces, range(0, 20)))     # built on the fabric while it came
    pieces.next_round()
    pieces.chassis("hv1", (1,), lambda: _state(pieces, range(10, 30)))    # the state once all came
    pieces.next_round(collect=True)
    assert set(pieces._store) == {("port", k) for k in range(10, 30)}   # far below twice the live: gone still
    built = pieces.built
    pieces.next_round(collect=True)                                         # nothing new: nothing to collect
    assert pieces.get(("port", 10), lambda: []) and pieces.built == built


def test_a_value_is_computed_once_and_kept_with_its_pieces_while_a_chassis_state_that_read_it_is(monkeypatch):
    monkeypatch.setattr(pieces_module, "GC_SLACK", 0)
    pieces = Pieces(pipeline.AppId.L2)
    computed = []

    def members() -> dict:
        computed.append(1)
        return {"port": pieces.get(("port", 1), lambda: _flows(1))}

    def state() -> Desired:
        return Desired({"port": pieces.value("members", members)["port"]})

    pieces.chassis("hv1", (0,), state)
    assert pieces.built == 2                     # the piece and the chassis state
    pieces.next_round()
    for r in range(1, 4):                        # rounds that build other pieces only: collections come
        pieces.get(("port", 100 + r), lambda r=r: _flows(100 + r))
        pieces.next_round()
    built = pieces.built
    assert pieces.value("members", members)["port"] is pieces.get(("port", 1), lambda: [])
    assert computed == [1] and pieces.built == built


def _values(pieces: Pieces) -> int:
    return sum(1 for k in pieces._store if k[0] in ("value", "group"))


def test_a_value_counts_with_its_entries_so_values_made_anew_each_round_do_not_pile_up(monkeypatch):
    monkeypatch.setattr(pieces_module, "GC_SLACK", 0)
    pieces = Pieces(pipeline.AppId.L2)

    def members() -> dict:
        return {k: pieces.get(("port", k), lambda k=k: _flows(k)) for k in range(50)}

    kept = []
    for r in range(10):         # a network's members made anew each round (the same 50 pieces), no chassis state
        pieces.value(("members", r), members)
        pieces.next_round()
        kept.append(_values(pieces))
    assert max(kept) <= 3 and kept[-1] >= 1
    assert pieces.built == 50                    # the pieces once


def test_a_value_or_group_no_chassis_state_reads_any_more_goes_when_the_round_ends(monkeypatch):
    monkeypatch.setattr(pieces_module, "GC_SLACK", 10 ** 9)     # no collection: only the readers count
    pieces = Pieces(pipeline.AppId.L2)
    group = Group(pipeline.group_id(pipeline.AppId.L2, 1), "all", (Bucket((Output(1),)),))

    def state(r: int) -> Desired:
        pieces.group(("flood", r), lambda: group)
        return Desired(pieces.value(("members", r), lambda: {"port": pieces.get(("port", 1), lambda: _flows(1))}))

    for r in range(5):          # hv1 reads the members of round r, hv2 those of round r - 1 (two rounds alike)
        pieces.chassis("hv1", (r,), lambda r=r: state(r))
        pieces.chassis("hv2", (r - 1,), lambda r=r: state(r - 1))
        pieces.next_round()
        assert _values(pieces) == 4
        assert {k[1] for k in pieces._store if k[0] in ("value", "group")} == {("members", r), ("members", r - 1),
                                                                                 ("flood", r), ("flood", r - 1)}
    assert pieces.built == 1 + 6 + 2 * 5         # the port once, the groups of rounds -1 to 4, two states a round


def test_a_collection_keeps_what_a_live_value_was_computed_from_values_inside_values_too(monkeypatch):
    monkeypatch.setattr(pieces_module, "GC_SLACK", 0)
    pieces = Pieces(pipeline.AppId.L2)

    def inner() -> dict:
        return {"port": pieces.get(("port", 1), lambda: _flows(1))}

    def outer() -> dict:
        return dict(pieces.value("inner", inner))

    pieces.chassis("hv1", (0,), lambda: Desired(pieces.value("outer", outer)))
    pieces.next_round()
    built = pieces.built
    sizes = []
    for r in range(1, 13):                       # rounds that build other pieces only: collections come
        pieces.get(("port", 100 + r), lambda r=r: _flows(100 + r))
        pieces.next_round()
        sizes.append(len(pieces._store))
    assert min(sizes) == 4                       # the port, both values and that round's piece
    kept = pieces.get(("port", 1), lambda: [])
    assert pieces.value("inner", inner)["port"] is kept and pieces.built == built + 12


def test_values_a_chassis_stops_reading_leave_the_count_exactly_so_collections_come_when_due(monkeypatch):
    monkeypatch.setattr(pieces_module, "GC_SLACK", 0)
    pieces = Pieces(pipeline.AppId.L2)

    def state(r: int) -> Desired:      # a value of the same three pieces, made anew each round (a new key)
        return Desired(pieces.value(("members", r), lambda: {k: pieces.get(("port", k), lambda k=k: _flows(k))
                                                              for k in range(3)}))
    junk = []
    for r in range(30):
        pieces.chassis("hv1", (r,), lambda r=r: state(r))
        pieces.get(("junk", r), lambda r=r: _flows(100 + r))     # used this round only, by no chassis state
        pieces.next_round()
        junk.append(sum(1 for k in pieces._store if k[0] == "junk"))
    # live after the first collection: 3 pieces, the value and its 3 entries (7) and that round's junk piece (8);
    # each round's value replaces the last one exactly, so junk piles up to 2 x 8 (16 kept) and is then collected
    assert junk[:3] == [1, 2, 3] and max(junk) == 9 and junk.count(1) == 4, junk
