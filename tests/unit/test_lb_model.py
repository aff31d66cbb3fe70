"""Load balancers in the model: what a VIP port is, which members a pool may take, and every refusal by its
Neutron/Octavia error type with nothing stored."""
from __future__ import annotations

from functools import partial

import pytest

from nvapps.model import loadbalancer
from nvapps.model.context import Context
from nvapps.model.errors import BadRequest, Conflict, NotFound
from nvapps.model.network import LOADBALANCER_VIP
from tests.unit.modelkit import admin_for, attached, network_with_subnet, new_model, refused

P = admin_for("p1")
MEMBER = Context("p1")


@pytest.fixture
def model():
    return new_model()


def tcp_pool(model, lb, port: int = 80, ctx=P, **pool_attrs):
    """A TCP listener on `port` of `lb` and its round-robin default pool: (listener, pool)."""
    li = model.create("listener", {"loadbalancer_id": lb.id, "protocol": "TCP", "protocol_port": port}, ctx)
    pool = model.create("pool", {"listener_id": li.id, "protocol": "TCP", "lb_algorithm": "ROUND_ROBIN",
                                 **pool_attrs}, ctx)
    return model.get("listener", li.id), pool


def member(model, pool, address: str, port: int = 8080, ctx=P, **attrs):
    return model.create("member", {"address": address, "protocol_port": port, **attrs}, ctx, parent_id=pool.id)


def monitor(model, pool, type_: str = "TCP", ctx=P, **attrs):
    return model.create("healthmonitor", {"pool_id": pool.id, "type": type_, "delay": 2, "timeout": 1,
                                          "max_retries": 2, **attrs}, ctx)


# ---- load balancers and their VIP ----

def test_a_vip_port_is_the_load_balancer_s_own_with_port_security_and_the_default_group(model):
    net, sub = network_with_subnet(model, "p1")
    lb = model.create("loadbalancer", {"vip_subnet_id": sub.id, "vip_address": "10.0.0.77"}, MEMBER)
    vip = model.get("port", lb.vip_port_id)
    (default,) = model.list("security_group", {"project_id": ["p1"]})
    assert (vip.device_id, vip.device_owner, vip.project_id, vip.network_id) == \
        (lb.id, LOADBALANCER_VIP, "p1", net.id)
    assert (vip.ip_addresses, vip.security_groups, vip.port_security_enabled, vip.name) == \
        (["10.0.0.77"], [default.id], True, f"loadbalancer-{lb.id}")
    assert (lb.vip_subnet_id, lb.vip_network_id, lb.vip_address) == (sub.id, net.id, "10.0.0.77")
    renamed = model.update("loadbalancer", lb.id, {"name": "web"}, MEMBER)          # the VIP stays as it is
    assert (renamed.name, renamed.vip_port_id, renamed.vip_address) == ("web", lb.vip_port_id, "10.0.0.77")
    assert [p.id for p in model.list("port", {"device_id": [lb.id]})] == [vip.id]


def test_a_vip_by_network_takes_its_first_ipv4_subnet(model):
    network_with_subnet(model, "p1", "10.0.4.0/24")                             # another network's, first
    net = model.create("network", {"name": "n"}, P)
    model.create("subnet", {"network_id": net.id, "cidr": "fd00::/64", "ip_version": 6}, P)
    refused(model, Conflict, "Conflict", model.create, "loadbalancer", {"vip_network_id": net.id}, P)
    first = model.create("subnet", {"network_id": net.id, "cidr": "10.0.5.0/24", "ip_version": 4}, P)
    model.create("subnet", {"network_id": net.id, "cidr": "10.0.6.0/24", "ip_version": 4}, P)
    lb = model.create("loadbalancer", {"vip_network_id": net.id}, P)
    assert (lb.vip_subnet_id, lb.vip_network_id) == (first.id, net.id) and lb.vip_address.startswith("10.0.5.")
    assert model.get("port", lb.vip_port_id).ip_addresses == [lb.vip_address]


