"""Router views: each up router with its interfaces (IPv4 and IPv6 apart) and its gateway, as L3 and NAT read
them."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from nvapps import pipeline
from nvapps.logical.gateways import Gateway
from nvapps.model.network import ROUTER_INTERFACE, Port, Subnet
from nvapps.model.router import Router


@dataclass(frozen=True)
class Interface:
    """A router interface: its port (MAC, key), the subnet it is on and that network's key."""

    port: Port
    subnet: Subnet
    network_key: int

    @property
    def ip(self) -> str:
        return next(ip["ip_address"] for ip in self.port.fixed_ips or [] if ip["subnet_id"] == self.subnet.id)


@dataclass(frozen=True)
class RouterView:
    """A router with its IPv4 interfaces, its gateway (if it has one) and its IPv6 interfaces."""

    router: Router
    interfaces: tuple[Interface, ...]
    gateway: Gateway | None = None
    interfaces6: tuple[Interface, ...] = ()

    @property
    def metadata(self) -> int:
        return pipeline.router_metadata(self.router.key)


def router_views(routers: list[Router], ports: list[Port], subnets: list[Subnet],
                 network_keys: dict[str, int], gateways: dict[str, Gateway] | None = None) -> list[RouterView]:
    """Each administratively up router with its interfaces on subnets of up networks, and its gateway."""
    by_id = {s.id: s for s in subnets}
    ports_of: dict[str, list[Port]] = defaultdict(list)
    for port in ports:
        if port.device_owner == ROUTER_INTERFACE:
            ports_of[port.device_id].append(port)
    views = []
    for router in routers:
        if not router.admin_state_up:
            continue
        interfaces: dict[int, list[Interface]] = {4: [], 6: []}
        for port in ports_of.get(router.id, ()):
            for ip in port.fixed_ips or []:
                sub = by_id.get(ip["subnet_id"])
                if sub is not None and port.network_id in network_keys:
                    interfaces[sub.ip_version].append(Interface(port, sub, network_keys[port.network_id]))
        views.append(RouterView(router, tuple(interfaces[4]), (gateways or {}).get(router.id), tuple(interfaces[6])))
    return views

