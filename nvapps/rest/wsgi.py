"""The Neutron v2.0-shaped REST API as a WSGI application (webob + Routes), independent of os-ken."""
from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import Any, Callable
from urllib.parse import urlencode

import routes
import webob
import webob.dec
import webob.exc

from nvapps.model.base import Resource
from nvapps.model.context import Context
from nvapps.model.errors import BadRequest, Forbidden, ModelError, NotFound
from nvapps.model.fields import check_uuid
from nvapps.model.loadbalancer import READINGS, LoadBalancer, no_stats, status_tree
from nvapps.model.service import ACTIONS, KINDS, Model, check_filters
from nvapps.rest.auth import Authenticator, NoAuth, Unauthorized
from nvapps.rest.metrics import CONTENT_TYPE, Metrics
from nvapps.store.base import StoreUnavailable

LOG = logging.getLogger(__name__)

MAX_BODY = 1 << 20
MAX_DEPTH = 32          # JSON nesting a body may have (Neutron's deepest attribute needs 4)
COLLECTIONS = {cls.COLLECTION: kind for kind, cls in KINDS.items() if cls.PARENT is None}
# Sub-resources by (parent collection, collection), e.g. /v2.0/floatingips/{id}/port_forwardings
CHILDREN = {(KINDS[cls.PARENT[0]].COLLECTION, cls.COLLECTION): kind
            for kind, cls in KINDS.items() if cls.PARENT is not None}
PAGING = ("limit", "marker", "page_reverse", "sort_key", "sort_dir", "fields")
EXTENSIONS = [
    ("router", "Neutron L3 Router"), ("external-net", "Neutron external network"),
    ("extraroute", "Neutron Extra Route"), ("ext-gw-mode", "Neutron L3 Configurable external gateway mode"),
    ("security-group", "security-group"), ("port-security", "Port Security"),
    ("allowed-address-pairs", "Allowed Address Pairs"), ("binding", "Port Binding"),
    ("provider", "Provider Network"), ("floating-ip-port-forwarding", "Floating IP Port Forwarding"),
    ("network-acl", "nvapps: stateless network ACLs"),
    ("chassis", "nvapps: chassis (hypervisors), their tunnel endpoints and switch status"),
    ("l2-gateway", "L2 Gateway"), ("l2-gateway-connection", "L2 Gateway connection"),
    ("lbaasv2", "nvapps: load balancers in Octavia's v2 shapes, under /v2.0/lbaas/"),
]

StatusOf = Callable[[Resource], dict]
ReadingOf = Callable[[Resource, str], dict]     # (object, reading name) -> the reading's body
Tracing = Callable[[Context, str, "str | None", "str | None"], dict]    # (caller, flow, port, network) -> trace
Counting = Callable[[Context, "str | None"], dict]                     # (caller, project or None) -> counters
# The methods each kind of path takes (HEAD wherever GET: the same answer without its body).
ALLOWED = {"versions": {"GET"}, "resources": {"GET"}, "openapi": {"GET"}, "extensions": {"GET"},
           "collection": {"GET", "POST"}, "member": {"GET", "PUT", "DELETE"}, "member_action": {"PUT"},
           "reading": {"GET"}, "metrics": {"GET"}, "trace": {"GET"}, "counters": {"GET"}, "ui": {"GET"}}
UI_DIR = Path(__file__).resolve().parent.parent / "ui"       # the web console's files (served under /ui/)
UI_TYPES = {".html": "text/html", ".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml",
            ".txt": "text/plain"}


def verb(req: webob.Request) -> str:
    """The request's method, HEAD answered as GET (webob leaves the body out)."""
    return "GET" if req.method == "HEAD" else req.method


def _normal(path: str) -> bool:
    """Whether a path has no empty, "." or ".." segment (those are not served as some other path)."""
    return not any(seg in ("", ".", "..") for seg in path.split("/")[1:-1]) and not path.endswith(("/.", "/.."))


