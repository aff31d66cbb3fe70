"""The REST API driven by an unmodified openstacksdk: every resource's create, list, show, update, delete."""
from __future__ import annotations

import openstack
import pytest
from openstack import exceptions

from nvapps.lab.controller import ADMIN_TOKEN, MEMBER_TOKENS, Controller


def sdk(controller: Controller, token: str | None):
    if token is None:
        return openstack.connect(auth_type="none", network_endpoint_override=controller.url + "/")
    return openstack.connect(auth_type="admin_token", auth={"endpoint": controller.url, "token": token},
                             network_endpoint_override=controller.url + "/")


@pytest.fixture(scope="module")
def admin(controller):
    return sdk(controller, ADMIN_TOKEN)


@pytest.fixture(scope="module")
def alice(controller):
    return sdk(controller, MEMBER_TOKENS["tenant-a"])


@pytest.fixture(scope="module")
def bob(controller):
    return sdk(controller, MEMBER_TOKENS["tenant-b"])


@pytest.fixture(scope="module")
def external(admin):
    net = admin.network.create_network(name="public", is_router_external=True, provider_network_type="flat",
                                       provider_physical_network="physnet1")
    assert (net.provider_network_type, net.provider_physical_network) == ("flat", "physnet1")
    sub = admin.network.create_subnet(network_id=net.id, cidr="172.24.4.0/24", ip_version=4, name="public-v4")
    return net, sub


def test_networks_subnets_ports_crud(alice):
    net = alice.network.create_network(name="blue")
    assert alice.network.get_network(net.id).name == "blue"
    assert alice.network.find_network("blue").id == net.id
    alice.network.update_network(net, name="green")
    sub = alice.network.create_subnet(network_id=net.id, cidr="10.10.0.0/24", ip_version=4, name="s")
    assert sub.gateway_ip == "10.10.0.1" and sub.allocation_pools == [{"start": "10.10.0.2", "end": "10.10.0.254"}]
    assert alice.network.get_subnet(sub.id).cidr == "10.10.0.0/24"
    assert [s.id for s in alice.network.subnets(network_id=net.id)] == [sub.id]
    port = alice.network.create_port(network_id=net.id, name="p")
    assert port.fixed_ips[0]["ip_address"] == "10.10.0.2" and port.mac_address.startswith("fa:16:3e")
    assert port.security_group_ids and port.status == "DOWN"
    alice.network.update_port(port, name="q")
    assert [p.name for p in alice.network.ports(network_id=net.id)] == ["q"]
    alice.network.update_subnet(sub, name="t")
    alice.network.delete_port(port)
    alice.network.delete_subnet(sub)
    alice.network.delete_network(net)
    with pytest.raises(exceptions.NotFoundException):
        alice.network.get_network(net.id)


def test_router_interfaces_routes_and_gateway(alice, external):
    ext_net, _ = external
    net = alice.network.create_network(name="r-net")
    sub = alice.network.create_subnet(network_id=net.id, cidr="10.20.0.0/24", ip_version=4)
    net2 = alice.network.create_network(name="r-net2")
    sub2 = alice.network.create_subnet(network_id=net2.id, cidr="10.21.0.0/24", ip_version=4)
    spare = alice.network.create_port(network_id=net2.id, fixed_ips=[{"ip_address": "10.21.0.254"}])
    router = alice.network.create_router(name="r1", external_gateway_info={"network_id": ext_net.id})
    assert router.external_gateway_info["external_fixed_ips"][0]["ip_address"].startswith("172.24.4.")
    by_subnet = alice.network.add_interface_to_router(router, subnet_id=sub.id)
    by_port = alice.network.add_interface_to_router(router, port_id=spare.id)
    assert by_subnet["subnet_id"] == sub.id and by_port["port_id"] == spare.id
    router = alice.network.update_router(router, routes=[{"destination": "192.168.0.0/16", "nexthop": "10.20.0.9"}])
    assert router.routes == [{"destination": "192.168.0.0/16", "nexthop": "10.20.0.9"}]
    assert alice.network.get_router(router.id).routes == router.routes
    with pytest.raises(exceptions.ConflictException):
        alice.network.remove_interface_from_router(router, subnet_id=sub.id)     # the route needs it
    alice.network.update_router(router, routes=[])
    alice.network.remove_interface_from_router(router, subnet_id=sub.id)
    alice.network.remove_interface_from_router(router, port_id=spare.id)
    alice.network.update_router(router, external_gateway_info=None)
    alice.network.delete_router(router)
    assert [r.id for r in alice.network.routers()] == []
    del sub2


def port_behind_a_gateway(conn, ext_net, name: str, cidr: str):
    """A port on a new network whose subnet `cidr` is on a new router with its gateway on `ext_net`."""
    net = conn.network.create_network(name=f"{name}-net")
    sub = conn.network.create_subnet(network_id=net.id, cidr=cidr, ip_version=4)
    port = conn.network.create_port(network_id=net.id)
    router = conn.network.create_router(name=f"{name}-r", external_gateway_info={"network_id": ext_net.id})
    conn.network.add_interface_to_router(router, subnet_id=sub.id)
    return port, router


