"""Hostile and careless requests: ports of routers and floating IPs exist only through their operations,
members cannot use admin-only attributes or see hidden ones, admins cannot break invariants, and odd input
gets a 4xx NeutronError with the store unchanged."""
from __future__ import annotations

import pytest

from nvapps.model.service import KINDS
from tests.unit.restkit import call as request
from tests.unit.restkit import everything, ok, token_api


@pytest.fixture
def api(tmp_path):
    return token_api(tmp_path)


def call(api, method, path, token="adm", body=None, raw=None):
    """A request, as the admin unless `token` says otherwise."""
    return request(api, method, path, token, body, raw)


@pytest.fixture
def cloud(api):
    """Alice's network, subnet 10.0.0.0/24 and router on it; an external network; Bob's own network."""
    net = ok(api, "POST", "/v2.0/networks", "alice", {"network": {"name": "a"}})["network"]
    sub = ok(api, "POST", "/v2.0/subnets", "alice", {"subnet": {"network_id": net["id"], "cidr": "10.0.0.0/24",
                                                                "ip_version": 4}})["subnet"]
    router = ok(api, "POST", "/v2.0/routers", "alice", {"router": {"name": "r"}})["router"]
    info = ok(api, "PUT", f"/v2.0/routers/{router['id']}/add_router_interface", "alice", {"subnet_id": sub["id"]})
    ext = ok(api, "POST", "/v2.0/networks", body={"network": {"name": "ext", "router:external": True}})["network"]
    ok(api, "POST", "/v2.0/subnets", body={"subnet": {"network_id": ext["id"], "cidr": "172.24.4.0/24",
                                                     "ip_version": 4}})
    bob_net = ok(api, "POST", "/v2.0/networks", "bob", {"network": {"name": "b"}})["network"]
    ok(api, "POST", "/v2.0/subnets", "bob", {"subnet": {"network_id": bob_net["id"], "cidr": "10.9.0.0/24",
                                                        "ip_version": 4}})
    return {"net": net, "sub": sub, "router": router, "interface": info["port_id"], "ext": ext, "bob_net": bob_net}


@pytest.mark.parametrize("owner", ["network:router_interface", "network:router_gateway", "network:floatingip",
                                   "network:l2_gateway"])
@pytest.mark.parametrize("token", ["bob", "adm"])
def test_nobody_forges_a_service_port_by_post_or_put(api, cloud, owner, token):
    port = ok(api, "POST", "/v2.0/ports", "bob", {"port": {"network_id": cloud["bob_net"]["id"]}})["port"]
    before = everything(api)
    body = {"network_id": cloud["bob_net"]["id"], "device_owner": owner, "device_id": cloud["router"]["id"]}
    if token == "adm":
        body["project_id"] = "pb"
    status, answer = call(api, "POST", "/v2.0/ports", token, {"port": body})
    assert status == 400 and "NeutronError" in answer
    status, _ = call(api, "PUT", f"/v2.0/ports/{port['id']}", token,
                     {"port": {"device_owner": owner, "device_id": cloud["router"]["id"]}})
    assert status == 409
    assert everything(api) == before
    assert call(api, "DELETE", f"/v2.0/ports/{port['id']}", "bob")[0] == 204


def test_a_router_interface_changes_only_with_its_router(api, cloud):
    path = f"/v2.0/ports/{cloud['interface']}"
    for change in ({"device_owner": ""}, {"device_id": "x"}, {"fixed_ips": [{"ip_address": "10.0.0.5"}]},
                   {"mac_address": "fa:16:3e:00:00:01"}, {"admin_state_up": False}):
        for token in ("alice", "adm"):
            status, answer = call(api, "PUT", path, token, {"port": change})
            assert status == 409 and answer["NeutronError"]["type"] == "PortInUse", (change, token, answer)
    assert ok(api, "PUT", path, "alice", {"port": {"name": "uplink"}})["port"]["name"] == "uplink"
    assert call(api, "DELETE", path, "alice")[0] == 409
    ok(api, "PUT", f"/v2.0/routers/{cloud['router']['id']}/remove_router_interface", "alice",
       {"subnet_id": cloud["sub"]["id"]})
    assert call(api, "GET", path, "alice")[0] == 404


