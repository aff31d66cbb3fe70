"""Tokens, roles and project scoping at the REST layer; paging, filters and the OpenAPI document."""
from __future__ import annotations

import pytest

from nvapps.model.service import KINDS, Model
from nvapps.rest.auth import TokenFile
from nvapps.rest.openapi import collection_path, document
from nvapps.rest.wsgi import RestAPI, build_mapper, json_key
from nvapps.store.sqlite import SQLiteStore
from tests.unit.restkit import call, token_api


@pytest.fixture
def api(tmp_path):
    return token_api(tmp_path)


def test_no_token_or_a_bad_one_is_401_but_discovery_is_open(api):
    assert call(api, "GET", "/v2.0/networks")[0] == 401
    status, body = call(api, "GET", "/v2.0/networks", token="forged")
    assert status == 401 and body["NeutronError"]["type"] == "HTTPUnauthorized"
    assert call(api, "GET", "/")[0] == 200
    assert call(api, "GET", "/openapi.json")[0] == 200


def test_members_see_only_their_projects_objects(api):
    status, body = call(api, "POST", "/v2.0/networks", "alice", {"network": {"name": "a"}})
    assert status == 201 and body["network"]["project_id"] == "pa"
    net = body["network"]
    assert call(api, "GET", "/v2.0/networks", "bob")[1] == {"networks": []}
    assert call(api, "GET", f"/v2.0/networks/{net['id']}", "bob")[0] == 404
    assert call(api, "PUT", f"/v2.0/networks/{net['id']}", "bob", {"network": {"name": "x"}})[0] == 404
    assert call(api, "DELETE", f"/v2.0/networks/{net['id']}", "bob")[0] == 404
    assert call(api, "POST", "/v2.0/ports", "bob", {"port": {"network_id": net["id"]}})[0] == 404
    assert [n["id"] for n in call(api, "GET", "/v2.0/networks", "adm")[1]["networks"]] == [net["id"]]


def test_members_cannot_act_for_other_projects_or_set_admin_attributes(api):
    assert call(api, "POST", "/v2.0/networks", "alice", {"network": {"project_id": "pb"}})[0] == 403
    assert call(api, "POST", "/v2.0/networks", "alice", {"network": {"router:external": True}})[0] == 403
    net = call(api, "POST", "/v2.0/networks", "alice", {"network": {}})[1]["network"]
    status, body = call(api, "POST", "/v2.0/ports", "alice",
                        {"port": {"network_id": net["id"], "binding:host_id": "s1"}})
    assert status == 403 and body["NeutronError"]["type"] == "PolicyNotAuthorized"
    assert call(api, "GET", "/v2.0/chassis", "alice")[0] == 403
    assert call(api, "GET", "/v2.0/chassis", "adm")[0] == 200


def test_external_networks_are_visible_to_members_but_not_theirs_to_change(api):
    ext = call(api, "POST", "/v2.0/networks", "adm", {"network": {"router:external": True}})[1]["network"]
    assert call(api, "GET", f"/v2.0/networks/{ext['id']}", "alice")[0] == 200
    assert call(api, "PUT", f"/v2.0/networks/{ext['id']}", "alice", {"network": {"name": "mine"}})[0] == 403


def test_listing_groups_creates_the_members_default_group(api):
    groups = call(api, "GET", "/v2.0/security-groups", "alice")[1]["security_groups"]
    assert [g["name"] for g in groups] == ["default"] and len(groups[0]["security_group_rules"]) == 4


def test_paging_with_limit_and_marker(api):
    ids = [call(api, "POST", "/v2.0/networks", "adm", {"network": {"name": str(i)}})[1]["network"]["id"]
           for i in range(5)]
    status, body = call(api, "GET", "/v2.0/networks?limit=2", "adm")
    assert [n["id"] for n in body["networks"]] == ids[:2]
    href = body["networks_links"][0]["href"]
    status, body = call(api, "GET", href[href.index("/v2.0"):], "adm")
    assert [n["id"] for n in body["networks"]] == ids[2:4]
    assert call(api, "GET", "/v2.0/networks?limit=x", "adm")[0] == 400


def test_unknown_filters_are_refused(api):
    status, body = call(api, "GET", "/v2.0/networks?colour=red", "adm")
    assert status == 400 and "colour" in body["NeutronError"]["message"]


def test_router_interface_actions_over_rest(api):
    net = call(api, "POST", "/v2.0/networks", "alice", {"network": {}})[1]["network"]
    sub = call(api, "POST", "/v2.0/subnets", "alice", {"subnet": {"network_id": net["id"], "cidr": "10.1.0.0/24",
                                                                  "ip_version": 4}})[1]["subnet"]
    router = call(api, "POST", "/v2.0/routers", "alice", {"router": {"name": "r"}})[1]["router"]
    status, info = call(api, "PUT", f"/v2.0/routers/{router['id']}/add_router_interface", "alice",
                        {"subnet_id": sub["id"]})
    assert status == 200 and info["subnet_id"] == sub["id"]
    assert call(api, "PUT", f"/v2.0/routers/{router['id']}/add_router_interface", "bob",
                {"subnet_id": sub["id"]})[0] == 404
    status, _ = call(api, "PUT", f"/v2.0/routers/{router['id']}/remove_router_interface", "alice",
                     {"subnet_id": sub["id"]})
    assert status == 200


def test_tokens_file_errors_name_the_problem(tmp_path):
    bad = tmp_path / "t.json"
    bad.write_text('{"tokens": [{"token": "x"}]}')
    with pytest.raises(ValueError, match="entry 0"):
        TokenFile.load(str(bad))
    with pytest.raises(ValueError, match="cannot read"):
        TokenFile.load(str(tmp_path / "missing.json"))


def test_openapi_describes_every_route_and_every_attribute():
    doc = document()
    paths = set(doc["paths"])
    for route in build_mapper().matchlist:
        path = route.routepath.replace("{obj_id}", "{id}")
        if "{" in path:
            path = path.removesuffix(".json")
        if "{collection}" in path:
            for kind, cls in KINDS.items():
                if cls.PARENT is not None:
                    continue
                concrete = path.replace("{collection}", cls.COLLECTION)
                if "{name}" in concrete:
                    if kind != "router":
                        continue
                    for action in ("add_router_interface", "remove_router_interface"):
                        assert concrete.replace("{name}", action) in paths
                else:
                    assert concrete in paths, concrete
        else:
            assert path in paths or path + "/" in paths or path.rstrip("/") in paths, path
    for kind, cls in KINDS.items():
        shown = doc["components"]["schemas"][cls.__name__]["properties"]
        real = RestAPI(Model(SQLiteStore(":memory:"))).model.show(cls(id="x", project_id="p"))
        assert set(real) <= set(shown), kind
        listed = doc["paths"][collection_path(cls)]["get"]["responses"]["200"]["content"]
        assert json_key(cls.COLLECTION) in listed["application/json"]["schema"]["properties"]
