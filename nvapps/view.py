"""The logical view the forwarding services compute from: the model placed on the chassis known now."""
from __future__ import annotations

from dataclasses import dataclass

from nvapps.core.topology import Chassis, Uplink
from nvapps.l2.flows import BoundPort, bound_ports, router_interfaces
from nvapps.l3.flows import RouterView, router_views
from nvapps.l3.gateways import router_gateways
from nvapps.model.network import Network, Port, Subnet
from nvapps.model.router import Router
from nvapps.model.service import Model
from nvapps.presence import Presence, presence


@dataclass(frozen=True)
class LogicalView:
    """Bound ports, router interfaces, routers with their gateways, what each chassis must know, and every
    chassis with its tunnel endpoint."""

    bound: list[BoundPort]
    interfaces: list[BoundPort]
    routers: list[RouterView]
    presence: Presence
    chassis: dict[str, Chassis]

    @property
    def endpoints(self) -> dict[str, int]:
        """Each chassis's tunnel IP by name (what reg12 carries towards it)."""
        return {c.name: c.tunnel_ip for c in self.chassis.values()}


def build_view(networks: list[Network], ports: list[Port], subnets: list[Subnet], routers: list[Router],
               chassis: dict[str, Chassis], uplinks: list[Uplink]) -> LogicalView:
    """The view of these objects on `chassis` (connected or registered), gateways placed on `uplinks`."""
    keys = {n.id: n.key for n in networks if n.admin_state_up}
    gateways = router_gateways(routers, networks, ports, subnets, uplinks, chassis)
    views = router_views(routers, ports, subnets, keys, gateways)
    bound, interfaces = bound_ports(networks, ports, chassis), router_interfaces(networks, ports)
    up = {v.router.id for v in views}
    return LogicalView(bound, interfaces, views, presence(bound, interfaces, gateways, up), chassis)


def logical_view(model: Model, chassis: dict[str, Chassis], uplinks: list[Uplink]) -> LogicalView:
    """The view of the whole model."""
    return build_view(model.networks(), model.ports(), model.subnets(), model.list("router"), chassis, uplinks)
