"""Helpers of the tests at the provider edge: the external network with both tenants' gateways on it, and
floating IPs."""
from __future__ import annotations

import time

from nvapps.lab.net import wait_ping
from nvapps.lab.scenarios import create_external
from topologies.tenants import EXTERNAL_CIDR, INTERNET_GATEWAY, INTERNET_HOST

SETTLE = 0.5


def open_edge(lab) -> tuple[dict, dict[str, str]]:
    """The external network, both routers' gateways on it, and each tenant's default group open to it; the
    network and each tenant's gateway address."""
    ext, _ = create_external(lab.api)
    gateways = {}
    for name, tenant in lab.tenants.items():
        router = lab.api.update("router", tenant.router["id"], external_gateway_info={"network_id": ext["id"]})
        gateways[name] = router["external_gateway_info"]["external_fixed_ips"][0]["ip_address"]
        default = lab.api.list("security_group", project_id=tenant.name, name="default")[0]
        for prefix in (EXTERNAL_CIDR, f"{INTERNET_HOST}/32"):
            lab.api.create("security_group_rule", security_group_id=default["id"], direction="ingress",
                           ethertype="IPv4", remote_ip_prefix=prefix, project_id=tenant.name)
    time.sleep(SETTLE)
    for host in ("a11", "b11"):
        wait_ping(lab.host(host), INTERNET_GATEWAY)
    return ext, gateways


def floating_ip(lab, ext: dict, tenant: str, host: str | None = None, port_id: str | None = None) -> dict:
    """A floating IP of `tenant` on `ext`, on `host`'s port (or port `port_id`, or none)."""
    port_id = lab.tenants[tenant].ports[host]["id"] if host else port_id
    return lab.api.create("floatingip", floating_network_id=ext["id"], port_id=port_id,
                          project_id=f"tenant-{tenant}")
