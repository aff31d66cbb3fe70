"""Fixtures: OVS running, one controller subprocess and one Mininet topology per test module."""
from __future__ import annotations

from dataclasses import dataclass

import pytest
from mininet.log import setLogLevel
from mininet.net import Mininet

from nvapps.lab.controller import Controller
from nvapps.lab.net import start_net
from nvapps.lab.ovs import ensure_ovs
from nvapps.lab.scenarios import Tenant, create_tenants
from topologies.tenants import TenantsTopo


@dataclass
class Lab:
    """A running controller, a started Mininet net on the tenants topology and the tenants made over REST."""

    controller: Controller
    net: Mininet
    topo: TenantsTopo
    tenants: dict[str, Tenant]

    @property
    def api(self):
        return self.controller.client

    def host(self, name: str):
        return self.net.get(name)


@pytest.fixture(scope="session")
def ovs() -> None:
    setLogLevel("warning")
    ensure_ovs()


@pytest.fixture(scope="module")
def lab(ovs, tmp_path_factory, request):
    """Two switches; the module's HOSTS_PER_SWITCH hosts per tenant per switch (default 2: a1..a4, b1..b4);
    tenants a and b with the same CIDR."""
    topo = TenantsTopo(switches=2, hosts=getattr(request.module, "HOSTS_PER_SWITCH", 2))
    controller = Controller(tmp_path_factory.mktemp(request.module.__name__.split(".")[-1]),
                            trunks=TenantsTopo.trunks(2))
    controller.start()
    net = None
    try:
        net = start_net(topo, controller.of_port)
        tenants = create_tenants(controller.client, topo)
        controller.wait_chassis(["s1", "s2"])
        yield Lab(controller, net, topo, tenants)
    finally:
        if net is not None:
            net.stop()
        controller.stop()
