"""The REST app with three tokens (an admin, members alice of pa and bob of pb), and one request helper."""
from __future__ import annotations

import json

import webob

from nvapps.model.service import KINDS, Model
from nvapps.rest.auth import TokenFile
from nvapps.rest.metrics import Metrics
from nvapps.rest.wsgi import RestAPI, json_key
from nvapps.store.sqlite import SQLiteStore

TOKENS = {"tokens": [{"token": "adm", "project_id": "admin", "role": "admin"},
                     {"token": "alice", "project_id": "pa", "role": "member"},
                     {"token": "bob", "project_id": "pb", "role": "member"}]}


def token_api(tmp_path) -> RestAPI:
    path = tmp_path / "tokens.json"
    path.write_text(json.dumps(TOKENS))
    model = Model(SQLiteStore(":memory:"))
    return RestAPI(model, TokenFile.load(str(path)), metrics=Metrics(model, lambda: None))


def call(api, method: str, path: str, token: str | None = None, body=None, raw: bytes | None = None):
    """(status, JSON answer, text or None) of one request, with `token` if given and a JSON (or `raw`) body."""
    req = webob.Request.blank(path, method=method)
    if token:
        req.headers["X-Auth-Token"] = token
    if body is not None or raw is not None:
        req.body = raw if raw is not None else json.dumps(body).encode()
        req.content_type = "application/json"
    resp = req.get_response(api)
    return resp.status_int, (resp.json if resp.body and resp.content_type == "application/json" else
                             resp.text if resp.body else None)


def ok(api, method: str, path: str, token: str = "adm", body=None) -> dict:
    """The JSON answer of a request that must succeed (200 or 201)."""
    status, answer = call(api, method, path, token, body)
    assert status in (200, 201), (method, path, answer)
    return answer


def everything(api) -> dict:
    """Every object of every kind, as the admin lists them."""
    return {k: ok(api, "GET", f"/v2.0/{cls.COLLECTION}")[json_key(cls.COLLECTION)]
            for k, cls in KINDS.items() if cls.PARENT is None}