def test_a_vip_is_refused_off_the_caller_s_ipv4_tenant_subnets(model):
    net, sub = network_with_subnet(model, "p1")
    other, _ = network_with_subnet(model, "p1", "10.0.1.0/24")
    six = model.create("subnet", {"network_id": net.id, "cidr": "fd00::/64", "ip_version": 6}, P)
    ext, ext_sub = network_with_subnet(model, "admin", "172.24.4.0/24", **{"router:external": True})
    _, theirs = network_with_subnet(model, "p2", "10.0.2.0/24")
    create = partial(model.create, "loadbalancer")
    refused(model, BadRequest, "HTTPBadRequest", create, {}, P)
    refused(model, BadRequest, "HTTPBadRequest", create, {"vip_subnet_id": sub.id, "vip_network_id": other.id}, P)
    refused(model, BadRequest, "HTTPBadRequest", create, {"vip_subnet_id": six.id}, P)
    refused(model, BadRequest, "HTTPBadRequest", create, {"vip_subnet_id": ext_sub.id}, admin_for("admin"))
    refused(model, BadRequest, "HTTPBadRequest", create, {"vip_network_id": ext.id}, admin_for("admin"))
    refused(model, NotFound, "SubnetNotFound", create, {"vip_subnet_id": theirs.id}, MEMBER)
    refused(model, NotFound, "NetworkNotFound", create, {"vip_network_id": theirs.network_id}, MEMBER)
    refused(model, Conflict, "InvalidIpForSubnet", create, {"vip_subnet_id": sub.id, "vip_address": "10.0.1.9"}, P)
    lb = create({"vip_subnet_id": sub.id, "vip_network_id": net.id}, P)          # both, agreeing
    assert lb.vip_network_id == net.id
    refused(model, Conflict, "IpAddressAlreadyAllocated", create,
            {"vip_subnet_id": sub.id, "vip_address": lb.vip_address}, P)


def test_vip_groups_are_the_caller_s_own_once_each(model):
    _, sub = network_with_subnet(model, "p1")
    a, b = (model.create("security_group", {"name": n}, MEMBER) for n in ("a", "b"))
    theirs = model.create("security_group", {"name": "t"}, Context("p2"))
    create = partial(model.create, "loadbalancer")
    refused(model, NotFound, "SecurityGroupNotFound", create,
            {"vip_subnet_id": sub.id, "vip_sg_ids": [a.id, theirs.id]}, MEMBER)
    groups = len(model.list("security_group"))
    lb = create({"vip_subnet_id": sub.id, "vip_sg_ids": [b.id, a.id, b.id]}, MEMBER)
    assert model.get("port", lb.vip_port_id).security_groups == [b.id, a.id]
    assert len(model.list("security_group")) == groups
    bare = create({"vip_subnet_id": sub.id, "vip_sg_ids": []}, MEMBER)
    assert model.get("port", bare.vip_port_id).security_groups == []


