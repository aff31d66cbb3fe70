"""The DHCP os-ken app: `osken-manager nvapps.dhcp.app nvapps.l2.app` answers DHCPv4 and DHCPv6 for bound ports,
and sends the router advertisements of IPv6 subnets with ipv6_ra_mode (every --nvapps-ra-interval seconds, and
in answer to a router solicitation)."""
from __future__ import annotations

import logging

from os_ken.base import app_manager
from os_ken.lib import hub

from nvapps import config, pipeline
from nvapps.core import nd
from nvapps.core.app import SwitchError
from nvapps.core.events import EventPacketIn
from nvapps.core.service import ServiceApp
from nvapps.core.topology import Chassis
from nvapps.dhcp import dhcpv6, flows, ra
from nvapps.dhcp.server import parse_request, reply
from nvapps.model.network import Port

app_manager.require_app("nvapps.core.app")
app_manager.require_app("nvapps.rest.app")
app_manager.require_app("nvapps.l2.app")

REQUEST_RATE_PPS = 50    # DHCP requests and router solicitations the controller takes per second and switch, at most
LOG = logging.getLogger(__name__)


class DhcpApp(ServiceApp):
    """DHCP at the edge: each switch sends its ports' requests here; answers go straight back to the port."""

    SERVICE = flows.SERVICE

    def start(self):
        thread = super().start()
        self.threads.append(hub.spawn(self._advertise))
        return thread

    def setup(self, chassis: Chassis) -> None:
        self.core.ensure_meter(chassis, pipeline.app_meter(self.APP_ID), REQUEST_RATE_PPS)

    def _advertise(self) -> None:
        """Every --nvapps-ra-interval seconds, each bound port on an advertised IPv6 subnet hears its router."""
        while self.is_active:
            hub.sleep(config.settings().ra_interval)
            view: flows.DhcpView | None = self.reading
            if view is None or not self.core.master:
                continue
            routers = ra.router_interfaces(self.model.ports())
            for name, bound in view.local.items():
                chassis = self.core.chassis.get(name)
                if chassis is None:
                    continue
                for b in bound:
                    advert = ra.advert_for(b.port, view.subnets, routers, self._mtu(b.port))
                    if advert is not None and b.location is not None and b.location.ofport is not None:
                        self._send(chassis, b.location.ofport, ra.router_advertisement(advert))

    def _mtu(self, port: Port) -> int | None:
        """The MTU of the port's network (what its router advertises)."""
        network = self.model.find("network", port.network_id)
        return network.mtu if network is not None else None

    def _send(self, chassis: Chassis, ofport: int, frame: bytes) -> None:
        try:
            self.core.packet_out(chassis, ofport, frame)
        except SwitchError as exc:
            LOG.warning("sending to %s failed: %s", chassis.name, exc)

    def packet_in(self, ev: EventPacketIn) -> None:
        solicited = ra.solicitation(ev.data)
        if solicited is not None:
            self._solicited(ev, *solicited)
            return
        request = parse_request(ev.data)
        message = dhcpv6.parse(ev.data) if request is None else None
        if (request is None and message is None) or self.reading is None:
            return
        view: flows.DhcpView = self.reading
        port = _sender(view, ev)
        network = self.model.find("network", port.network_id) if port is not None else None
        if port is None or network is None:
            return
        answer = None
        if request is not None:
            lease = flows.lease_for(port, network, view.subnets, self.model.ports())
            answer = reply(request, lease) if lease is not None else None
        elif message is not None:
            lease6 = flows.lease6_for(port, network, view.subnets, self.model.ports())
            answer = dhcpv6.reply(message, lease6) if lease6 is not None else None
        if answer is not None:
            self.core.packet_out(ev.chassis, ev.in_port, answer)

    def _solicited(self, ev: EventPacketIn, mac: str, ip: str) -> None:
        """A router solicitation: the port's routers answer it directly."""
        view: flows.DhcpView | None = self.reading
        port = _sender(view, ev) if view is not None else None
        advert = ra.advert_for(port, view.subnets, ra.router_interfaces(self.model.ports()), self._mtu(port)) \
            if port is not None and view is not None else None
        if advert is not None:
            unspecified = ip == "::"
            self._send(ev.chassis, ev.in_port, ra.router_advertisement(
                advert, nd.ALL_NODES_MAC if unspecified else mac, nd.ALL_NODES if unspecified else ip))


def _sender(view: flows.DhcpView, ev: EventPacketIn) -> Port | None:
    """The bound port whose interface a punted packet came in by."""
    return next((b.port for b in view.local.get(ev.chassis.name, ())
                 if b.location is not None and b.location.ofport == ev.in_port), None)
