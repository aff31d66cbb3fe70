"""Provider (flat) external networks and floating IP port forwardings follow Neutron's rules."""
from __future__ import annotations

import pytest

from nvapps.logical.view import logical_view
from nvapps.model.context import Context
from nvapps.model.errors import BadRequest, Conflict, NotFound
from nvapps.model.network import FLOATINGIP
from nvapps.nat.flows import External, Floating, nat_view
from tests.unit.modelkit import admin_for, attached, network_with_subnet, new_model, refused, snapshot

P = admin_for("p1")
EXTERNAL = {"router:external": True, "provider:physical_network": "physnet1"}


@pytest.fixture
def model():
    return new_model()


@pytest.fixture
def edge(model):
    """External network 172.24.4.0/24 on physnet1; p1's router joins it to 10.0.0.0/24, where a VM port is."""
    ext, _ = network_with_subnet(model, "admin", "172.24.4.0/24", **EXTERNAL)
    router, _, vm = attached(model, ext, fixed_ips=[{"ip_address": "10.0.0.11"}])
    fip = model.create("floatingip", {"floating_network_id": ext.id}, P)
    return ext, router, vm, fip


def forward(model, fip, vm, ctx=P, **attrs):
    body = {"protocol": "tcp", "internal_port_id": vm.id, "internal_ip_address": "10.0.0.11",
            "internal_port": 22, "external_port": 2222, **attrs}
    return model.create("port_forwarding", body, ctx, parent_id=fip.id)


def test_a_network_on_a_physical_network_is_flat_and_the_only_one_there(model):
    ext, _ = network_with_subnet(model, "admin", "172.24.4.0/24", **EXTERNAL)
    assert (ext.network_type, ext.physical_network) == ("flat", "physnet1")
    tenant, _ = network_with_subnet(model, "p1")
    assert (tenant.network_type, tenant.physical_network) == ("vlan", None)
    before = snapshot(model)
    with pytest.raises(Conflict, match="physnet1"):
        model.create("network", {"provider:physical_network": "physnet1"}, P)
    for bad in ({"provider:network_type": "flat"}, {"provider:network_type": "vlan", "provider:physical_network": "x"},
                {"provider:network_type": "gre"}):
        with pytest.raises(BadRequest):
            model.create("network", bad, P)
    assert snapshot(model) == before


def test_a_port_forwarding_puts_its_floating_ip_on_the_router(model, edge):
    _, router, vm, fip = edge
    pf = forward(model, fip, vm)
    assert (pf.floatingip_id, pf.project_id) == (fip.id, "p1")
    assert (model.get("floatingip", fip.id).router_id, model.get("floatingip", fip.id).status) == (router.id, "ACTIVE")
    model.update("floatingip", fip.id, {"description": "still forwarding"}, P)
    assert model.get("floatingip", fip.id).router_id == router.id
    model.delete("port_forwarding", pf.id, P)
    assert (model.get("floatingip", fip.id).router_id, model.get("floatingip", fip.id).status) == (None, "DOWN")


@pytest.mark.parametrize("attrs, error", [
    ({"protocol": "icmp"}, BadRequest), ({"external_port": 0}, BadRequest), ({"internal_port": 70000}, BadRequest),
    ({"internal_ip_address": "10.0.0.99"}, Conflict), ({"internal_port_id": None}, BadRequest),
    ({"floatingip_id": "x"}, BadRequest), ({"internal_port_id": "00000000-0000-0000-0000-000000000000"}, NotFound),
])
def test_bad_port_forwardings_are_refused_and_nothing_is_stored(model, edge, attrs, error):
    _, _, vm, fip = edge
    before = snapshot(model)
    with pytest.raises(error):
        forward(model, fip, vm, **attrs)
    assert snapshot(model) == before


def test_one_external_port_per_protocol_and_one_forwarding_per_internal_socket(model, edge):
    _, _, vm, fip = edge
    forward(model, fip, vm)
    with pytest.raises(Conflict):
        forward(model, fip, vm, internal_port=23)          # tcp 2222 is taken
    with pytest.raises(Conflict):
        forward(model, fip, vm, external_port=2223)        # tcp 10.0.0.11:22 already forwarded
    assert forward(model, fip, vm, protocol="udp").protocol == "udp"


def test_a_floating_ip_has_a_port_or_port_forwardings_not_both(model, edge):
    _, _, vm, fip = edge
    model.update("floatingip", fip.id, {"port_id": vm.id}, P)
    with pytest.raises(Conflict):
        forward(model, fip, vm)
    model.update("floatingip", fip.id, {"port_id": None}, P)
    forward(model, fip, vm)
    with pytest.raises(Conflict):
        model.update("floatingip", fip.id, {"port_id": vm.id}, P)


def test_forwardings_go_with_their_floating_ip_or_port_and_hold_the_router_interface(model, edge):
    _, router, vm, fip = edge
    forward(model, fip, vm)
    sub_id = vm.fixed_ips[0]["subnet_id"]
    with pytest.raises(Conflict):
        model.action("router", router.id, "remove_router_interface", {"subnet_id": sub_id}, P)
    model.delete("port", vm.id, P)
    assert model.list("port_forwarding") == [] and model.get("floatingip", fip.id).router_id is None
    other = model.create("port", {"network_id": vm.network_id, "fixed_ips": [{"ip_address": "10.0.0.11"}]}, P)
    forward(model, fip, other)
    model.delete("floatingip", fip.id, P)
    assert model.list("port_forwarding") == []


def test_another_project_cannot_forward_through_a_floating_ip_it_cannot_see(model, edge):
    _, _, vm, fip = edge
    with pytest.raises(NotFound):
        forward(model, fip, vm, ctx=Context("p2"))


