"""What to send to make a switch hold an app's desired flows and groups: a pure diff.

A flow's cookie is its app id plus a digest of its table, priority, match and instructions, so the
switch's cookies alone say which desired flows it already holds; nothing else needs decoding.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from nvapps import pipeline
from nvapps.core import ofp


def flow_cookie(app: pipeline.AppId, flow: ofp.Flow) -> int:
    """The cookie naming `flow` of `app`: app id and a 55-bit digest of the flow's wire body."""
    digest = int.from_bytes(hashlib.blake2b(flow.body(), digest_size=8).digest(), "big")
    return pipeline.app_cookie(app) | (digest & pipeline.COOKIE_DIGEST_MASK)


@dataclass
class Desired:
    """An app's desired state on one switch: flows by cookie and groups by id."""

    flows: dict[int, ofp.Flow] = field(default_factory=dict)
    groups: dict[int, ofp.Group] = field(default_factory=dict)

    @classmethod
    def build(cls, app: pipeline.AppId, flows: list[ofp.Flow], groups: list[ofp.Group] = ()) -> "Desired":
        out = cls({flow_cookie(app, f): f for f in flows}, {})
        for g in groups:
            if pipeline.app_of_group(g.group_id) != app:
                raise ValueError(f"group {g.group_id:#x} is outside app {app.name}'s range")
            out.groups[g.group_id] = g
        return out


@dataclass(frozen=True)
class Installed:
    """What an app has on one switch: its flows' cookies and its groups' (type, encoded buckets)."""

    cookies: frozenset[int]
    groups: dict[int, tuple[int, bytes]]

    @classmethod
    def of(cls, desired: Desired) -> "Installed":
        return cls(frozenset(desired.flows),
                   {gid: (ofp.GROUP_TYPES[g.type], g.encoded_buckets()) for gid, g in desired.groups.items()})


@dataclass
class Changes:
    """The messages that turn Installed into Desired, in a safe order."""

    add_flows: list[tuple[int, ofp.Flow]] = field(default_factory=list)
    delete_cookies: list[int] = field(default_factory=list)
    add_groups: list[ofp.Group] = field(default_factory=list)
    modify_groups: list[ofp.Group] = field(default_factory=list)
    delete_groups: list[int] = field(default_factory=list)

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
        out = [ofp.group_mod(ofp.OFPGC_ADD, g) for g in self.add_groups]
        out += [ofp.group_mod(ofp.OFPGC_MODIFY, g) for g in self.modify_groups]
        out += [ofp.flow_add(f, c) for c, f in self.add_flows]
        out += [ofp.flow_delete_by_cookie(c) for c in self.delete_cookies]
        out += [ofp.group_delete(gid) for gid in self.delete_groups]
        return out


def diff(desired: Desired, installed: Installed) -> Changes:
    """The changes that make a switch holding `installed` hold `desired`."""
    changes = Changes()
    changes.add_flows = [(c, f) for c, f in desired.flows.items() if c not in installed.cookies]
    changes.delete_cookies = sorted(c for c in installed.cookies if c not in desired.flows)
    for gid, group in desired.groups.items():
        have = installed.groups.get(gid)
        if have is None:
            changes.add_groups.append(group)
        elif have != (ofp.GROUP_TYPES[group.type], group.encoded_buckets()):
            changes.modify_groups.append(group)
    changes.delete_groups = sorted(gid for gid in installed.groups if gid not in desired.groups)
    return changes
