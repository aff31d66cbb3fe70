"""Keeping one app's flows and groups on every switch equal to what the app desires."""
from __future__ import annotations

import logging
import time
from collections.abc import Hashable
from typing import TYPE_CHECKING

from nvapps import pipeline
from nvapps.core import ofp
from nvapps.core.reconcile import Changes, Desired, Installed, diff, update
from nvapps.core.topology import Chassis

if TYPE_CHECKING:
    from nvapps.core.app import CoreApp

LOG = logging.getLogger(__name__)


class FlowSync:
    """An app's view of what it has installed on each switch, and the one way it changes it."""

    def __init__(self, app: pipeline.AppId, core: "CoreApp") -> None:
        self.app = app
        self.core = core
        self._installed: dict[int, Installed] = {}

    def reconcile(self, chassis: Chassis, desired: Desired) -> None:
        """Read what the switch holds of this app's, then send only the difference (on (re)connect)."""
        start = time.monotonic()
        changes = diff(desired, self.core.read_back(chassis, self.app))
        self._send(chassis, changes)
        installed = self._installed[chassis.dpid] = Installed.of(desired)
        self._count(chassis, installed)
        seconds = self._spent(chassis, changes, start)
        self.core.stats[chassis.dpid].last_sync[self.app.name.lower()] = {
            "flow_mods": changes.flow_mods, "group_mods": changes.group_mods,
            "flows": len(installed.holders), "groups": len(desired.groups), "seconds": round(seconds, 6)}

    def update(self, chassis: Chassis, desired: Desired) -> None:
        """Send what changed since the last sync (of a switch this app knows: see knows())."""
        start = time.monotonic()
        installed = self._installed[chassis.dpid]
        changes = update(desired, installed)
        self._send(chassis, changes)
        installed.apply(desired, changes)
        self._count(chassis, installed)
        self._spent(chassis, changes, start)

    def _spent(self, chassis: Chassis, changes: Changes, start: float) -> float:
        """Count a sync's flow mods and the seconds it took (diff and send) for this app; the seconds."""
        seconds = time.monotonic() - start
        stats = self.core.stats[chassis.dpid]
        name = self.app.name.lower()
        stats.app_flow_mods[name] = stats.app_flow_mods.get(name, 0) + changes.flow_mods
        stats.sync_seconds[name] = stats.sync_seconds.get(name, 0.0) + seconds
        return seconds

    def knows(self, chassis: Chassis) -> bool:
        """Whether this app has synced `chassis` since it connected (else the next sync reads it back)."""
        return chassis.dpid in self._installed

    def held(self, dpid: int, cookies: set[int]) -> dict[int, tuple[Hashable, ofp.Flow]]:
        """The piece key and flow of each of `cookies` that this app has installed on switch `dpid`."""
        installed = self._installed.get(dpid)
        out: dict[int, tuple[Hashable, ofp.Flow]] = {}
        for key, piece in (installed.desired.all_pieces() if installed is not None else ()):
            for flow in piece.flows:
                if flow.cookie in cookies:
                    out[flow.cookie] = (key, flow)
        return out

    def forget(self, dpid: int) -> None:
        self._installed.pop(dpid, None)

    def _send(self, chassis: Chassis, changes: Changes) -> None:
        if not changes:
            return
        LOG.info("%s on %s: +%d -%d flows, %d group mods", self.app.name, chassis.name,
                 len(changes.add_flows), len(changes.delete_cookies), changes.group_mods)
        try:
            self.core.apply(chassis, changes)
        except Exception:
            # What the switch holds is unknown now: the next reconcile reads it back.
            self._installed.pop(chassis.dpid, None)
            raise

    def _count(self, chassis: Chassis, installed: Installed) -> None:
        self.core.stats[chassis.dpid].flows[self.app.name.lower()] = len(installed.holders)
