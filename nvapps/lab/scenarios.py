"""Tenants on the `tenants` topology, created over REST the way a user would."""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from mininet.net import Mininet

from nvapps.client import Client
from nvapps.lab.controller import Controller
from nvapps.lab.net import start_net
from nvapps.lab.ovs import ensure_ovs
from topologies.tenants import TenantsTopo, host_ip, host_mac

CIDR = "10.0.0.0/24"


@dataclass
class Tenant:
    """One tenant's network, subnet and ports (by host name), as the API returned them."""

    name: str
    network: dict
    subnet: dict
    ports: dict[str, dict]


def bind_host(client: Client, topo: TenantsTopo, network: dict, subnet: dict, host: str) -> dict:
    """Create the port of Mininet host `host` (its MAC and IP), bound to its switch interface."""
    tenant, n = host[0], int(host[1:])
    switch, interface = topo.attachments[host]
    return client.create(
        "port", network_id=network["id"], project_id=network["project_id"], name=host,
        mac_address=host_mac(topo.tenants.index(tenant) + 1, n),
        fixed_ips=[{"subnet_id": subnet["id"], "ip_address": host_ip(n)}],
        **{"binding:host_id": switch, "binding:profile": {"interface_name": interface}})


def create_tenants(client: Client, topo: TenantsTopo) -> dict[str, Tenant]:
    """Per tenant letter of `topo`: project tenant-<x>, network net-<x> with 10.0.0.0/24, one port per host."""
    out = {}
    for tenant in topo.tenants:
        project = f"tenant-{tenant}"
        net = client.create("network", name=f"net-{tenant}", project_id=project)
        sub = client.create("subnet", network_id=net["id"], project_id=project, cidr=CIDR, ip_version=4,
                            name=f"subnet-{tenant}")
        hosts = sorted((h for h in topo.attachments if h[0] == tenant), key=lambda h: int(h[1:]))
        out[tenant] = Tenant(project, net, sub, {h: bind_host(client, topo, net, sub, h) for h in hosts})
    return out


@dataclass
class Lab:
    """A running controller, a started Mininet net on the tenants topology, and the tenants made over REST."""

    controller: Controller
    net: Mininet
    topo: TenantsTopo
    tenants: dict[str, Tenant]

    @property
    def api(self) -> Client:
        return self.controller.client

    def host(self, name: str):
        return self.net.get(name)


@contextmanager
def tenants_lab(topo: TenantsTopo, workdir: Path, of_port: int | None = None,
                rest_port: int | None = None) -> Iterator[Lab]:
    """Start OVS (if needed), the controller and `topo`, create its tenants; stop exactly those on exit."""
    ensure_ovs()
    switches = sorted(topo.switches())
    controller = Controller(workdir, trunks=TenantsTopo.trunks(len(switches)), of_port=of_port,
                            rest_port=rest_port)
    controller.start()
    net = None
    try:
        net = start_net(topo, controller.of_port)
        tenants = create_tenants(controller.client, topo)
        controller.wait_chassis(switches)
        yield Lab(controller, net, topo, tenants)
    finally:
        if net is not None:
            net.stop()
        controller.stop()
