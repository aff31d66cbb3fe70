"""The REST layer: Neutron v2.0 shapes and status codes, and NeutronError bodies for bad requests."""
from __future__ import annotations

import json

import pytest
import webob

from nvapps.model.service import Model
from nvapps.rest.wsgi import MAX_BODY, RestAPI
from nvapps.store.sqlite import SQLiteStore


@pytest.fixture
def api():
    return RestAPI(Model(SQLiteStore(":memory:")))


def call(api, method, path, body=None, raw=None):
    req = webob.Request.blank(path, method=method)
    if body is not None or raw is not None:
        req.body = raw if raw is not None else json.dumps(body).encode()
        req.content_type = "application/json"
    resp = req.get_response(api)
    return resp.status_int, (resp.json if resp.body else None)


def test_versions_document_lists_v2_as_current(api):
    status, body = call(api, "GET", "/")
    assert status == 200 and body["versions"][0]["id"] == "v2.0" and body["versions"][0]["status"] == "CURRENT"


def test_create_show_list_update_delete_network(api):
    status, body = call(api, "POST", "/v2.0/networks", {"network": {"name": "blue", "tenant_id": "t1"}})
    assert status == 201
    net = body["network"]
    assert net["project_id"] == net["tenant_id"] == "t1" and net["provider:segmentation_id"] > 0
    assert call(api, "GET", f"/v2.0/networks/{net['id']}")[1] == {"network": net}
    assert call(api, "GET", "/v2.0/networks")[1] == {"networks": [net]}
    status, body = call(api, "PUT", f"/v2.0/networks/{net['id']}", {"network": {"name": "green"}})
    assert status == 200 and body["network"]["name"] == "green"
    assert call(api, "DELETE", f"/v2.0/networks/{net['id']}") == (204, None)
    assert call(api, "GET", f"/v2.0/networks/{net['id']}")[0] == 404


def test_list_filters_and_fields(api):
    for name in ("a", "b"):
        call(api, "POST", "/v2.0/networks", {"network": {"name": name}})
    status, body = call(api, "GET", "/v2.0/networks?name=b&fields=name&fields=id")
    assert status == 200 and len(body["networks"]) == 1
    assert set(body["networks"][0]) == {"name", "id"} and body["networks"][0]["name"] == "b"


@pytest.mark.parametrize("raw, status", [
    (b"{not json", 400),
    (b"[]", 400),
    (b'{"network": {"name": "x"}, "extra": 1}', 400),
    (b'{"subnet": {}}', 400),
    (b'{"network": {"name": 5}}', 400),
    (b'{"network": {"name": "x", "unknown": 1}}', 400),
    (b'{"network": {"name": "' + b"x" * MAX_BODY + b'"}}', 413),
])
def test_bad_bodies_get_a_neutron_error_and_store_nothing(api, raw, status):
    got, body = call(api, "POST", "/v2.0/networks", raw=raw)
    assert got == status
    assert set(body["NeutronError"]) == {"type", "message", "detail"} and body["NeutronError"]["message"]
    assert call(api, "GET", "/v2.0/networks")[1] == {"networks": []}


def test_unknown_paths_and_methods(api):
    assert call(api, "GET", "/v2.0/widgets")[0] == 404
    assert call(api, "GET", "/v2.0/networks/../../etc/passwd")[0] == 404
    assert call(api, "PATCH", "/v2.0/networks")[0] == 405


def test_port_error_statuses_follow_neutron(api):
    net = call(api, "POST", "/v2.0/networks", {"network": {}})[1]["network"]
    call(api, "POST", "/v2.0/subnets", {"subnet": {"network_id": net["id"], "cidr": "10.0.0.0/24",
                                                   "ip_version": 4}})
    body = {"port": {"network_id": net["id"], "fixed_ips": [{"ip_address": "10.0.0.9"}]}}
    assert call(api, "POST", "/v2.0/ports", body)[0] == 201
    status, err = call(api, "POST", "/v2.0/ports", body)
    assert status == 409 and err["NeutronError"]["type"] == "IpAddressAlreadyAllocated"
    status, err = call(api, "POST", "/v2.0/ports", {"port": {"network_id": "8d2b1a1e-0000-4000-8000-000000000000"}})
    assert status == 404 and err["NeutronError"]["type"] == "NetworkNotFound"
    assert call(api, "DELETE", f"/v2.0/networks/{net['id']}")[0] == 409