def test_floating_ips_associate_and_disassociate(alice, external):
    ext_net, _ = external
    port, router = port_behind_a_gateway(alice, ext_net, "f", "10.30.0.0/24")
    fip = alice.network.create_ip(floating_network_id=ext_net.id)
    assert fip.floating_ip_address.startswith("172.24.4.") and fip.port_id is None
    fip = alice.network.update_ip(fip, port_id=port.id)
    assert (fip.port_id, fip.fixed_ip_address, fip.router_id) == (port.id, port.fixed_ips[0]["ip_address"], router.id)
    assert [f.id for f in alice.network.ips(port_id=port.id)] == [fip.id]
    assert alice.network.get_ip(fip.id).fixed_ip_address == fip.fixed_ip_address
    fip = alice.network.update_ip(fip, port_id=None)
    assert fip.port_id is None and fip.router_id is None
    alice.network.delete_ip(fip)


def test_port_forwardings_on_a_floating_ip(alice, external):
    ext_net, _ = external
    port, router = port_behind_a_gateway(alice, ext_net, "pf", "10.31.0.0/24")
    fip = alice.network.create_ip(floating_network_id=ext_net.id)
    internal = port.fixed_ips[0]["ip_address"]
    pf = alice.network.create_port_forwarding(floatingip_id=fip.id, protocol="tcp", internal_port_id=port.id,
                                              internal_ip_address=internal, internal_port=22, external_port=2222)
    assert (pf.internal_ip_address, pf.internal_port, pf.external_port) == (internal, 22, 2222)
    assert alice.network.get_ip(fip.id).router_id == router.id
    assert [p.id for p in alice.network.port_forwardings(fip)] == [pf.id]
    pf = alice.network.update_port_forwarding(pf, fip, external_port=2200)
    assert alice.network.get_port_forwarding(pf, fip).external_port == 2200
    with pytest.raises(exceptions.ConflictException):
        alice.network.create_port_forwarding(floatingip_id=fip.id, protocol="tcp", internal_port_id=port.id,
                                             internal_ip_address=internal, internal_port=23, external_port=2200)
    with pytest.raises(exceptions.BadRequestException):
        alice.network.create_port_forwarding(floatingip_id=fip.id, protocol="sctp", internal_port_id=port.id,
                                             internal_ip_address=internal, internal_port=24, external_port=2224)
    alice.network.delete_port_forwarding(pf, fip)
    assert list(alice.network.port_forwardings(fip)) == []
    alice.network.delete_ip(fip)


def test_security_groups_and_rules(alice):
    group = alice.network.create_security_group(name="web", description="web servers")
    rule = alice.network.create_security_group_rule(
        security_group_id=group.id, direction="ingress", ethertype="IPv4", protocol="tcp",
        port_range_min=80, port_range_max=80, remote_ip_prefix="10.0.0.0/24")
    assert alice.network.get_security_group_rule(rule.id).port_range_max == 80
    with pytest.raises(exceptions.ConflictException):
        alice.network.create_security_group_rule(
            security_group_id=group.id, direction="ingress", ethertype="IPv4", protocol="tcp",
            port_range_min=80, port_range_max=80, remote_ip_prefix="10.0.0.0/24")
    names = {g.name for g in alice.network.security_groups()}
    assert names == {"default", "web"}
    listed = {r.id: r.direction for r in alice.network.security_group_rules(security_group_id=group.id)}
    assert listed.pop(rule.id) == "ingress" and list(listed.values()) == ["egress", "egress"]   # Neutron's own
    assert len(alice.network.get_security_group(group.id).security_group_rules) == 3
    alice.network.update_security_group(group, description="front")
    alice.network.delete_security_group_rule(rule)
    alice.network.delete_security_group(group)


def test_errors_carry_neutron_statuses(alice, bob, controller):
    with pytest.raises(exceptions.BadRequestException):
        alice.network.create_subnet(network_id=alice.network.create_network().id, cidr="10.40.0.0/33", ip_version=4)
    with pytest.raises(exceptions.NotFoundException):
        alice.network.create_port(network_id="5b1c0d2e-0000-4000-8000-00000000abcd")
    with pytest.raises(exceptions.ForbiddenException):
        alice.network.create_network(is_router_external=True)
    with pytest.raises(exceptions.HttpException) as err:
        sdk(controller, "not-a-token").network.networks().__next__()
    assert err.value.status_code == 401


def test_members_do_not_see_each_other(alice, bob):
    mine = alice.network.create_network(name="alice-only")
    assert mine.id not in {n.id for n in bob.network.networks()}
    with pytest.raises(exceptions.NotFoundException):
        bob.network.get_network(mine.id)
    with pytest.raises(exceptions.NotFoundException):
        bob.network.delete_network(mine.id, ignore_missing=False)


def test_auth_type_none_against_a_no_auth_controller(tmp_path):
    dev = Controller(tmp_path)
    dev.extra_args = ["--nvapps-no-auth"]
    dev.start()
    try:
        conn = sdk(dev, None)
        net = conn.network.create_network(name="dev")
        assert [n.id for n in conn.network.networks()] == [net.id]
        log = dev.log_path.read_text()
        assert "NO AUTHENTICATION" in log
    finally:
        dev.stop()
