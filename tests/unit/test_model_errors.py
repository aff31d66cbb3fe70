"""The model's refusals that keep tenants and addresses apart, each with Neutron's error type, and what the
model does when the same request is fine: overlapping or misplaced pools, a router's gateway address, another
project's network or group, ports on external networks, subnets in use and deleted, addresses asked by
subnet alone."""
from __future__ import annotations

import netaddr
import pytest

from nvapps.model.context import Context
from nvapps.model.errors import ModelError
from nvapps.model.service import Model
from nvapps.store.sqlite import SQLiteStore

ADMIN, ALICE, BOB = Context("admin", is_admin=True), Context("pa"), Context("pb")


@pytest.fixture
def model(tmp_path):
    m = Model(SQLiteStore(str(tmp_path / "db.sqlite")))
    yield m
    m.store.close()


def refused(model: Model, status: int, type_: str, call, *args) -> None:
    """`call(*args)` fails with this status and Neutron type, and stores nothing."""
    before = {k: [o.to_store() for o in model.list(k)] for k in ("network", "subnet", "port", "router")}
    with pytest.raises(ModelError) as caught:
        call(*args)
    assert (caught.value.status, caught.value.type) == (status, type_), caught.value.message
    assert isinstance(caught.value.message, str) and len(caught.value.message) > 20, caught.value.message
    assert {k: [o.to_store() for o in model.list(k)] for k in before} == before


def network(model: Model, ctx: Context, cidr: str = "10.0.0.0/24", **attrs):
    net = model.create("network", {"name": "n", **attrs}, ctx)
    return net, model.create("subnet", {"network_id": net.id, "cidr": cidr, "ip_version": 4}, ctx)


def test_pools_must_not_overlap_nor_hold_the_gateway_nor_leave_the_subnet(model):
    net = model.create("network", {"name": "n"}, ALICE)
    body = {"network_id": net.id, "cidr": "10.0.0.0/24", "ip_version": 4}
    pools = [{"start": "10.0.0.10", "end": "10.0.0.20"}, {"start": "10.0.0.20", "end": "10.0.0.30"}]
    refused(model, 400, "OverlappingAllocationPools", model.create, "subnet", {**body, "allocation_pools": pools}, ALICE)
    for pool in ({"start": "10.0.0.1", "end": "10.0.0.9"}, {"start": "10.0.0.2", "end": "10.0.0.9"}):
        refused(model, 409, "GatewayConflictWithAllocationPools", model.create, "subnet",
                {**body, "gateway_ip": "10.0.0.1" if pool["start"] == "10.0.0.1" else "10.0.0.9",
                 "allocation_pools": [pool]}, ALICE)                        # the gateway at either end
    refused(model, 400, "OutOfBoundsAllocationPool", model.create, "subnet",
            {**body, "allocation_pools": [{"start": "10.0.0.200", "end": "10.0.1.5"}]}, ALICE)
    sub = model.create("subnet", {**body, "allocation_pools": pools[:1]}, ALICE)      # touching is fine
    assert sub.allocation_pools == pools[:1]
    assert model.create("port", {"network_id": net.id}, ALICE).ip_addresses == ["10.0.0.10"]


def test_a_router_s_address_is_its_subnet_s_gateway_until_the_interface_goes(model):
    net = model.create("network", {"name": "n"}, ALICE)
    sub = model.create("subnet", {"network_id": net.id, "cidr": "10.0.0.0/24", "ip_version": 4,
                                  "allocation_pools": [{"start": "10.0.0.10", "end": "10.0.0.100"}]}, ALICE)
    router = model.create("router", {"name": "r"}, ALICE)
    model.action("router", router.id, "add_router_interface", {"subnet_id": sub.id}, ALICE)
    refused(model, 409, "GatewayIpInUse", model.update, "subnet", sub.id, {"gateway_ip": "10.0.0.254"}, ALICE)
    refused(model, 409, "SubnetInUse", model.delete, "subnet", sub.id, ALICE)
    model.action("router", router.id, "remove_router_interface", {"subnet_id": sub.id}, ALICE)
    assert model.update("subnet", sub.id, {"gateway_ip": None}, ALICE).gateway_ip is None


def test_a_subnet_without_ports_is_deleted_and_leaves_its_network_s_list(model):
    net, sub = network(model, ALICE)
    other = model.create("subnet", {"network_id": net.id, "cidr": "10.0.1.0/24", "ip_version": 4}, ALICE)
    model.delete("subnet", sub.id, ALICE)
    assert model.get("network", net.id, ALICE).subnets == [other.id] and model.find("subnet", sub.id) is None