def test_only_admins_give_or_take_other_network_owners(api, cloud):
    body = {"port": {"network_id": cloud["net"]["id"], "device_owner": "network:dhcp"}}
    assert call(api, "POST", "/v2.0/ports", "alice", body)[0] == 403
    port = ok(api, "POST", "/v2.0/ports", body={**body, "port": {**body["port"], "project_id": "pa"}})["port"]
    assert call(api, "PUT", f"/v2.0/ports/{port['id']}", "alice", {"port": {"device_owner": ""}})[0] == 403
    assert call(api, "PUT", f"/v2.0/ports/{port['id']}", "alice", {"port": {"device_owner": "compute:nova"}})[0] == 403
    assert ok(api, "PUT", f"/v2.0/ports/{port['id']}", "alice", {"port": {"name": "d"}})["port"]["device_owner"] == \
        "network:dhcp"


def test_ids_are_never_chosen_by_the_client(api, cloud):
    theirs = cloud["bob_net"]["id"]
    status, answer = call(api, "POST", "/v2.0/networks", "alice", {"network": {"id": theirs}})
    assert status == 400 and "already exists" not in answer["NeutronError"]["message"]
    assert call(api, "POST", "/v2.0/networks", body={"network": {"id": "5e1d1b6c-1a4b-4d5e-9f00-000000000001"}})[0] == 400


def test_members_neither_choose_gateway_addresses_nor_turn_snat_off(api, cloud):
    path, ext = f"/v2.0/routers/{cloud['router']['id']}", cloud["ext"]["id"]
    for gw in ({"network_id": ext, "enable_snat": False},
               {"network_id": ext, "external_fixed_ips": [{"ip_address": "172.24.4.50"}]}):
        status, answer = call(api, "PUT", path, "alice", {"router": {"external_gateway_info": gw}})
        assert status == 403, answer
    router = ok(api, "PUT", path, "alice", {"router": {"external_gateway_info": {"network_id": ext}}})["router"]
    gw = router["external_gateway_info"]
    assert gw["enable_snat"] is True
    assert ok(api, "PUT", path, "alice", {"router": {"external_gateway_info": gw}})     # repeating it is fine
    assert ok(api, "PUT", path, body={"router": {"external_gateway_info": {**gw, "enable_snat": False}}})


def test_members_do_not_see_binding_or_provider_attributes(api, cloud):
    port = ok(api, "POST", "/v2.0/ports", body={"port": {"network_id": cloud["net"]["id"], "project_id": "pa",
                                                         "binding:host_id": "hv1"}})["port"]
    assert port["binding:host_id"] == "hv1"
    for shown in (ok(api, "GET", f"/v2.0/ports/{port['id']}", "alice")["port"],
                  ok(api, "GET", f"/v2.0/networks/{cloud['net']['id']}", "alice")["network"],
                  *ok(api, "GET", "/v2.0/ports", "alice")["ports"]):
        assert not [k for k in shown if k.startswith(("binding:", "provider:"))], shown
    assert "provider:segmentation_id" in ok(api, "GET", f"/v2.0/networks/{cloud['net']['id']}")["network"]


def test_network_in_use_names_no_ports(api, cloud):
    ok(api, "POST", "/v2.0/ports", "alice", {"port": {"network_id": cloud["net"]["id"]}})
    status, answer = call(api, "DELETE", f"/v2.0/networks/{cloud['net']['id']}")
    assert status == 409 and cloud["interface"] not in answer["NeutronError"]["message"]


def test_admins_cannot_unmake_an_external_network_in_use_nor_unshare_a_used_network(api, cloud):
    ext = cloud["ext"]["id"]
    ok(api, "PUT", f"/v2.0/routers/{cloud['router']['id']}", "alice",
       {"router": {"external_gateway_info": {"network_id": ext}}})
    status, answer = call(api, "PUT", f"/v2.0/networks/{ext}", body={"network": {"router:external": False}})
    assert status == 409 and answer["NeutronError"]["type"] == "ExternalNetworkInUse"
    shared = ok(api, "POST", "/v2.0/networks", body={"network": {"name": "s", "shared": True}})["network"]
    ok(api, "POST", "/v2.0/subnets", body={"subnet": {"network_id": shared["id"], "cidr": "10.5.0.0/24",
                                                     "ip_version": 4}})
    ok(api, "POST", "/v2.0/ports", "bob", {"port": {"network_id": shared["id"]}})
    status, answer = call(api, "PUT", f"/v2.0/networks/{shared['id']}", body={"network": {"shared": False}})
    assert status == 409 and answer["NeutronError"]["type"] == "InvalidSharedSetting"


DEEP: list = []
for _ in range(40):
    DEEP = [DEEP]
NESTED = b'{"network": {"name": "x", "description": ' + b"[" * 5000 + b"]" * 5000 + b"}}"


