"""Routers and floating IPs: interfaces, routes, gateways and associations follow Neutron's rules."""
from __future__ import annotations

from functools import partial

import pytest

from nvapps.model.context import Context
from nvapps.model.errors import BadRequest, Conflict, Forbidden, NotFound
from nvapps.model.network import FLOATINGIP, ROUTER_GATEWAY, ROUTER_INTERFACE
from nvapps.model.router import router_ports
from tests.unit.modelkit import admin_for, attached, network_with_subnet, new_model, refused

P = admin_for("p1")
ADMIN = admin_for("admin")


@pytest.fixture
def model():
    return new_model()


@pytest.fixture
def ext(model):
    """An external network 172.24.4.0/24 (admin-made)."""
    net, sub = network_with_subnet(model, "admin", "172.24.4.0/24", **{"router:external": True})
    return net, sub


def test_interface_by_subnet_takes_the_gateway_ip(model):
    _, sub = network_with_subnet(model, "p1")
    router = model.create("router", {"name": "r"}, P)
    info = model.action("router", router.id, "add_router_interface", {"subnet_id": sub.id}, P)
    port = model.get("port", info["port_id"])
    assert (port.device_owner, port.device_id, port.ip_addresses) == (ROUTER_INTERFACE, router.id, ["10.0.0.1"])
    assert info == {"id": router.id, "tenant_id": "p1", "project_id": "p1", "port_id": port.id,
                    "network_id": sub.network_id, "subnet_id": sub.id, "subnet_ids": [sub.id]}


def test_interface_by_port_adopts_it(model):
    net, sub = network_with_subnet(model, "p1")
    port = model.create("port", {"network_id": net.id, "fixed_ips": [{"ip_address": "10.0.0.254"}]}, P)
    router = model.create("router", {}, P)
    info = model.action("router", router.id, "add_router_interface", {"port_id": port.id}, P)
    assert info["port_id"] == port.id
    adopted = model.get("port", port.id)
    assert (adopted.device_owner, adopted.device_id) == (ROUTER_INTERFACE, router.id)
    other = model.create("router", {}, P)
    add = partial(model.action, "router", other.id, "add_router_interface")
    refused(model, Conflict, "PortInUse", add, {"port_id": port.id}, P)                # already in use
    vms = model.create("port", {"network_id": net.id, "device_id": "a-vm"}, P)        # a device's, owner or not
    refused(model, Conflict, "PortInUse", add, {"port_id": vms.id}, P)
    bare = model.create("port", {"network_id": net.id, "fixed_ips": []}, P)
    refused(model, Conflict, "Conflict", add, {"port_id": bare.id}, P)                 # no address to route by
    _, theirs = network_with_subnet(model, "p2", "10.0.2.0/24")
    their_port = model.create("port", {"network_id": theirs.network_id}, admin_for("p2"))
    member = Context("p1")
    refused(model, NotFound, "SubnetNotFound", add, {"subnet_id": theirs.id}, member)
    refused(model, NotFound, "PortNotFound", add, {"port_id": their_port.id}, member)
    gatewayless = model.create("subnet", {"network_id": net.id, "cidr": "10.0.3.0/24", "ip_version": 4,
                                          "gateway_ip": None}, P)
    refused(model, Conflict, "Conflict", add, {"subnet_id": gatewayless.id}, P)


@pytest.mark.parametrize("body", [{}, {"subnet_id": "x"}, {"subnet_id": None, "port_id": None}, [], {"foo": 1}])
def test_interface_requests_need_exactly_a_subnet_or_a_port(model, body):
    router = model.create("router", {}, P)
    refused(model, BadRequest, "HTTPBadRequest", model.action, "router", router.id, "add_router_interface", body, P)


def test_overlapping_subnets_cannot_share_a_router_but_can_use_two(model):
    _, a = network_with_subnet(model, "p1", "10.0.1.0/24")
    _, b = network_with_subnet(model, "p1", "10.0.1.0/25")
    r1, r2 = model.create("router", {}, P), model.create("router", {}, P)
    model.action("router", r1.id, "add_router_interface", {"subnet_id": a.id}, P)
    refused(model, Conflict, "Conflict", model.action, "router", r1.id, "add_router_interface", {"subnet_id": b.id}, P)
    model.action("router", r2.id, "add_router_interface", {"subnet_id": b.id}, P)


