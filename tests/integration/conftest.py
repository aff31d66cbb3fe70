"""Fixtures: OVS running, one controller subprocess and one Mininet topology per test module."""
from __future__ import annotations

import pytest
from mininet.log import setLogLevel

from nvapps.lab.controller import Controller
from nvapps.lab.ovs import ensure_ovs
from nvapps.lab.scenarios import tenants_lab
from topologies.tenants import TenantsTopo


@pytest.fixture(scope="session")
def ovs() -> None:
    setLogLevel("warning")
    ensure_ovs()


@pytest.fixture(scope="module")
def lab(ovs, tmp_path_factory, request):
    """Two switches, tenants a and b with the same addresses; the module may set HOSTS_PER_SWITCH (default 2:
    a1..a4, b1..b4), SUBNETS (default 1; more make a router per tenant), INTERNET (default False: uplinks to
    a physical network with host inet), OVERLAY (a tunnel type: SWITCHES chassis hv1.. joined by tunnels
    instead of two switches and a trunk), VLANS (a legacy VLAN segment behind the last switch), PLACEMENT
    (round-robin, default, or asymmetric: topologies.tenants), BGP (with INTERNET: a BGP speaker per uplink,
    inet their peer), APPS (default the L2 app), FLAGS (more
    controller options) and CONTROLLERS (default 1; more share a three-member etcd cluster)."""
    module = request.module
    topo = TenantsTopo(switches=getattr(module, "SWITCHES", 2), hosts=getattr(module, "HOSTS_PER_SWITCH", 2),
                       subnets=getattr(module, "SUBNETS", 1), internet=getattr(module, "INTERNET", False),
                       overlay=getattr(module, "OVERLAY", ""), vlans=getattr(module, "VLANS", False),
                       placement=getattr(module, "PLACEMENT", "round-robin"), bgp=getattr(module, "BGP", False))
    with tenants_lab(topo, tmp_path_factory.mktemp(module.__name__.split(".")[-1]),
                     apps=getattr(module, "APPS", ("nvapps.l2.app",)), flags=getattr(module, "FLAGS", ()),
                     controllers=getattr(module, "CONTROLLERS", 1)) as running:
        yield running


@pytest.fixture(scope="module")
def controller(tmp_path_factory, request):
    """A controller with no switch, for API tests (tokens: nvapps.lab.controller.ADMIN_TOKEN, MEMBER_TOKENS)."""
    ctl = Controller(tmp_path_factory.mktemp(request.module.__name__.split(".")[-1]))
    ctl.start()
    try:
        yield ctl
    finally:
        ctl.stop()
