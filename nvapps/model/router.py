"""Routers (interfaces, static routes, external gateway) and floating IPs: attributes and rules."""
from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any, ClassVar

import netaddr

from nvapps import pipeline
from nvapps.model import ipam
from nvapps.model.base import Change, Resource, Rules, resource
from nvapps.model.context import Context
from nvapps.model.errors import BadRequest, Conflict, Forbidden, NotFound
from nvapps.model.fields import attr, check_bool, check_cidr, check_ip, check_uuid, dict_with, list_of, nullable
from nvapps.model.network import FLOATINGIP, ROUTER_GATEWAY, ROUTER_INTERFACE, Network, Port, Subnet, new_port_key

if TYPE_CHECKING:
    from nvapps.model.service import Model

check_gateway = dict_with({
    "network_id": check_uuid, "enable_snat": check_bool,
    "external_fixed_ips": list_of(dict_with({"subnet_id": check_uuid, "ip_address": check_ip},
                                            any_of=("subnet_id", "ip_address"))),
}, ("network_id",))


@resource
class Router(Resource):
    """A tenant's virtual router: a VRF joining its subnets, optionally with a gateway to an external network."""

    KIND: ClassVar[str] = "router"
    COLLECTION: ClassVar[str] = "routers"

    admin_state_up: bool = attr(check_bool, default=True)
    status: str = attr(create=False, update=False, default="ACTIVE")
    external_gateway_info: dict | None = attr(nullable(check_gateway), default=None)
    routes: list = attr(list_of(dict_with({"destination": check_cidr, "nexthop": check_ip},   # PUT only, as Neutron
                                          ("destination", "nexthop"))), create=False, default_factory=list)
    distributed: bool = attr(create=False, update=False, default=True)
    ha: bool = attr(create=False, update=False, default=False)
    key: int = attr(create=False, update=False, internal=True, default=0)


@resource
class FloatingIP(Resource):
    """An external address mapped 1:1 to a port's fixed IP through the port's router."""

    KIND: ClassVar[str] = "floatingip"
    COLLECTION: ClassVar[str] = "floatingips"

    floating_network_id: str = attr(check_uuid, update=False, required=True, default="")
    floating_ip_address: str = attr(check_ip, update=False, admin=True, default="")
    subnet_id: str | None = attr(nullable(check_uuid), update=False, default=None)
    port_id: str | None = attr(nullable(check_uuid), default=None)
    fixed_ip_address: str | None = attr(nullable(check_ip), default=None)
    router_id: str | None = attr(create=False, update=False, default=None)
    status: str = attr(create=False, update=False, default="DOWN")


def router_ports(model: "Model", router_id: str, owner: str = ROUTER_INTERFACE) -> list[Port]:
    return [p for p in model.list("port", {"device_id": [router_id]}) if p.device_owner == owner]


def _subnets_of(model: "Model", ports: list[Port]) -> list[Subnet]:
    ids = {ip["subnet_id"] for p in ports for ip in p.fixed_ips or []}
    return [s for s in (model.find("subnet", i) for i in ids) if s is not None]


def _external_network(model: "Model", network_id: str, ctx: Context) -> Network:
    net = model.get("network", network_id, ctx)
    if not net.external:      # as absent (Neutron: 400), so the document's schema says what is accepted
        raise NotFound(f"External network {network_id} could not be found.", "ExternalNetworkNotFound")
    return net


# ---- routers ----

def prepare_router(model: "Model", router: Router, old: Router | None, ctx: Context):
    extra: list[Change] = []
    if old is None:
        key = model.next_key("router", pipeline.MAX_ROUTER_KEY)
        if key is None:
            raise Conflict("no free router key left")
        router = replace(router, key=key)
    old_gw = (old.external_gateway_info or {}) if old else {}
    new_gw = router.external_gateway_info or {}
    _gateway_policy(new_gw, old_gw, ctx)
    gw_ports = router_ports(model, router.id, ROUTER_GATEWAY) if old else []
    keeps_port = bool(gw_ports and new_gw) and new_gw["network_id"] == old_gw.get("network_id") and \
        new_gw.get("external_fixed_ips") in (None, old_gw.get("external_fixed_ips"))
    if keeps_port:       # same network and addresses: only enable_snat may change, the port stays
        router = replace(router, external_gateway_info={**old_gw, "enable_snat": new_gw.get("enable_snat", True)})
    elif new_gw != old_gw or (new_gw and not gw_ports):
        if old_gw and model.list("floatingip", {"router_id": [router.id]}) and \
                new_gw.get("network_id") != old_gw.get("network_id"):
            raise Conflict(f"Gateway cannot be updated for router {router.id}, since a gateway to external "
                           f"network {old_gw['network_id']} is required by one or more floating IPs.",
                           "RouterExternalGatewayInUseByFloatingIp")
        extra += [Change("port", p, None) for p in gw_ports]
        if new_gw:
            net = _external_network(model, new_gw["network_id"], ctx)
            port, port_changes = service_port(model, net, router.id, ROUTER_GATEWAY, "",
                                           new_gw.get("external_fixed_ips"), [p.id for p in gw_ports])
            extra += port_changes
            router = replace(router, external_gateway_info={
                "network_id": net.id, "enable_snat": new_gw.get("enable_snat", True),
                "external_fixed_ips": port.fixed_ips})
    _check_routes(model, router)
    return router, extra