def test_a_load_balancer_with_children_is_deleted_only_with_cascade_and_takes_its_vip_s_floating_ip_off(model):
    ext, _ = network_with_subnet(model, "admin", "172.24.4.0/24", **{"router:external": True})
    _, sub, _ = attached(model, ext)
    lb = model.create("loadbalancer", {"vip_subnet_id": sub.id}, P)
    fip = model.create("floatingip", {"floating_network_id": ext.id, "port_id": lb.vip_port_id}, P)
    assert model.get("floatingip", fip.id).fixed_ip_address == lb.vip_address
    bare_pool = model.create("pool", {"loadbalancer_id": lb.id, "protocol": "TCP", "lb_algorithm": "SOURCE_IP"}, P)
    delete = partial(model.delete, "loadbalancer", lb.id)
    refused(model, Conflict, "LoadBalancerInUse", delete, P)                        # a pool alone holds it
    model.delete("pool", bare_pool.id, P)
    li = model.create("listener", {"loadbalancer_id": lb.id, "protocol": "UDP", "protocol_port": 53}, P)
    refused(model, Conflict, "LoadBalancerInUse", delete, P)                        # so does a listener alone
    model.delete("listener", li.id, P)
    li, pool = tcp_pool(model, lb)
    member(model, pool, "10.0.0.9")
    monitor(model, pool)
    other = model.create("loadbalancer", {"vip_subnet_id": sub.id}, P)
    kept = tcp_pool(model, other)
    model.delete("loadbalancer", lb.id, P, cascade=True)
    for kind in ("loadbalancer", "listener", "pool", "member", "healthmonitor"):
        assert {o.id for o in model.list(kind)} <= {other.id, *(o.id for o in kept)}, kind
    assert model.find("port", lb.vip_port_id) is None and model.find("port", other.vip_port_id) is not None
    assert [p.id for p in model.list("pool")] == [kept[1].id]
    fip = model.get("floatingip", fip.id)
    assert (fip.port_id, fip.fixed_ip_address, fip.router_id, fip.status) == (None, None, None, "DOWN")
    model.delete("listener", kept[0].id, P)
    model.delete("pool", kept[1].id, P)
    model.delete("loadbalancer", other.id, P)                                       # free: no cascade needed
    assert not model.list("loadbalancer") and model.find("port", other.vip_port_id) is None


# ---- listeners ----

@pytest.fixture
def lb(model):
    _, sub = network_with_subnet(model, "p1")
    return model.create("loadbalancer", {"vip_subnet_id": sub.id}, P)


def test_a_listener_takes_a_free_protocol_and_port_of_the_caller_s_load_balancer(model, lb):
    create = partial(model.create, "listener")
    li = create({"loadbalancer_id": lb.id, "protocol": "TCP", "protocol_port": 80}, P)
    refused(model, Conflict, "DuplicateListenerEntry", create,
            {"loadbalancer_id": lb.id, "protocol": "TCP", "protocol_port": 80}, P)
    udp = create({"loadbalancer_id": lb.id, "protocol": "UDP", "protocol_port": 80}, P)     # another protocol
    create({"loadbalancer_id": lb.id, "protocol": "TCP", "protocol_port": 81}, P)           # another port
    assert model.update("listener", li.id, {"name": "web"}, P).name == "web"             # itself: no duplicate
    _, theirs_sub = network_with_subnet(model, "p2", "10.0.2.0/24")
    theirs = model.create("loadbalancer", {"vip_subnet_id": theirs_sub.id}, admin_for("p2"))
    create({"loadbalancer_id": theirs.id, "protocol": "TCP", "protocol_port": 80}, admin_for("p2"))
    refused(model, NotFound, "LoadBalancerNotFound", create,
            {"loadbalancer_id": theirs.id, "protocol": "TCP", "protocol_port": 82}, MEMBER)
    assert model.show(udp)["loadbalancers"] == [{"id": lb.id}]


def test_a_listener_s_default_pool_is_a_free_pool_of_its_load_balancer_and_protocol(model, lb):
    li, pool = tcp_pool(model, lb)
    assert li.default_pool_id == pool.id and model.get("pool", pool.id).listener_id == li.id
    other = model.create("listener", {"loadbalancer_id": lb.id, "protocol": "TCP", "protocol_port": 81}, P)
    update = partial(model.update, "listener", other.id)
    refused(model, Conflict, "Conflict", update, {"default_pool_id": pool.id}, P)       # li's already
    spare = model.create("pool", {"loadbalancer_id": lb.id, "protocol": "TCP", "lb_algorithm": "SOURCE_IP"}, P)
    udp = model.create("pool", {"loadbalancer_id": lb.id, "protocol": "UDP", "lb_algorithm": "SOURCE_IP"}, P)
    refused(model, Conflict, "Conflict", update, {"default_pool_id": udp.id}, P)         # another protocol
    lb2 = model.create("loadbalancer", {"vip_subnet_id": lb.vip_subnet_id}, P)
    elsewhere = model.create("pool", {"loadbalancer_id": lb2.id, "protocol": "TCP", "lb_algorithm": "SOURCE_IP"}, P)
    refused(model, Conflict, "Conflict", update, {"default_pool_id": elsewhere.id}, P)   # another LB's
    assert update({"default_pool_id": spare.id}, P).default_pool_id == spare.id
    refused(model, Conflict, "Conflict", partial(model.update, "listener", li.id), {"default_pool_id": spare.id}, P)
    assert model.update("listener", li.id, {"default_pool_id": pool.id, "name": "x"}, P).name == "x"   # its own
    assert model.show(model.get("pool", spare.id))["listeners"] == [{"id": other.id}]


