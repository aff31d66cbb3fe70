"""The L2 os-ken app: `osken-manager nvapps.l2.app` (loads nvapps.core.app and nvapps.rest.app too)."""
from __future__ import annotations

from os_ken.base import app_manager

from nvapps.core.service import ServiceApp
from nvapps.l2 import flows

app_manager.require_app("nvapps.core.app")
app_manager.require_app("nvapps.rest.app")


class L2App(ServiceApp):
    """Tenant L2 networks: proactive MAC forwarding, per-network flooding, datapath learning."""

    SERVICE = flows.SERVICE
