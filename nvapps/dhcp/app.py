"""The DHCP os-ken app: `osken-manager nvapps.dhcp.app nvapps.l2.app` answers DHCPv4 for bound ports."""
from __future__ import annotations

from os_ken.base import app_manager

from nvapps import pipeline
from nvapps.core.events import EventPacketIn
from nvapps.core.service import ServiceApp
from nvapps.core.topology import Chassis
from nvapps.dhcp import flows
from nvapps.dhcp.server import parse_request, reply

app_manager.require_app("nvapps.core.app")
app_manager.require_app("nvapps.rest.app")
app_manager.require_app("nvapps.l2.app")

REQUEST_RATE_PPS = 50    # DHCP requests the controller takes per second and switch, at most


class DhcpApp(ServiceApp):
    """DHCP at the edge: each switch sends its ports' requests here; answers go straight back to the port."""

    SERVICE = flows.SERVICE

    def setup(self, chassis: Chassis) -> None:
        self.core.ensure_meter(chassis, pipeline.app_meter(self.APP_ID), REQUEST_RATE_PPS)

    def packet_in(self, ev: EventPacketIn) -> None:
        request = parse_request(ev.data)
        if request is None or self.reading is None:
            return
        view: flows.DhcpView = self.reading
        port = next((b.port for b in view.local.get(ev.chassis.name, ())
                     if b.location is not None and b.location.ofport == ev.in_port), None)
        network = self.model.find("network", port.network_id) if port is not None else None
        if port is None or network is None:
            return
        lease = flows.lease_for(port, network, view.subnets, self.model.ports())
        answer = reply(request, lease) if lease is not None else None
        if answer is not None:
            self.core.packet_out(ev.chassis, ev.in_port, answer)