def test_deleting_a_listener_frees_its_pools(model, lb):
    li, pool = tcp_pool(model, lb)
    _, kept = tcp_pool(model, lb, 81)
    model.delete("listener", li.id, P)
    assert model.find("listener", li.id) is None
    freed = model.get("pool", pool.id)
    assert freed.listener_id is None and model.get("pool", kept.id).listener_id is not None
    assert freed.revision_number == pool.revision_number + 1 and freed.key == pool.key
    model.update("listener", model.create("listener", {"loadbalancer_id": lb.id, "protocol": "TCP",
                                                       "protocol_port": 80}, P).id, {"default_pool_id": pool.id}, P)


# ---- pools ----

def test_a_pool_joins_a_listener_without_one_and_of_its_protocol(model, lb):
    li = model.create("listener", {"loadbalancer_id": lb.id, "protocol": "TCP", "protocol_port": 80}, P)
    create = partial(model.create, "pool")
    refused(model, BadRequest, "HTTPBadRequest", create, {"protocol": "TCP", "lb_algorithm": "SOURCE_IP"}, P)
    refused(model, Conflict, "Conflict", create, {"listener_id": li.id, "protocol": "UDP",
                                                  "lb_algorithm": "SOURCE_IP"}, P)
    lb2 = model.create("loadbalancer", {"vip_subnet_id": lb.vip_subnet_id}, P)
    refused(model, BadRequest, "HTTPBadRequest", create, {"listener_id": li.id, "loadbalancer_id": lb2.id,
                                                          "protocol": "TCP", "lb_algorithm": "SOURCE_IP"}, P)
    pool = create({"listener_id": li.id, "loadbalancer_id": lb.id, "protocol": "TCP", "lb_algorithm": "SOURCE_IP"}, P)
    assert (pool.loadbalancer_id, pool.listener_id) == (lb.id, li.id)
    joined = model.get("listener", li.id)
    assert joined.default_pool_id == pool.id and joined.revision_number == li.revision_number + 1
    refused(model, Conflict, "DuplicatePoolEntry", create, {"listener_id": li.id, "protocol": "TCP",
                                                            "lb_algorithm": "SOURCE_IP"}, P)
    assert model.update("pool", pool.id, {"lb_algorithm": "ROUND_ROBIN"}, P).key == pool.key   # same key
    assert model.show(pool) == {**model.show(pool), "loadbalancers": [{"id": lb.id}], "listeners": [{"id": li.id}],
                                "members": [], "healthmonitor_id": None}


def test_pools_are_refused_on_another_project_s_load_balancer_or_listener(model, lb):
    li = model.create("listener", {"loadbalancer_id": lb.id, "protocol": "TCP", "protocol_port": 80}, P)
    create = partial(model.create, "pool")
    stranger = Context("p2")
    refused(model, NotFound, "ListenerNotFound", create, {"listener_id": li.id, "protocol": "TCP",
                                                          "lb_algorithm": "SOURCE_IP"}, stranger)
    refused(model, NotFound, "LoadBalancerNotFound", create, {"loadbalancer_id": lb.id, "protocol": "TCP",
                                                              "lb_algorithm": "SOURCE_IP"}, stranger)


