"""The OpenAPI 3 document of the REST API, built from the resources' declared fields and checks."""
from __future__ import annotations

from nvapps.model.base import api_fields, api_name
from nvapps.model.fields import schema_of
from nvapps.model.loadbalancer import READINGS, STATS
from nvapps.model.network import FLAT
from nvapps.model.service import ACTIONS, KINDS
from nvapps.rest.wsgi import EXTENSIONS, json_key

ERRORS = {"400": "bad input", "401": "no or bad token", "403": "not allowed for this project or role",
          "404": "not found (or another project's)", "409": "conflicts with existing objects",
          "413": "request body too large"}


_IDS = {"type": "array", "items": {"type": "object", "properties": {"id": {"type": "string"}}}}

# Attributes the API shows that come from related objects rather than the object's own fields.
DERIVED: dict[str, dict[str, dict]] = {"security_group": {"security_group_rules": {"type": "array", "items": {
    "$ref": "#/components/schemas/SecurityGroupRule"}}},
    "chassis": {name: {"description": f"live switch status: {name}"} for name in (
        "connected", "datapath_id", "interfaces", "trunk_ofport", "uplinks", "tunnel_ports", "gateway_routers",
        "flows", "flow_mods", "group_mods", "packet_ins", "errors", "last_sync", "master", "bgp")},
    "loadbalancer": {"listeners": _IDS, "pools": _IDS},
    "listener": {"loadbalancers": _IDS},
    "pool": {"loadbalancers": _IDS, "listeners": _IDS, "members": _IDS,
             "healthmonitor_id": {"type": ["string", "null"]}},
    "healthmonitor": {"pools": _IDS}}


def _error_responses(*codes: str) -> dict:
    return {c: {"description": ERRORS[c], "content": {"application/json": {
        "schema": {"$ref": "#/components/schemas/NeutronError"}}}} for c in codes}


def _object_schema(cls, action: str | None) -> dict:
    """The schema of a resource as shown (action None) or as a POST/PUT body accepts it."""
    props = {}
    for f in api_fields(cls):
        if action and not f.metadata.get(action):
            continue
        schema = schema_of(f.metadata.get("check")) if action else {}
        if f.metadata.get("admin"):
            schema["description"] = "admin only"
        props[api_name(f)] = schema
    if action is None:
        props["tenant_id"] = {"type": "string"}
        props.update(DERIVED.get(cls.KIND, {}))
    schema = {"type": "object", "properties": props}
    if action:
        schema["additionalProperties"] = False      # (a POST's legacy tenant_id, equal to project_id, passes too)
    if action == "create":
        required = [api_name(f) for f in api_fields(cls) if f.metadata.get("required")]
        schema.update({"required": required} if required else {})
        schema.update({"allOf": cls.SCHEMA_RULES} if cls.SCHEMA_RULES else {})
    return schema


def _json(schema: dict) -> dict:
    return {"application/json": {"schema": schema}}


def _envelope(key: str, ref: str) -> dict:
    return {"type": "object", "properties": {key: {"$ref": f"#/components/schemas/{ref}"}}, "required": [key],
            "additionalProperties": False}


def collection_path(cls) -> str:
    """Where a kind's collection is: /v2.0/<collection>, or under its parent for a sub-resource."""
    if cls.PARENT is None:
        return f"/v2.0/{cls.COLLECTION}"
    return f"/v2.0/{KINDS[cls.PARENT[0]].COLLECTION}/{{parent_id}}/{cls.COLLECTION}"


