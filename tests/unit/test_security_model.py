"""Security groups, their rules and network ACLs: Neutron defaults and validation."""
from __future__ import annotations

import pytest

from nvapps.model.context import Context
from nvapps.model.errors import BadRequest, Conflict, Forbidden
from tests.unit.modelkit import admin_for, network_with_subnet, new_model, snapshot

P = admin_for("p1")


@pytest.fixture
def model():
    return new_model()


def test_a_new_port_gets_the_projects_default_group_with_neutrons_four_rules(model):
    net, _ = network_with_subnet(model, "p1")
    port = model.create("port", {"network_id": net.id}, P)
    [group] = model.list("security_group", {"project_id": ["p1"]})
    assert port.security_groups == [group.id] and group.name == "default"
    rules = model.show(group)["security_group_rules"]
    assert sorted((r["direction"], r["ethertype"], r["remote_group_id"] == group.id) for r in rules) == [
        ("egress", "IPv4", False), ("egress", "IPv6", False), ("ingress", "IPv4", True), ("ingress", "IPv6", True)]
    model.create("port", {"network_id": net.id}, P)
    assert len(model.list("security_group")) == 1          # made once


def test_ports_without_port_security_have_no_groups(model):
    net, _ = network_with_subnet(model, "p1")
    assert model.create("port", {"network_id": net.id, "port_security_enabled": False}, P).security_groups == []
    group = model.create("security_group", {"name": "web"}, P)
    with pytest.raises(BadRequest):
        model.create("port", {"network_id": net.id, "port_security_enabled": False,
                              "security_groups": [group.id]}, P)


@pytest.mark.parametrize("rule, error", [
    ({"direction": "sideways"}, BadRequest),
    ({"direction": "ingress", "protocol": "gre-ish"}, BadRequest),
    ({"direction": "ingress", "protocol": "tcp", "port_range_min": 90, "port_range_max": 80}, BadRequest),
    ({"direction": "ingress", "port_range_min": 80, "port_range_max": 80}, BadRequest),          # no protocol
    ({"direction": "ingress", "protocol": "icmp", "port_range_min": 300}, BadRequest),
    ({"direction": "ingress", "remote_ip_prefix": "10.0.0.0/8", "ethertype": "IPv6"}, BadRequest),
    ({"direction": "ingress", "remote_ip_prefix": "10.0.0.0/8",
      "remote_group_id": "00000000-0000-4000-8000-000000000000"}, BadRequest),
    ({"direction": "ingress", "protocol": "tcp", "port_range_min": 80, "port_range_max": 80}, Conflict),  # exists
])
def test_bad_rules_are_refused_and_nothing_is_stored(model, rule, error):
    group = model.create("security_group", {"name": "web"}, P)
    model.create("security_group_rule", {"security_group_id": group.id, "direction": "ingress", "protocol": "tcp",
                                         "port_range_min": 80, "port_range_max": 80}, P)
    before = snapshot(model)
    with pytest.raises(error):
        model.create("security_group_rule", {"security_group_id": group.id, **rule}, P)
    assert snapshot(model) == before


def test_rule_prefixes_are_normalised_and_protocol_numbers_accepted(model):
    group = model.create("security_group", {"name": "web"}, P)
    rule = model.create("security_group_rule", {"security_group_id": group.id, "direction": "ingress",
                                                "protocol": "6", "port_range_min": 22, "port_range_max": 22,
                                                "remote_ip_prefix": "10.0.0.5/24"}, P)
    assert (rule.protocol, rule.remote_ip_prefix) == ("6", "10.0.0.0/24")


def test_groups_in_use_stay_and_deleting_one_drops_rules_that_refer_to_it(model):
    net, _ = network_with_subnet(model, "p1")
    web = model.create("security_group", {"name": "web"}, P)
    db = model.create("security_group", {"name": "db"}, P)
    model.create("security_group_rule", {"security_group_id": db.id, "direction": "ingress",
                                         "remote_group_id": web.id}, P)
    port = model.create("port", {"network_id": net.id, "security_groups": [web.id]}, P)
    with pytest.raises(Conflict) as caught:
        model.delete("security_group", web.id, Context("p1"))
    assert caught.value.type == "SecurityGroupInUse"
    model.update("port", port.id, {"security_groups": []}, P)
    model.delete("security_group", web.id, Context("p1"))                      # a member deletes its own group
    left = model.list("security_group_rule", {"security_group_id": [db.id]})
    assert [(r.direction, r.remote_group_id) for r in left] == [("egress", None)] * 2    # Neutron's own two
    assert model.find("security_group", web.id) is None
    assert model.list("security_group_rule", {"security_group_id": [web.id]}) == []


