"""Pieces kept between rounds: found again while their inputs are unchanged, forgotten once nothing uses them."""
from __future__ import annotations

from nvapps import pipeline
from nvapps.core import pieces as pieces_module
from nvapps.core.ofp import Flow, match
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