def test_routes_need_a_connected_nexthop_and_block_removing_it(model):
    _, sub = network_with_subnet(model, "p1")
    router = model.create("router", {}, P)
    with pytest.raises(Conflict):        # a valid route, not connected to what the router has now
        model.update("router", router.id, {"routes": [{"destination": "192.168.0.0/16", "nexthop": "10.0.0.9"}]}, P)
    model.action("router", router.id, "add_router_interface", {"subnet_id": sub.id}, P)
    model.update("router", router.id, {"routes": [{"destination": "192.168.0.0/16", "nexthop": "10.0.0.9"}]}, P)
    with pytest.raises(Conflict):
        model.action("router", router.id, "remove_router_interface", {"subnet_id": sub.id}, P)
    model.update("router", router.id, {"routes": []}, P)
    model.action("router", router.id, "remove_router_interface", {"subnet_id": sub.id}, P)
    assert model.list("port") == []


def test_router_ports_are_not_deleted_through_the_port_api_and_routers_in_use_stay(model):
    net, sub = network_with_subnet(model, "p1")
    router = model.create("router", {}, P)
    info = model.action("router", router.id, "add_router_interface", {"subnet_id": sub.id}, P)
    with pytest.raises(Conflict):
        model.delete("port", info["port_id"], P)
    with pytest.raises(Conflict):
        model.delete("router", router.id, P)
    with pytest.raises(Conflict):
        model.delete("subnet", sub.id, P)
    with pytest.raises(NotFound):
        model.action("router", router.id, "remove_router_interface", {"port_id": net.id}, P)


def test_gateway_allocates_an_external_address_and_moves_with_updates(model, ext):
    ext_net, ext_sub = ext
    router = model.create("router", {"external_gateway_info": {"network_id": ext_net.id}}, P)
    gw = router.external_gateway_info
    assert gw["enable_snat"] is True and gw["external_fixed_ips"][0]["subnet_id"] == ext_sub.id
    [gw_port] = [p for p in model.list("port") if p.device_owner == ROUTER_GATEWAY]
    assert gw_port.ip_addresses == [gw["external_fixed_ips"][0]["ip_address"]]
    no_snat = model.update("router", router.id, {"external_gateway_info": {"network_id": ext_net.id,
                                                                          "enable_snat": False}}, P)
    assert no_snat.external_gateway_info == {**gw, "enable_snat": False}
    assert [p for p in model.list("port") if p.device_owner == ROUTER_GATEWAY] == [gw_port]   # the port stays
    cleared = model.update("router", router.id, {"external_gateway_info": None}, P)
    assert cleared.external_gateway_info is None and model.list("port") == []
    with pytest.raises(NotFound):        # not an external network: as absent
        model.create("router", {"external_gateway_info": {"network_id": network_with_subnet(model, "p1")[0].id}}, P)


def test_floating_ip_needs_a_router_between_its_port_and_the_external_network(model, ext):
    ext_net, _ = ext
    net, sub = network_with_subnet(model, "p1")
    port = model.create("port", {"network_id": net.id}, P)
    fip = model.create("floatingip", {"floating_network_id": ext_net.id}, P)
    assert fip.floating_ip_address.startswith("172.24.4.") and fip.port_id is None
    assert [p.device_owner for p in model.list("port", {"device_id": [fip.id]})] == [FLOATINGIP]
    with pytest.raises(NotFound):
        model.update("floatingip", fip.id, {"port_id": port.id}, P)
    router = model.create("router", {"external_gateway_info": {"network_id": ext_net.id}}, P)
    model.action("router", router.id, "add_router_interface", {"subnet_id": sub.id}, P)
    bound = model.update("floatingip", fip.id, {"port_id": port.id}, P)
    assert (bound.router_id, bound.fixed_ip_address, bound.status) == (router.id, port.ip_addresses[0], "ACTIVE")
    with pytest.raises(Conflict):          # one floating IP per fixed IP
        model.create("floatingip", {"floating_network_id": ext_net.id, "port_id": port.id}, P)
    with pytest.raises(Conflict):          # the interface carries the floating IP
        model.action("router", router.id, "remove_router_interface", {"subnet_id": sub.id}, P)
    with pytest.raises(Conflict):          # so does the gateway
        model.update("router", router.id, {"external_gateway_info": None}, P)
    model.delete("port", port.id, P)       # deleting the port disassociates
    assert model.get("floatingip", fip.id).port_id is None
    model.delete("floatingip", fip.id, P)
    assert not model.list("port", {"device_id": [fip.id]})