def test_the_nat_view_holds_the_floating_ips_that_lead_inside_and_the_up_external_networks(model, edge):
    ext, router, vm, fip = edge
    assert nat_view(model, logical_view(model, {}, []), None).routers[0].floating == ()      # unassociated
    model.update("floatingip", fip.id, {"port_id": vm.id}, P)
    forwarded = model.create("floatingip", {"floating_network_id": ext.id}, P)
    pf = forward(model, forwarded, vm)
    model.create("network", {"name": "down", "router:external": True, "provider:physical_network": "physnet2",
                             "admin_state_up": False}, P)
    model.create("network", {"name": "overlay", "router:external": True}, P)
    model.create("network", {"name": "flat", "provider:physical_network": "physnet3"}, P)
    view = nat_view(model, logical_view(model, {}, []), None)
    [r] = view.routers
    assert r.view.router.id == router.id
    assert set(r.floating) == {
        Floating(model.get("floatingip", fip.id).floating_ip_address, "10.0.0.11", (), fip.id, "p1"),
        Floating(forwarded.floating_ip_address, None, (model.get("port_forwarding", pf.id),), forwarded.id, "p1")}
    assert view.externals == [External(ext.key, "physnet1")]


def second_tenant(model, ext):
    """p2's router joins ext to p2's own 10.0.0.0/24 (the addresses p1 uses too), with a VM at 10.0.0.11 and a
    floating IP."""
    router, _, vm = attached(model, ext, "p2", fixed_ips=[{"ip_address": "10.0.0.11"}])
    return router, vm, model.create("floatingip", {"floating_network_id": ext.id}, admin_for("p2"))


def test_forwardings_are_refused_by_type_and_nothing_is_stored(model, edge):
    ext, router, vm, fip = edge
    forward(model, fip, vm)
    refused(model, Conflict, "PortForwardingAlreadyExists", forward, model, fip, vm, internal_port=23)
    refused(model, Conflict, "PortForwardingAlreadyExists", forward, model, fip, vm, external_port=2223)
    refused(model, Conflict, "Conflict", forward, model, fip, vm, internal_ip_address="10.0.0.99")
    interface = model.list("port", {"device_id": [router.id]})[0]       # the router's own port is not a VM's
    refused(model, Conflict, "Conflict", forward, model, fip, interface, internal_ip_address="10.0.0.1",
            external_port=2300)
    _, theirs, _ = second_tenant(model, ext)
    refused(model, NotFound, "PortNotFound", forward, model, fip, theirs, Context("p1"))     # (a member of p1)
    bound = model.create("floatingip", {"floating_network_id": ext.id, "port_id": vm.id}, P)
    refused(model, Conflict, "FloatingIPPortAlreadyAssociated", forward, model, bound, vm)
    refused(model, Conflict, "FloatingIPPortAlreadyAssociated", model.update, "floatingip", fip.id, {"port_id": vm.id},
            P)
    lone, _ = network_with_subnet(model, "p1", "10.0.7.0/24")          # no router joins it to ext
    alone = model.create("port", {"network_id": lone.id}, P)
    refused(model, NotFound, "ExternalGatewayForFloatingIPNotFound", forward, model, fip, alone,
            internal_ip_address=alone.fixed_ips[0]["ip_address"])


def test_a_floating_ip_forwards_through_one_router(model, edge):
    ext, _, vm, fip = edge
    forward(model, fip, vm)
    _, _, there = attached(model, ext, "p1", "10.0.8.0/24")           # behind another router of p1
    refused(model, Conflict, "Conflict", forward, model, fip, there,
            internal_ip_address=there.fixed_ips[0]["ip_address"])


def test_forwardings_of_other_floating_ips_and_other_ports_do_not_collide(model, edge):
    ext, _, vm, fip = edge
    forward(model, fip, vm)
    revision = model.get("floatingip", fip.id).revision_number
    second = model.create("port", {"network_id": vm.network_id, "fixed_ips": [{"ip_address": "10.0.0.12"}]}, P)
    forward(model, fip, second, internal_ip_address="10.0.0.12", external_port=2223)    # same internal port 22
    assert model.get("floatingip", fip.id).revision_number == revision      # already on the router: untouched
    _, theirs, their_fip = second_tenant(model, ext)     # p2's 10.0.0.11:22 behind its own floating IP's 2222
    ctx = admin_for("p2")
    pf = forward(model, their_fip, theirs, ctx)
    assert (pf.external_port, pf.internal_ip_address) == (2222, "10.0.0.11")
    flipped = model.get("floatingip", their_fip.id)
    assert (flipped.status, flipped.revision_number) == ("ACTIVE", their_fip.revision_number + 1)
    model.delete("floatingip", fip.id, P)              # its forwardings and port go, p2's stay
    assert [f.id for f in model.list("port_forwarding")] == [pf.id]
    assert [p.device_id for p in model.list("port") if p.device_owner == FLOATINGIP] == [their_fip.id]
    assert model.find("floatingip", fip.id) is None
    assert model.list("floatingip") == [model.get("floatingip", their_fip.id)]


def test_a_floating_ip_stays_on_its_router_until_its_last_forwarding_goes(model, edge):
    _, router, vm, fip = edge
    first = forward(model, fip, vm)
    second = forward(model, fip, vm, internal_port=80, external_port=8080)
    model.delete("port_forwarding", first.id, P)
    still = model.get("floatingip", fip.id)
    assert (still.router_id, still.status) == (router.id, "ACTIVE")
    model.delete("port_forwarding", second.id, P)
    gone = model.get("floatingip", fip.id)
    assert (gone.router_id, gone.status, gone.revision_number) == (None, "DOWN", still.revision_number + 1)
