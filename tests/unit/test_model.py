"""Model validation, IPAM and persistence: bad input is refused with a clear error and stores nothing."""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import replace

import pytest

from nvapps.model import service
from nvapps.model.base import hash_once
from nvapps.model.context import Context
from nvapps.model.errors import BadRequest, Conflict, Forbidden, NotFound
from nvapps.model.network import Network
from nvapps.model.service import KeysInUse, Model, check_filters, next_free
from nvapps.store.base import StaleRead
from nvapps.store.sqlite import SQLiteStore


def ctx(project: str) -> Context:
    """An admin acting for `project` (binding attributes are admin-only)."""
    return Context(project, is_admin=True)


ADMIN = ctx("admin")


@pytest.fixture
def model(tmp_path):
    m = Model(SQLiteStore(str(tmp_path / "db.sqlite")))
    yield m
    m.store.close()


def make_net(model, project="p1"):
    net = model.create("network", {"name": "n"}, ctx(project))
    sub = model.create("subnet", {"network_id": net.id, "cidr": "10.0.0.0/24", "ip_version": 4}, ctx(project))
    return net, sub


def snapshot(model):
    return {k: [o.to_store() for o in model.list(k)]
            for k in ("network", "subnet", "port", "security_group", "security_group_rule")}


def test_subnet_defaults_gateway_and_pools_like_neutron(model):
    _, sub = make_net(model)
    assert sub.gateway_ip == "10.0.0.1"
    assert sub.allocation_pools == [{"start": "10.0.0.2", "end": "10.0.0.254"}]


def test_networks_get_distinct_keys_and_list_their_subnets(model):
    a, sub = make_net(model)
    b, _ = make_net(model, "p2")
    assert a.segmentation_id != b.segmentation_id
    assert model.get("network", a.id).subnets == [sub.id]


def test_port_gets_mac_and_first_free_ip_when_omitted(model):
    net, sub = make_net(model)
    p1 = model.create("port", {"network_id": net.id}, ctx("p1"))
    p2 = model.create("port", {"network_id": net.id}, ctx("p1"))
    assert p1.mac_address.startswith("fa:16:3e:") and p1.mac_address != p2.mac_address
    assert [p1.ip_addresses, p2.ip_addresses] == [["10.0.0.2"], ["10.0.0.3"]]
    assert p1.key != p2.key and p1.key > 0


@pytest.mark.parametrize("body, error", [
    ({"cidr": "10.0.0.0/33"}, BadRequest),
    ({"cidr": "10.0.0.5/24"}, BadRequest),
    ({"cidr": "not-a-cidr"}, BadRequest),
    ({"cidr": "10.1.0.0/16", "ip_version": 6}, BadRequest),
    ({"cidr": "10.0.0.128/25"}, Conflict),                             # overlaps 10.0.0.0/24
    ({"cidr": "10.2.0.0/24", "gateway_ip": "10.3.0.1"}, BadRequest),
    ({"cidr": "10.2.0.0/24", "allocation_pools": [{"start": "10.2.0.9", "end": "10.2.1.1"}]}, BadRequest),
    ({"cidr": "10.2.0.0/24", "bogus": 1}, BadRequest),
    ({"cidr": "10.2.0.0/24", "network_id": "8d2b1a1e-0000-4000-8000-000000000000"}, NotFound),
])
def test_bad_subnets_are_refused_and_nothing_is_stored(model, body, error):
    net, _ = make_net(model)
    before = snapshot(model)
    with pytest.raises(error) as refused:
        model.create("subnet", {"network_id": net.id, "ip_version": 4, **body}, ctx("p1"))
    assert snapshot(model) == before and len(refused.value.message) > 20          # it says what was wrong