def _token(req: webob.Request) -> str | None:
    """The request's token: X-Auth-Token, or an Authorization bearer (what Prometheus sends)."""
    scheme, _, credentials = req.headers.get("Authorization", "").partition(" ")
    return req.headers.get("X-Auth-Token") or (credentials.strip() if scheme.lower() == "bearer" else None)


def json_key(collection: str) -> str:
    """The JSON key of a collection ("security-groups" -> "security_groups", "lbaas/pools" -> "pools")."""
    return collection.rsplit("/", 1)[-1].replace("-", "_")


def neutron_error(status: int, type_: str, message: str) -> webob.Response:
    """A Neutron-style error body with its HTTP status."""
    body = {"NeutronError": {"type": type_, "message": message, "detail": ""}}
    return webob.Response(status=status, json_body=body, charset="utf-8")


class RestAPI:
    """Routes /v2.0/<collection>[/<id>[/<action>]] to the model, as the authenticated project sees it."""

    def __init__(self, model: Model, auth: Authenticator | None = None, live_status: StatusOf | None = None,
                 live_reading: ReadingOf | None = None, metrics: Metrics | None = None,
                 trace: Tracing | None = None, counters: Counting | None = None) -> None:
        self.model = model
        self.metrics = metrics
        self.tracing = trace
        self.counting = counters or (lambda ctx, project: {"ports": [], "floatingips": [], "projects": []})
        self.auth = auth or NoAuth(model.default_project)
        self.live_status = live_status or (lambda obj: {})
        self.live_reading = live_reading or (lambda obj, name: {name: no_stats()})
        self.mapper = build_mapper()

    @webob.dec.wsgify
    def __call__(self, req: webob.Request) -> webob.Response:
        start = time.perf_counter()
        response = self._respond(req)
        if self.metrics is not None:
            self.metrics.observe(verb(req), response.status_code, time.perf_counter() - start)
        return response

    def _respond(self, req: webob.Request) -> webob.Response:
        try:
            route = self.mapper.match(environ=req.environ) if _normal(req.path_info) else None
            if route is None:
                return neutron_error(404, "HTTPNotFound", "The resource could not be found.")
            action = route.pop("action")
            if verb(req) not in ALLOWED[action]:
                allow = ", ".join(sorted({*ALLOWED[action], "HEAD"} if "GET" in ALLOWED[action] else ALLOWED[action]))
                error = neutron_error(405, "HTTPMethodNotAllowed", f"{req.method} is not allowed here; use {allow}")
                error.headers["Allow"] = allow
                return error
            if action in ("versions", "resources", "openapi", "ui"):
                return getattr(self, f"_{action}")(req, **route)
            ctx = self.auth.context(_token(req), req.headers.get("X-Project-Id"))
            kind = COLLECTIONS.get(route.get("collection"))
            if kind and KINDS[kind].ADMIN_ONLY and not ctx.is_admin:
                raise Forbidden(f"Only admins see or change {route['collection']}")
            return getattr(self, f"_{action}")(req, ctx, **route)
        except Unauthorized as exc:
            return neutron_error(401, "HTTPUnauthorized", str(exc))
        except ModelError as exc:
            return neutron_error(exc.status, exc.type, exc.message)
        except StoreUnavailable as exc:
            return neutron_error(503, "ServiceUnavailable", f"The store cannot take writes now: {exc}")
        except webob.exc.HTTPException as exc:
            return neutron_error(exc.code, type(exc).__name__, exc.detail or exc.explanation)
        except UnicodeDecodeError:          # webob decodes the query string on first use
            return neutron_error(400, "HTTPBadRequest", "the query string is not valid UTF-8")
        except Exception:
            LOG.exception("REST request %s %s failed", req.method, req.path)
            return neutron_error(500, "HTTPInternalServerError", "internal error; see the controller log")

    # ---- public documents ----

    def _versions(self, req: webob.Request) -> webob.Response:
        href = req.host_url + "/v2.0/"
        return webob.Response(json_body={"versions": [
            {"id": "v2.0", "status": "CURRENT", "links": [{"href": href, "rel": "self"}]}]})

    def _resources(self, req: webob.Request) -> webob.Response:
        return webob.Response(json_body={"resources": [
            {"name": cls.KIND, "collection": json_key(cls.COLLECTION),
             "links": [{"href": f"{req.host_url}/v2.0/{cls.COLLECTION}", "rel": "self"}]}
            for cls in KINDS.values()]})

    def _ui(self, req: webob.Request, name: str = "") -> webob.Response:
        """The web console's files (public: what they show comes from the API, with the user's token)."""
        if not name:
            if not req.path_info.endswith("/"):
                return webob.exc.HTTPMovedPermanently(location=req.application_url + "/ui/")
            name = "index.html"
        path = UI_DIR / name
        if path.suffix not in UI_TYPES or not path.is_file():
            return neutron_error(404, "HTTPNotFound", f"The console has no file {name}.")
        response = webob.Response(body=path.read_bytes(), content_type=UI_TYPES[path.suffix],
                                  charset="utf-8" if path.suffix != ".svg" else None)
        response.cache_control = "no-cache"
        return response

    def _openapi(self, req: webob.Request) -> webob.Response:
        from nvapps.rest.openapi import document
        return webob.Response(json_body=document(req.host_url, self.model.tenant_networks.type))

    # ---- authenticated ----

    def _metrics(self, req: webob.Request, ctx: Context) -> webob.Response:
        if not ctx.is_admin:
            raise Forbidden("Only admins read the metrics")
        if self.metrics is None:
            raise NotFound("no metrics here")
        return webob.Response(body=self.metrics.render(), content_type=CONTENT_TYPE, charset=None)

    def _counters(self, req: webob.Request, ctx: Context) -> webob.Response:
        unknown = sorted(set(req.GET) - {"project_id"})
        projects = req.GET.getall("project_id")
        if unknown or len(projects) > 1:
            raise BadRequest("Counters take one project_id at most" + (f" (not {', '.join(unknown)})" if unknown else ""))
        project = projects[0] if projects else None
        if project is not None and not ctx.is_admin and project != ctx.project_id:
            raise Forbidden("Members read their own project's counters only")
        return webob.Response(json_body={"counters": self.counting(ctx, project)})

    def _trace(self, req: webob.Request, ctx: Context) -> webob.Response:
        if self.tracing is None:
            raise NotFound("no packet traces here (no switch app runs)")
        params = {k: req.GET.getall(k) for k in req.GET}
        unknown = sorted(set(params) - {"flow", "port_id", "network_id"})
        if unknown or any(len(v) > 1 for v in params.values()):
            raise BadRequest(f"A trace takes flow, and port_id or network_id, each once (not {', '.join(unknown)})"
                             if unknown else "A trace takes each of flow, port_id and network_id once")
        single = {k: check_uuid(v[0]) if k != "flow" else v[0] for k, v in params.items()}
        return webob.Response(json_body={"trace": self.tracing(ctx, single.get("flow", ""), single.get("port_id"),
                                                               single.get("network_id"))})

    def _extensions(self, req: webob.Request, ctx: Context) -> webob.Response:
        return webob.Response(json_body={"extensions": [
            {"alias": alias, "name": name, "description": name, "links": [], "updated": "2026-11-25T00:00:00Z"}
            for alias, name in EXTENSIONS]})

    def _collection(self, req: webob.Request, ctx: Context, collection: str, parent: str | None = None,
                    parent_id: str | None = None) -> webob.Response:
        kind = CHILDREN[parent, collection] if parent else COLLECTIONS[collection]
        if verb(req) == "GET":
            filters = {k: req.GET.getall(k) for k in req.GET if k not in PAGING}
            check_filters(kind, filters)
            if parent:
                filters[_parent_field(kind)] = [self.model.get(COLLECTIONS[parent], parent_id or "", ctx).id]
            if kind == "security_group":
                self.model.ensure_defaults(ctx)
            objs = self.model.list(kind, filters, ctx)
            page, links = _paginate(objs, req, collection)
            body = {json_key(collection): [self._show(o, req, ctx) for o in page]}
            if links:
                body[f"{json_key(collection)}_links"] = links
            return webob.Response(json_body=body)
        obj = self.model.create(kind, self._body(req, kind), ctx, parent_id=parent_id)
        return webob.Response(status=201, json_body={kind: self._show(obj, req, ctx)})

    def _member(self, req: webob.Request, ctx: Context, collection: str, obj_id: str, parent: str | None = None,
                parent_id: str | None = None) -> webob.Response:
        kind = CHILDREN[parent, collection] if parent else COLLECTIONS[collection]
        obj = self.model.get(kind, obj_id, ctx)
        if parent and getattr(obj, _parent_field(kind)) != parent_id:
            raise NotFound(f"{KINDS[kind].__name__} {obj_id} could not be found.", f"{KINDS[kind].__name__}NotFound")
        if verb(req) == "GET":
            return webob.Response(json_body={kind: self._show(obj, req, ctx)})
        if req.method == "PUT":
            obj = self.model.update(kind, obj_id, self._body(req, kind), ctx)
            return webob.Response(json_body={kind: self._show(obj, req, ctx)})
        self.model.delete(kind, obj_id, ctx, cascade=_flag(req, "cascade"))
        return webob.Response(status=204)

    def _member_action(self, req: webob.Request, ctx: Context, collection: str, obj_id: str,
                       name: str) -> webob.Response:
        return webob.Response(json_body=self.model.action(COLLECTIONS[collection], obj_id, name,
                                                          self._body(req, None), ctx))

    def _reading(self, req: webob.Request, ctx: Context, collection: str, obj_id: str,
                 reading: str) -> webob.Response:
        """A live reading of an object the caller sees (Octavia's statistics and status tree)."""
        obj = self.model.get(COLLECTIONS[collection], obj_id, ctx)
        if reading == "status":         # the tree of a load balancer's statuses, as its objects show them
            assert isinstance(obj, LoadBalancer)
            return webob.Response(json_body={"statuses": status_tree(self.model, obj, self.live_status)})
        return webob.Response(json_body=self.live_reading(obj, reading))

    # ---- helpers ----

    def _body(self, req: webob.Request, kind: str | None) -> Any:
        """The `kind` object of a JSON request body (the whole body for actions); 400 if not, 413 if too big."""
        if req.content_length is not None and req.content_length > MAX_BODY:
            raise webob.exc.HTTPRequestEntityTooLarge(detail=f"request body exceeds {MAX_BODY} bytes")
        try:        # the server's input: it reads chunked bodies and stops at Content-Length
            raw = req.body_file_raw.read(MAX_BODY + 1)
        except OSError:
            raise BadRequest("the request body ended early or came too slowly") from None
        if len(raw) > MAX_BODY:
            raise webob.exc.HTTPRequestEntityTooLarge(detail=f"request body exceeds {MAX_BODY} bytes")
        try:
            body = json.loads(raw)
        except (ValueError, UnicodeDecodeError, RecursionError):
            raise BadRequest("Malformed request body: not valid JSON") from None
        if _depth(body) > MAX_DEPTH:
            raise BadRequest(f"Malformed request body: JSON nested deeper than {MAX_DEPTH} levels")
        if kind is None:
            return body
        if not isinstance(body, dict) or set(body) != {kind}:
            raise BadRequest(f"Resource body required: a JSON object {{\"{kind}\": {{...}}}}")
        return body[kind]

    def _show(self, obj: Resource, req: webob.Request, ctx: Context) -> dict:
        shown = self.model.show(obj, ctx)
        shown.update(self.live_status(obj))
        wanted = req.GET.getall("fields")
        return {k: v for k, v in shown.items() if k in wanted} if wanted else shown