GATEWAY_DEFAULTS = {"enable_snat": True, "external_fixed_ips": None}     # only admins choose other values


def _gateway_policy(new_gw: dict, old_gw: dict, ctx: Context) -> None:
    """Members may not choose the gateway's addresses or turn SNAT off (admin-only in Neutron); repeating
    what the gateway already has is fine."""
    if ctx.is_admin or not new_gw:
        return
    current = old_gw if new_gw.get("network_id") == old_gw.get("network_id") else {}
    for key, default in GATEWAY_DEFAULTS.items():
        if key in new_gw and new_gw[key] != current.get(key, default):
            raise Forbidden(f"Policy doesn't allow update_router:external_gateway_info:{key} to be performed.")


def _check_routes(model: "Model", router: Router) -> None:
    """Every nexthop must be on a subnet the router is attached to."""
    ports = router_ports(model, router.id) + router_ports(model, router.id, ROUTER_GATEWAY)
    cidrs = [netaddr.IPNetwork(s.cidr) for s in _subnets_of(model, ports)]
    for route in router.routes:
        hop = netaddr.IPAddress(route["nexthop"])
        if not any(hop in c for c in cidrs):
            raise BadRequest(f"Invalid format for routes: {route}, the nexthop is not connected with router",
                             "InvalidRoutes")


def service_port(model: "Model", net: Network, device_id: str, owner: str, project_id: str,
                 fixed_ips: list | None, ignoring: Sequence[str] = (), name: str = "") -> tuple[Port, list[Change]]:
    """A port owned by a router, a floating IP or a load balancer on `net`, allocated like any port (ignoring
    ports being replaced)."""
    subnets = {s.id: s for s in model.list("subnet", {"network_id": [net.id]})}
    others = [p for p in model.list("port", {"network_id": [net.id]}) if p.id not in ignoring]
    used = {(ip["subnet_id"], ip["ip_address"]) for p in others for ip in p.fixed_ips or []}
    v4 = [s for s in subnets.values() if s.ip_version == 4]
    ips = (ipam.resolve_ips(fixed_ips, subnets, used, net.id, may_use_gateway=owner == ROUTER_INTERFACE)
           if fixed_ips else ipam.auto_ips(v4, used))
    if not ips:
        raise Conflict(f"Network {net.id} has no IPv4 subnet to allocate an address from")
    port = Port(id=str(uuid.uuid4()), project_id=project_id, network_id=net.id, fixed_ips=ips, name=name,
                mac_address=ipam.new_mac({p.mac_address for p in others}), device_id=device_id,
                device_owner=owner, security_groups=[], port_security_enabled=False, key=new_port_key(model))
    return port, [Change("port", None, port)]


def deleting_router(model: "Model", router: Router, ctx: Context) -> list[Change]:
    if router_ports(model, router.id):     # (a floating IP's router holds the interface it goes through)
        raise Conflict(f"Router {router.id} still has ports", "RouterInUse")
    return [Change("router", router, None)] + \
        [Change("port", p, None) for p in router_ports(model, router.id, ROUTER_GATEWAY)]


def interface_info(router: Router, port: Port) -> dict:
    subnet_ids = [ip["subnet_id"] for ip in port.fixed_ips or []]
    return {"id": router.id, "tenant_id": router.project_id, "project_id": router.project_id,
            "port_id": port.id, "network_id": port.network_id, "subnet_id": subnet_ids[0] if subnet_ids else None,
            "subnet_ids": subnet_ids}


