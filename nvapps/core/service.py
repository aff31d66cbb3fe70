"""The base of every service app: react to switch and model events by syncing the app's desired flows.

Event handlers only note what happened and wake the app's sync worker; the worker computes the desired
state from the model and the topology (pure functions of the subclass) and hands it to FlowSync. So a
burst of events costs one recomputation, and no handler ever blocks os-ken's event queues.
"""
from __future__ import annotations

import logging
import time
from typing import Any, ClassVar

from os_ken.base import app_manager
from os_ken.controller.handler import set_ev_cls
from os_ken.lib import hub

from nvapps import pipeline
from nvapps.core import heap, ofp
from nvapps.core.app import CoreApp, SwitchError
from nvapps.core.events import (
    EventChassisDown,
    EventChassisUp,
    EventInterfacesChanged,
    EventModelChanged,
    EventPacketIn,
    EventRoleChanged,
)
from nvapps.core.pieces import Pieces, Service
from nvapps.core.reconcile import Desired
from nvapps.core.sync import FlowSync
from nvapps.core.topology import Chassis, fabric
from nvapps.logical.view import LogicalView

LOG = logging.getLogger(__name__)

RETRY_AFTER = 5.0   # seconds before a failed sync is tried again (re-reading the switch)
STARTUP_GRACE = 10.0  # seconds after start when registered chassis not connected yet keep their gateways


class ServiceApp(app_manager.OSKenApp):
    """One nvapps service: subclasses set SERVICE, the pure functions that compute their flows."""

    SERVICE: ClassVar[Service]
    APP_ID: ClassVar[pipeline.AppId]
    KINDS: ClassVar[frozenset[str] | None] = None    # the model kinds whose changes can alter its flows (None: any)

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        if "SERVICE" in cls.__dict__:
            cls.APP_ID = cls.SERVICE.app

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._wake = hub.Event()
        self._reconnected: set[str] = set()
        self.pieces = Pieces(self.APP_ID)       # flows kept between rounds
        self.reading: Any = None                # what this round's flows were computed from

    def start(self):
        thread = super().start()
        self.core: CoreApp = app_manager.lookup_service_brick("nvcore")
        models = app_manager.lookup_service_brick("nvmodel")
        self.model, self._views = models.model, models.views
        self.sync = FlowSync(self.APP_ID, self.core)
        self.core.services.add(self.APP_ID.name.lower())
        self.core.syncs[self.APP_ID] = self.sync
        self.threads.append(hub.spawn(self._sync_loop))
        hub.spawn_after(STARTUP_GRACE, self._wake.set)     # gateways of chassis still away move then
        return thread

    # ---- what a service implements ----

    def snapshot(self) -> Any:
        """What desired() reads, once per sync round: the service's reading of the model and the view."""
        self.reading = self.SERVICE.read(self.model, self.view(), self.reading)
        return self.reading

    def desired(self, chassis: Chassis, snapshot: Any) -> Desired:
        """This service's flows and groups on `chassis`."""
        return self.SERVICE.flows(chassis, snapshot, self.pieces)

    @classmethod
    def relevant(cls, changes: list) -> bool:
        """Whether model changes can alter this service's flows: a change to one of its KINDS (any, without)."""
        return cls.KINDS is None or any(c.kind in cls.KINDS for c in changes)

    def setup(self, chassis: Chassis) -> None:
        """What a (re)connected switch needs before this service's flows (meters, say)."""

    def fabric(self) -> dict[str, Chassis]:
        """Every chassis known (connected, or registered and not connected now) with its tunnel endpoint;
        right after the controller starts, those not connected yet are presumed to have their uplinks up."""
        return fabric(self.core.chassis, self.model.list("chassis"), presume_up=self._presume_up())

    def view(self) -> LogicalView:
        """The logical view of the model on the fabric now, shared by every service."""
        chassis = self.fabric()     # presumed up or not matters only while a registered chassis is away
        return self._views.current(chassis, self.core.uplinks,
                                   (self.core.generation, any(ch.presumed_up for ch in chassis.values())))

    def _presume_up(self) -> bool:
        return time.monotonic() - self.core.started < STARTUP_GRACE

    def noticed(self, changes: list) -> None:
        """Relevant model changes, as they are committed (before the sync they cause)."""

    def synced(self, chassis: Chassis, snapshot: Any) -> None:
        """What to tell `chassis` once it holds this round's flows (announcements, conntrack flushes)."""

    def packet_in(self, ev: EventPacketIn) -> None:
        """A packet one of this service's flows sent to the controller."""

    # ---- events: note and wake ----

    @set_ev_cls(EventChassisUp)
    def _chassis_up(self, ev: EventChassisUp) -> None:
        self._reconnected.add(ev.chassis.name)
        self._wake.set()

    @set_ev_cls(EventChassisDown)
    def _chassis_down(self, ev: EventChassisDown) -> None:
        self.sync.forget(ev.chassis.dpid)

    @set_ev_cls(EventRoleChanged)
    def _role_changed(self, ev: EventRoleChanged) -> None:
        """No longer master: what the switches hold is another master's business (as master again, each is
        read back first); master: the core brings every switch up again, which reconciles it."""
        if not ev.master:
            for chassis in list(self.core.chassis.values()):
                self.sync.forget(chassis.dpid)

    @set_ev_cls(EventInterfacesChanged)
    def _interfaces_changed(self, ev: EventInterfacesChanged) -> None:
        self._wake.set()

    @set_ev_cls(EventPacketIn)
    def _packet_in(self, ev: EventPacketIn) -> None:
        if ev.app == self.APP_ID:
            try:
                self.packet_in(ev)
            except Exception:
                LOG.exception("%s: handling a packet-in from %s failed", self.name, ev.chassis.name)

    @set_ev_cls(EventModelChanged)
    def _model_changed(self, ev: EventModelChanged) -> None:
        if self.relevant(ev.changes):
            self.noticed(ev.changes)
            self._wake.set()

    def _sync_loop(self) -> None:
        while self.is_active:
            self._wake.wait()
            self._wake.clear()
            reconnected, self._reconnected = self._reconnected, set()
            generation = (self.model.generation, self.core.generation)
            try:
                snap = self.snapshot()
            except Exception:
                LOG.exception("%s: reading the model failed", self.name)
                continue
            failed = reconciled = False
            for chassis in list(self.core.chassis.values()):
                try:
                    desired = self.desired(chassis, snap)       # a slave too: its pieces stay warm
                    if not self.core.master:    # the master installs what this computed from the same model
                        self.core.stats[chassis.dpid].generation[self.APP_ID.name.lower()] = generation
                        continue
                    if chassis.name in reconnected or not self.sync.knows(chassis):
                        self.setup(chassis)
                        self.sync.reconcile(chassis, desired)
                        reconciled = True
                    else:
                        self.sync.update(chassis, desired)
                    self.synced(chassis, snap)
                    self.core.stats[chassis.dpid].generation[self.APP_ID.name.lower()] = generation
                except SwitchError as exc:
                    failed = True
                    LOG.error("%s: syncing %s failed: %s", self.name, chassis.name, exc)
                except Exception:
                    failed = True
                    LOG.exception("%s: syncing %s failed", self.name, chassis.name)
                hub.sleep(0)        # let REST requests and other apps in between chassis
            self.pieces.next_round(collect=reconciled)
            ofp.forget_shared()
            if reconciled and not failed:
                heap.freeze_all()
            heap.freeze_survivors()
            if failed:
                hub.spawn_after(RETRY_AFTER, self._wake.set)