def test_another_project_s_network_and_groups_are_not_for_my_ports(model):
    theirs, _ = network(model, BOB)
    shared, _ = network(model, ADMIN, shared=True)
    mine, _ = network(model, ALICE)
    group = model.create("security_group", {"name": "bobs"}, BOB)
    refused(model, 404, "NetworkNotFound", model.create, "port", {"network_id": theirs.id}, ALICE)
    refused(model, 403, "PolicyNotAuthorized", model.create, "subnet",
            {"network_id": shared.id, "cidr": "10.9.0.0/24", "ip_version": 4}, ALICE)
    refused(model, 404, "SecurityGroupNotFound", model.create, "port",
            {"network_id": mine.id, "security_groups": [group.id]}, ALICE)
    assert model.create("port", {"network_id": shared.id}, ALICE).project_id == "pa"    # shared: fine


def test_only_admins_put_ports_on_external_networks(model):
    ext, _ = network(model, ADMIN, "172.24.4.0/24", **{"router:external": True})
    refused(model, 403, "PolicyNotAuthorized", model.create, "port", {"network_id": ext.id, "project_id": "pa"},
            ALICE)
    assert model.create("port", {"network_id": ext.id, "project_id": "pa"}, ADMIN).ip_addresses == ["172.24.4.2"]


def test_an_address_asked_by_subnet_alone_comes_from_that_subnet(model):
    net, first = network(model, ALICE)
    second = model.create("subnet", {"network_id": net.id, "cidr": "10.0.1.0/24", "ip_version": 4}, ALICE)
    port = model.create("port", {"network_id": net.id, "fixed_ips": [{"subnet_id": second.id}]}, ALICE)
    assert port.fixed_ips == [{"subnet_id": second.id, "ip_address": "10.0.1.2"}]
    refused(model, 409, "IpAddressAlreadyAllocated", model.create, "port",
            {"network_id": net.id, "fixed_ips": [{"subnet_id": second.id, "ip_address": "10.0.1.2"}]}, ALICE)
    refused(model, 409, "MacAddressInUse", model.create, "port",
            {"network_id": net.id, "mac_address": port.mac_address}, ALICE)
    assert first.id not in {ip["subnet_id"] for ip in port.fixed_ips}


def test_a_full_subnet_refuses_another_port_and_ipv4_is_allocated_before_stateful_ipv6(model):
    net = model.create("network", {"name": "n"}, ALICE)
    model.create("subnet", {"network_id": net.id, "cidr": "2001:db8::/64", "ip_version": 6,
                            "ipv6_address_mode": "dhcpv6-stateful"}, ALICE)
    model.create("subnet", {"network_id": net.id, "cidr": "10.0.0.0/30", "ip_version": 4}, ALICE)
    assert model.create("port", {"network_id": net.id}, ALICE).ip_addresses == ["10.0.0.2"]   # IPv4 first
    assert model.create("port", {"network_id": net.id}, ALICE).ip_addresses == ["2001:db8::2"]   # then IPv6
    small = model.create("network", {"name": "small"}, ALICE)
    model.create("subnet", {"network_id": small.id, "cidr": "10.1.0.0/30", "ip_version": 4}, ALICE)
    model.create("port", {"network_id": small.id}, ALICE)
    refused(model, 409, "IpAddressGenerationFailure", model.create, "port", {"network_id": small.id}, ALICE)


def test_a_network_with_ports_stays_and_deleting_one_touches_no_other_network(model):
    net, sub = network(model, ALICE)
    other, other_sub = network(model, ALICE, "10.0.1.0/24")
    acl = model.create("network_acl", {"network_id": other.id, "position": 1, "action": "deny",
                                       "direction": "ingress"}, ALICE)
    port = model.create("port", {"network_id": other.id}, ALICE)
    refused(model, 409, "NetworkInUse", model.delete, "network", other.id, ALICE)
    model.delete("network", net.id, ALICE)                     # the other network's port does not hold it
    assert model.find("network", net.id) is None and model.find("subnet", sub.id) is None
    assert model.find("subnet", other_sub.id) is not None and model.find("network_acl", acl.id) is not None
    model.delete("port", port.id, ALICE)
    model.delete("network", other.id, ALICE)
    assert model.find("network_acl", acl.id) is None and model.find("subnet", other_sub.id) is None


