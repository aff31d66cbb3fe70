"""The authorization matrix, generated from the OpenAPI document: every path and method, as the owner of
the objects, another project's member, an admin and nobody; and every reference a body can make, to an
object of another project: it must answer exactly what a reference to nothing answers (a 404 where the
reference is the request's subject), and change nothing."""
from __future__ import annotations

import re
import uuid

import pytest

from nvapps.model.service import KINDS
from nvapps.rest.openapi import document
from nvapps.trace.tracer import Tracer
from tests.unit.fakecore import FakeCore
from tests.unit.restkit import call, everything, ok, token_api

OWNER, OTHER, ADMIN = "alice", "bob", "adm"
ADMIN_COLLECTIONS = {cls.COLLECTION for cls in KINDS.values() if cls.ADMIN_ONLY}
PUBLIC = {"/", "/v2.0/", "/openapi.json", "/ui/", "/ui/{name}"}      # the console's files are public


@pytest.fixture
def api(tmp_path):
    return token_api(tmp_path)


@pytest.fixture
def owned(api) -> dict[str, dict]:
    """One object of every kind, by kind: tenant objects of Alice's project (pa), admin-only ones the admin's."""
    o: dict[str, dict] = {}
    ext = ok(api, "POST", "/v2.0/networks", body={"network": {"name": "ext", "router:external": True}})["network"]
    ok(api, "POST", "/v2.0/subnets", body={"subnet": {"network_id": ext["id"], "cidr": "172.24.4.0/24",
                                                     "ip_version": 4}})
    o["network"] = ok(api, "POST", "/v2.0/networks", OWNER, {"network": {"name": "a"}})["network"]
    o["subnet"] = ok(api, "POST", "/v2.0/subnets", OWNER, {"subnet": {
        "network_id": o["network"]["id"], "cidr": "10.0.0.0/24", "ip_version": 4}})["subnet"]
    o["router"] = ok(api, "POST", "/v2.0/routers", OWNER, {"router": {
        "name": "r", "external_gateway_info": {"network_id": ext["id"]}}})["router"]
    ok(api, "PUT", f"/v2.0/routers/{o['router']['id']}/add_router_interface", OWNER, {"subnet_id": o["subnet"]["id"]})
    o["port"] = ok(api, "POST", "/v2.0/ports", OWNER, {"port": {"network_id": o["network"]["id"]}})["port"]
    o["security_group"] = ok(api, "POST", "/v2.0/security-groups", OWNER,
                             {"security_group": {"name": "web"}})["security_group"]
    o["security_group_rule"] = ok(api, "POST", "/v2.0/security-group-rules", OWNER, {"security_group_rule": {
        "security_group_id": o["security_group"]["id"], "direction": "ingress", "protocol": "tcp",
        "port_range_min": 80, "port_range_max": 80}})["security_group_rule"]
    o["floatingip"] = ok(api, "POST", "/v2.0/floatingips", OWNER, {"floatingip": {
        "floating_network_id": ext["id"]}})["floatingip"]
    o["port_forwarding"] = ok(api, "POST", f"/v2.0/floatingips/{o['floatingip']['id']}/port_forwardings", OWNER,
                              {"port_forwarding": {"protocol": "tcp", "external_port": 2222, "internal_port": 22,
                                                   "internal_port_id": o["port"]["id"],
                                                   "internal_ip_address": o["port"]["fixed_ips"][0]["ip_address"]}}
                              )["port_forwarding"]
    o["network_acl"] = ok(api, "POST", "/v2.0/network-acls", OWNER, {"network_acl": {
        "network_id": o["network"]["id"], "action": "allow", "direction": "ingress"}})["network_acl"]
    o["chassis"] = ok(api, "POST", "/v2.0/chassis", body={"chassis": {"name": "hv1"}})["chassis"]
    o["l2_gateway"] = ok(api, "POST", "/v2.0/l2-gateways", body={"l2_gateway": {
        "name": "g", "devices": [{"device_name": "hv1", "interfaces": [{"name": "eth9"}]}]}})["l2_gateway"]
    o["l2_gateway_connection"] = ok(api, "POST", "/v2.0/l2-gateway-connections", body={"l2_gateway_connection": {
        "l2_gateway_id": o["l2_gateway"]["id"], "network_id": o["network"]["id"], "segmentation_id": 100}}
    )["l2_gateway_connection"]
    lbaas = "/v2.0/lbaas"
    o["loadbalancer"] = ok(api, "POST", f"{lbaas}/loadbalancers", OWNER, {"loadbalancer": {
        "vip_subnet_id": o["subnet"]["id"]}})["loadbalancer"]
    o["listener"] = ok(api, "POST", f"{lbaas}/listeners", OWNER, {"listener": {
        "loadbalancer_id": o["loadbalancer"]["id"], "protocol": "TCP", "protocol_port": 80}})["listener"]
    o["pool"] = ok(api, "POST", f"{lbaas}/pools", OWNER, {"pool": {
        "listener_id": o["listener"]["id"], "protocol": "TCP", "lb_algorithm": "ROUND_ROBIN"}})["pool"]
    o["member"] = ok(api, "POST", f"{lbaas}/pools/{o['pool']['id']}/members", OWNER, {"member": {
        "address": "10.0.0.50", "protocol_port": 80}})["member"]
    o["healthmonitor"] = ok(api, "POST", f"{lbaas}/healthmonitors", OWNER, {"healthmonitor": {
        "pool_id": o["pool"]["id"], "type": "TCP", "delay": 1, "timeout": 1, "max_retries": 1}})["healthmonitor"]
    bob = ok(api, "POST", "/v2.0/networks", OTHER, {"network": {"name": "b"}})["network"]
    o["bob_subnet"] = ok(api, "POST", "/v2.0/subnets", OTHER, {"subnet": {
        "network_id": bob["id"], "cidr": "10.9.0.0/24", "ip_version": 4}})["subnet"]
    o["bob_network"] = bob
    o["external"] = ext
    return o