@pytest.mark.parametrize("method, path, raw", [
    ("POST", "/v2.0/networks", NESTED),
    ("POST", "/v2.0/networks", b'{"network": {"name": ' + b"[" * 40 + b"]" * 40 + b"}}"),
    ("GET", "/v2.0/networks?limit=%C2%B2", None),
    ("GET", "/v2.0/networks?name=%ff", None),
])
def test_odd_requests_get_a_4xx_neutron_error(api, method, path, raw):
    status, answer = call(api, method, path, raw=raw)
    assert 400 <= status < 500 and "NeutronError" in answer, (status, answer)


@pytest.mark.parametrize("kind, body", [
    ("subnet", {"cidr": "10.1.0.0/ 24", "ip_version": 4}),
    ("subnet", {"cidr": "10.1.0.0/24\n", "ip_version": 4}),
    ("subnet", {"cidr": "10.1.0.0/24", "ip_version": "4"}),
    ("subnet", {"cidr": "10.1.0.0/24", "ip_version": 4, "allocation_pools": [{"start": "::10", "end": "::20"}]}),
    ("subnet", {"cidr": "10.1.0.0/24", "ip_version": 4,
                "allocation_pools": [{"start": "10.1.0.10", "end": "::20"}]}),
    ("subnet", {"cidr": "10.1.0.0/24", "ip_version": 4, "gateway_ip": " 10.1.0.1"}),
    ("port", {"mac_address": "fa:16:3e:00:00:01 "}),
    ("port", {"binding:profile": {"x": DEEP}}),
    ("security_group_rule", {"direction": "ingress", "protocol": "\u00b2"}),
    ("security_group_rule", {"direction": "ingress", "protocol": "\u0663"}),
])
def test_lax_values_are_refused_and_store_nothing(api, cloud, kind, body):
    if kind in ("subnet", "port"):
        body = {**body, "network_id": cloud["net"]["id"]} if kind == "port" else \
            {**body, "network_id": ok(api, "POST", "/v2.0/networks", body={"network": {}})["network"]["id"]}
    else:
        group = ok(api, "POST", "/v2.0/security-groups", body={"security_group": {"name": "g"}})["security_group"]
        body = {**body, "security_group_id": group["id"]}
    before = everything(api)
    status, answer = call(api, "POST", f"/v2.0/{KINDS[kind].COLLECTION}", body={kind: body})
    assert status == 400 and "NeutronError" in answer, answer
    assert everything(api) == before


def test_integral_numbers_are_stored_as_integers(api):
    net = ok(api, "POST", "/v2.0/networks", body={"network": {}})["network"]
    sub = ok(api, "POST", "/v2.0/subnets", body={"subnet": {"network_id": net["id"], "cidr": "10.1.0.0/24",
                                                           "ip_version": 4.0}})["subnet"]
    assert sub["ip_version"] == 4 and isinstance(sub["ip_version"], int)
    assert call(api, "POST", "/v2.0/subnets", body={"subnet": {"network_id": net["id"], "cidr": "10.2.0.0/24",
                                                              "ip_version": 4.5}})[0] == 400


def test_protocol_numbers_are_one_rule_however_written(api):
    group = ok(api, "POST", "/v2.0/security-groups", body={"security_group": {"name": "g"}})["security_group"]
    rule = {"security_group_id": group["id"], "direction": "ingress"}
    assert ok(api, "POST", "/v2.0/security-group-rules",
              body={"security_group_rule": {**rule, "protocol": "003"}})["security_group_rule"]["protocol"] == "3"
    for same in (3, "3"):
        assert call(api, "POST", "/v2.0/security-group-rules",
                    body={"security_group_rule": {**rule, "protocol": same}})[0] == 409


def test_the_networks_owner_may_give_a_port_the_gateway_ip_while_no_router_holds_it(api):
    net = ok(api, "POST", "/v2.0/networks", body={"network": {"name": "s", "shared": True, "project_id": "pa"}})
    net = net["network"]
    sub = ok(api, "POST", "/v2.0/subnets", "alice", {"subnet": {"network_id": net["id"], "cidr": "10.6.0.0/24",
                                                                "ip_version": 4}})["subnet"]
    gateway = [{"ip_address": "10.6.0.1"}]
    status, answer = call(api, "POST", "/v2.0/ports", "bob", {"port": {"network_id": net["id"], "fixed_ips": gateway}})
    assert status == 409, answer                 # another project on the shared network may not take it
    port = ok(api, "POST", "/v2.0/ports", "alice", {"port": {"network_id": net["id"], "fixed_ips": gateway}})["port"]
    router = ok(api, "POST", "/v2.0/routers", "alice", {"router": {}})["router"]
    status, _ = call(api, "PUT", f"/v2.0/routers/{router['id']}/add_router_interface", "alice", {"subnet_id": sub["id"]})
    assert status == 409
    ok(api, "PUT", f"/v2.0/routers/{router['id']}/add_router_interface", "alice", {"port_id": port["id"]})