def test_a_subnet_of_a_network_without_ports_is_deleted_whatever_other_networks_hold(model):
    net, sub = network(model, ALICE)
    other, _ = network(model, ALICE, "10.0.1.0/24")
    model.create("port", {"network_id": other.id, "fixed_ips": [{"ip_address": "10.0.1.2"}]}, ALICE)
    model.delete("subnet", sub.id, ALICE)
    assert model.find("subnet", sub.id) is None


def edge(model: Model):
    """An external network, alice's router with its gateway there and an interface on 10.0.0.0/24."""
    ext, _ = network(model, ADMIN, "172.24.4.0/24", **{"router:external": True})
    net, sub = network(model, ALICE)
    router = model.create("router", {"name": "r", "external_gateway_info": {"network_id": ext.id}}, ALICE)
    model.action("router", router.id, "add_router_interface", {"subnet_id": sub.id}, ALICE)
    return ext, net, router


def test_deleting_a_port_releases_its_own_floating_ips_and_forwardings_only(model):
    ext, net, router = edge(model)
    kept, gone = (model.create("port", {"network_id": net.id}, ALICE) for _ in range(2))
    fips = {p.id: model.create("floatingip", {"floating_network_id": ext.id, "port_id": p.id}, ALICE)
            for p in (kept, gone)}
    forwarded = model.create("floatingip", {"floating_network_id": ext.id}, ALICE)
    pfs = {p.id: model.create("port_forwarding", {"protocol": "tcp", "internal_port_id": p.id,
                                                  "internal_ip_address": p.ip_addresses[0], "internal_port": 22,
                                                  "external_port": port}, ALICE, parent_id=forwarded.id)
           for p, port in ((kept, 2222), (gone, 2223))}
    model.delete("port", gone.id, ALICE)
    released = model.get("floatingip", fips[gone.id].id)
    assert (released.port_id, released.fixed_ip_address, released.router_id, released.status) == \
        (None, None, None, "DOWN")
    still = model.get("floatingip", fips[kept.id].id)
    assert (still.port_id, still.fixed_ip_address, still.router_id, still.status) == \
        (kept.id, kept.ip_addresses[0], router.id, "ACTIVE")
    assert model.find("port_forwarding", pfs[gone.id].id) is None
    assert model.find("port_forwarding", pfs[kept.id].id) is not None
    interface = next(p for p in model.list("port") if p.device_owner == "network:router_interface")
    refused(model, 409, "L3PortInUse", model.delete, "port", interface.id, ALICE)


def test_an_external_network_in_use_stays_external_and_a_network_used_by_others_stays_shared(model):
    ext, net, router = edge(model)
    refused(model, 409, "ExternalNetworkInUse", model.update, "network", ext.id, {"router:external": False}, ADMIN)
    assert model.update("network", ext.id, {"name": "renamed"}, ADMIN).external        # other changes are fine
    unused, _ = network(model, ADMIN, "172.25.0.0/24", **{"router:external": True})
    assert not model.update("network", unused.id, {"router:external": False}, ADMIN).external
    shared, _ = network(model, ADMIN, "10.5.0.0/24", shared=True)
    model.create("port", {"network_id": shared.id}, ALICE)
    refused(model, 409, "InvalidSharedSetting", model.update, "network", shared.id, {"shared": False}, ADMIN)
    assert model.update("network", shared.id, {"name": "renamed"}, ADMIN).shared
    alone, _ = network(model, ADMIN, "10.6.0.0/24", shared=True)
    model.create("port", {"network_id": alone.id}, ADMIN)       # the owner's own port; alice's are elsewhere
    assert not model.update("network", alone.id, {"shared": False}, ADMIN).shared
    public, _ = network(model, ADMIN, "172.26.0.0/24", shared=True, **{"router:external": True})
    model.create("router", {"name": "r2", "external_gateway_info": {"network_id": public.id}}, ALICE)
    assert not model.update("network", public.id, {"shared": False}, ADMIN).shared     # a gateway is no tenant's