def kind_of(path: str) -> str:
    """The kind a path's last collection holds."""
    collection = [seg for seg in path.split("/") if seg and not seg.startswith("{")][-1]
    collection = {"add_router_interface": "routers", "remove_router_interface": "routers"}.get(collection, collection)
    return next(k for k, cls in KINDS.items() if cls.COLLECTION.rsplit("/", 1)[-1] == collection)


def concrete(path: str, owned: dict) -> str:
    """The path template with the ids of Alice's (or the admin's) objects."""
    if path == "/ui/{name}":
        return "/ui/console.js"
    def value(m: re.Match) -> str:
        return owned[kind_of(path[:m.start()] or path)]["id"]
    return re.sub(r"\{(\w+)\}", value, path)


def operations() -> list[tuple[str, str]]:
    return [(path, method.upper()) for path, ops in document()["paths"].items() for method in ops
            if method in ("get", "post", "put", "delete")]


def body_for(path: str, method: str, owned: dict):
    if method not in ("POST", "PUT"):
        return None
    if path.endswith("_router_interface"):
        return {"subnet_id": owned["subnet"]["id"]}
    return {kind_of(path): {"name": "pwned"}}


def test_the_matrix_covers_every_path_and_method():
    ops = operations()
    assert len(ops) >= 60 and {m for _, m in ops} == {"GET", "POST", "PUT", "DELETE"}


@pytest.mark.parametrize("path, method", operations())
def test_nobody_without_a_token_and_no_other_project_gets_at_anothers_objects(api, owned, path, method):
    before = everything(api)
    real = concrete(path, owned)
    body = body_for(path, method, owned)
    nobody = call(api, method, real, None, body)[0]
    assert nobody == (200 if path in PUBLIC else 401), (method, real, nobody)
    status, answer = call(api, method, real, OTHER, body)
    collection = path.split("/")[2] if path.count("/") >= 2 else ""
    if path in PUBLIC or path == "/v2.0/extensions":
        assert status == 200
    elif collection in ADMIN_COLLECTIONS or path == "/metrics":
        assert status == 403, (method, real, status, answer)
    elif "{" in path:                # another project's item, sub-collection or action: as if absent
        assert status == 404, (method, real, status, answer)
    elif path == "/v2.0/counters":   # none of Alice's ports, and not hers by asking
        assert status == 200 and answer["counters"]["ports"] == [], answer
        assert call(api, method, real + "?project_id=pa", OTHER)[0] == 403
    elif path == "/v2.0/trace":      # another project's port cannot be traced: as if absent
        api.tracing = Tracer(api.model, FakeCore({}, {})).trace
        for port in (owned["port"]["id"], owned["network"]["id"]):
            query = f"?port_id={port}&flow=tcp,nw_dst=10.0.0.9"
            assert call(api, method, real + query, OTHER)[0] == 404
        assert call(api, method, real + f"?port_id={owned['port']['id']}&flow=tcp,nw_dst=10.0.0.9", OWNER)[0] == 409
    elif method == "GET":            # a list: none of Alice's objects in it
        mine = {o["id"] for o in answer[next(iter(answer))]}
        assert not mine & {o["id"] for k, o in owned.items() if k not in ("external", "bob_network", "bob_subnet")}, \
            (real, mine)
    after = everything(api)
    if method == "POST" and "{" not in path and status == 201:     # Bob made something of his own: fine
        made = answer[kind_of(path)]
        assert made["project_id"] == "pb"
        after = {k: [o for o in v if o["id"] != made["id"]] for k, v in after.items()}
    if status == 201 or method in ("GET", "POST") and "{" not in path:
        after = {k: [o for o in v if o.get("project_id") != "pb"] for k, v in after.items()}
        before = {k: [o for o in v if o.get("project_id") != "pb"] for k, v in before.items()}
    assert after == before, (method, real)