def _one_of_subnet_or_port(body: Any) -> tuple[str | None, str | None]:
    if not isinstance(body, dict) or set(body) - {"subnet_id", "port_id"} or len(body) != 1:
        raise BadRequest("Either subnet_id or port_id must be specified (and nothing else)")
    subnet_id, port_id = body.get("subnet_id"), body.get("port_id")
    return (check_uuid(subnet_id) if subnet_id is not None else None,
            check_uuid(port_id) if port_id is not None else None)


def add_interface(model: "Model", router: Router, body: Any, ctx: Context) -> tuple[list[Change], dict]:
    """PUT /routers/{id}/add_router_interface: by subnet (a port with its gateway IP) or by an unused port."""
    subnet_id, port_id = _one_of_subnet_or_port(body)
    attached = _subnets_of(model, router_ports(model, router.id))
    if subnet_id is not None:
        sub = model.get("subnet", subnet_id, ctx)
        if not ctx.owns(sub):       # a shared network's: its gateway is every project's, not this router's to take
            raise BadRequest(f"Cannot add interface to router because subnet {sub.id} is not owned by project "
                             f"making the request")
        if sub.gateway_ip is None:
            raise Conflict(f"Bad router request: Subnet {sub.id} does not have a gateway IP.")
        net = model.get("network", sub.network_id, ctx)
        port, changes = service_port(model, net, router.id, ROUTER_INTERFACE, router.project_id,
                                  [{"subnet_id": sub.id, "ip_address": sub.gateway_ip}])
        new_subnets = [sub]
    else:
        port = model.get("port", port_id or "", ctx)
        if port.device_owner or port.device_id:
            raise Conflict(f"Unable to complete operation on port {port.id}: it is in use by "
                           f"{port.device_owner or port.device_id}.", "PortInUse")
        if not port.fixed_ips:
            raise Conflict(f"Bad router request: Router port {port.id} must have at least one IP address")
        new_subnets = _subnets_of(model, [port])
        updated = replace(port, device_owner=ROUTER_INTERFACE, device_id=router.id)
        changes = [Change("port", port, updated)]
        port = updated
    for sub in new_subnets:
        for other in attached:
            if netaddr.IPNetwork(sub.cidr) in netaddr.IPNetwork(other.cidr) or \
                    netaddr.IPNetwork(other.cidr) in netaddr.IPNetwork(sub.cidr):
                raise Conflict(f"Bad router request: Cidr {sub.cidr} of subnet {sub.id} overlaps with cidr "
                                 f"{other.cidr} of subnet {other.id}.")
    return changes, interface_info(router, port)


def remove_interface(model: "Model", router: Router, body: Any, ctx: Context) -> tuple[list[Change], dict]:
    """PUT /routers/{id}/remove_router_interface: by subnet or port; routes and floating IPs must not need it."""
    subnet_id, port_id = _one_of_subnet_or_port(body)
    ports = router_ports(model, router.id)
    if port_id is not None:
        port = next((p for p in ports if p.id == port_id), None)
        if port is None:
            raise NotFound(f"Router {router.id} does not have an interface with id {port_id}",
                           "RouterInterfaceNotFound")
    else:
        port = next((p for p in ports if any(ip["subnet_id"] == subnet_id for ip in p.fixed_ips or [])), None)
        if port is None:
            raise NotFound(f"Router {router.id} has no interface on subnet {subnet_id}",
                           "RouterInterfaceNotFoundForSubnet")
    for sub in _subnets_of(model, [port]):
        cidr = netaddr.IPNetwork(sub.cidr)
        if any(netaddr.IPAddress(r["nexthop"]) in cidr for r in router.routes):
            raise Conflict(f"Router interface for subnet {sub.id} on router {router.id} cannot be deleted, as "
                           f"it is required by one or more routes.", "RouterInterfaceInUseByRoute")
        for fip in model.list("floatingip", {"router_id": [router.id]}):
            internal = [fip.fixed_ip_address] + [pf.internal_ip_address for pf in
                                                 model.list("port_forwarding", {"floatingip_id": [fip.id]})]
            if any(ip and netaddr.IPAddress(ip) in cidr for ip in internal):
                raise Conflict(f"Router interface for subnet {sub.id} on router {router.id} cannot be deleted, "
                               f"as it is required by floating IP {fip.id}.", "RouterInterfaceInUseByFloatingIP")
    return [Change("port", port, None)], interface_info(router, port)