def test_a_new_group_allows_all_egress_and_gets_its_own_key(model):
    web = model.create("security_group", {"name": "web"}, P)
    db = model.create("security_group", {"name": "db"}, P)
    rules = model.list("security_group_rule", {"security_group_id": [web.id]})
    assert sorted((r.direction, r.ethertype, r.protocol, r.remote_ip_prefix) for r in rules) == \
        [("egress", "IPv4", None, None), ("egress", "IPv6", None, None)]
    keys = [g.key for g in model.list("security_group")]
    assert len(set(keys)) == 3 and 0 not in keys and web.key != db.key      # with the default group


def test_the_default_group_is_unique_and_members_cannot_delete_it(model):
    member = Context("p1")
    model.ensure_defaults(member)
    [default] = model.list("security_group", ctx=member)
    with pytest.raises(Conflict):
        model.create("security_group", {"name": "default"}, member)
    with pytest.raises(Conflict) as caught:
        model.delete("security_group", default.id, member)
    assert caught.value.type == "SecurityGroupCannotRemoveDefault"
    with pytest.raises(Conflict):
        model.update("security_group", default.id, {"name": "renamed"}, member)
    model.delete("security_group", default.id, P)                              # an admin may
    assert model.list("security_group", ctx=member) == []


def test_network_acls_are_ordered_per_direction(model):
    net, _ = network_with_subnet(model, "p1")
    first = model.create("network_acl", {"network_id": net.id, "action": "deny", "direction": "ingress",
                                         "protocol": "icmp"}, P)
    second = model.create("network_acl", {"network_id": net.id, "action": "allow", "direction": "ingress"}, P)
    assert second.position > first.position
    with pytest.raises(Conflict):
        model.create("network_acl", {"network_id": net.id, "action": "allow", "direction": "ingress",
                                     "position": first.position}, P)
    with pytest.raises(BadRequest):
        model.create("network_acl", {"network_id": net.id, "direction": "ingress"}, P)     # no action
    with pytest.raises(BadRequest):
        model.create("network_acl", {"network_id": net.id, "action": "deny", "direction": "egress",
                                     "destination_port_range_min": 80, "destination_port_range_max": 80}, P)
    model.delete("port", model.create("port", {"network_id": net.id}, P).id, P)
    model.delete("network", net.id, P)
    assert model.list("network_acl") == []


def test_members_cannot_write_into_other_projects_groups(model):
    group = model.create("security_group", {"name": "web"}, admin_for("p2"))
    with pytest.raises(Exception) as err:
        model.create("security_group_rule", {"security_group_id": group.id, "direction": "ingress"}, Context("p1"))
    assert err.value.status == 404
    with pytest.raises(Forbidden):
        model.create("security_group", {"name": "x", "project_id": "p2"}, Context("p1"))


def test_acls_take_positions_ten_apart_up_to_the_last_and_deleted_acls_and_rules_go(model, monkeypatch):
    from nvapps import pipeline
    net, _ = network_with_subnet(model, "p1")
    other, _ = network_with_subnet(model, "p1", "10.1.0.0/24")
    model.create("network_acl", {"network_id": other.id, "action": "allow", "direction": "ingress",
                                 "position": 500}, P)                    # another network's numbering
    monkeypatch.setattr(pipeline, "MAX_ACL_POSITION", 30)
    made = [model.create("network_acl", {"network_id": net.id, "action": "allow", "direction": "ingress"}, P)
            for _ in range(3)]
    assert [a.position for a in made] == [10, 20, 30]
    with pytest.raises(Conflict) as caught:
        model.create("network_acl", {"network_id": net.id, "action": "allow", "direction": "ingress"}, P)
    assert caught.value.type == "NetworkAclPositionInUse"
    model.delete("network_acl", made[2].id, P)
    assert [a.id for a in model.list("network_acl", {"network_id": [net.id]})] == [a.id for a in made[:2]]
    group = model.create("security_group", {"name": "web"}, P)
    rule = model.create("security_group_rule", {"security_group_id": group.id, "direction": "ingress"}, P)
    model.delete("security_group_rule", rule.id, P)
    assert rule.id not in {r.id for r in model.list("security_group_rule")}


