"""What to send to make a switch hold an app's desired flows and groups: a pure diff, piece by piece.

A flow's cookie is its app id plus a digest of its table, priority, match and instructions, so the
switch's cookies alone say which desired flows it already holds; nothing else needs decoding. An app's
desired flows come in pieces (nvapps.core.pieces), each built from its own inputs: a piece that is the
same object as the one last sent holds the same flows, so an update compares only the pieces that changed.
The same flow may be in several pieces: the switch holds it while one of them does.
"""
from __future__ import annotations

import hashlib
from collections.abc import Hashable, Iterable, Iterator
from dataclasses import dataclass, field, replace

from nvapps import pipeline
from nvapps.core import messages, ofp
from nvapps.core.contract import check_flow, check_group


def flow_digest(flow: ofp.Flow) -> int:
    """A 54-bit digest of the flow's wire body."""
    return int.from_bytes(hashlib.blake2b(flow.body(), digest_size=8).digest(), "big") & pipeline.COOKIE_DIGEST_MASK


def flow_cookie(app: pipeline.AppId, flow: ofp.Flow) -> int:
    """The cookie naming `flow` of `app`: app id, the drop bit, and a 54-bit digest of the flow's wire body
    (kept on the flow for the first app that names it: flows are built once and reused)."""
    cookie = flow.cookie
    if cookie >> pipeline.COOKIE_APP_SHIFT == app:
        return cookie
    named = pipeline.app_cookie(app) | (pipeline.COOKIE_DROP if stops(flow) else 0) | flow_digest(flow)
    if not cookie:
        object.__setattr__(flow, "cookie", named)
    return named


def stops(flow: ofp.Flow) -> bool:
    """Whether the flow's packets stop there (no instruction, or only a ct() that does not recirculate), or
    it is the answer to a destination without a route: the flows drop counts are read from."""
    if (flow.table, flow.priority) == pipeline.NO_ROUTE:
        return True
    if flow.goto is not None or flow.write_metadata is not None or flow.meter is not None:
        return False
    return not flow.actions or len(flow.actions) == 1 and isinstance(flow.actions[0], ofp.Ct) and \
        flow.actions[0].table is None


class Piece(tuple):
    """Flows of one app built together from the same inputs, each named by its cookie in that app
    (`Flow.cookie`): a tuple of them, as a controller holds tens of thousands of pieces."""

    __slots__ = ()

    @property
    def flows(self) -> tuple[ofp.Flow, ...]:
        return self

    @classmethod
    def of(cls, app: pipeline.AppId, flows: Iterable[ofp.Flow]) -> "Piece":
        """The piece of `flows` (equal ones once), each checked against the pipeline contract; a flow another
        app named first is copied, so that every flow of the piece carries this app's cookie."""
        out: dict[int, ofp.Flow] = {}
        for f in flows:
            check_flow(app, f)
            cookie = flow_cookie(app, f)
            if f.cookie != cookie:
                f = replace(f)
                flow_cookie(app, f)
            out[cookie] = f
        return cls(out.values())


@dataclass
class Desired:
    """An app's desired state on one switch: its flows in pieces (by key) and its groups by id."""

    pieces: dict[Hashable, Piece] = field(default_factory=dict)
    groups: dict[int, ofp.Group] = field(default_factory=dict)
    # More pieces, in dicts kept as they are (a network's member pieces, say): an update compares each of them
    # by identity before its pieces, so a state of many sections costs what its changed sections hold. The keys
    # of all the pieces and sections are distinct.
    sections: tuple[dict[Hashable, Piece], ...] = ()

    @classmethod
    def build(cls, app: pipeline.AppId, flows: Iterable[ofp.Flow], groups: Iterable[ofp.Group] = (),
              pieces: dict[Hashable, Piece] | None = None) -> "Desired":
        """`flows` as one piece (with the given `pieces`, if any) and `groups`, checked to be the app's."""
        out = cls({**(pieces or {}), (): Piece.of(app, flows)}, {})
        for g in groups:
            check_group(app, g)
            out.groups[g.group_id] = g
        return out

    def all_pieces(self) -> Iterator[tuple[Hashable, Piece]]:
        """Every piece with its key, its own and its sections'."""
        yield from self.pieces.items()
        for section in self.sections:
            yield from section.items()

    @property
    def flows(self) -> dict[int, ofp.Flow]:
        """Every desired flow by cookie."""
        return {f.cookie: f for _, piece in self.all_pieces() for f in piece.flows}


def group_entries(groups: dict[int, ofp.Group]) -> dict[int, tuple[int, bytes]]:
    """Groups as a switch describes them: (type, encoded buckets) by id."""
    return {gid: (messages.GROUP_TYPES[g.type], g.encoded_buckets()) for gid, g in groups.items()}


@dataclass(frozen=True)
class Held:
    """What a switch holds of one app's, as read back from it: flow cookies and groups."""

    cookies: frozenset[int]
    groups: dict[int, tuple[int, bytes]]


