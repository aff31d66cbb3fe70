"""The Neutron v2.0-shaped REST API as a WSGI application (webob + Routes), independent of os-ken."""
from __future__ import annotations

import json
import logging
from typing import Any, Callable

import routes
import webob
import webob.dec
import webob.exc

from nvapps.model.errors import ModelError
from nvapps.model.objects import KINDS, Resource
from nvapps.model.service import Model

LOG = logging.getLogger(__name__)

MAX_BODY = 1 << 20
COLLECTIONS = {cls.COLLECTION: kind for kind, cls in KINDS.items()}

StatusOf = Callable[[Resource], dict]


def neutron_error(status: int, type_: str, message: str) -> webob.Response:
    """A Neutron-style error body with its HTTP status."""
    body = {"NeutronError": {"type": type_, "message": message, "detail": ""}}
    return webob.Response(status=status, json_body=body, charset="utf-8")


class RestAPI:
    """Routes /v2.0/<collection>[/<id>] to the model; `live_status` adds run-time state (port status)."""

    def __init__(self, model: Model, live_status: StatusOf | None = None,
                 chassis_status: Callable[[], list[dict]] | None = None) -> None:
        self.model = model
        self.live_status = live_status or (lambda obj: {})
        self.chassis_status = chassis_status or (lambda: [])
        m = routes.Mapper()
        names = "|".join(COLLECTIONS)
        m.connect("/", action="versions", conditions={"method": ["GET"]})
        m.connect("/v2.0", action="resources", conditions={"method": ["GET"]})
        m.connect("/v2.0/", action="resources", conditions={"method": ["GET"]})
        m.connect("/v2.0/chassis", action="chassis", conditions={"method": ["GET"]})
        m.connect("/v2.0/{collection}", action="collection", requirements={"collection": names})
        m.connect("/v2.0/{collection}.json", action="collection", requirements={"collection": names})
        m.connect("/v2.0/{collection}/{obj_id}", action="member", requirements={"collection": names})
        m.connect("/v2.0/{collection}/{obj_id}.json", action="member", requirements={"collection": names})
        self.mapper = m

    @webob.dec.wsgify
    def __call__(self, req: webob.Request) -> webob.Response:
        try:
            route = self.mapper.match(environ=req.environ)
            if route is None:
                return neutron_error(404, "HTTPNotFound", f"The resource could not be found: {req.path}")
            action = route.pop("action")
            return getattr(self, f"_{action}")(req, **route)
        except ModelError as exc:
            return neutron_error(exc.status, exc.type, exc.message)
        except webob.exc.HTTPException as exc:
            return neutron_error(exc.code, type(exc).__name__, exc.detail or exc.explanation)
        except Exception:
            LOG.exception("REST request %s %s failed", req.method, req.path)
            return neutron_error(500, "HTTPInternalServerError", "internal error; see the controller log")

    # ---- handlers ----

    def _versions(self, req: webob.Request) -> webob.Response:
        href = req.host_url + "/v2.0/"
        return webob.Response(json_body={"versions": [
            {"id": "v2.0", "status": "CURRENT", "links": [{"href": href, "rel": "self"}]}]})

    def _resources(self, req: webob.Request) -> webob.Response:
        return webob.Response(json_body={"resources": [
            {"name": cls.KIND, "collection": cls.COLLECTION,
             "links": [{"href": f"{req.host_url}/v2.0/{cls.COLLECTION}", "rel": "self"}]}
            for cls in KINDS.values()]})

    def _chassis(self, req: webob.Request) -> webob.Response:
        return webob.Response(json_body={"chassis": self.chassis_status()})

    def _collection(self, req: webob.Request, collection: str) -> webob.Response:
        kind = COLLECTIONS[collection]
        if req.method == "GET":
            filters = {k: req.GET.getall(k) for k in req.GET if k != "fields"}
            objs = self.model.list(kind, filters)
            return webob.Response(json_body={collection: [self._show(o, req) for o in objs]})
        if req.method == "POST":
            obj = self.model.create(kind, self._body(req, kind))
            return webob.Response(status=201, json_body={kind: self._show(obj, req)})
        raise webob.exc.HTTPMethodNotAllowed(detail=f"{req.method} is not allowed on /{collection}")

    def _member(self, req: webob.Request, collection: str, obj_id: str) -> webob.Response:
        kind = COLLECTIONS[collection]
        if req.method == "GET":
            return webob.Response(json_body={kind: self._show(self.model.get(kind, obj_id), req)})
        if req.method == "PUT":
            obj = self.model.update(kind, obj_id, self._body(req, kind))
            return webob.Response(json_body={kind: self._show(obj, req)})
        if req.method == "DELETE":
            self.model.delete(kind, obj_id)
            return webob.Response(status=204)
        raise webob.exc.HTTPMethodNotAllowed(detail=f"{req.method} is not allowed on /{collection}/<id>")

    # ---- helpers ----

    def _body(self, req: webob.Request, kind: str) -> Any:
        """The `kind` object of a JSON request body; a body that is not one is a 400 (413 if too big)."""
        if req.content_length is not None and req.content_length > MAX_BODY:
            raise webob.exc.HTTPRequestEntityTooLarge(detail=f"request body exceeds {MAX_BODY} bytes")
        raw = req.body_file.read(MAX_BODY + 1)
        if len(raw) > MAX_BODY:
            raise webob.exc.HTTPRequestEntityTooLarge(detail=f"request body exceeds {MAX_BODY} bytes")
        try:
            body = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            raise webob.exc.HTTPBadRequest(detail="Malformed request body: not valid JSON") from None
        if not isinstance(body, dict) or set(body) != {kind}:
            raise webob.exc.HTTPBadRequest(detail=f"Resource body required: a JSON object {{\"{kind}\": {{...}}}}")
        return body[kind]

    def _show(self, obj: Resource, req: webob.Request) -> dict:
        shown = obj.to_api()
        shown["tenant_id"] = shown["project_id"]
        shown.update(self.live_status(obj))
        wanted = req.GET.getall("fields")
        return {k: v for k, v in shown.items() if k in wanted} if wanted else shown
