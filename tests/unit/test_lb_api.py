"""Load balancers in Octavia's v2 shapes under /v2.0/lbaas/: lifecycle, validation and project scoping."""
from __future__ import annotations

import pytest

from tests.unit.restkit import call, everything, ok, token_api

LB = "/v2.0/lbaas"


@pytest.fixture
def api(tmp_path):
    return token_api(tmp_path)


@pytest.fixture
def cloud(api):
    """alice (pa): a router joining 10.0.0.0/24 (the VIP's) and 10.0.1.0/24, and 10.0.9.0/24 on no router;
    bob (pb): 10.0.0.0/24 too."""
    out = {}
    for token, name in (("alice", "a"), ("bob", "b")):
        for i in (0, 1, 9):
            net = ok(api, "POST", "/v2.0/networks", token, {"network": {"name": f"{name}{i}"}})["network"]
            out[f"{name}{i}"] = ok(api, "POST", "/v2.0/subnets", token, {"subnet": {
                "network_id": net["id"], "cidr": f"10.0.{i}.0/24", "ip_version": 4}})["subnet"]
        router = ok(api, "POST", "/v2.0/routers", token, {"router": {"name": name}})["router"]
        for i in (0, 1):
            ok(api, "PUT", f"/v2.0/routers/{router['id']}/add_router_interface", token,
               {"subnet_id": out[f"{name}{i}"]["id"]})
    return out


def balancer(api, cloud, token="alice"):
    """A load balancer on the caller's 10.0.0.0/24 with a TCP listener on 80 and its round-robin pool."""
    subnet = cloud["a0" if token == "alice" else "b0"]
    lb = ok(api, "POST", f"{LB}/loadbalancers", token, {"loadbalancer": {"vip_subnet_id": subnet["id"]}})
    lb = lb["loadbalancer"]
    li = ok(api, "POST", f"{LB}/listeners", token, {"listener": {
        "loadbalancer_id": lb["id"], "protocol": "TCP", "protocol_port": 80}})["listener"]
    pool = ok(api, "POST", f"{LB}/pools", token, {"pool": {
        "listener_id": li["id"], "protocol": "TCP", "lb_algorithm": "ROUND_ROBIN"}})["pool"]
    return lb, li, pool


def test_a_load_balancer_owns_its_vip_port_and_shows_its_tree(api, cloud):
    lb, li, pool = balancer(api, cloud)
    assert lb["vip_network_id"] == cloud["a0"]["network_id"] and lb["vip_address"].startswith("10.0.0.")
    vip = ok(api, "GET", f"/v2.0/ports/{lb['vip_port_id']}", "alice")["port"]
    assert vip["fixed_ips"][0]["ip_address"] == lb["vip_address"] and vip["device_id"] == lb["id"]
    assert call(api, "DELETE", f"/v2.0/ports/{vip['id']}", "alice")[0] == 409      # only with its LB
    member = ok(api, "POST", f"{LB}/pools/{pool['id']}/members", "alice", {"member": {
        "address": "10.0.1.5", "protocol_port": 8080, "weight": 2}})["member"]
    assert (member["subnet_id"], member["weight"], member["pool_id"]) == (cloud["a1"]["id"], 2, pool["id"])
    monitor = ok(api, "POST", f"{LB}/healthmonitors", "alice", {"healthmonitor": {
        "pool_id": pool["id"], "type": "HTTP", "delay": 2, "timeout": 1, "max_retries": 2}})["healthmonitor"]
    shown = ok(api, "GET", f"{LB}/loadbalancers/{lb['id']}", "alice")["loadbalancer"]
    assert shown["listeners"] == [{"id": li["id"]}] and shown["pools"] == [{"id": pool["id"]}]
    assert ok(api, "GET", f"{LB}/listeners/{li['id']}", "alice")["listener"]["default_pool_id"] == pool["id"]
    pool = ok(api, "GET", f"{LB}/pools/{pool['id']}", "alice")["pool"]
    assert pool["members"] == [{"id": member["id"]}] and pool["healthmonitor_id"] == monitor["id"]
    assert ok(api, "GET", f"{LB}/pools/{pool['id']}/members", "alice")["members"][0]["address"] == "10.0.1.5"
    assert call(api, "DELETE", f"{LB}/loadbalancers/{lb['id']}", "alice")[0] == 409   # children, no cascade
    assert call(api, "DELETE", f"{LB}/loadbalancers/{lb['id']}?cascade=true", "alice")[0] == 204
    left = everything(api)
    assert not any(left[k] for k in ("loadbalancer", "listener", "pool", "healthmonitor"))
    assert lb["vip_port_id"] not in {p["id"] for p in left["port"]}


