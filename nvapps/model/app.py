"""The "nvmodel" os-ken app: the store, the model and its change events, and the logical view every service
computes from (built once per change, shared)."""
from __future__ import annotations

import logging
import sqlite3

from os_ken.base import app_manager
from os_ken.controller.handler import set_ev_cls
from os_ken.lib import hub

from nvapps import config
from nvapps.core.events import EventChassisUp, EventModelChanged
from nvapps.logical.view import Views
from nvapps.model import loadbalancer
from nvapps.model.base import Change
from nvapps.model.errors import ModelError
from nvapps.model.network import TenantNetworks
from nvapps.model.service import Model
from nvapps.store.base import StoreUnavailable
from nvapps.store.etcd import EtcdStore
from nvapps.store.sqlite import SQLiteStore

LOG = logging.getLogger(__name__)


class ModelApp(app_manager.OSKenApp):
    """Tenant objects, stored; each committed change announced to the services as an EventModelChanged."""

    _EVENTS = [EventModelChanged]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.name = "nvmodel"
        settings = config.settings()
        self.store = _open_store()
        self.model = Model(self.store, settings.default_project,
                           TenantNetworks(settings.tenant_network_type, settings.underlay_mtu))
        self.model.subscribe(self._committed)
        if isinstance(self.store, EtcdStore):       # the other controllers' writes
            self.threads.append(hub.spawn(self.store.watch, self.model.remote))
        self.views = Views(self.model)
        self.port_changed: dict[str, int] = {}     # port id -> the model generation of its last change
        self.lb_changed: dict[str, int] = {}       # load balancer id -> the generation of its tree's last change

    def _committed(self, changes: list[Change]) -> None:
        for c in changes:
            if c.kind in loadbalancer.KINDS:
                root = loadbalancer.root_of(self.model, c.obj)
                if root is not None:
                    self.lb_changed[root] = self.model.generation
            if c.kind == "port":
                if c.new is None:
                    self.port_changed.pop(c.obj.id, None)
                else:
                    self.port_changed[c.new.id] = self.model.generation
        self.send_event_to_observers(EventModelChanged(changes))

    def close(self) -> None:
        self.store.close()

    @set_ev_cls(EventChassisUp)
    def _chassis_up(self, ev: EventChassisUp) -> None:
        """A switch registers its chassis the first time it connects (an admin may have done so before)."""
        if not self.model.list("chassis", {"name": [ev.chassis.name]}):
            try:
                self.model.create("chassis", {"name": ev.chassis.name})
            except ModelError as exc:
                if exc.type != "ChassisExists":     # another controller registered it first
                    LOG.error("registering chassis %s failed: %s", ev.chassis.name, exc.message)


def _open_store() -> SQLiteStore | EtcdStore:
    """The configured store (a ConfigError that says why when it cannot be opened)."""
    kind, where = config.store_url()
    try:
        return SQLiteStore(where[0]) if kind == "sqlite" else EtcdStore(where)
    except (OSError, sqlite3.Error) as exc:
        raise config.ConfigError(f"cannot open database {where[0]}: {exc}") from None
    except StoreUnavailable as exc:
        raise config.ConfigError(f"cannot read the model from etcd: {exc}") from None