# ---- floating IPs ----

def prepare_floatingip(model: "Model", fip: FloatingIP, old: FloatingIP | None, ctx: Context):
    changes: list[Change] = []
    if old is None:
        net = _external_network(model, fip.floating_network_id, ctx)
        wanted = [{k: v for k, v in (("subnet_id", fip.subnet_id), ("ip_address", fip.floating_ip_address or None))
                   if v}] if fip.subnet_id or fip.floating_ip_address else None
        port, changes = service_port(model, net, fip.id, FLOATINGIP, "", wanted)
        first = port.fixed_ips[0] if port.fixed_ips else {}
        fip = replace(fip, floating_ip_address=first["ip_address"], subnet_id=first["subnet_id"])
    forwarded = bool(old and model.list("port_forwarding", {"floatingip_id": [fip.id]}))
    if fip.port_id is None:
        if forwarded:     # its port forwardings keep it on their router
            return replace(fip, fixed_ip_address=None), changes
        return replace(fip, fixed_ip_address=None, router_id=None, status="DOWN"), changes
    if forwarded:
        raise Conflict(f"Floating IP {fip.id} has port forwardings; it cannot also be associated with a port.",
                       "FloatingIPPortAlreadyAssociated")
    return _associate(model, fip, ctx), changes


def _associate(model: "Model", fip: FloatingIP, ctx: Context) -> FloatingIP:
    """The floating IP bound to its port's fixed IPv4, through a router with a gateway on its network."""
    port = model.get("port", fip.port_id or "", ctx)
    if port.device_owner.startswith("network:"):
        raise Conflict(f"Port {port.id} is a {port.device_owner} port and cannot have a floating IP")
    v4 = [ip for ip in port.fixed_ips or [] if netaddr.IPAddress(ip["ip_address"]).version == 4]
    if not v4:
        raise Conflict(f"Port {port.id} does not have an IPv4 address to associate with a floating IP")
    fixed = fip.fixed_ip_address or v4[0]["ip_address"]
    entry = next((ip for ip in v4 if ip["ip_address"] == fixed), None)
    if entry is None:
        raise Conflict(f"Port {port.id} does not have fixed ip {fixed}")
    for other in model.list("floatingip", {"port_id": [port.id]}):
        if other.id != fip.id and other.fixed_ip_address == fixed:
            raise Conflict(f"Cannot associate floating IP {fip.floating_ip_address} with port {port.id} using "
                           f"fixed IP {fixed}, as that fixed IP already has floating IP {other.floating_ip_address}.",
                           "FloatingIPPortAlreadyAssociated")
    router = router_for(model, entry["subnet_id"], fip.floating_network_id)
    if router is None:
        raise NotFound(f"External network {fip.floating_network_id} is not reachable from subnet "
                       f"{entry['subnet_id']}. Therefore, cannot associate Port {port.id} with a Floating IP.",
                       "ExternalGatewayForFloatingIPNotFound")
    return replace(fip, fixed_ip_address=fixed, router_id=router.id, status="ACTIVE")


def router_for(model: "Model", subnet_id: str, external_network_id: str) -> Router | None:
    """The router with an interface on `subnet_id` and its gateway on `external_network_id`."""
    for router in model.list("router"):
        gw = router.external_gateway_info or {}
        if gw.get("network_id") == external_network_id and any(
                ip["subnet_id"] == subnet_id for p in router_ports(model, router.id) for ip in p.fixed_ips or []):
            return router
    return None


def deleting_floatingip(model: "Model", fip: FloatingIP, ctx: Context) -> list[Change]:
    ports = [p for p in model.list("port", {"device_id": [fip.id]}) if p.device_owner == FLOATINGIP]
    forwardings = model.list("port_forwarding", {"floatingip_id": [fip.id]})
    return [Change("port_forwarding", pf, None) for pf in forwardings] + [Change("floatingip", fip, None)] + \
        [Change("port", p, None) for p in ports]


RULES = [
    Rules(Router, prepare_router, deleting_router),
    Rules(FloatingIP, prepare_floatingip, deleting_floatingip),
]

# (kind, action name) -> handler (model, the kind's object, body, context) -> (changes, the answer's body)
ACTIONS: dict[tuple[str, str], Callable[..., tuple[list[Change], dict]]] = {
    ("router", "add_router_interface"): add_interface, ("router", "remove_router_interface"): remove_interface}