def test_floating_addresses_are_not_reused(model, ext):
    ext_net, _ = ext
    addresses = {model.create("floatingip", {"floating_network_id": ext_net.id}, P).floating_ip_address
                 for _ in range(5)}
    assert len(addresses) == 5


def test_a_router_in_use_is_refused_as_router_in_use_and_goes_with_its_gateway_port_once_free(model, ext):
    ext_net, _ = ext
    net, sub = network_with_subnet(model, "p1")
    router = model.create("router", {"external_gateway_info": {"network_id": ext_net.id}}, P)
    model.action("router", router.id, "add_router_interface", {"subnet_id": sub.id}, P)
    refused(model, Conflict, "RouterInUse", model.delete, "router", router.id, P)
    model.action("router", router.id, "remove_router_interface", {"subnet_id": sub.id}, P)
    other_net, other_sub = network_with_subnet(model, "p1", "10.0.9.0/24")     # another router's floating IP
    other = model.create("router", {"external_gateway_info": {"network_id": ext_net.id}}, P)
    model.action("router", other.id, "add_router_interface", {"subnet_id": other_sub.id}, P)
    vm = model.create("port", {"network_id": other_net.id}, P)
    model.create("floatingip", {"floating_network_id": ext_net.id, "port_id": vm.id}, P)
    model.delete("router", router.id, P)
    assert model.find("router", router.id) is None
    assert [p.device_id for p in model.list("port") if p.device_owner == ROUTER_GATEWAY] == [other.id]
    assert model.list("port", {"network_id": [net.id]}) == []


def test_interfaces_removed_by_port_or_subnet_and_refused_by_type_while_needed(model, ext):
    ext_net, _ = ext
    router, sub, vm = attached(model, ext_net)
    remove = partial(model.action, "router", router.id, "remove_router_interface")
    refused(model, NotFound, "RouterInterfaceNotFound", remove, {"port_id": vm.id}, P)
    _, elsewhere = network_with_subnet(model, "p1", "10.0.5.0/24")
    refused(model, NotFound, "RouterInterfaceNotFoundForSubnet", remove, {"subnet_id": elsewhere.id}, P)
    model.update("router", router.id, {"routes": [{"destination": "10.9.0.0/16", "nexthop": "10.0.0.9"}]}, P)
    refused(model, Conflict, "RouterInterfaceInUseByRoute", remove, {"subnet_id": sub.id}, P)
    model.update("router", router.id, {"routes": []}, P)
    fip = model.create("floatingip", {"floating_network_id": ext_net.id, "port_id": vm.id}, P)
    refused(model, Conflict, "RouterInterfaceInUseByFloatingIP", remove, {"subnet_id": sub.id}, P)
    model.update("floatingip", fip.id, {"port_id": None}, P)
    model.create("port_forwarding", {"protocol": "tcp", "internal_port_id": vm.id, "internal_port": 22,
                                     "internal_ip_address": vm.ip_addresses[0], "external_port": 2222}, P,
                 parent_id=fip.id)
    refused(model, Conflict, "RouterInterfaceInUseByFloatingIP", remove, {"subnet_id": sub.id}, P)
    model.delete("floatingip", fip.id, P)
    interface = next(p for p in model.list("port") if p.device_owner == ROUTER_INTERFACE)
    info = remove({"port_id": interface.id}, P)
    assert info["port_id"] == interface.id and model.find("port", interface.id) is None


def test_another_routers_floating_ips_on_the_same_addresses_do_not_hold_an_interface(model, ext):
    ext_net, _ = ext
    router, sub, _ = attached(model, ext_net)
    _, _, theirs = attached(model, ext_net, "p2")                      # p2's 10.0.0.0/24 too
    ctx = admin_for("p2")
    fip = model.create("floatingip", {"floating_network_id": ext_net.id, "port_id": theirs.id}, ctx)
    model.create("port_forwarding", {"protocol": "tcp", "internal_port_id": theirs.id, "internal_port": 22,
                                     "internal_ip_address": theirs.ip_addresses[0], "external_port": 22}, ctx,
                 parent_id=model.create("floatingip", {"floating_network_id": ext_net.id}, ctx).id)
    model.action("router", router.id, "remove_router_interface", {"subnet_id": sub.id}, P)
    assert model.get("floatingip", fip.id).router_id != router.id and router_ports(model, router.id) == []