@pytest.mark.parametrize("actor", [OWNER, ADMIN])
@pytest.mark.parametrize("path, method", operations())
def test_the_owner_and_an_admin_may_act_and_an_admin_only_collection_is_the_admins(api, owned, path, method, actor):
    real = concrete(path, owned)
    if path == "/v2.0/trace":       # the port is the owner's, bound nowhere: 409, not as if absent
        api.tracing = Tracer(api.model, FakeCore({}, {})).trace
        real += f"?port_id={owned['port']['id']}&flow=tcp,nw_dst=10.0.0.9"
    status, answer = call(api, method, real, actor, body_for(path, method, owned))
    if path == "/v2.0/trace":
        assert (status, answer["NeutronError"]["type"]) == (409, "PortNotBound")
    elif actor == OWNER and (path == "/metrics" or path.count("/") >= 2 and path.split("/")[2] in ADMIN_COLLECTIONS):
        assert status == 403, (method, real, answer)
    else:       # allowed: it happens, or the request itself is refused (bad body, in use), never 401/403/404
        assert status not in (401, 403, 404) and status < 500, (method, real, actor, status, answer)
        if method == "GET":
            assert status == 200


# Every reference a POST or PUT body can make, as (method, path, body with REF where the id goes).
def references(o: dict) -> list[tuple[str, str, dict, str]]:
    """(name, method, path, body) with REF standing for the id referred to, and the kind of what it names."""
    bob_net = o["bob_network"]["id"]
    return [
        ("port.network_id", "POST", "/v2.0/ports", {"port": {"network_id": "REF"}}, "network"),
        ("port.fixed_ips.subnet_id", "POST", "/v2.0/ports",
         {"port": {"network_id": bob_net, "fixed_ips": [{"subnet_id": "REF"}]}}, "subnet"),
        ("port.security_groups", "POST", "/v2.0/ports", {"port": {"network_id": bob_net, "security_groups": ["REF"]}},
         "security_group"),
        ("subnet.network_id", "POST", "/v2.0/subnets",
         {"subnet": {"network_id": "REF", "cidr": "10.7.0.0/24", "ip_version": 4}}, "network"),
        ("router.external_gateway_info.network_id", "POST", "/v2.0/routers",
         {"router": {"external_gateway_info": {"network_id": "REF"}}}, "network"),
        ("floatingip.port_id", "POST", "/v2.0/floatingips",
         {"floatingip": {"floating_network_id": o["external"]["id"], "port_id": "REF"}}, "port"),
        ("security_group_rule.security_group_id", "POST", "/v2.0/security-group-rules",
         {"security_group_rule": {"security_group_id": "REF", "direction": "ingress"}}, "security_group"),
        ("security_group_rule.remote_group_id", "POST", "/v2.0/security-group-rules",
         {"security_group_rule": {"security_group_id": "BOBS_GROUP", "direction": "ingress",
                                  "remote_group_id": "REF"}}, "security_group"),
        ("network_acl.network_id", "POST", "/v2.0/network-acls",
         {"network_acl": {"network_id": "REF", "action": "deny", "direction": "ingress"}}, "network"),
        ("add_router_interface.subnet_id", "PUT", "/v2.0/routers/BOBS_ROUTER/add_router_interface",
         {"subnet_id": "REF"}, "subnet"),
        ("add_router_interface.port_id", "PUT", "/v2.0/routers/BOBS_ROUTER/add_router_interface",
         {"port_id": "REF"}, "port"),
        ("loadbalancer.vip_subnet_id", "POST", "/v2.0/lbaas/loadbalancers",
         {"loadbalancer": {"vip_subnet_id": "REF"}}, "subnet"),
        ("loadbalancer.vip_network_id", "POST", "/v2.0/lbaas/loadbalancers",
         {"loadbalancer": {"vip_network_id": "REF"}}, "network"),
        ("listener.loadbalancer_id", "POST", "/v2.0/lbaas/listeners",
         {"listener": {"loadbalancer_id": "REF", "protocol": "TCP", "protocol_port": 81}}, "loadbalancer"),
        ("pool.listener_id", "POST", "/v2.0/lbaas/pools",
         {"pool": {"listener_id": "REF", "protocol": "TCP", "lb_algorithm": "ROUND_ROBIN"}}, "listener"),
        ("pool.loadbalancer_id", "POST", "/v2.0/lbaas/pools",
         {"pool": {"loadbalancer_id": "REF", "protocol": "TCP", "lb_algorithm": "ROUND_ROBIN"}}, "loadbalancer"),
        ("member.subnet_id", "POST", "/v2.0/lbaas/pools/BOBS_POOL/members",
         {"member": {"address": "10.0.0.50", "protocol_port": 80, "subnet_id": "REF"}}, "subnet"),
        ("healthmonitor.pool_id", "POST", "/v2.0/lbaas/healthmonitors",
         {"healthmonitor": {"pool_id": "REF", "type": "TCP", "delay": 1, "timeout": 1, "max_retries": 1}}, "pool"),
        ("listener.default_pool_id", "PUT", "/v2.0/lbaas/listeners/BOBS_LISTENER",
         {"listener": {"default_pool_id": "REF"}}, "pool"),
        ("port_forwarding.internal_port_id", "POST", "/v2.0/floatingips/BOBS_FIP/port_forwardings",
         {"port_forwarding": {"protocol": "tcp", "external_port": 80, "internal_port": 80, "internal_port_id": "REF",
                              "internal_ip_address": o["port"]["fixed_ips"][0]["ip_address"]}}, "port"),
    ]