def test_pools_have_distinct_keys_until_none_is_left(model, lb, monkeypatch):
    monkeypatch.setattr(loadbalancer, "MAX_POOL_KEY", 2)
    create = partial(model.create, "pool", {"loadbalancer_id": lb.id, "protocol": "TCP", "lb_algorithm": "SOURCE_IP"})
    keys = {create(P).key, create(P).key}
    assert keys == {1, 2}
    refused(model, Conflict, "Conflict", create, P)


def test_deleting_a_pool_takes_its_members_and_monitor_and_frees_its_listener(model, lb):
    li, pool = tcp_pool(model, lb)
    _, kept = tcp_pool(model, lb, 81)
    gone = [member(model, pool, "10.0.0.9"), member(model, pool, "10.0.0.10")]
    stays = member(model, kept, "10.0.0.9")
    monitor(model, pool)
    kept_monitor = monitor(model, kept)
    model.delete("pool", pool.id, P)
    freed = model.get("listener", li.id)
    assert freed.default_pool_id is None and freed.revision_number == li.revision_number + 1
    assert model.get("listener", model.get("pool", kept.id).listener_id).default_pool_id == kept.id
    assert [m.id for m in model.list("member")] == [stays.id] and not any(model.find("member", m.id) for m in gone)
    assert [h.id for h in model.list("healthmonitor")] == [kept_monitor.id]
    assert model.find("pool", pool.id) is None


# ---- members ----

@pytest.fixture
def routed(model):
    """p1's VIP network 10.0.0.0/24 joined by a router to 10.0.1.0/24 (and 10.0.1.0/24's IPv6 subnet); 10.0.9.0/24
    on no router; a TCP listener on 80 and its pool: (lb, pool, subnets by third octet)."""
    subs = {i: network_with_subnet(model, "p1", f"10.0.{i}.0/24")[1] for i in (0, 1, 9)}
    model.create("subnet", {"network_id": subs[1].network_id, "cidr": "fd00::/64", "ip_version": 6}, P)
    router = model.create("router", {}, P)
    for i in (0, 1):
        model.action("router", router.id, "add_router_interface", {"subnet_id": subs[i].id}, P)
    lb = model.create("loadbalancer", {"vip_subnet_id": subs[0].id}, P)
    return lb, tcp_pool(model, lb)[1], subs


def test_members_are_on_the_subnets_the_vip_reaches(model, routed):
    lb, pool, subs = routed
    assert {s.id for s in loadbalancer.reachable_subnets(model, lb.vip_network_id)} == {subs[0].id, subs[1].id}
    add = partial(member, model, pool)
    assert add("10.0.0.5").subnet_id == subs[0].id
    assert add("10.0.1.5").subnet_id == subs[1].id                          # behind the router
    assert add("10.0.1.6", subnet_id=subs[1].id).subnet_id == subs[1].id
    refused(model, BadRequest, "HTTPBadRequest", add, "10.0.9.5")            # a subnet on no router of the VIP's
    refused(model, BadRequest, "HTTPBadRequest", add, "192.168.0.5")
    refused(model, BadRequest, "HTTPBadRequest", add, "10.0.1.7", subnet_id=subs[0].id)     # not on it
    refused(model, BadRequest, "HTTPBadRequest", add, "10.0.9.7", subnet_id=subs[9].id)     # on it, unreachable
    elsewhere = model.create("router", {}, P)                              # a router away from the VIP's network
    model.action("router", elsewhere.id, "add_router_interface", {"subnet_id": subs[9].id}, P)
    refused(model, BadRequest, "HTTPBadRequest", add, "10.0.9.8")
    assert {s.id for s in loadbalancer.reachable_subnets(model, lb.vip_network_id)} == {subs[0].id, subs[1].id}


def test_a_member_leaves_its_pool_alone(model, routed):
    _, pool, _ = routed
    gone, stays = member(model, pool, "10.0.0.5"), member(model, pool, "10.0.1.5")
    model.delete("member", gone.id, P)
    assert model.find("member", gone.id) is None and [m.id for m in model.list("member")] == [stays.id]
    assert member(model, pool, "10.0.0.5").subnet_id == gone.subnet_id             # its address and port free again