def refused_type(model, type_: str, kind: str, body: dict) -> None:
    """Creating `kind` from `body` is refused with Neutron type `type_`, and nothing is stored."""
    before = snapshot(model)
    with pytest.raises((BadRequest, Conflict)) as caught:
        model.create(kind, body, P)
    assert caught.value.type == type_, caught.value.message
    assert snapshot(model) == before


def test_rules_and_acls_refused_by_their_neutron_types(model):
    net, _ = network_with_subnet(model, "p1")
    web = model.create("security_group", {"name": "web"}, P)
    db = model.create("security_group", {"name": "db"}, P)
    rule = {"security_group_id": web.id, "direction": "ingress", "protocol": "tcp", "port_range_min": 22,
            "port_range_max": 22}
    refused_type(model, "SecurityGroupRemoteGroupAndRemoteIpPrefix", "security_group_rule",
                 {**rule, "remote_group_id": db.id, "remote_ip_prefix": "10.0.0.0/8"})
    refused_type(model, "SecurityGroupInvalidPortRange", "security_group_rule", {**rule, "port_range_min": 23})
    refused_type(model, "SecurityGroupInvalidPortRange", "security_group_rule", {**rule, "port_range_max": None})
    refused_type(model, "SecurityGroupInvalidPortRange", "security_group_rule", {**rule, "protocol": "47"})    # GRE
    refused_type(model, "SecurityGroupInvalidIcmpValue", "security_group_rule",
                 {**rule, "protocol": "icmp", "port_range_min": 256, "port_range_max": 0})
    model.create("security_group_rule", {**rule, "protocol": "icmp", "port_range_min": 255, "port_range_max": 255}, P)
    refused_type(model, "SecurityGroupRuleParameterConflict", "security_group_rule",
                 {**rule, "ethertype": "IPv4", "remote_ip_prefix": "2001:db8::/64"})
    model.create("security_group_rule", rule, P)
    refused_type(model, "SecurityGroupRuleExists", "security_group_rule", rule)
    twin = model.create("security_group_rule", {**rule, "security_group_id": db.id}, P)    # another group's: fine
    assert twin.project_id == "p1"
    theirs = model.create("security_group", {"name": "theirs"}, admin_for("p2"))
    assert model.create("security_group_rule", {**rule, "security_group_id": theirs.id}, P).project_id == "p2"
    acl = {"network_id": net.id, "action": "allow", "direction": "ingress"}
    model.create("network_acl", {**acl, "position": 5}, P)
    refused_type(model, "NetworkAclPositionInUse", "network_acl", {**acl, "position": 5})
    refused_type(model, "SecurityGroupRuleParameterConflict", "network_acl",
                 {**acl, "ethertype": "IPv4", "source_ip_prefix": "2001:db8::/64"})
    for ports in ("source_port_range", "destination_port_range"):
        refused_type(model, "SecurityGroupInvalidPortRange", "network_acl",
                     {**acl, "protocol": "udp", f"{ports}_min": 90, f"{ports}_max": 80})


def test_a_group_is_renamed_freely_but_never_to_default_and_ipv6_rules_take_ipv6_prefixes(model):
    web = model.create("security_group", {"name": "web"}, Context("p1"))
    assert model.update("security_group", web.id, {"name": "www", "description": "d"}, Context("p1")).name == "www"
    with pytest.raises(Conflict) as caught:
        model.update("security_group", web.id, {"name": "default"}, Context("p1"))
    assert caught.value.type == "SecurityGroupDefaultAlreadyExists"
    rule = model.create("security_group_rule", {"security_group_id": web.id, "direction": "ingress",
                                                "ethertype": "IPv6", "remote_ip_prefix": "2001:db8::/64"}, P)
    assert rule.remote_ip_prefix == "2001:db8::/64"