def build_mapper() -> routes.Mapper:
    """Every path of the API (the OpenAPI document is checked against this)."""
    m = routes.Mapper()
    names = "|".join(COLLECTIONS)
    actions = "|".join(sorted({name for _, name in ACTIONS}))
    m.connect("/", action="versions")
    m.connect("/v2.0", action="resources")
    m.connect("/v2.0/", action="resources")
    m.connect("/openapi.json", action="openapi")
    m.connect("/v2.0/extensions", action="extensions")
    m.connect("/metrics", action="metrics")
    m.connect("/v2.0/trace", action="trace")
    m.connect("/v2.0/counters", action="counters")
    m.connect("/ui", action="ui")
    m.connect("/ui/", action="ui")
    m.connect("/ui/{name}", action="ui", requirements={"name": r"[A-Za-z0-9_-][A-Za-z0-9._-]*"})
    for suffix in ("", ".json"):
        m.connect("/v2.0/{collection}" + suffix, action="collection", requirements={"collection": names})
        m.connect("/v2.0/{collection}/{obj_id}" + suffix, action="member", requirements={"collection": names})
        m.connect("/v2.0/{collection}/{obj_id}/{name}" + suffix, action="member_action",
                  requirements={"collection": "routers", "name": actions})
        for collection, name in READINGS:
            m.connect(f"/v2.0/{collection}/{{obj_id}}/{name}" + suffix, action="reading", collection=collection,
                      reading=name)
        for parent, collection in CHILDREN:
            base = f"/v2.0/{parent}/{{parent_id}}/{collection}"
            m.connect(base + suffix, action="collection", parent=parent, collection=collection)
            m.connect(base + "/{obj_id}" + suffix, action="member", parent=parent, collection=collection)
    return m


