"""Events the core sends to service apps about switches (chassis)."""
from __future__ import annotations

from os_ken.controller import event

from nvapps.core.topology import Chassis


class ChassisEvent(event.EventBase):
    """Something happened to one chassis."""

    def __init__(self, chassis: Chassis):
        super().__init__()
        self.chassis = chassis


class EventChassisUp(ChassisEvent):
    """A switch connected and its ports are known: reconcile it."""


class EventChassisDown(ChassisEvent):
    """A switch disconnected; its flows stay in it (fail_mode=secure)."""


class EventInterfacesChanged(ChassisEvent):
    """An interface was added to, removed from or changed on a switch."""


class EventModelChanged(event.EventBase):
    """Tenant objects were committed: `changes` is a list of nvapps.model.service.Change."""

    def __init__(self, changes: list):
        super().__init__()
        self.changes = changes
