"""A minimal client of the nvapps REST API (Neutron v2.0 shapes), on the standard library only (nvctl, lab, tests)."""
from __future__ import annotations

import builtins
import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

COLLECTIONS = {"network": "networks", "subnet": "subnets", "port": "ports", "router": "routers",
               "floatingip": "floatingips", "security_group": "security-groups",
               "security_group_rule": "security-group-rules", "network_acl": "network-acls",
               "port_forwarding": "port_forwardings", "chassis": "chassis", "l2_gateway": "l2-gateways",
               "l2_gateway_connection": "l2-gateway-connections", "loadbalancer": "lbaas/loadbalancers",
               "listener": "lbaas/listeners", "pool": "lbaas/pools", "member": "members",
               "healthmonitor": "lbaas/healthmonitors"}
# Sub-resources: kind -> the kind of the parent whose id is in their path (/v2.0/floatingips/ID/port_forwardings)
PARENTS = {"port_forwarding": "floatingip", "member": "pool"}


def path(kind: str, obj_id: str | None = None, parent_id: str | None = None) -> str:
    """The URL path of a collection or member (under its parent for a sub-resource)."""
    if (kind in PARENTS) != (parent_id is not None):
        raise ValueError(f"{kind} {'needs' if kind in PARENTS else 'takes no'} parent id")
    base = f"/v2.0/{COLLECTIONS[PARENTS[kind]]}/{parent_id}/{COLLECTIONS[kind]}" if parent_id else \
        f"/v2.0/{COLLECTIONS[kind]}"
    return f"{base}/{obj_id}" if obj_id else base


class ApiError(Exception):
    """The API answered with an error status; `body` is its decoded JSON (NeutronError)."""

    def __init__(self, status: int, body: Any) -> None:
        super().__init__(f"HTTP {status}: {body}")
        self.status = status
        self.body = body


class Client:
    """CRUD on /v2.0/<collection> of one nvapps REST endpoint."""

    def __init__(self, url: str, token: str | None = None, timeout: float = 10.0) -> None:
        self.url = url.rstrip("/")
        self.token = token
        self.timeout = timeout

    def request(self, method: str, path: str, body: Any = None, raw: bytes | None = None) -> tuple[int, Any]:
        """(status, decoded JSON body or None); raises ApiError on 4xx/5xx."""
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        headers = {"Content-Type": "application/json"}
        if self.token:
            headers["X-Auth-Token"] = self.token
        req = urllib.request.Request(self.url + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                payload = resp.read()
                return resp.status, json.loads(payload) if payload else None
        except urllib.error.HTTPError as exc:
            payload = exc.read()
            try:
                decoded = json.loads(payload)
            except ValueError:
                decoded = payload.decode(errors="replace")
            raise ApiError(exc.code, decoded) from None

    def create(self, kind: str, parent_id: str | None = None, **attrs: Any) -> dict:
        return self.request("POST", path(kind, parent_id=parent_id), {kind: attrs})[1][kind]

    def update(self, kind: str, obj_id: str, parent_id: str | None = None, **attrs: Any) -> dict:
        return self.request("PUT", path(kind, obj_id, parent_id), {kind: attrs})[1][kind]

    def get(self, kind: str, obj_id: str, parent_id: str | None = None) -> dict:
        return self.request("GET", path(kind, obj_id, parent_id))[1][kind]

    def list(self, kind: str, parent_id: str | None = None, **filters: str) -> list[dict]:
        query = "&".join(f"{k}={v}" for k, v in filters.items())
        plural = COLLECTIONS[kind]
        return self.request("GET", path(kind, parent_id=parent_id) + (f"?{query}" if query else ""))[1][
            plural.rsplit("/", 1)[-1].replace("-", "_")]

    def delete(self, kind: str, obj_id: str, parent_id: str | None = None, cascade: bool = False) -> None:
        """Delete an object (`cascade`: a load balancer with everything it has)."""
        self.request("DELETE", path(kind, obj_id, parent_id) + ("?cascade=true" if cascade else ""))

    def action(self, kind: str, obj_id: str, name: str, **body: Any) -> dict:
        """A member action, e.g. action("router", rid, "add_router_interface", subnet_id=...)."""
        return self.request("PUT", f"/v2.0/{COLLECTIONS[kind]}/{obj_id}/{name}", body)[1]

    def chassis(self) -> builtins.list[dict]:
        return self.request("GET", "/v2.0/chassis")[1]["chassis"]

    def trace(self, flow: str, port_id: str | None = None, network_id: str | None = None) -> dict:
        """A packet traced from a port (or arriving on an external network): GET /v2.0/trace."""
        query = {"flow": flow, **({"port_id": port_id} if port_id else {}),
                 **({"network_id": network_id} if network_id else {})}
        return self.request("GET", "/v2.0/trace?" + urllib.parse.urlencode(query))[1]["trace"]