@pytest.mark.parametrize("body, error", [
    ({"mac_address": "zz:00:00:00:00:01"}, BadRequest),
    ({"mac_address": "01:00:00:00:00:01"}, BadRequest),                # multicast
    ({"fixed_ips": [{"ip_address": "10.9.9.9"}]}, Conflict),            # outside every subnet there is
    ({"fixed_ips": [{"ip_address": "10.0.0.300"}]}, BadRequest),
    ({"fixed_ips": [{"ip_address": "10.0.0.7"}]}, Conflict),            # taken below
    ({"mac_address": "02:00:00:00:00:07"}, Conflict),                   # taken below
    ({"network_id": "8d2b1a1e-0000-4000-8000-000000000000"}, NotFound),
    ({"network_id": "not-a-uuid"}, BadRequest),
    ({"admin_state_up": "maybe"}, BadRequest),
    ({"status": "ACTIVE"}, BadRequest),                                  # read-only
    ({"binding:profile": "s1-eth1"}, BadRequest),
])
def test_bad_ports_are_refused_and_nothing_is_stored(model, body, error):
    net, _ = make_net(model)
    model.create("port", {"network_id": net.id, "mac_address": "02:00:00:00:00:07",
                          "fixed_ips": [{"ip_address": "10.0.0.7"}]}, ctx("p1"))
    before = snapshot(model)
    with pytest.raises(error):
        model.create("port", {"network_id": net.id, **body}, ctx("p1"))
    assert snapshot(model) == before


def test_same_addresses_are_fine_in_another_tenants_network(model):
    a, _ = make_net(model, "p1")
    b, _ = make_net(model, "p2")
    for net in (a, b):
        model.create("port", {"network_id": net.id, "mac_address": "02:00:00:00:00:07",
                              "fixed_ips": [{"ip_address": "10.0.0.7"}]}, ctx(net.project_id))
    assert len(model.ports()) == 2


def test_deleting_a_network_with_ports_is_a_conflict_and_without_takes_its_subnets(model):
    net, sub = make_net(model)
    port = model.create("port", {"network_id": net.id}, ctx("p1"))
    with pytest.raises(Conflict):
        model.delete("network", net.id)
    with pytest.raises(Conflict):
        model.delete("subnet", sub.id)
    model.delete("port", port.id)
    model.delete("network", net.id)
    assert {k: v for k, v in snapshot(model).items() if k in ("network", "subnet", "port")} == \
        {"network": [], "subnet": [], "port": []}


def test_update_checks_like_create_and_keeps_the_key(model):
    net, _ = make_net(model)
    port = model.create("port", {"network_id": net.id}, ctx("p1"))
    moved = model.update("port", port.id, {"binding:host_id": "s1", "binding:profile": {"interface_name": "s1-eth2"},
                                           "fixed_ips": [{"ip_address": "10.0.0.50"}]})
    assert (moved.key, moved.interface_name, moved.ip_addresses) == (port.key, "s1-eth2", ["10.0.0.50"])
    with pytest.raises(BadRequest):
        model.update("port", port.id, {"network_id": net.id})


def test_an_interface_can_be_bound_to_one_port_only(model):
    a, _ = make_net(model, "p1")
    b, _ = make_net(model, "p2")
    binding = {"binding:host_id": "s1", "binding:profile": {"interface_name": "s1-eth2"}}
    first = model.create("port", {"network_id": a.id, **binding}, ctx("p1"))
    with pytest.raises(Conflict):
        model.create("port", {"network_id": b.id, **binding}, ctx("p2"))
    other = model.create("port", {"network_id": b.id}, ctx("p2"))
    with pytest.raises(Conflict):
        model.update("port", other.id, binding)
    assert model.update("port", first.id, {"name": "still bound"}).interface_name == "s1-eth2"


def test_listeners_hear_each_committed_change_and_not_refused_ones(model):
    heard = []
    model.subscribe(heard.append)
    net, _ = make_net(model)
    with pytest.raises(BadRequest):
        model.create("subnet", {"network_id": net.id, "cidr": "bad"}, ctx("p1"))
    kinds = [[(c.kind, c.old is None, c.new is None) for c in batch] for batch in heard]
    assert kinds == [[("network", True, False)], [("subnet", True, False), ("network", False, False)]]


def test_objects_survive_reopening_the_database(tmp_path):
    path = str(tmp_path / "db.sqlite")
    first = Model(SQLiteStore(path))
    net, _ = make_net(first)
    port = first.create("port", {"network_id": net.id}, ctx("p1"))
    first.store.close()
    second = Model(SQLiteStore(path))
    assert second.get("port", port.id) == port
    assert second.get("network", net.id).segmentation_id == net.segmentation_id


def test_filters_match_api_attribute_values(model):
    a, _ = make_net(model, "p1")
    make_net(model, "p2")
    assert [n.id for n in model.list("network", {"project_id": ["p1"]})] == [a.id]
    assert len(model.list("network", {"admin_state_up": ["True"]})) == 2


