"""Router views: each up router with its IPv4 interfaces and its gateway, as L3 and NAT read them."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from nvapps import pipeline
from nvapps.logical.gateways import Gateway
from nvapps.model.network import ROUTER_INTERFACE, Port, Subnet
from nvapps.model.router import Router


@dataclass(frozen=True)
class Interface:
    """A router interface: its port (MAC, key), the IPv4 subnet it is on and that network's key."""

    port: Port
    subnet: Subnet
    network_key: int

    @property
    def ip(self) -> str:
        return next(ip["ip_address"] for ip in self.port.fixed_ips or [] if ip["subnet_id"] == self.subnet.id)


@dataclass(frozen=True)
class RouterView:
    """A router with its IPv4 interfaces and its gateway, if it has one."""

    router: Router
    interfaces: tuple[Interface, ...]
    gateway: Gateway | None = None

    @property
    def metadata(self) -> int:
        return pipeline.router_metadata(self.router.key)


def router_views(routers: list[Router], ports: list[Port], subnets: list[Subnet],
                 network_keys: dict[str, int], gateways: dict[str, Gateway] | None = None) -> list[RouterView]:
    """Each administratively up router with its interfaces on IPv4 subnets of up networks, and its gateway."""
    by_id = {s.id: s for s in subnets}
    ports_of: dict[str, list[Port]] = defaultdict(list)
    for port in ports:
        if port.device_owner == ROUTER_INTERFACE:
            ports_of[port.device_id].append(port)
    views = []
    for router in routers:
        if not router.admin_state_up:
            continue
        interfaces = []
        for port in ports_of.get(router.id, ()):
            for ip in port.fixed_ips or []:
                sub = by_id.get(ip["subnet_id"])
                if sub is not None and sub.ip_version == 4 and port.network_id in network_keys:
                    interfaces.append(Interface(port, sub, network_keys[port.network_id]))
        views.append(RouterView(router, tuple(interfaces), (gateways or {}).get(router.id)))
    return views