def test_deleting_a_pool_takes_its_members_and_monitor_and_frees_its_listener(api, cloud):
    lb, li, pool = balancer(api, cloud)
    ok(api, "POST", f"{LB}/pools/{pool['id']}/members", "alice", {"member": {"address": "10.0.0.7",
                                                                             "protocol_port": 80}})
    ok(api, "POST", f"{LB}/healthmonitors", "alice", {"healthmonitor": {
        "pool_id": pool["id"], "type": "TCP", "delay": 1, "timeout": 1, "max_retries": 1}})
    assert call(api, "DELETE", f"{LB}/pools/{pool['id']}", "alice")[0] == 204
    assert ok(api, "GET", f"{LB}/listeners/{li['id']}", "alice")["listener"]["default_pool_id"] is None
    left = everything(api)
    assert not left["healthmonitor"] and not left["pool"]


def _bad_requests(cloud, lb, li, pool):
    members = f"{LB}/pools/{pool['id']}/members"
    return [
        # member addresses: outside every subnet the LB reaches, on a subnet of no router of its, bad ports
        ("POST", members, {"member": {"address": "192.168.7.1", "protocol_port": 80}}, 400),
        ("POST", members, {"member": {"address": "10.0.9.4", "protocol_port": 80}}, 400),
        ("POST", members, {"member": {"address": "10.0.0.4", "protocol_port": 0}}, 400),
        ("POST", members, {"member": {"address": "10.0.0.4", "protocol_port": 70000}}, 400),
        ("POST", members, {"member": {"address": "10.0.0.4", "protocol_port": 80, "weight": 257}}, 400),
        ("POST", members, {"member": {"address": "10.0.0.4", "protocol_port": 80,
                                      "subnet_id": cloud["b0"]["id"]}}, 404),        # bob's subnet
        ("POST", f"{LB}/pools/00000000-0000-0000-0000-000000000000/members",
         {"member": {"address": "10.0.0.4", "protocol_port": 80}}, 404),            # unknown pool
        # listeners: a second one on the same protocol and port, bad protocols and ports
        ("POST", f"{LB}/listeners", {"listener": {"loadbalancer_id": lb["id"], "protocol": "TCP",
                                                  "protocol_port": 80}}, 409),
        ("POST", f"{LB}/listeners", {"listener": {"loadbalancer_id": lb["id"], "protocol": "HTTP",
                                                  "protocol_port": 81}}, 400),
        ("POST", f"{LB}/listeners", {"listener": {"loadbalancer_id": lb["id"], "protocol": "TCP",
                                                  "protocol_port": 65536}}, 400),
        # pools: a listener's second default pool, an unsupported algorithm, a protocol mismatch
        ("POST", f"{LB}/pools", {"pool": {"listener_id": li["id"], "protocol": "TCP",
                                          "lb_algorithm": "ROUND_ROBIN"}}, 409),
        ("POST", f"{LB}/pools", {"pool": {"loadbalancer_id": lb["id"], "protocol": "TCP",
                                          "lb_algorithm": "LEAST_CONNECTIONS"}}, 400),
        ("POST", f"{LB}/pools", {"pool": {"loadbalancer_id": lb["id"], "protocol": "TCP"}}, 400),
        # monitors: timeout over delay, retries out of range, an unknown pool
        ("POST", f"{LB}/healthmonitors", {"healthmonitor": {"pool_id": pool["id"], "type": "TCP", "delay": 1,
                                                            "timeout": 2, "max_retries": 1}}, 400),
        ("POST", f"{LB}/healthmonitors", {"healthmonitor": {"pool_id": pool["id"], "type": "TCP", "delay": 1,
                                                            "timeout": 1, "max_retries": 11}}, 400),
        ("POST", f"{LB}/healthmonitors", {"healthmonitor": {"pool_id": pool["id"], "type": "HTTP", "delay": 1,
                                                            "timeout": 1, "max_retries": 1,
                                                            "expected_codes": "2xx"}}, 400),
        # load balancers: no VIP subnet, another project's subnet, an address outside the subnet
        ("POST", f"{LB}/loadbalancers", {"loadbalancer": {}}, 400),
        ("POST", f"{LB}/loadbalancers", {"loadbalancer": {"vip_subnet_id": cloud["b0"]["id"]}}, 404),
        ("POST", f"{LB}/loadbalancers", {"loadbalancer": {"vip_subnet_id": cloud["a0"]["id"],
                                                          "vip_address": "10.0.1.9"}}, 409),
        ("POST", f"{LB}/loadbalancers", {"loadbalancer": {"vip_subnet_id": cloud["a0"]["id"],
                                                          "flavor": "big"}}, 400),
    ]