def test_an_address_must_be_on_a_subnet_of_the_ports_network_and_the_gateway_is_its_owners(model):
    net, _ = network(model, ALICE)
    _, elsewhere = network(model, ALICE, "10.0.1.0/24")
    shared, _ = network(model, ADMIN, "10.5.0.0/24", shared=True)
    refused(model, 409, "InvalidIpForNetwork", model.create, "port",
            {"network_id": net.id, "fixed_ips": [{"ip_address": "10.9.9.9"}]}, ALICE)
    refused(model, 409, "InvalidInput", model.create, "port",
            {"network_id": net.id, "fixed_ips": [{"subnet_id": elsewhere.id}]}, ALICE)
    refused(model, 409, "InvalidIpForSubnet", model.create, "port",
            {"network_id": shared.id, "fixed_ips": [{"ip_address": "10.5.0.1"}]}, ALICE)
    assert model.create("port", {"network_id": net.id, "fixed_ips": [{"ip_address": "10.0.0.1"}]},
                        ALICE).ip_addresses == ["10.0.0.1"]          # the network's owner may take its gateway


def test_one_request_for_two_addresses_on_a_subnet_gets_two_and_never_one_twice(model):
    net, sub = network(model, ALICE, "10.0.0.0/29")
    refused(model, 409, "IpAddressAlreadyAllocated", model.create, "port",
            {"network_id": net.id, "fixed_ips": [{"ip_address": "10.0.0.2"}, {"ip_address": "10.0.0.2"}]}, ALICE)
    port = model.create("port", {"network_id": net.id, "fixed_ips": [{"subnet_id": sub.id}, {"subnet_id": sub.id}]},
                        ALICE)
    assert port.ip_addresses == ["10.0.0.2", "10.0.0.3"]
    small, full = network(model, ALICE, "10.1.0.0/30")
    model.create("port", {"network_id": small.id}, ALICE)
    refused(model, 409, "IpAddressGenerationFailure", model.create, "port",
            {"network_id": small.id, "fixed_ips": [{"subnet_id": full.id}]}, ALICE)
    refused(model, 409, "InvalidIpForSubnet", model.create, "port",
            {"network_id": net.id, "fixed_ips": [{"subnet_id": sub.id, "ip_address": "2001:db8::5"}]}, ALICE)


def test_on_a_slaac_subnet_a_port_holds_only_its_own_formed_address_or_as_owner_the_gateway(model):
    net = model.create("network", {"name": "n"}, ALICE)
    sub = model.create("subnet", {"network_id": net.id, "cidr": "2001:db8::/64", "ip_version": 6,
                                  "ipv6_address_mode": "slaac", "ipv6_ra_mode": "slaac"}, ALICE)
    refused(model, 400, "InvalidInput", model.create, "port",
            {"network_id": net.id, "fixed_ips": [{"subnet_id": sub.id, "ip_address": "2001:db8::99"}]}, ALICE)
    assert model.create("port", {"network_id": net.id, "fixed_ips": [{"ip_address": "2001:db8::1"}]},
                        ALICE).ip_addresses == ["2001:db8::1"]          # its gateway, by the network's owner
    shared = model.create("network", {"name": "s", "shared": True}, ADMIN)
    model.create("subnet", {"network_id": shared.id, "cidr": "2001:db8:1::/64", "ip_version": 6,
                            "ipv6_address_mode": "slaac", "ipv6_ra_mode": "slaac"}, ADMIN)
    refused(model, 400, "InvalidInput", model.create, "port",
            {"network_id": shared.id, "fixed_ips": [{"ip_address": "2001:db8:1::1"}]}, ALICE)


def test_a_fixed_ip_that_names_neither_subnet_nor_address_is_refused(model):
    net, _ = network(model, ALICE)
    refused(model, 400, "HTTPBadRequest", model.create, "port", {"network_id": net.id, "fixed_ips": [{}]}, ALICE)


def test_an_external_network_holding_only_a_floating_ip_stays_external(model):
    ext, _ = network(model, ADMIN, "172.16.0.0/24", **{"router:external": True})
    model.create("floatingip", {"floating_network_id": ext.id}, ALICE)           # allocated, on no port or router
    refused(model, 409, "ExternalNetworkInUse", model.update, "network", ext.id, {"router:external": False}, ADMIN)


def test_a_new_mac_is_one_no_port_uses_and_after_as_many_tries_as_neutron_makes_none_is(monkeypatch):
    from nvapps.model import ipam
    drawn = iter([1, 1, 2] + [1] * 16)
    monkeypatch.setattr(ipam.random, "getrandbits", lambda bits: next(drawn))
    assert ipam.new_mac({"fa:16:3e:00:00:01"}) == "fa:16:3e:00:00:02"
    with pytest.raises(ModelError) as caught:
        ipam.new_mac({"fa:16:3e:00:00:01"})
    assert (caught.value.status, caught.value.type) == (409, "MacAddressGenerationFailure")
    assert next(drawn, None) is None                 # 16 tries, no more


