"""The L2 os-ken app: `osken-manager nvapps.l2.app` (loads nvapps.core.app and nvapps.rest.app too)."""
from __future__ import annotations

from os_ken.base import app_manager

from nvapps import pipeline
from nvapps.core.reconcile import Desired
from nvapps.core.service import ServiceApp
from nvapps.core.topology import Chassis
from nvapps.l2.flows import chassis_l2
from nvapps.view import LogicalView

app_manager.require_app("nvapps.core.app")
app_manager.require_app("nvapps.rest.app")


class L2App(ServiceApp):
    """Tenant L2 networks: proactive MAC forwarding, per-network flooding, datapath learning."""

    APP_ID = pipeline.AppId.L2

    def snapshot(self) -> LogicalView:
        return self.view()

    def desired(self, chassis: Chassis, snapshot: LogicalView) -> Desired:
        return chassis_l2(chassis, snapshot, self.pieces)