def test_bad_input_gets_a_4xx_and_stores_nothing(api, cloud):
    lb, li, pool = balancer(api, cloud)
    before = everything(api)
    for method, path, body, status in _bad_requests(cloud, lb, li, pool):
        got, answer = call(api, method, path, "alice", body)
        assert got == status and "NeutronError" in answer, (path, body, got, answer)
        assert everything(api) == before, (path, body)


def test_another_project_neither_sees_nor_uses_a_load_balancer(api, cloud):
    lb, li, pool = balancer(api, cloud)
    for path in (f"{LB}/loadbalancers", f"{LB}/listeners", f"{LB}/pools"):
        assert ok(api, "GET", path, "bob")[path.rsplit("/", 1)[1]] == []
    assert call(api, "GET", f"{LB}/loadbalancers/{lb['id']}", "bob")[0] == 404
    assert call(api, "POST", f"{LB}/pools/{pool['id']}/members", "bob", {"member": {
        "address": "10.0.0.4", "protocol_port": 80}})[0] == 404
    assert call(api, "POST", f"{LB}/listeners", "bob", {"listener": {
        "loadbalancer_id": lb["id"], "protocol": "TCP", "protocol_port": 81}})[0] == 404
    same = balancer(api, cloud, "bob")[0]          # the same VIP subnet range, apart
    assert same["vip_address"] == lb["vip_address"]


def test_the_status_tree_shows_the_load_balancer_its_listeners_pools_monitor_and_members(api, cloud):
    lb, li, pool = balancer(api, cloud)
    member = ok(api, "POST", f"{LB}/pools/{pool['id']}/members", "alice",
                {"member": {"address": "10.0.0.4", "protocol_port": 80, "admin_state_up": False}})["member"]
    monitor = ok(api, "POST", f"{LB}/healthmonitors", "alice", {"healthmonitor": {
        "pool_id": pool["id"], "type": "PING", "delay": 2, "timeout": 1, "max_retries": 1}})["healthmonitor"]
    tree = ok(api, "GET", f"{LB}/loadbalancers/{lb['id']}/status", "alice")["statuses"]["loadbalancer"]
    assert tree["id"] == lb["id"] and [x["id"] for x in tree["listeners"]] == [li["id"]]
    (shown_pool,) = tree["listeners"][0]["pools"]
    assert shown_pool["id"] == pool["id"] and shown_pool["health_monitor"]["id"] == monitor["id"]
    assert shown_pool["health_monitor"]["type"] == "PING"
    assert [(m["id"], m["address"], m["operating_status"]) for m in shown_pool["members"]] == \
        [(member["id"], "10.0.0.4", member["operating_status"])]
    assert call(api, "GET", f"{LB}/loadbalancers/{lb['id']}/status", "bob")[0] == 404


def test_vip_sg_ids_give_the_vip_port_groups_of_the_caller_s_project_only(api, cloud):
    mine, theirs = (ok(api, "POST", "/v2.0/security-groups", token, {"security_group": {"name": "vip"}})
                    ["security_group"] for token in ("alice", "bob"))
    create = f"{LB}/loadbalancers"
    before = everything(api)
    for ids, status in (([theirs["id"]], 404), ([mine["id"], theirs["id"]], 404), ("all", 400), (["vip"], 400)):
        got, answer = call(api, "POST", create, "alice", {"loadbalancer": {"vip_subnet_id": cloud["a0"]["id"],
                                                                           "vip_sg_ids": ids}})
        assert got == status and "NeutronError" in answer, (ids, got, answer)
        assert everything(api) == before, ids
    lb = ok(api, "POST", create, "alice", {"loadbalancer": {"vip_subnet_id": cloud["a0"]["id"],
                                                            "vip_sg_ids": [mine["id"]]}})["loadbalancer"]
    assert lb["vip_sg_ids"] == [mine["id"]]
    assert ok(api, "GET", f"/v2.0/ports/{lb['vip_port_id']}", "alice")["port"]["security_groups"] == [mine["id"]]
    assert call(api, "DELETE", f"/v2.0/security-groups/{mine['id']}", "alice")[0] == 409     # the VIP uses it
    assert call(api, "PUT", f"{create}/{lb['id']}", "alice", {"loadbalancer": {"vip_sg_ids": []}})[0] == 400