def test_an_interface_holds_one_untagged_port_or_ports_of_other_vlans_and_a_host_alone_binds_many(model):
    net, _ = network(model, ADMIN)

    def bound(**profile):
        return {"network_id": net.id, "binding:host_id": "hv1", "binding:profile": profile}
    model.create("port", bound(interface_name="eth1"), ADMIN)
    refused(model, 409, "PortBindingConflict", model.create, "port", bound(interface_name="eth1"), ADMIN)
    refused(model, 409, "PortBindingConflict", model.create, "port", bound(interface_name="eth1", vlan=5), ADMIN)
    model.create("port", bound(interface_name="eth2", vlan=5), ADMIN)
    model.create("port", bound(interface_name="eth2", vlan=6), ADMIN)
    refused(model, 409, "PortBindingConflict", model.create, "port", bound(interface_name="eth2", vlan=6), ADMIN)
    refused(model, 409, "PortBindingConflict", model.create, "port", bound(interface_name="eth2"), ADMIN)
    for _ in range(2):                               # bound to the host, no interface named: no conflict
        model.create("port", {"network_id": net.id, "binding:host_id": "hv1"}, ADMIN)


def test_groups_need_port_security_and_network_owned_ports_get_no_default_group(model):
    net, sub = network(model, ALICE)
    group = model.create("security_group", {"name": "web"}, ALICE)
    refused(model, 400, "PortSecurityAndIPRequiredForSecurityGroups", model.create, "port",
            {"network_id": net.id, "port_security_enabled": False, "security_groups": [group.id]}, ALICE)
    plain = model.create("port", {"network_id": net.id}, ALICE)
    dhcp = model.create("port", {"network_id": net.id, "device_owner": "network:dhcp"}, ADMIN)
    open_port = model.create("port", {"network_id": net.id, "port_security_enabled": False}, ALICE)
    assert len(plain.security_groups) == 1 and dhcp.security_groups == [] and open_port.security_groups == []


def test_only_admins_make_or_change_ports_on_an_external_network(model):
    ext, _ = network(model, Context("pa", is_admin=True), "172.16.0.0/24", **{"router:external": True})
    refused(model, 403, "PolicyNotAuthorized", model.create, "port", {"network_id": ext.id}, ALICE)  # even its owner
    given = model.create("port", {"network_id": ext.id, "project_id": "pb"}, ADMIN)
    refused(model, 403, "PolicyNotAuthorized", model.update, "port", given.id, {"name": "mine"}, BOB)
    assert model.update("port", given.id, {"name": "its"}, ADMIN).name == "its"


def pools_of(model: Model, cidr: str, version: int = 4, **attrs) -> list[tuple[str, str]]:
    net = model.create("network", {"name": "n"}, ALICE)
    sub = model.create("subnet", {"network_id": net.id, "cidr": cidr, "ip_version": version, **attrs}, ALICE)
    return [(p["start"], p["end"]) for p in sub.allocation_pools]


def test_default_pools_are_the_hosts_around_the_gateway_as_neutron_counts_them(model):
    assert pools_of(model, "10.0.0.0/24", gateway_ip="10.0.0.100") == [("10.0.0.1", "10.0.0.99"),
                                                                      ("10.0.0.101", "10.0.0.254")]
    assert pools_of(model, "10.0.1.0/24", gateway_ip=None) == [("10.0.1.1", "10.0.1.254")]
    assert pools_of(model, "10.0.2.0/31", gateway_ip=None) == [("10.0.2.0", "10.0.2.1")]      # RFC 3021
    assert pools_of(model, "10.0.3.7/32", gateway_ip=None) == [("10.0.3.7", "10.0.3.7")]
    assert pools_of(model, "2001:db8::/126", 6) == [("2001:db8::2", "2001:db8::3")]        # no broadcast in IPv6
    net = model.create("network", {"name": "n"}, ALICE)
    refused(model, 400, "HTTPBadRequest", model.create, "subnet",                # an IPv6 /128 has no host
            {"network_id": net.id, "cidr": "2001:db8:1::/128", "ip_version": 6, "gateway_ip": None}, ALICE)


