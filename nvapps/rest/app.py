"""The "nvapi" os-ken app: serves the REST API on the model of the "nvmodel" app."""
from __future__ import annotations

import logging

from os_ken.base import app_manager
from os_ken.lib import hub

from nvapps import config
from nvapps.core.topology import Chassis, locate
from nvapps.logical.gateways import router_gateways
from nvapps.model import loadbalancer
from nvapps.model.base import Resource
from nvapps.model.chassis import RegisteredChassis
from nvapps.model.context import Context
from nvapps.model.errors import NotFound
from nvapps.model.network import Port
from nvapps.model.service import Model
from nvapps.rest import server
from nvapps.rest.auth import Authenticator, NoAuth, TokenFile
from nvapps.rest.counters import counters
from nvapps.rest.metrics import Metrics
from nvapps.rest.wsgi import RestAPI
from nvapps.trace.tracer import Tracer

LOG = logging.getLogger(__name__)

app_manager.require_app("nvapps.model.app")


class RestApp(app_manager.OSKenApp):
    """Tenant objects in and out over HTTP; the REST server runs in this process's eventlet hub."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.name = "nvapi"
        settings = config.settings()
        self._authenticator = _authenticator(settings)
        self._listen = (settings.rest_host, settings.rest_port)

    def start(self):
        thread = super().start()
        self._models = app_manager.lookup_service_brick("nvmodel")
        self.model: Model = self._models.model
        self.api = RestAPI(self.model, self._authenticator, self._live_status, self._live_reading,
                           Metrics(self.model, self._core, self._floating), self._trace,
                           lambda ctx, project: counters(self.model, self._core(), self._floating, ctx, project))
        try:
            serve_forever = server.serve(self._listen, self.api)
        except OSError as exc:
            raise config.ConfigError(f"cannot serve the REST API on {self._listen[0]}:{self._listen[1]}: "
                                     f"{exc}") from None
        self.threads.append(hub.spawn(serve_forever))
        LOG.info("nvapps REST API on http://%s:%d/v2.0/ (database %s)", *self._listen, config.settings().db_path)
        return thread

    def _floating(self) -> list:
        """The floating IPs' traffic, if the NAT app runs here."""
        nat = app_manager.lookup_service_brick("nvnat")
        return nat.floating_counters() if nat is not None else []

    def _trace(self, ctx: Context, flow: str, port_id: str | None, network_id: str | None) -> dict:
        """A packet traced on the switches (404 without the switch apps)."""
        core = self._core()
        if core is None:
            raise NotFound("No switches here: packet traces need the switch apps")
        return Tracer(self.model, core).trace(ctx, flow, port_id=port_id, network_id=network_id)

    def _core(self):
        return app_manager.lookup_service_brick("nvcore")

    def _live_status(self, obj: Resource) -> dict:
        """A chassis shows its switch; a port is ACTIVE once its bound interface exists on a connected chassis
        and every service has installed there the flows of the port as it is now (BUILD until then), else DOWN
        (unbound, no such interface, the chassis away, or administratively down)."""
        core = self._core()
        if core is None:
            return {}
        if isinstance(obj, Port):
            loc = locate(obj.host_id, obj.interface_name, core.chassis)
            if not obj.admin_state_up or loc is None:
                return {"status": "DOWN"}
            stats = core.stats.get(core.chassis[loc.chassis].dpid)
            if stats is None:
                return {"status": "BUILD"}
            changed = (self._models.port_changed.get(obj.id, 0), stats.interfaces_at)
            installed = all(model >= changed[0] and topology >= changed[1]
                            for model, topology in (stats.generation.get(app, (-1, -1)) for app in core.services))
            return {"status": "ACTIVE" if installed else "BUILD"}
        if isinstance(obj, RegisteredChassis):
            return self._switch_status(core, core.chassis.get(obj.name))
        if obj.KIND in loadbalancer.KINDS:
            return self._lb_status(core, obj)
        return {}

    def _live_reading(self, obj: Resource, name: str) -> dict:
        """Octavia's statistics, read from the load balancer app's flows (zeros without that app)."""
        balancer = app_manager.lookup_service_brick("nvlb")
        return {name: balancer.statistics(obj) if balancer is not None else loadbalancer.no_stats()}

    def _lb_status(self, core, obj: Resource) -> dict:
        """Octavia's statuses: ACTIVE once the load balancer app has installed, on every connected chassis,
        the flows of the object's load balancer as it is now (PENDING_CREATE/UPDATE until then); operating
        OFFLINE when administratively down, else what the members' health checks say (members without a
        monitor NO_MONITOR, the others ONLINE)."""
        root = loadbalancer.root_of(self.model, obj)
        changed = self._models.lb_changed.get(root or "", 0)
        synced = "lb" in core.services and all(
            stats.generation.get("lb", (-1, -1))[0] >= changed for stats in core.stats.values())
        provisioning = "ACTIVE" if synced else "PENDING_CREATE" if obj.revision_number <= 1 else "PENDING_UPDATE"
        balancer = app_manager.lookup_service_brick("nvlb")
        operating = "OFFLINE" if not getattr(obj, "admin_state_up", True) else \
            (balancer.operating_status(obj) if balancer is not None else None) or \
            ("NO_MONITOR" if obj.KIND == "member" else "ONLINE")
        return {"provisioning_status": provisioning, "operating_status": operating}

    def _switch_status(self, core, ch: Chassis | None) -> dict:
        """What the switch of a chassis reports, and what the controller sent it (empty while not connected)."""
        if ch is None:
            return {"connected": False, "datapath_id": None, "interfaces": [], "trunk_ofport": None, "uplinks": {},
                    "tunnel_ports": {}, "gateway_routers": [], "flows": {}, "flow_mods": 0, "group_mods": 0,
                    "packet_ins": 0, "errors": 0, "last_sync": {}, "master": False, "bgp": []}
        m, stats = self.model, core.stats.get(ch.dpid)
        gateways = router_gateways(m.list("router"), m.networks(), m.ports(), m.subnets(), core.uplinks, core.chassis)
        return {
            "connected": True, "datapath_id": f"{ch.dpid:016x}",
            "interfaces": [{"name": i.name, "ofport": i.ofport, "up": i.up}
                           for i in sorted(ch.interfaces.values(), key=lambda i: i.ofport)],
            "trunk_ofport": ch.trunk_ofport,
            "uplinks": {physnet: {"interface": name, "ofport": ch.uplink_ofport(physnet)}
                        for physnet, name in sorted(ch.uplinks.items())},
            "tunnel_ports": {kind: {"interface": name, "ofport": ch.tunnel_ofport(kind)}
                             for kind, name in sorted(ch.tunnel_ports.items())},
            "gateway_routers": sorted(rid for rid, g in gateways.items() if g.chassis == ch.name),
            "flows": stats.flows, "flow_mods": stats.flow_mods, "group_mods": stats.group_mods,
            "packet_ins": stats.packet_ins, "errors": stats.errors, "last_sync": stats.last_sync,
            "master": core.master,      # this controller's role for the switch (every switch's, with others)
            "bgp": bgp.status(ch.name) if (bgp := app_manager.lookup_service_brick("nvbgp")) is not None else [],
        }


def _authenticator(settings) -> Authenticator:
    """Tokens from --nvapps-auth-file, or --nvapps-no-auth (said loudly); one of them is required."""
    if settings.no_auth:
        for line in ("*" * 72, "nvapps REST API: NO AUTHENTICATION (--nvapps-no-auth). Every request is admin.",
                     "Development only: never expose this API.", "*" * 72):
            LOG.warning(line)
        return NoAuth(settings.default_project)
    if not settings.auth_file:
        raise config.ConfigError("set --nvapps-auth-file FILE (API tokens), or --nvapps-no-auth for development")
    try:
        return TokenFile.load(settings.auth_file)
    except ValueError as exc:
        raise config.ConfigError(str(exc)) from None