def test_next_free_key():
    assert next_free(set(), 10) == 1
    assert next_free({1, 2, 3}, 10) == 4
    assert next_free({1, 10}, 10) == 2
    assert next_free(set(range(1, 11)), 10) is None
    assert next_free({2, 3}, 4) == 4 and next_free({2, 3, 4}, 4) == 1          # the top while it is free


def test_keys_in_use_follow_the_model_the_freed_highest_comes_back_and_a_full_range_reuses_the_lowest(tmp_path):
    model = Model(SQLiteStore(str(tmp_path / "db.sqlite")))
    net, _ = make_net(model, "p1")
    ports = [model.create("port", {"network_id": net.id}, ctx("p1")) for _ in range(3)]
    low, mid, top = sorted(p.key for p in ports)
    assert model.next_key("port", 10**6) == top + 1
    model.delete("port", next(p.id for p in ports if p.key == top), ctx("p1"))
    assert model.next_key("port", 10**6) == top and model.next_key("port", 10**6, (top + 5,)) == top + 6
    model.delete("port", next(p.id for p in ports if p.key == low), ctx("p1"))
    assert model.next_key("port", mid) == low and model.next_key("port", mid, (low,)) == (1 if low > 1 else None)
    again = Model(SQLiteStore(str(tmp_path / "db.sqlite")))     # counted again from the store
    assert again.next_key("port", 10**6) == mid + 1 and again.next_key("port", mid) == low
    other, _ = make_net(model, "p2")
    assert other.segmentation_id == model.next_key("network", 10**6) - 1 != net.segmentation_id


def test_a_key_two_objects_share_is_in_use_until_both_are_gone():
    keys = KeysInUse([5, 5, 7, None])       # (VLAN networks of two physical networks may share an id)
    keys.remove(7)
    assert keys.free(100, ()) == 6
    keys.remove(5)
    assert keys.free(100, ()) == 6 and keys.free(5, ()) == 1
    keys.remove(5)
    assert keys.free(100, ()) == 1 and keys.free(100, (3,)) == 4
    keys.add(9)
    keys.add(9)
    keys.remove(9)
    assert keys.free(100, ()) == 10 and keys.free(9, ()) == 1
    assert KeysInUse([2, 3]).free(4, ()) == 4 and KeysInUse([2, 3]).free(3, ()) == 1


class Shared(SQLiteStore):
    """A store other controllers write too: each revision of theirs is claimed (applied) once."""

    def __init__(self) -> None:
        super().__init__(":memory:")
        self.claimed: set[int] = set()

    def claim(self, revision: int) -> bool:
        fresh = revision not in self.claimed
        self.claimed.add(revision)
        return fresh


def test_another_controller_s_writes_are_applied_once_and_announced():
    model = Model(Shared())
    heard = []
    model.subscribe(heard.append)
    net = model.create("network", {"name": "n"}, ctx("p1"))
    theirs = Network(id="6b3f3c1e-3d8e-4e4e-9c1a-2f9a4c1b7d10", project_id="p2", name="theirs", revision_number=1)
    renamed = replace(net, name="renamed", revision_number=net.revision_number + 1)
    model.remote(40, [("flavor", "x", {"id": "x"}), ("network", theirs.id, theirs.to_store()),
                      ("network", net.id, renamed.to_store()), ("network", "gone-already", None)])
    assert [(c.kind, c.old, c.new) for c in heard[-1]] == [("network", None, theirs), ("network", net, renamed)]
    assert model.get("network", theirs.id, ctx("p2")) == theirs and model.get("network", net.id).name == "renamed"
    assert model.list("network", {"name": ["theirs"]}) == [theirs] and model.generation == 2
    model.remote(40, [("network", net.id, None)])                  # the same revision again: nothing
    model.remote(41, [("network", "never-seen", None)])            # nothing to change: nobody told
    assert len(heard) == 2 and model.find("network", net.id) is not None
    model.remote(42, [("network", net.id, None)])
    assert [(c.kind, c.old, c.new) for c in heard[-1]] == [("network", renamed, None)]
    assert model.find("network", net.id) is None and [n.id for n in model.list("network")] == [theirs.id]