def _parent_field(kind: str) -> str:
    """The field of a sub-resource that holds its parent's id."""
    parent = KINDS[kind].PARENT
    assert parent is not None, kind
    return parent[1]


def _flag(req: webob.Request, name: str) -> bool:
    """A true/false query parameter (absent: false)."""
    value = req.GET.get(name)
    if value is None or value.lower() == "false":
        return False
    if value.lower() == "true":
        return True
    raise BadRequest(f"{name} must be true or false, not {value!r}")


def _paginate(objs: list, req: webob.Request, collection: str) -> tuple[list, list[dict]]:
    """Neutron's limit/marker paging: a page, and a `next` link when more remain."""
    marker, limit = req.GET.get("marker"), req.GET.get("limit")
    if marker is not None:
        marker = check_uuid(marker)
        ids = [o.id for o in objs]
        if marker not in ids:
            raise NotFound(f"Marker {marker} could not be found.", "MarkerNotFound")
        objs = objs[ids.index(marker) + 1:]
    if not limit:
        return objs, []
    if not (limit.isascii() and limit.isdigit()):
        raise BadRequest(f"limit must be a non-negative integer, not {limit!r}")
    size = int(limit)
    if size == 0 or len(objs) <= size:
        return objs, []
    page = objs[:size]
    query = [(k, v) for k, v in req.GET.items() if k != "marker"] + [("marker", page[-1].id)]
    return page, [{"rel": "next", "href": f"{req.host_url}/v2.0/{collection}?{urlencode(query)}"}]


def _depth(value: Any) -> int:
    """How deeply JSON `value` nests (a scalar: 0), without recursion."""
    deepest, todo = 0, [(value, 0)]
    while todo:
        item, depth = todo.pop()
        deepest = max(deepest, depth)
        if isinstance(item, dict):
            todo += [(v, depth + 1) for v in item.values()]
        elif isinstance(item, list):
            todo += [(v, depth + 1) for v in item]
    return deepest
