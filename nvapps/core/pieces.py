"""Flows built in pieces and kept between rounds, so a round builds only what its changes affect.

A service's flows on a chassis are the union of pieces, each the result of one pure builder on its inputs.
The piece's key holds those inputs themselves (model objects hash by kind, id and revision; the logical
view keeps unchanged parts as the same objects), so a piece whose inputs are unchanged is found again and
reused as the very object sent last time, which FlowSync then skips; a changed input is a new key, built
anew. A fresh Pieces builds everything: that is the full recomputation, the reference the tests compare
the kept one against.
"""
from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from typing import Any

from nvapps import pipeline
from nvapps.core.contract import check_group
from nvapps.core.ofp import Flow, Group
from nvapps.core.reconcile import Desired, Piece


class Pieces:
    """One app's pieces (and groups) by key: those used in the last round or this one are kept, the others
    dropped."""

    def __init__(self, app: pipeline.AppId) -> None:
        self.app = app
        self._last: dict[Hashable, Any] = {}
        self._this: dict[Hashable, Any] = {}
        self.built = 0            # pieces and groups built so far (not found again): the work done

    def get(self, key: Hashable, build: Callable[[], Iterable[Flow]]) -> Piece:
        """The piece of `key`: kept from a previous round, or built now by `build`."""
        return self._kept(key, lambda: Piece.of(self.app, build()))

    def group(self, key: Hashable, build: Callable[[], Group]) -> Group:
        """The group of `key`: kept from a previous round, or built now by `build` (and checked)."""
        def checked() -> Group:
            group = build()
            check_group(self.app, group)
            return group
        return self._kept(("group", key), checked)

    def _kept(self, key: Hashable, build: Callable[[], Any]) -> Any:
        value = self._this.get(key)
        if value is None:
            value = self._last.get(key)
            if value is None:
                value = build()
                self.built += 1
            self._this[key] = value
        return value

    def next_round(self) -> None:
        """A round is over: pieces it did not use are forgotten after the next one."""
        self._last, self._this = self._this, {}


@dataclass(frozen=True)
class Service:
    """A service's flows as pure functions: what it reads of the model and the logical view (given its
    previous reading, whose unchanged parts it may keep), and one chassis's desired state from that."""

    app: pipeline.AppId
    read: Callable[[Any, Any, Any], Any]               # (model, view, previous reading or None) -> reading
    flows: Callable[[Any, Any, Pieces], Desired]       # (chassis, reading, pieces) -> desired


def the_view(model: Any, view: Any, previous: Any) -> Any:
    """A service that reads nothing but the logical view."""
    return view
