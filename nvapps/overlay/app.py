"""The overlay os-ken app: `osken-manager nvapps.overlay.app nvapps.l2.app` joins chassis by tunnels.

Chassis register their tunnel endpoint (`/v2.0/chassis`: tunnel_type vxlan or geneve, tunnel_ip); every
bridge has one flow-based tunnel port per type (--nvapps-tunnel-ports, default vxlan0 and geneve0, made
with options:remote_ip=flow options:key=flow). Traffic to another chassis uses that chassis's type.
"""
from __future__ import annotations

from os_ken.base import app_manager

from nvapps.core.service import ServiceApp
from nvapps.overlay import flows

app_manager.require_app("nvapps.core.app")
app_manager.require_app("nvapps.rest.app")
app_manager.require_app("nvapps.l2.app")


class OverlayApp(ServiceApp):
    """Tunnels between chassis: classification of what arrives, encapsulation of what leaves."""

    SERVICE = flows.SERVICE