def test_a_pool_of_another_ip_version_is_refused(model):
    net = model.create("network", {"name": "n"}, ALICE)
    for pool in ({"start": "10.0.0.2", "end": "2001:db8::5"}, {"start": "2001:db8::2", "end": "10.0.0.5"}):
        refused(model, 400, "HTTPBadRequest", model.create, "subnet", {"network_id": net.id, "cidr": "10.0.0.0/24",
                                                                       "ip_version": 4, "allocation_pools": [pool]},
                ALICE)


def test_only_a_networks_owner_adds_subnets_to_it_even_when_shared_or_external(model):
    shared, _ = network(model, Context("pa", is_admin=True), shared=True)
    ext, _ = network(model, Context("pa", is_admin=True), "172.16.0.0/24", **{"router:external": True})
    for net in (shared, ext):
        refused(model, 403, "PolicyNotAuthorized", model.create, "subnet",
                {"network_id": net.id, "cidr": "10.9.0.0/24", "ip_version": 4}, BOB)


def test_a_subnets_gateway_is_a_host_of_it_and_changes_freely_until_a_router_holds_it(model):
    net = model.create("network", {"name": "n"}, ALICE)
    body = {"network_id": net.id, "cidr": "10.0.0.0/24", "ip_version": 4}
    for gateway in ("10.0.1.1", "10.0.0.255", "10.0.0.0"):
        refused(model, 400, "HTTPBadRequest", model.create, "subnet", {**body, "gateway_ip": gateway}, ALICE)
    refused(model, 400, "InvalidInput", model.create, "subnet", {**body, "cidr": "0.0.0.0/0"}, ALICE)
    sub = model.create("subnet", body, ALICE)
    port = model.create("port", {"network_id": net.id}, ALICE)
    assert model.update("subnet", sub.id, {"gateway_ip": None}, ALICE).gateway_ip is None
    model.create("subnet", {**body, "cidr": "10.0.5.0/24"}, ALICE)               # no address of it for the port
    assert model.get("port", port.id).ip_addresses == port.ip_addresses
    v6 = model.create("subnet", {"network_id": net.id, "cidr": "::a00:0/120", "ip_version": 6}, ALICE)
    assert [netaddr.IPAddress(a) for a in (v6.gateway_ip, v6.allocation_pools[0]["start"])] == \
        [netaddr.IPAddress("::a00:1"), netaddr.IPAddress("::a00:2")]     # IPv6 even where the number is small


def test_networks_refused_by_type_when_keys_run_out_or_of_a_kind_not_served_here(model, monkeypatch):
    from nvapps import pipeline
    other = "vxlan" if model.tenant_networks.type != "vxlan" else "vlan"          # not this cloud's tenant type
    refused(model, 400, "InvalidInput", model.create, "network", {"name": "v", "provider:network_type": other}, ADMIN)
    monkeypatch.setattr(pipeline, "MAX_NETWORK_KEY", len(model.list("network")) + 1)
    model.create("network", {"name": "last"}, ALICE)
    refused(model, 409, "NoNetworkAvailable", model.create, "network", {"name": "one too many"}, ALICE)


def test_multicast_and_loopback_subnets_only_without_dhcp(model):
    net = model.create("network", {"name": "n"}, ALICE)
    for cidr in ("224.0.0.0/24", "127.0.0.0/24"):
        body = {"network_id": net.id, "cidr": cidr, "ip_version": 4}
        refused(model, 400, "InvalidInput", model.create, "subnet", body, ALICE)
        model.delete("subnet", model.create("subnet", {**body, "enable_dhcp": False}, ALICE).id, ALICE)


def test_a_flat_network_names_its_physical_network_and_is_the_only_one_there(model):
    refused(model, 400, "InvalidInput", model.create, "network", {"name": "f", "provider:network_type": "flat"}, ADMIN)
    other = model.tenant_networks.type
    refused(model, 400, "InvalidInput", model.create, "network",
            {"name": "f", "provider:network_type": other, "provider:physical_network": "physnet1"}, ADMIN)
    model.create("network", {"name": "f", "provider:physical_network": "physnet1"}, ADMIN)
    refused(model, 409, "FlatNetworkInUse", model.create, "network",
            {"name": "g", "provider:physical_network": "physnet1"}, ADMIN)
    model.create("network", {"name": "h", "provider:physical_network": "physnet2"}, ADMIN)