def document(server_url: str = "", tenant_network_type: str | None = None) -> dict:
    """The whole document: every path the router serves, every resource's attributes (with the network
    types this server takes: flat, and its tenant network type)."""
    schemas: dict = {"NeutronError": {"type": "object", "properties": {"NeutronError": {
        "type": "object", "properties": {k: {"type": "string"} for k in ("type", "message", "detail")}}}}}
    paths: dict = {
        "/": {"get": {"summary": "API versions", "security": [], "responses": {"200": {"description": "versions"}}}},
        "/v2.0/": {"get": {"summary": "resources", "security": [], "responses": {"200": {"description": "resources"}}}},
        "/openapi.json": {"get": {"summary": "this document", "security": [],
                                  "responses": {"200": {"description": "OpenAPI 3"}}}},
        "/v2.0/extensions": {"get": {"summary": "extensions: " + ", ".join(a for a, _ in EXTENSIONS),
                                     "responses": {"200": {"description": "extensions"}, **_error_responses("401")}}},
        "/metrics": {"get": {"summary": "Prometheus metrics (admins; the token as X-Auth-Token or a bearer)",
                             "responses": {"200": {"description": "the text exposition format",
                                                   "content": {"text/plain": {"schema": {"type": "string"}}}},
                                           **_error_responses("401", "403")}}},
        "/v2.0/counters": {"get": {
            "summary": "traffic counters of the caller's ports and floating IPs, and bytes in/out per project",
            "parameters": [{"name": "project_id", "in": "query", "required": False, "schema": {"type": "string"},
                            "description": "one project's only (members: their own)"}],
            "responses": {"200": {"description": "ports, floatingips and projects, each a list"},
                          **_error_responses("400", "401", "403")}}},
        "/ui/": {"get": {"summary": "the web console (log in with an API token)", "security": [],
                         "responses": {"200": {"description": "its page"}}}},
        "/ui/{name}": {"get": {"summary": "the web console's files", "security": [],
                               "parameters": [{"name": "name", "in": "path", "required": True,
                                               "schema": {"type": "string"}}],
                               "responses": {"200": {"description": "a file"}, **_error_responses("404")}}},
        "/v2.0/trace": {"get": {
            "summary": "a packet traced through the pipeline in logical terms (ofproto/trace on its chassis)",
            "parameters": [
                {"name": "flow", "in": "query", "required": True, "schema": {"type": "string"},
                 "description": "the packet in ovs-ofctl syntax, e.g. tcp,nw_dst=10.0.2.10,tp_dst=80"},
                {"name": "port_id", "in": "query", "required": False, "schema": {"type": "string", "format": "uuid"},
                 "description": "the port that sends it (its MAC and address fill the rest)"},
                {"name": "network_id", "in": "query", "required": False,
                 "schema": {"type": "string", "format": "uuid"},
                 "description": "or the external network it arrives from (to a gateway or floating IP); exactly "
                                "one of port_id and network_id"}],
            "responses": {"200": {"description": "the trace: each chassis's steps, the verdicts, as text too"},
                          **_error_responses("400", "401", "404", "409")}}},
    }
    for kind, cls in KINDS.items():
        name = cls.__name__
        schemas[name] = _object_schema(cls, None)
        schemas[f"{name}Create"] = _object_schema(cls, "create")
        if kind == "network" and tenant_network_type:
            schemas[f"{name}Create"]["properties"]["provider:network_type"]["enum"] = [FLAT, tenant_network_type]
        schemas[f"{name}Update"] = _object_schema(cls, "update")
        plural = json_key(cls.COLLECTION)
        filters = [{"name": api_name(f), "in": "query", "required": False, "schema": {"type": "string"}}
                   for f in api_fields(cls)]
        paging = [{"name": "fields", "in": "query", "schema": {"type": "array", "items": {"type": "string"}},
                   "style": "form", "explode": True},
                  {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 0}},
                  {"name": "marker", "in": "query", "schema": {"type": "string", "format": "uuid"}}]
        id_param = [{"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}]
        listed = {"type": "object", "properties": {plural: {"type": "array",
                                                            "items": {"$ref": f"#/components/schemas/{name}"}}}}
        base = collection_path(cls)
        parent = [{"name": "parent_id", "in": "path", "required": True, "schema": {"type": "string"}}] \
            if cls.PARENT else []
        paths[base] = {
            "parameters": parent,
            "get": {"summary": f"list {plural}", "parameters": filters + paging,
                    "responses": {"200": {"description": plural, "content": _json(listed)},
                                  **_error_responses("400", "401", *(("403",) if cls.ADMIN_ONLY else ()),
                                                     "404")}},
            "post": {"summary": f"create a {kind}",
                     "requestBody": {"required": True, "content": _json(_envelope(kind, f"{name}Create"))},
                     "responses": {"201": {"description": f"the new {kind}", "content": _json(_envelope(kind, name))},
                                   **_error_responses("400", "401", "403", "404", "409", "413")}},
        }
        paths[f"{base}/{{id}}"] = {
            "parameters": parent + id_param,
            "get": {"summary": f"show a {kind}", "parameters": paging[:1],
                    "responses": {"200": {"description": kind, "content": _json(_envelope(kind, name))},
                                  **_error_responses("401", "404")}},
            "put": {"summary": f"update a {kind}",
                    "requestBody": {"required": True, "content": _json(_envelope(kind, f"{name}Update"))},
                    "responses": {"200": {"description": kind, "content": _json(_envelope(kind, name))},
                                  **_error_responses("400", "401", "403", "404", "409", "413")}},
            "delete": {"summary": f"delete a {kind}",
                       "responses": {"204": {"description": "deleted"}, **_error_responses("401", "403", "404", "409")}},
        }
    for (kind, action) in sorted(ACTIONS):
        body = {"type": "object", "properties": {"subnet_id": {"type": "string", "format": "uuid"},
                                                 "port_id": {"type": "string", "format": "uuid"}},
                "minProperties": 1, "maxProperties": 1, "additionalProperties": False}
        paths[f"/v2.0/{KINDS[kind].COLLECTION}/{{id}}/{action}"] = {"put": {
            "summary": action.replace("_", " "),
            "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}],
            "requestBody": {"required": True, "content": _json(body)},
            "responses": {"200": {"description": "interface info"},
                          **_error_responses("400", "401", "403", "404", "409", "413")}}}
    for collection, name in READINGS:
        stats = {"type": "object", "properties": {key: {"type": "integer"} for key in STATS}} if name == "stats" \
            else {"type": "object", "description": "the load balancer, its listeners, pools, monitors and members: "
                                                   "id, name, provisioning_status, operating_status"}
        key = "stats" if name == "stats" else "statuses"
        paths[f"/v2.0/{collection}/{{id}}/{name}"] = {"get": {
            "summary": f"{name} of a {json_key(collection)[:-1]}",
            "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}],
            "responses": {"200": {"description": name, "content": _json(
                {"type": "object", "properties": {key: stats}, "required": [key]})},
                **_error_responses("401", "403", "404")}}}
    return {
        "openapi": "3.1.0",
        "info": {"title": "nvapps REST API (Neutron v2.0 shapes)", "version": "2.0"},
        "servers": [{"url": server_url or "/"}],
        "components": {"schemas": schemas, "securitySchemes": {
            "token": {"type": "apiKey", "in": "header", "name": "X-Auth-Token"}}},
        "security": [{"token": []}],
        "paths": paths,
    }