def test_a_floating_ip_takes_the_address_or_subnet_asked_and_its_port_belongs_to_no_project(model, ext):
    ext_net, sub = ext
    second = model.create("subnet", {"network_id": ext_net.id, "cidr": "172.24.5.0/24", "ip_version": 4}, ADMIN)
    asked = model.create("floatingip", {"floating_network_id": ext_net.id, "floating_ip_address": "172.24.4.77"},
                         ADMIN)
    assert (asked.floating_ip_address, asked.subnet_id) == ("172.24.4.77", sub.id)
    on_second = model.create("floatingip", {"floating_network_id": ext_net.id, "subnet_id": second.id}, P)
    assert on_second.floating_ip_address.startswith("172.24.5.") and on_second.subnet_id == second.id
    ports = [p for p in model.list("port") if p.device_owner == FLOATINGIP]
    assert {(p.device_id, p.project_id) for p in ports} == {(asked.id, ""), (on_second.id, "")}
    assert [ip["ip_address"] for p in ports if p.device_id == asked.id for ip in p.fixed_ips] == ["172.24.4.77"]


def test_associations_are_refused_by_type_and_each_fixed_ip_has_one_floating_ip(model, ext):
    ext_net, _ = ext
    router, sub, vm = attached(model, ext_net)
    fip = model.create("floatingip", {"floating_network_id": ext_net.id}, P)
    associate = partial(model.update, "floatingip", fip.id)
    _, _, theirs = attached(model, ext_net, "p2", "10.0.9.0/24")
    refused(model, NotFound, "PortNotFound", associate, {"port_id": theirs.id}, Context("p1"))
    interface = router_ports(model, router.id)[0]
    refused(model, Conflict, "Conflict", associate, {"port_id": interface.id}, P)
    refused(model, Conflict, "Conflict", associate, {"port_id": vm.id, "fixed_ip_address": "10.0.0.99"}, P)
    v6net = model.create("network", {"name": "v6"}, P)
    model.create("subnet", {"network_id": v6net.id, "cidr": "fd00:1::/64", "ip_version": 6}, P)
    v6only = model.create("port", {"network_id": v6net.id}, P)
    refused(model, Conflict, "Conflict", associate, {"port_id": v6only.id}, P)
    lone, _ = network_with_subnet(model, "p1", "10.0.7.0/24")           # no router joins it to ext
    refused(model, NotFound, "ExternalGatewayForFloatingIPNotFound", associate,
            {"port_id": model.create("port", {"network_id": lone.id}, P).id}, P)
    associate({"port_id": vm.id}, P)
    again = model.create("floatingip", {"floating_network_id": ext_net.id}, P)
    refused(model, Conflict, "FloatingIPPortAlreadyAssociated", model.update, "floatingip", again.id,
            {"port_id": vm.id}, P)
    other = model.create("port", {"network_id": vm.network_id}, P)      # another port: its own floating IP
    assert model.update("floatingip", again.id, {"port_id": other.id}, P).fixed_ip_address == other.ip_addresses[0]


def test_gateways_and_floating_ips_only_on_external_networks(model):
    net, _ = network_with_subnet(model, "p1")
    refused(model, NotFound, "ExternalNetworkNotFound", model.create, "router",
            {"external_gateway_info": {"network_id": net.id}}, P)
    refused(model, NotFound, "ExternalNetworkNotFound", model.create, "floatingip", {"floating_network_id": net.id}, P)


def test_a_floating_ip_is_released_while_others_forward_and_keeps_only_what_an_association_gives(model, ext):
    ext_net, _ = ext
    _, _, vm = attached(model, ext_net)
    fip = model.create("floatingip", {"floating_network_id": ext_net.id, "port_id": vm.id}, P)
    forwarding = model.create("floatingip", {"floating_network_id": ext_net.id}, P)
    pf = {"protocol": "tcp", "internal_port_id": vm.id, "internal_ip_address": vm.ip_addresses[0], "internal_port": 22}
    model.create("port_forwarding", {**pf, "external_port": 22}, P, parent_id=forwarding.id)
    released = model.update("floatingip", fip.id, {"port_id": None}, P)
    assert (released.fixed_ip_address, released.router_id, released.status) == (None, None, "DOWN")
    kept = model.update("floatingip", forwarding.id, {"fixed_ip_address": vm.ip_addresses[0]}, P)
    assert (kept.fixed_ip_address, kept.status) == (None, "ACTIVE") and kept.router_id is not None


