"""The load balancer os-ken app: `osken-manager nvapps.lb.app nvapps.l2.app` balances TCP/UDP connections to
VIPs on the clients' chassis (nvapps.lb.flows)."""
from __future__ import annotations

from os_ken.base import app_manager

from nvapps.core.service import ServiceApp
from nvapps.lb import flows

app_manager.require_app("nvapps.core.app")
app_manager.require_app("nvapps.rest.app")
app_manager.require_app("nvapps.l2.app")


class LoadBalancerApp(ServiceApp):
    """Load balancers: VIP translation to pool members at the client's edge, and back for replies."""

    SERVICE = flows.SERVICE
