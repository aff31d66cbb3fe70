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
    """An interface was added to, removed from or changed on a switch, or the routes learned on one of its
    uplinks changed."""


class EventPacketIn(event.EventBase):
    """A packet a flow sent to the controller; `app` (the flow cookie's app id) is the app that handles it.
    `fields` are the pipeline fields the switch reported with it (metadata, non-zero registers...)."""

    def __init__(self, chassis: Chassis, app: int, cookie: int, in_port: int, data: bytes, fields: dict[str, int]):
        super().__init__()
        self.chassis = chassis
        self.app = app
        self.cookie = cookie
        self.in_port = in_port
        self.data = data
        self.fields = fields

    @property
    def metadata(self) -> int:
        return self.fields.get("metadata", 0)


class EventModelChanged(event.EventBase):
    """Tenant objects were committed: `changes` is a list of nvapps.model.service.Change."""

    def __init__(self, changes: list):
        super().__init__()
        self.changes = changes


class EventRoleChanged(event.EventBase):
    """This controller became every switch's master (master True) or stopped being it (several controllers)."""

    def __init__(self, master: bool):
        super().__init__()
        self.master = master


class EventEdgeSynced(event.EventBase):
    """The NAT app's flows of one round are on `chassis`: `view` (nvapps.nat.flows.NatView) is what they were
    computed from, so what routes to the chassis's gateways may be announced now."""

    def __init__(self, chassis: Chassis, view):
        super().__init__()
        self.chassis = chassis
        self.view = view