def test_one_floating_ip_per_fixed_ip_of_a_port_not_per_port_nor_per_address_elsewhere(model, ext):
    ext_net, _ = ext
    _, _, vm = attached(model, ext_net)
    _, _, theirs = attached(model, ext_net, "p2")                     # p2's VM: the same address as p1's
    assert theirs.ip_addresses == vm.ip_addresses
    model.create("floatingip", {"floating_network_id": ext_net.id, "port_id": theirs.id}, admin_for("p2"))
    model.create("floatingip", {"floating_network_id": ext_net.id, "port_id": vm.id}, P)
    second = vm.fixed_ips[0]["subnet_id"]
    two = model.update("port", vm.id, {"fixed_ips": [*vm.fixed_ips, {"subnet_id": second}]}, P)
    other_ip = two.ip_addresses[1]
    fip = model.create("floatingip", {"floating_network_id": ext_net.id, "port_id": vm.id,
                                      "fixed_ip_address": other_ip}, P)
    assert fip.fixed_ip_address == other_ip


def test_an_interface_is_held_by_this_routers_forwardings_only(model, ext):
    ext_net, _ = ext
    router, sub, _ = attached(model, ext_net)
    net_b, sub_b = network_with_subnet(model, "p1", "10.0.1.0/24")         # the router's second subnet
    model.action("router", router.id, "add_router_interface", {"subnet_id": sub_b.id}, P)
    behind = model.create("port", {"network_id": net_b.id}, P)
    mine = model.create("floatingip", {"floating_network_id": ext_net.id}, P)
    model.create("port_forwarding", {"protocol": "tcp", "internal_port_id": behind.id, "internal_port": 22,
                                     "internal_ip_address": behind.ip_addresses[0], "external_port": 22}, P,
                 parent_id=mine.id)
    _, _, theirs = attached(model, ext_net, "p2")                        # p2's 10.0.0.0/24, forwarded
    ctx = admin_for("p2")
    model.create("port_forwarding", {"protocol": "tcp", "internal_port_id": theirs.id, "internal_port": 22,
                                     "internal_ip_address": theirs.ip_addresses[0], "external_port": 22}, ctx,
                 parent_id=model.create("floatingip", {"floating_network_id": ext_net.id}, ctx).id)
    model.action("router", router.id, "remove_router_interface", {"subnet_id": sub.id}, P)
    assert [p.fixed_ips[0]["subnet_id"] for p in router_ports(model, router.id)] == [sub_b.id]


def test_no_router_without_a_key_left(model, monkeypatch):
    monkeypatch.setattr("nvapps.model.router.pipeline.MAX_ROUTER_KEY", 1)
    model.create("router", {}, P)
    refused(model, Conflict, "Conflict", model.create, "router", {}, P)


def gateway_ports(model) -> list:
    return [p for p in model.list("port") if p.device_owner == ROUTER_GATEWAY]


def test_a_gateway_takes_the_address_asked_and_a_new_one_replaces_its_port(model, ext):
    ext_net, ext_sub = ext
    asked = [{"subnet_id": ext_sub.id, "ip_address": "172.24.4.50"}]
    router = model.create("router", {"external_gateway_info": {"network_id": ext_net.id, "enable_snat": False,
                                                               "external_fixed_ips": asked}}, ADMIN)
    assert router.external_gateway_info == {"network_id": ext_net.id, "enable_snat": False, "external_fixed_ips": asked}
    [first] = gateway_ports(model)
    again = model.update("router", router.id, {"external_gateway_info": {"network_id": ext_net.id}}, ADMIN)
    assert again.external_gateway_info["enable_snat"] is True and gateway_ports(model) == [first]   # SNAT's default
    moved = model.update("router", router.id, {"external_gateway_info": {
        "network_id": ext_net.id, "external_fixed_ips": [{"ip_address": "172.24.4.60"}]}}, ADMIN)
    [second] = gateway_ports(model)
    assert second.id != first.id and second.ip_addresses == ["172.24.4.60"]
    assert moved.external_gateway_info["external_fixed_ips"] == second.fixed_ips
    back = model.update("router", router.id, {"external_gateway_info": {     # asked anew: the replaced port's
        "network_id": ext_net.id, "external_fixed_ips": [{"ip_address": "172.24.4.60"}]}}, ADMIN)   # address is free
    [third] = gateway_ports(model)
    assert third.id != second.id and back.external_gateway_info["external_fixed_ips"] == third.fixed_ips
    assert third.ip_addresses == ["172.24.4.60"]