@dataclass
class Installed:
    """What an app has sent to one switch: the very desired state (its pieces and group objects, which an
    update compares by identity), how many of its pieces hold each cookie, and its groups as encoded."""

    desired: Desired
    holders: dict[int, int]
    groups: dict[int, tuple[int, bytes]]

    @classmethod
    def of(cls, desired: Desired) -> "Installed":
        holders: dict[int, int] = {}
        for _, piece in desired.all_pieces():
            for f in piece.flows:
                holders[f.cookie] = holders.get(f.cookie, 0) + 1
        return cls(desired, holders, group_entries(desired.groups))

    def apply(self, desired: Desired, changes: "Changes") -> None:
        """Now the switch holds `desired` (sent as `changes`, computed by update())."""
        if desired is self.desired:
            return
        for cookie, delta in changes.holders.items():
            count = self.holders.get(cookie, 0) + delta
            if count:
                self.holders[cookie] = count
            else:
                self.holders.pop(cookie, None)
        self.groups = group_entries(desired.groups)
        self.desired = desired


@dataclass
class Changes:
    """The messages that turn what a switch holds into what is desired, in a safe order."""

    add_flows: list[tuple[int, ofp.Flow]] = field(default_factory=list)
    delete_cookies: list[int] = field(default_factory=list)
    add_groups: list[ofp.Group] = field(default_factory=list)
    modify_groups: list[ofp.Group] = field(default_factory=list)
    delete_groups: list[int] = field(default_factory=list)
    holders: dict[int, int] = field(default_factory=dict)     # update(): change in pieces holding each cookie

    @property
    def flow_mods(self) -> int:
        return len(self.add_flows) + len(self.delete_cookies)

    @property
    def group_mods(self) -> int:
        return len(self.add_groups) + len(self.modify_groups) + len(self.delete_groups)

    def __bool__(self) -> bool:
        return bool(self.flow_mods or self.group_mods)

    def messages(self) -> list[bytes]:
        """Groups first (flows point at them), then new flows, then stale flows, then stale groups.

        Adding before deleting means a flow whose actions changed is replaced in place, never absent.
        """
        out = [messages.group_mod(messages.OFPGC_ADD, g) for g in self.add_groups]
        out += [messages.group_mod(messages.OFPGC_MODIFY, g) for g in self.modify_groups]
        out += [messages.flow_add(f, c) for c, f in self.add_flows]
        out += [messages.flow_delete_by_cookie(c) for c in self.delete_cookies]
        out += [messages.group_delete(gid) for gid in self.delete_groups]
        return out


def _group_changes(changes: Changes, desired: dict[int, ofp.Group], held: dict[int, tuple[int, bytes]],
                   sent: dict[int, ofp.Group] | None = None) -> None:
    for gid, group in desired.items():
        if sent is not None and sent.get(gid) is group:
            continue
        have = held.get(gid)
        if have is None:
            changes.add_groups.append(group)
        elif have != (messages.GROUP_TYPES[group.type], group.encoded_buckets()):
            changes.modify_groups.append(group)
    changes.delete_groups = sorted(gid for gid in held if gid not in desired)


def diff(desired: Desired, held: Held) -> Changes:
    """The changes that make a switch holding `held` (read back from it) hold `desired`."""
    changes = Changes()
    flows = desired.flows
    changes.add_flows = [(c, f) for c, f in flows.items() if c not in held.cookies]
    changes.delete_cookies = sorted(c for c in held.cookies if c not in flows)
    _group_changes(changes, desired.groups, held.groups)
    return changes


def update(desired: Desired, installed: Installed) -> Changes:
    """The changes from what was last sent (`installed`) to `desired`: only the sections and pieces that are not
    the very objects sent last are compared; a flow goes when no piece holds it any more."""
    if desired is installed.desired:
        return Changes()
    delta: dict[int, int] = {}
    new: dict[int, ofp.Flow] = {}
    sent = installed.desired
    kept = {id(section) for section in sent.sections} & {id(section) for section in desired.sections}
    now = {**desired.pieces, **{k: p for section in desired.sections if id(section) not in kept
                                for k, p in section.items()}}
    was = {**sent.pieces, **{k: p for section in sent.sections if id(section) not in kept for k, p in section.items()}}
    for key, piece in now.items():
        old = was.get(key)
        if old is piece:
            continue
        if old is not None:
            for f in old.flows:
                delta[f.cookie] = delta.get(f.cookie, 0) - 1
        for f in piece.flows:
            delta[f.cookie] = delta.get(f.cookie, 0) + 1
            new[f.cookie] = f
    for key, old in was.items():
        if key not in now:
            for f in old.flows:
                delta[f.cookie] = delta.get(f.cookie, 0) - 1
    changes = Changes(holders=delta)
    for cookie, change in delta.items():
        before = installed.holders.get(cookie, 0)
        if before == 0 and change > 0:
            changes.add_flows.append((cookie, new[cookie]))
        elif before > 0 and before + change == 0:
            changes.delete_cookies.append(cookie)
    changes.delete_cookies.sort()
    _group_changes(changes, desired.groups, installed.groups, installed.desired.groups)
    return changes