def test_a_member_is_one_address_and_port_per_pool(model, routed):
    lb, pool, _ = routed
    first = member(model, pool, "10.0.0.5", 80, weight=3)
    refused(model, Conflict, "DuplicateMemberEntry", member, model, pool, "10.0.0.5", 80)
    member(model, pool, "10.0.0.5", 81)
    member(model, pool, "10.0.0.6", 80)
    other = model.create("pool", {"loadbalancer_id": lb.id, "protocol": "TCP", "lb_algorithm": "SOURCE_IP"}, P)
    member(model, other, "10.0.0.5", 80)                                      # another pool's
    changed = model.update("member", first.id, {"weight": 0, "name": "w"}, P)
    assert (changed.weight, changed.address, changed.subnet_id) == (0, "10.0.0.5", first.subnet_id)
    assert model.show(model.get("pool", pool.id))["members"] == [{"id": m.id} for m in model.list(
        "member", {"pool_id": [pool.id]})] and len(model.list("member", {"pool_id": [pool.id]})) == 3


def test_a_member_s_subnet_is_the_caller_s(model):
    _, sub = network_with_subnet(model, "p1")
    theirs, their_sub = network_with_subnet(model, "p2", "10.0.2.0/24")
    router = model.create("router", {}, admin_for("admin"))
    for s in (sub, their_sub):
        model.action("router", router.id, "add_router_interface", {"subnet_id": s.id}, admin_for("admin"))
    lb = model.create("loadbalancer", {"vip_subnet_id": sub.id}, MEMBER)
    _, pool = tcp_pool(model, lb, ctx=MEMBER)
    refused(model, BadRequest, "HTTPBadRequest", member, model, pool, "10.0.2.5", ctx=MEMBER)
    refused(model, NotFound, "SubnetNotFound", member, model, pool, "10.0.2.5", ctx=MEMBER, subnet_id=their_sub.id)
    refused(model, NotFound, "PoolNotFound", member, model, pool, "10.0.0.5", ctx=Context("p2"))
    assert member(model, pool, "10.0.2.5", ctx=admin_for("p1")).subnet_id == their_sub.id    # an admin may


# ---- health monitors ----

def test_one_monitor_per_pool_of_its_protocol_answering_within_its_delay(model, lb):
    _, pool = tcp_pool(model, lb)
    udp = model.create("pool", {"loadbalancer_id": lb.id, "protocol": "UDP", "lb_algorithm": "SOURCE_IP"}, P)
    add = partial(monitor, model)
    refused(model, BadRequest, "HTTPBadRequest", add, pool, delay=2, timeout=3)
    refused(model, Conflict, "Conflict", add, pool, "UDP-CONNECT")
    refused(model, Conflict, "Conflict", add, udp, "TCP")
    refused(model, NotFound, "PoolNotFound", add, pool, ctx=Context("p2"))
    hm = add(pool, delay=3, timeout=3)                                       # as long as the delay: allowed
    refused(model, Conflict, "DuplicateHealthMonitor", add, pool, "HTTP")
    assert model.update("healthmonitor", hm.id, {"delay": 5, "timeout": 4}, P).delay == 5
    refused(model, Conflict, "HTTPBadRequest", partial(model.update, "healthmonitor", hm.id), {"delay": 1}, P)
    assert add(udp, "UDP-CONNECT").pool_id == udp.id
    assert model.show(hm)["pools"] == [{"id": pool.id}]
    assert model.show(model.get("pool", pool.id))["healthmonitor_id"] == hm.id
    model.delete("healthmonitor", hm.id, P)
    assert model.find("healthmonitor", hm.id) is None and [h.pool_id for h in model.list("healthmonitor")] == [udp.id]


@pytest.mark.parametrize("codes", ["200", "200,202", "200-204", "599", "100,101,102"])
def test_expected_codes_are_a_code_a_list_or_a_range(codes):
    assert loadbalancer.check_codes(codes) == codes