def test_a_gateway_holding_floating_ips_keeps_its_network_while_they_stay_and_others_do_not_hold_it(model, ext):
    ext_net, ext_sub = ext
    router, _, vm = attached(model, ext_net)
    fip = model.create("floatingip", {"floating_network_id": ext_net.id, "port_id": vm.id}, P)
    other_ext, _ = network_with_subnet(model, "admin", "172.24.9.0/24", **{"router:external": True})
    refused(model, Conflict, "RouterExternalGatewayInUseByFloatingIp", model.update, "router", router.id,
            {"external_gateway_info": {"network_id": other_ext.id}}, P)
    readdressed = model.update("router", router.id, {"external_gateway_info": {   # the same network: fine
        "network_id": ext_net.id, "external_fixed_ips": [{"subnet_id": ext_sub.id, "ip_address": "172.24.4.70"}]}},
        ADMIN)
    assert readdressed.external_gateway_info["external_fixed_ips"][0]["ip_address"] == "172.24.4.70"
    assert model.get("floatingip", fip.id).router_id == router.id
    free = model.create("router", {"external_gateway_info": {"network_id": ext_net.id}}, P)     # no floating IPs
    moved = model.update("router", free.id, {"external_gateway_info": {"network_id": other_ext.id}}, P)
    assert moved.external_gateway_info["network_id"] == other_ext.id


def test_a_gateway_port_has_no_name_no_groups_and_no_port_security(model, ext):
    ext_net, _ = ext
    model.create("router", {"external_gateway_info": {"network_id": ext_net.id}}, P)
    [port] = gateway_ports(model)
    assert (port.name, port.project_id, port.security_groups, port.port_security_enabled) == ("", "", [], False)
    bare = model.create("network", {"name": "bare", "router:external": True}, ADMIN)      # no subnet to draw from
    refused(model, Conflict, "Conflict", model.create, "floatingip", {"floating_network_id": bare.id}, P)


def test_routes_may_lead_through_the_gateways_subnet_and_are_refused_as_invalid_routes_elsewhere(model, ext):
    ext_net, _ = ext
    router = model.create("router", {"external_gateway_info": {"network_id": ext_net.id}}, P)
    routed = model.update("router", router.id, {"routes": [{"destination": "10.9.0.0/16", "nexthop": "172.24.4.254"}]},
                          P)
    assert routed.routes == [{"destination": "10.9.0.0/16", "nexthop": "172.24.4.254"}]
    refused(model, Conflict, "InvalidRoutes", model.update, "router", router.id,
            {"routes": [{"destination": "10.9.0.0/16", "nexthop": "10.0.0.9"}]}, P)


def test_members_choose_neither_snat_nor_addresses_but_may_repeat_what_the_gateway_has(model, ext):
    ext_net, _ = ext
    member = Context("p1")
    router = model.create("router", {"external_gateway_info": {"network_id": ext_net.id, "enable_snat": True}},
                          member)                                   # SNAT's default, said aloud: fine
    refused(model, Forbidden, "PolicyNotAuthorized", model.update, "router", router.id,
            {"external_gateway_info": {"network_id": ext_net.id, "enable_snat": False}}, member)
    model.update("router", router.id, {"external_gateway_info": {"network_id": ext_net.id, "enable_snat": False}},
                 ADMIN)
    same = model.update("router", router.id, {"external_gateway_info": {"network_id": ext_net.id,
                                                                        "enable_snat": False}}, member)
    assert same.external_gateway_info["enable_snat"] is False      # repeating what it has
    other_ext, _ = network_with_subnet(model, "admin", "172.24.9.0/24", **{"router:external": True})
    refused(model, Forbidden, "PolicyNotAuthorized", model.update, "router", router.id,   # a new gateway: the default
            {"external_gateway_info": {"network_id": other_ext.id, "enable_snat": False}}, member)


def test_no_project_takes_the_gateway_of_a_shared_network_it_does_not_own(model):
    shared, sub = network_with_subnet(model, "admin", "10.9.0.0/24", shared=True)
    member = Context("p1")
    router = model.create("router", {}, member)
    add = partial(model.action, "router", router.id, "add_router_interface")
    refused(model, BadRequest, "HTTPBadRequest", add, {"subnet_id": sub.id}, member)
    port = model.create("port", {"network_id": shared.id}, member)      # its own port on it: as Neutron allows
    assert model.get("port", add({"port_id": port.id}, member)["port_id"]).ip_addresses == port.ip_addresses
    theirs = model.create("router", {}, ADMIN)
    info = model.action("router", theirs.id, "add_router_interface", {"subnet_id": sub.id}, ADMIN)
    assert model.get("port", info["port_id"]).ip_addresses == ["10.9.0.1"]
