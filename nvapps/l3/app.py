"""The L3 os-ken app: `osken-manager nvapps.l3.app nvapps.l2.app` (L3 hands routed packets back to L2)."""
from __future__ import annotations

import logging

import netaddr
from os_ken.base import app_manager

from nvapps import pipeline
from nvapps.core.events import EventPacketIn
from nvapps.core.service import ServiceApp
from nvapps.core.topology import Chassis
from nvapps.l3 import flows
from nvapps.l3.icmp import TIME_EXCEEDED, UNREACHABLE, expired, icmp_error, ip_header

app_manager.require_app("nvapps.core.app")
app_manager.require_app("nvapps.rest.app")
app_manager.require_app("nvapps.l2.app")

LOG = logging.getLogger(__name__)

PUNT_RATE_PPS = 100    # ICMP errors the controller answers per second and switch, at most


class L3App(ServiceApp):
    """Tenant routers: a VRF each, routed on the chassis where packets enter."""

    SERVICE = flows.SERVICE

    def setup(self, chassis: Chassis) -> None:
        self.core.ensure_meter(chassis, pipeline.app_meter(self.APP_ID), PUNT_RATE_PPS)

    def packet_in(self, ev: EventPacketIn) -> None:
        """TTL (hop limit) 1 -> time exceeded, else (no route) -> unreachable, from the interface of the
        packet's IP version facing the sender."""
        key = ev.metadata & ~pipeline.ROUTER_METADATA
        view = next((v for v in self.reading.routers if v.router.key == key), None) if self.reading else None
        header = ip_header(ev.data)
        if view is None or header is None:
            return
        interfaces = view.interfaces if header.version == 4 else view.interfaces6
        if not interfaces:
            return
        source = netaddr.IPAddress(header.src)
        facing = next((i for i in interfaces if source in netaddr.IPNetwork(i.subnet.cidr)), interfaces[0])
        reply = icmp_error(ev.data, TIME_EXCEEDED if expired(header) else UNREACHABLE, facing.port.mac_address,
                           facing.ip)
        if reply is not None:
            self.core.packet_out(ev.chassis, ev.in_port, reply)
