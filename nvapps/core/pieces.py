"""Flows built in pieces and kept between rounds, so a round builds only what its changes affect.

A service's flows on a chassis are the union of pieces, each the result of one pure builder on its inputs.
The piece's key holds those inputs themselves (model objects hash by kind, id and revision; the logical
view keeps unchanged parts as the same objects), so a piece whose inputs are unchanged is found again and
reused as the very object sent last time, which FlowSync then skips; a changed input is a new key, built
anew. A chassis's whole desired state is kept the same way, by the inputs it was built from, so a round
costs nothing on chassis whose inputs did not change. A fresh Pieces builds everything: that is the full
recomputation, the reference the tests compare the kept one against.
"""
from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from typing import Any

from nvapps import pipeline
from nvapps.core.contract import check_group
from nvapps.core.ofp import Flow, Group
from nvapps.core.reconcile import Desired, Piece

GC_SLACK = 1024    # entries kept beyond twice the live ones before the unused are forgotten


@dataclass(frozen=True)
class _Memo:
    """A chassis's desired state, the inputs it was built from, and the keys of the pieces, values and groups
    it read."""

    inputs: tuple
    desired: Desired
    keys: list


class Pieces:
    """One app's pieces (and groups) by key, and each chassis's desired state by its inputs: kept while a
    chassis's state or the last round uses them. The values and groups the chassis states read are counted, so
    one the last of them stopped reading goes when the round ends (they are large: a network's member pieces
    or flood group, made anew on each change of its members); the rest goes now and then."""

    def __init__(self, app: pipeline.AppId) -> None:
        self.app = app
        self._store: dict[Hashable, Any] = {}
        self._memos: dict[str, _Memo] = {}
        self._loose: list[Hashable] = []           # keys used this round outside a chassis's state
        self._recording: list[Hashable] | None = None
        self._weights: dict[Hashable, int] = {}    # the entries each kept value (a dict of pieces, say) or group holds
        self._size = 0                             # what is kept now: pieces, groups, values and their entries
        self._live = 0                             # what was kept after the last collection
        self._readers: dict[Hashable, int] = {}    # how many chassis states read each kept value or group
        self._unread: list[Hashable] = []          # those the chassis states stopped reading this round
        self._last: dict[Hashable, Any] = {}       # what was last remembered under each name
        self._remembered: set[Hashable] = set()    # the names remembered since the last collection
        self.built = 0        # pieces, groups and chassis states built so far (not found again): the work done

    def get(self, key: Hashable, build: Callable[[], Iterable[Flow]]) -> Piece:
        """The piece of `key`: kept from a previous round, or built now by `build`."""
        return self._kept(key, lambda: Piece.of(self.app, build()))

    def group(self, key: Hashable, build: Callable[[], Group]) -> Group:
        """The group of `key`: kept from a previous round, or built now by `build` (and checked); counted with
        its buckets, and read like a value (a network's flood group, say, made anew on each change of its
        members)."""
        full = ("group", key)

        def checked() -> Group:
            group = build()
            check_group(self.app, group)
            self._weights[full] = len(group.buckets)
            self._size += len(group.buckets)
            return group
        return self._kept(full, checked)

    def value(self, key: Hashable, compute: Callable[[], Any], same: tuple = ()) -> Any:
        """Any value computed from the inputs in `key` and the very objects in `same` (compared by identity:
        dicts, say), shared by the chassis states that read it; the pieces it was computed from stay kept
        while it is (and so do the objects of `same`, so their identities cannot be reused meanwhile). Who reads
        it records the value's key only, not those of the pieces in it: a collection follows them."""
        full = ("value", key, *map(id, same))
        entry = self._store.get(full)
        if entry is None:
            entry = self._store[full] = (*self._recorded(compute), same)
            weight = len(entry[0]) if hasattr(entry[0], "__len__") else 0
            self._weights[full] = weight
            self._size += 1 + weight
        recording = self._recording if self._recording is not None else self._loose
        recording.append(full)
        return entry[0]

    def last(self, name: Hashable) -> Any:
        """What was last remembered under `name` (None: nothing, or not since the collection before last)."""
        return self._last.get(name)

    def remember(self, name: Hashable, value: Any) -> None:
        """Keep `value` under `name`, for the next computation of its kind to derive its own from."""
        self._last[name] = value
        self._remembered.add(name)

    def chassis(self, name: str, inputs: tuple, build: Callable[[], Desired]) -> Desired:
        """Chassis `name`'s desired state: the very one of last time while `inputs` (everything `build` reads,
        each compared by identity, else by equality) are unchanged, or built now by `build` from pieces."""
        memo = self._memos.get(name)
        if memo is not None and len(memo.inputs) == len(inputs) and \
                all(a is b or a == b for a, b in zip(memo.inputs, inputs)):
            return memo.desired
        desired, keys = self._recorded(build)
        readers, weighed = self._readers, self._weights      # the values and groups are the weighed keys
        for key in keys:
            if key in weighed:
                readers[key] = readers.get(key, 0) + 1
        for key in memo.keys if memo is not None else ():
            if key in weighed:
                count = readers[key] - 1
                if count:
                    readers[key] = count
                else:
                    del readers[key]
                    self._unread.append(key)
        self._memos[name] = _Memo(inputs, desired, keys)
        self.built += 1
        return desired

    def _recorded(self, build: Callable[[], Any]) -> tuple[Any, list[Hashable]]:
        """What `build` returns, and the keys of the pieces and values it used."""
        outer, self._recording = self._recording, []
        try:
            return build(), self._recording
        finally:
            self._recording = outer

    def _kept(self, key: Hashable, build: Callable[[], Any]) -> Any:
        value = self._store.get(key)
        if value is None:
            value = self._store[key] = build()
            self._size += 1
            self.built += 1
        (self._recording if self._recording is not None else self._loose).append(key)
        return value

    def _a_value(self, key: Hashable) -> bool:
        """Whether `key` is a kept value's (groups are weighed too, pieces are not)."""
        return key in self._weights and isinstance(key, tuple) and key[0] == "value"

    def next_round(self, collect: bool = False) -> None:
        """A round is over: the values and groups the chassis states stopped reading go, unless this round used
        them otherwise. Once what is kept (pieces, groups, values counted with their entries) is more than twice
        what was live at the last collection (and GC_SLACK), or when asked to (`collect`: after a round that
        reconnected switches, whose states built on the fabric as it was while they came are gone, before
        the heap is frozen), what no chassis state and not the last round used goes too: a collection costs
        O(what is kept), so it comes after as much was made anew."""
        if self._unread:
            loose = set(self._loose)
            for key in self._unread:
                if key not in self._readers and key not in loose and key in self._store:
                    del self._store[key]
                    self._size -= 1 + self._weights.pop(key, 0)
            self._unread = []
        if collect and self._size > self._live or self._size > 2 * self._live + GC_SLACK:
            live = set(self._loose)
            for memo in self._memos.values():
                live.update(memo.keys)
            values = [key for key in live if self._a_value(key)]
            while values:       # what a live value was computed from lives (values inside values too)
                for key in self._store[values.pop()][1]:
                    if key not in live:
                        live.add(key)
                        if self._a_value(key):
                            values.append(key)
            self._store = {k: v for k, v in self._store.items() if k in live}
            self._weights = {k: w for k, w in self._weights.items() if k in live}
            self._size = self._live = len(self._store) + sum(self._weights.values())
            self._last = {name: v for name, v in self._last.items() if name in self._remembered}
            self._remembered = set()
        self._loose = []


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