def test_filters_compare_text_none_as_empty_and_only_on_attributes_the_kind_has():
    model = Model(SQLiteStore(":memory:"))
    ext = model.create("network", {"name": "ext", "router:external": True}, ADMIN)
    model.create("subnet", {"network_id": ext.id, "cidr": "172.24.4.0/24", "ip_version": 4}, ADMIN)
    free = model.create("floatingip", {"floating_network_id": ext.id}, ADMIN)
    assert model.list("floatingip", {"port_id": [""]}) == [free] and model.list("floatingip", {"port_id": ["None"]}) == []
    model.create("network", {"name": "tenant's"}, ctx("p1"))
    assert [n.id for n in model.list("network", {"router:external": ["True"]})] == [ext.id]
    assert [n.id for n in model.list("network", {"tenant_id": [ext.project_id]})] == [ext.id]
    check_filters("network", {"tenant_id": ["x"], "router:external": ["True"]})
    with pytest.raises(BadRequest):
        check_filters("pool", {"key": ["1"]})                              # an internal attribute: not the API's
    with pytest.raises(BadRequest) as refused:
        check_filters("network", {"flavor": ["x"], "colour": ["y"], "name": ["n"]})
    assert refused.value.type == "HTTPBadRequest" and refused.value.message.startswith("[colour, flavor] is invalid")


def test_requests_the_model_cannot_do_say_why():
    model = Model(SQLiteStore(":memory:"))
    net, _ = make_net(model, "p1")
    shared = model.create("network", {"name": "s", "shared": True}, ADMIN)
    cases = [(BadRequest, "HTTPBadRequest", lambda: model.delete("network", net.id, ADMIN, cascade=True)),
             (NotFound, "NotFound", lambda: model.action("router", net.id, "fly", {}, ADMIN)),
             (Forbidden, "PolicyNotAuthorized", lambda: model.update("network", shared.id, {"name": "x"}, Context("p1")))]
    for error, type_, call in cases:
        with pytest.raises(error) as refused:
            call()
        assert refused.value.type == type_ and len(refused.value.message) > 20, refused.value.message


def test_revision_number_counts_every_committed_change_and_survives_reopening(tmp_path):
    path = str(tmp_path / "db.sqlite")
    first = Model(SQLiteStore(path))
    net, sub = make_net(first)
    assert first.get("network", net.id).revision_number == 2      # created, then its subnet was added
    port = first.create("port", {"network_id": net.id}, ctx("p1"))
    assert port.revision_number == 1 and port.to_api()["revision_number"] == 1
    assert first.update("port", port.id, {"name": "x"}).revision_number == 2
    router = first.create("router", {}, ctx("p1"))
    first.action("router", router.id, "add_router_interface", {"port_id": port.id}, ctx("p1"))
    assert first.get("port", port.id).revision_number == 3        # changed by the router, not by a PUT
    with pytest.raises(BadRequest):
        first.update("port", port.id, {"revision_number": 9}, ctx("p1"))
    first.store.close()
    assert Model(SQLiteStore(path)).get("port", port.id).revision_number == 3


def test_what_a_deletion_changes_elsewhere_counts_a_revision_too():
    model = Model(SQLiteStore(":memory:"))
    admin = Context("admin", is_admin=True)
    net = model.create("network", {"name": "n"}, ctx("p1"))
    v4 = model.create("subnet", {"network_id": net.id, "cidr": "10.0.0.0/24", "ip_version": 4}, ctx("p1"))
    v6 = model.create("subnet", {"network_id": net.id, "cidr": "2001:db8::/64", "ip_version": 6,
                                 "ipv6_address_mode": "slaac", "ipv6_ra_mode": "slaac"}, ctx("p1"))
    port = model.create("port", {"network_id": net.id}, ctx("p1"))
    ext = model.create("network", {"name": "ext", "router:external": True}, admin)
    model.create("subnet", {"network_id": ext.id, "cidr": "172.16.0.0/24", "ip_version": 4}, admin)
    router = model.create("router", {"external_gateway_info": {"network_id": ext.id}}, admin)
    model.action("router", router.id, "add_router_interface", {"subnet_id": v4.id}, admin)
    fip = model.create("floatingip", {"floating_network_id": ext.id, "port_id": port.id}, ctx("p1"))
    before = {kind: model.get(kind, oid).revision_number
              for kind, oid in (("network", net.id), ("port", port.id), ("floatingip", fip.id))}
    model.delete("subnet", v6.id, ctx("p1"))               # its formed address goes from the port with it
    assert model.get("network", net.id).revision_number == before["network"] + 1
    assert model.get("port", port.id).revision_number == before["port"] + 1
    model.delete("port", port.id, ctx("p1"))
    assert model.get("floatingip", fip.id).revision_number == before["floatingip"] + 1