@pytest.mark.parametrize("codes", ["2xx", "200-", "200,", "600", "099", "200-204,206", "200 ", " 200", "", 200])
def test_anything_else_is_not_expected_codes(codes):
    with pytest.raises(BadRequest):
        loadbalancer.check_codes(codes)


def test_url_paths_are_visible_ascii_from_a_slash():
    assert loadbalancer.check_url_path("/") == "/" and loadbalancer.check_url_path("/a?b=c~") == "/a?b=c~"
    for bad in ("", "a/", "/a b", "/é", "/a\n", " /"):
        with pytest.raises(BadRequest):
            loadbalancer.check_url_path(bad)


# ---- readings ----

def test_the_status_tree_shows_live_statuses_over_stored_ones(model, routed):
    lb, pool, _ = routed
    m = member(model, pool, "10.0.0.5")
    hm = monitor(model, pool, "PING")
    li = model.list("listener", {"loadbalancer_id": [lb.id]})[0]
    model.create("listener", {"loadbalancer_id": lb.id, "protocol": "UDP", "protocol_port": 53}, P)   # no pool
    live = {m.id: {"operating_status": "ERROR"}, lb.id: {"provisioning_status": "ACTIVE"}}
    tree = loadbalancer.status_tree(model, model.get("loadbalancer", lb.id), lambda o: live.get(o.id, {}))
    top = tree["loadbalancer"]
    assert (top["id"], top["provisioning_status"], top["operating_status"]) == (lb.id, "ACTIVE", "OFFLINE")
    assert [(x["id"], len(x["pools"])) for x in top["listeners"]][0] == (li.id, 1) and top["listeners"][1]["pools"] == []
    (shown,) = top["listeners"][0]["pools"]
    assert (shown["id"], shown["health_monitor"]["id"], shown["health_monitor"]["type"]) == (pool.id, hm.id, "PING")
    assert shown["members"] == [{"id": m.id, "name": m.name, "provisioning_status": "PENDING_CREATE",
                                 "operating_status": "ERROR", "address": "10.0.0.5", "protocol_port": 8080}]
    model.delete("healthmonitor", hm.id, P)
    tree = loadbalancer.status_tree(model, model.get("loadbalancer", lb.id), lambda o: {})
    assert tree["loadbalancer"]["listeners"][0]["pools"][0]["health_monitor"] == {}


def test_every_object_of_a_tree_names_its_load_balancer(model, routed):
    lb, pool, _ = routed
    m, hm = member(model, pool, "10.0.0.5"), monitor(model, pool)
    li = model.list("listener")[0]
    assert [loadbalancer.root_of(model, o) for o in (lb, li, pool, m, hm)] == [lb.id] * 5
    model.delete("pool", pool.id, P)
    assert loadbalancer.root_of(model, m) is None and loadbalancer.root_of(model, hm) is None
    assert loadbalancer.no_stats() == dict.fromkeys(loadbalancer.STATS, 0)


def test_a_load_balancer_may_sit_on_a_shared_network_and_balance_its_members(model):
    shared, sub = network_with_subnet(model, "admin", "10.0.7.0/24", shared=True)
    lb = model.create("loadbalancer", {"vip_subnet_id": sub.id}, MEMBER)
    vip = model.get("port", lb.vip_port_id)
    assert (lb.project_id, vip.project_id, vip.network_id, lb.vip_network_id) == ("p1", "p1", shared.id, shared.id)
    assert model.create("loadbalancer", {"vip_network_id": shared.id}, MEMBER).vip_subnet_id == sub.id
    _, pool = tcp_pool(model, lb, ctx=MEMBER)
    assert member(model, pool, "10.0.7.20", ctx=MEMBER).subnet_id == sub.id
    assert member(model, pool, "10.0.7.21", ctx=MEMBER, subnet_id=sub.id).subnet_id == sub.id
    _, private = network_with_subnet(model, "admin", "10.0.8.0/24")
    refused(model, NotFound, "SubnetNotFound", model.create, "loadbalancer", {"vip_subnet_id": private.id}, MEMBER)