@pytest.mark.parametrize("cidr, dhcp", [("0.0.0.0/0", False), ("::/0", False), ("224.0.0.0/24", True),
                                        ("127.0.0.0/24", True)])
def test_subnets_of_everything_and_multicast_or_loopback_with_dhcp_are_refused(api, cidr, dhcp):
    net = ok(api, "POST", "/v2.0/networks", body={"network": {}})["network"]
    status, answer = call(api, "POST", "/v2.0/subnets", body={"subnet": {
        "network_id": net["id"], "cidr": cidr, "ip_version": 6 if ":" in cidr else 4, "enable_dhcp": dhcp}})
    assert status == 400, answer


def test_no_project_gets_a_second_default_group_by_renaming(api):
    ok(api, "GET", "/v2.0/security-groups", "alice")           # makes Alice's default group
    group = ok(api, "POST", "/v2.0/security-groups", "alice", {"security_group": {"name": "web"}})["security_group"]
    status, _ = call(api, "PUT", f"/v2.0/security-groups/{group['id']}", "alice",
                     {"security_group": {"name": "default"}})
    assert status == 409
    assert [g["name"] for g in ok(api, "GET", "/v2.0/security-groups", "alice")["security_groups"]].count("default") == 1


def test_paging_keeps_repeated_parameters_in_its_next_link(api):
    nets = [ok(api, "POST", "/v2.0/networks", body={"network": {"name": f"n{i}"}})["network"] for i in range(5)]
    ok(api, "POST", "/v2.0/networks", body={"network": {"name": "other"}})
    query = "&".join(f"name=n{i}" for i in range(5)) + "&fields=id&fields=name&limit=2"
    seen, path = [], f"/v2.0/networks?{query}"
    while path:
        page = ok(api, "GET", path)
        seen += page["networks"]
        links = page.get("networks_links", [])
        path = links[0]["href"].removeprefix("http://localhost") if links else None
    assert [n["id"] for n in seen] == [n["id"] for n in nets]
    assert all(set(n) == {"id", "name"} for n in seen)


def test_head_answers_as_get_and_other_methods_get_405_with_allow(api):
    status, _ = call(api, "HEAD", "/v2.0/networks")
    assert status == 200
    req_status, answer = call(api, "PATCH", "/v2.0/networks")
    assert req_status == 405 and answer["NeutronError"]["type"] == "HTTPMethodNotAllowed"
    assert call(api, "GET", "/v2.0/networks/../ports")[0] == 404


def test_every_project_reads_a_shared_network_s_subnets_and_changes_none_of_them(api, cloud):
    shared = ok(api, "POST", "/v2.0/networks", body={"network": {"name": "s", "shared": True}})["network"]
    sub = ok(api, "POST", "/v2.0/subnets", body={"subnet": {"network_id": shared["id"], "cidr": "10.5.0.0/24",
                                                           "ip_version": 4}})["subnet"]
    ext_sub = ok(api, "GET", f"/v2.0/subnets?network_id={cloud['ext']['id']}")["subnets"][0]
    for token in ("alice", "bob"):
        seen = {s["id"] for s in ok(api, "GET", "/v2.0/subnets", token)["subnets"]}
        assert sub["id"] in seen and ext_sub["id"] not in seen, token        # an external network's: admins'
        assert ok(api, "GET", f"/v2.0/subnets/{sub['id']}", token)["subnet"]["cidr"] == "10.5.0.0/24"
        assert "shared" not in ok(api, "GET", f"/v2.0/subnets/{sub['id']}", token)["subnet"]
        assert call(api, "PUT", f"/v2.0/subnets/{sub['id']}", token, {"subnet": {"name": "x"}})[0] == 403
        assert call(api, "DELETE", f"/v2.0/subnets/{sub['id']}", token)[0] == 403
        assert call(api, "GET", f"/v2.0/subnets/{ext_sub['id']}", token)[0] == 404
    ok(api, "PUT", f"/v2.0/networks/{shared['id']}", body={"network": {"shared": False}})    # nobody uses it
    assert call(api, "GET", f"/v2.0/subnets/{sub['id']}", "bob")[0] == 404
    ok(api, "PUT", f"/v2.0/networks/{cloud['ext']['id']}", body={"network": {"shared": True}})
    assert ok(api, "GET", f"/v2.0/subnets/{ext_sub['id']}", "bob")["subnet"]["id"] == ext_sub["id"]
    assert ok(api, "GET", f"/v2.0/subnets/{sub['id']}")["subnet"]["revision_number"] == 2     # made shared, unshared