def test_objects_hash_by_kind_id_and_revision_computed_once():
    model = Model(SQLiteStore(":memory:"))
    net = model.create("network", {"name": "n"})
    renamed = model.update("network", net.id, {"name": "m"})
    assert hash(net) == hash(("network", net.id, 1)) and hash(renamed) == hash(("network", net.id, 2))
    assert len({hash(net), hash(renamed), hash(model.create("network", {"name": "n"}))}) == 3
    calls = []

    class Plain:
        pass
    obj = Plain()
    assert hash_once(obj, lambda: calls.append(1) or ("a", 1)) == hash(("a", 1))
    assert hash_once(obj, lambda: calls.append(1) or ("b", 2)) == hash(("a", 1)) and calls == [1]


class Racing(SQLiteStore):
    """A store whose first `losses` writes lose a race to another controller at revision 7, 8..."""

    def __init__(self, losses: int) -> None:
        super().__init__(":memory:")
        self.losses, self.caught_up = losses, []

    @contextmanager
    def transaction(self):
        if self.losses:
            self.losses -= 1
            raise StaleRead(7 + len(self.caught_up))
        with super().transaction() as tx:
            yield tx

    def catch_up(self, revision: int) -> None:
        self.caught_up.append(revision)


def test_a_write_that_loses_races_is_done_again_after_catching_up_then_refused(monkeypatch):
    naps = []
    monkeypatch.setattr(service.time, "sleep", naps.append)
    monkeypatch.setattr(service.random, "uniform", lambda low, high: (low, high))     # the range drawn from
    model = Model(Racing(3))
    net = model.create("network", {"name": "n"}, ctx("p1"))
    assert model.store.caught_up == [7, 8, 9] and [n.id for n in model.list("network")] == [net.id]
    assert naps == [(0, 0.002), (0, 0.004), (0, 0.006)]                 # apart from the others, longer each time
    model.store.losses = 30
    model.update("network", net.id, {"name": "slow"}, ctx("p1"))
    assert naps[-1] == (0, 0.05) and naps[-6] == (0, 0.05) and naps[-7] == (0, 0.048)     # at most 50 ms
    del naps[3:], model.store.caught_up[3:]
    clock = iter([0, 2.5, 5.0, 7.5, 10.0])           # 2.5 s a try: tried again at the window's end, not after
    monkeypatch.setattr(service.time, "monotonic", lambda: next(clock))
    model.store.losses = 10
    with pytest.raises(Conflict) as refused:
        model.update("network", net.id, {"name": "m"}, ctx("p1"))
    assert refused.value.type == "ConcurrentWrites" and model.store.caught_up[3:] == [10, 11, 12]
    assert "send it again" in refused.value.message
    assert model.get("network", net.id).name == "slow" and len(naps) == 5


def test_objects_without_a_project_are_the_default_project_s():
    assert Model(SQLiteStore(":memory:")).create("network", {"name": "n"}).project_id == "default"
    model = Model(SQLiteStore(":memory:"), "lab")
    assert model.create("network", {"name": "n"}).project_id == "lab"
    assert model.create("network", {"tenant_id": "p2"}).project_id == "p2"


def test_a_reopened_model_finds_objects_by_their_indexed_attributes(tmp_path):
    path = str(tmp_path / "db.sqlite")
    first = Model(SQLiteStore(path))
    net, _ = make_net(first)
    ports = [first.create("port", {"network_id": net.id, "device_id": f"vm{i}"}, ctx("p1")) for i in range(2)]
    again = Model(SQLiteStore(path))
    assert again.list("port", {"network_id": [net.id]}) == ports
    assert again.list("port", {"device_id": ["vm1"]}) == ports[1:] and again.list("port", {"device_id": ["vm"]}) == []
    assert [s.id for s in again.list("subnet", {"network_id": [net.id]})] == again.get("network", net.id).subnets != []


def test_a_sub_resource_is_its_parent_s_project_s_whoever_makes_it():
    model = Model(SQLiteStore(":memory:"))
    net, sub = make_net(model, "p1")
    lb = model.create("loadbalancer", {"vip_subnet_id": sub.id}, ctx("p1"))
    pool = model.create("pool", {"loadbalancer_id": lb.id, "protocol": "TCP", "lb_algorithm": "SOURCE_IP"}, ctx("p1"))
    member = model.create("member", {"address": "10.0.0.9", "protocol_port": 80}, ADMIN, parent_id=pool.id)
    assert (member.project_id, member.pool_id) == ("p1", pool.id)
