"""Helpers of the tests at the provider edge: the external network with both tenants' gateways on it, and
floating IPs."""
from __future__ import annotations

import time

from nvapps.lab import scenarios
from nvapps.lab.net import wait_ping
from topologies.tenants import INTERNET_GATEWAY

SETTLE = 0.5


def open_edge(lab) -> tuple[dict, dict[str, str]]:
    """The external network, both routers' gateways on it, and each tenant's default group open to it; the
    network and each tenant's gateway address."""
    ext, gateways = scenarios.open_edge(lab.api, lab.tenants)
    time.sleep(SETTLE)
    for host in ("a11", "b11"):
        wait_ping(lab.host(host), INTERNET_GATEWAY)
    return ext, gateways


def floating_ip(lab, ext: dict, tenant: str, host: str | None = None, port_id: str | None = None) -> dict:
    """A floating IP of `tenant` on `ext`, on `host`'s port (or port `port_id`, or none)."""
    port_id = lab.tenants[tenant].ports[host]["id"] if host else port_id
    return lab.api.create("floatingip", floating_network_id=ext["id"], port_id=port_id,
                          project_id=f"tenant-{tenant}")
