"""The L2 os-ken app: `osken-manager nvapps.l2.app` (loads nvapps.core.app and nvapps.rest.app too)."""
from __future__ import annotations

from dataclasses import dataclass

from os_ken.base import app_manager

from nvapps import pipeline
from nvapps.core.reconcile import Desired
from nvapps.core.service import ServiceApp
from nvapps.core.topology import Chassis, Uplink
from nvapps.l2.flows import BoundPort, bound_ports, chassis_l2, router_interfaces
from nvapps.l3.gateways import hosted_networks, router_gateways
from nvapps.model.service import Model

app_manager.require_app("nvapps.core.app")
app_manager.require_app("nvapps.rest.app")


class L2App(ServiceApp):
    """Tenant L2 networks: proactive MAC forwarding, per-network flooding, datapath learning."""

    APP_ID = pipeline.AppId.L2

    def snapshot(self) -> L2View:
        return l2_view(self.model, self.fabric(), self.core.uplinks)

    def desired(self, chassis: Chassis, snapshot: L2View) -> Desired:
        flows, groups = chassis_l2(chassis, snapshot.bound, snapshot.routers, snapshot.hosted.get(chassis.name, set()),
                                   snapshot.endpoints)
        return Desired.build(self.APP_ID, flows, groups)


@dataclass(frozen=True)
class L2View:
    """Bound ports, router interfaces, the networks each gateway chassis hosts for its routers, and every
    chassis's tunnel endpoint."""

    bound: list[BoundPort]
    routers: list[BoundPort]
    hosted: dict[str, set[int]]
    endpoints: dict[str, int]


def l2_view(model: Model, chassis: dict[str, Chassis], uplinks: list[Uplink]) -> L2View:
    """The L2 view of the model on the chassis known (`chassis`, with their tunnel endpoints)."""
    networks, ports = model.networks(), model.ports()
    gateways = router_gateways(model.list("router"), networks, ports, model.subnets(), uplinks, chassis)
    keys = {n.id: n.key for n in networks if n.admin_state_up}
    return L2View(bound_ports(networks, ports, chassis), router_interfaces(networks, ports),
                  hosted_networks(gateways, ports, keys), {c.name: c.tunnel_ip for c in chassis.values()})
