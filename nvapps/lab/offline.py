"""The control plane without switches: every service's rounds on a model and a set of chassis, each chassis's
tables kept as the switch would hold them, incrementally (kept pieces, update()) or by full recomputation
(fresh pieces, diff() against what is held). Tests compare the two; bench.control_plane times them."""
from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from nvapps import pipeline
from nvapps.acl import chassis as acl
from nvapps.core import ofp
from nvapps.core.pieces import Pieces, Service
from nvapps.core.reconcile import Changes, Desired, Held, Installed, diff, group_entries, update
from nvapps.core.topology import Chassis, Uplink, fabric
from nvapps.dhcp import flows as dhcp
from nvapps.l2 import flows as l2
from nvapps.l3 import flows as l3
from nvapps.lb import flows as lb
from nvapps.logical.view import LogicalView, Views, logical_view
from nvapps.model.service import Model
from nvapps.nat import flows as nat
from nvapps.overlay import flows as overlay

SERVICES: tuple[Service, ...] = (l2.SERVICE, l3.SERVICE, acl.SERVICE, dhcp.SERVICE, nat.SERVICE, overlay.SERVICE,
                                 lb.SERVICE)


@dataclass
class Table:
    """What one switch holds of one app's: flows by cookie and groups by id."""

    flows: dict[int, ofp.Flow] = field(default_factory=dict)
    groups: dict[int, ofp.Group] = field(default_factory=dict)

    def apply(self, changes: Changes) -> None:
        for cookie, flow in changes.add_flows:
            self.flows[cookie] = flow
        for cookie in changes.delete_cookies:
            self.flows.pop(cookie, None)
        for g in changes.add_groups + changes.modify_groups:
            self.groups[g.group_id] = g
        for gid in changes.delete_groups:
            self.groups.pop(gid, None)

    def held(self) -> Held:
        return Held(frozenset(self.flows), group_entries(self.groups))


@dataclass
class Round:
    """What one round cost: seconds and pieces built per app, and flow mods per chassis."""

    seconds: dict[pipeline.AppId, float] = field(default_factory=dict)
    built: dict[pipeline.AppId, int] = field(default_factory=dict)
    flow_mods: dict[str, int] = field(default_factory=dict)
    view_seconds: float = 0.0


class OfflineControlPlane:
    """The services of `services` on `chassis` (name -> Chassis, connected), computing from `model`."""

    def __init__(self, model: Model, chassis: dict[str, Chassis], uplinks: Sequence[Uplink] = (),
                 services: tuple[Service, ...] = SERVICES, incremental: bool = True) -> None:
        self.model, self.chassis, self.uplinks = model, chassis, list(uplinks)
        self.services, self.incremental = services, incremental
        self.topology = 0                                   # bump after changing `chassis` in place
        self.views = Views(model)
        self.pieces = {s.app: Pieces(s.app) for s in services}
        self.readings: dict[pipeline.AppId, Any] = {}
        self.installed: dict[tuple[pipeline.AppId, str], Installed] = {}
        self.tables: dict[tuple[pipeline.AppId, str], Table] = {}

    def view(self) -> LogicalView:
        known = fabric(self.chassis, self.model.list("chassis"))
        if self.incremental:
            return self.views.current(known, self.uplinks, self.topology)
        return logical_view(self.model, known, self.uplinks)

    def round(self) -> Round:
        """One sync round of every service on every chassis; the tables then hold its desired state."""
        out = Round()
        start = time.perf_counter()
        view = self.view()
        out.view_seconds = time.perf_counter() - start
        for service in self.services:
            start = time.perf_counter()
            pieces = self.pieces[service.app] if self.incremental else Pieces(service.app)
            built = pieces.built
            previous = self.readings.get(service.app) if self.incremental else None
            reading = self.readings[service.app] = service.read(self.model, view, previous)
            for name, ch in self.chassis.items():
                desired = service.flows(ch, reading, pieces)
                changes = self._sync(service.app, name, desired)
                out.flow_mods[name] = out.flow_mods.get(name, 0) + changes.flow_mods
            pieces.next_round()
            out.seconds[service.app] = time.perf_counter() - start
            out.built[service.app] = pieces.built - built
        return out

    def _sync(self, app: pipeline.AppId, name: str, desired: Desired) -> Changes:
        table = self.tables.setdefault((app, name), Table())
        installed = self.installed.get((app, name))
        if installed is None or not self.incremental:
            changes = diff(desired, table.held())
            self.installed[app, name] = Installed.of(desired)
        else:
            changes = update(desired, installed)
            installed.apply(desired, changes)
        table.apply(changes)
        return changes