def fill(value, ids: dict):
    if isinstance(value, dict):
        return {k: fill(v, ids) for k, v in value.items()}
    if isinstance(value, list):
        return [fill(v, ids) for v in value]
    return ids.get(value, value) if isinstance(value, str) else value


def test_references_to_another_projects_objects_answer_exactly_as_references_to_nothing(api, owned):
    bob = {
        "BOBS_GROUP": ok(api, "POST", "/v2.0/security-groups", OTHER, {"security_group": {"name": "b"}})[
            "security_group"]["id"],
        "BOBS_ROUTER": ok(api, "POST", "/v2.0/routers", OTHER, {"router": {"name": "b"}})["router"]["id"],
        "BOBS_FIP": ok(api, "POST", "/v2.0/floatingips", OTHER, {"floatingip": {
            "floating_network_id": owned["external"]["id"]}})["floatingip"]["id"],
    }
    lb = ok(api, "POST", "/v2.0/lbaas/loadbalancers", OTHER, {"loadbalancer": {
        "vip_subnet_id": owned["bob_subnet"]["id"]}})["loadbalancer"]["id"]
    bob["BOBS_LISTENER"] = ok(api, "POST", "/v2.0/lbaas/listeners", OTHER, {"listener": {
        "loadbalancer_id": lb, "protocol": "TCP", "protocol_port": 80}})["listener"]["id"]
    bob["BOBS_POOL"] = ok(api, "POST", "/v2.0/lbaas/pools", OTHER, {"pool": {
        "loadbalancer_id": lb, "protocol": "TCP", "lb_algorithm": "ROUND_ROBIN"}})["pool"]["id"]
    results = {}
    for name, method, path, body, kind in references(owned):
        before = everything(api)
        theirs = call(api, method, fill(path, bob), OTHER, fill(body, {**bob, "REF": owned[kind]["id"]}))
        nothing = call(api, method, fill(path, bob), OTHER, fill(body, {**bob, "REF": str(uuid.uuid4())}))
        results[name] = (theirs[0], nothing[0])
        assert 400 <= theirs[0] < 500 and (theirs[0], theirs[1]["NeutronError"]["type"]) == \
            (nothing[0], nothing[1]["NeutronError"]["type"]), (name, theirs, nothing)
        assert everything(api) == before, name
    assert len(results) == len(references(owned))
