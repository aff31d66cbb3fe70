"""Load balancers in Octavia's v2 shapes: a load balancer (its VIP, a port it owns on a tenant subnet), its
TCP/UDP listeners, pools (round robin or source IP, weighted members) and health monitors.

Every member is reached from the VIP's network: on it, or on a subnet of a router that has an interface on
it. A VIP's or a member's subnet, like every reference in a request, must be the caller's or a shared network's
(or an admin's request).
"""
from __future__ import annotations

import re
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Callable, ClassVar

import netaddr

from nvapps.model.base import Change, Resource, Rules, resource
from nvapps.model.context import Context
from nvapps.model.errors import BadRequest, Conflict
from nvapps.model.fields import (
    attr,
    check_bool,
    check_ipv4,
    check_l4_port,
    check_str,
    check_uuid,
    either,
    int_range,
    list_of,
    nullable,
    one_of,
    with_schema,
)
from nvapps.model.network import LOADBALANCER_VIP, ROUTER_INTERFACE, Subnet, disassociated, owned_network
from nvapps.model.router import service_port
from nvapps.model.security import default_group

if TYPE_CHECKING:
    from nvapps.model.service import Model

PROTOCOLS = ("TCP", "UDP")
ALGORITHMS = ("ROUND_ROBIN", "SOURCE_IP")
MONITOR_TYPES = ("TCP", "HTTP", "PING", "UDP-CONNECT")


@with_schema({"type": "string", "pattern": "^[1-5][0-9][0-9](-[1-5][0-9][0-9]|(,[1-5][0-9][0-9])*)$"})
def check_codes(value: Any) -> str:
    """HTTP status codes a monitor expects: "200", "200,202" or "200-204"."""
    value = check_str(value)
    if not re.fullmatch(r"[1-5]\d\d(-[1-5]\d\d|(,[1-5]\d\d)*)", value):
        raise BadRequest(f"'{value}' is not a status code, a list (200,202) or a range (200-204) of them")
    return value


@with_schema({"type": "string", "pattern": "^/[!-~]*$"})
def check_url_path(value: Any) -> str:
    """A monitor's HTTP path: "/" and visible ASCII (no spaces)."""
    value = check_str(value)
    if not re.fullmatch(r"/[!-~]*", value):
        raise BadRequest(f"'{value}' is not a URL path (/ then visible ASCII characters, no spaces)")
    return value


@resource
class Balancing(Resource):
    """What every object of a load balancer's tree has: an administrative state, and Octavia's provisioning
    and operating statuses (shown live by the REST app)."""

    admin_state_up: bool = attr(check_bool, default=True)
    provisioning_status: str = attr(create=False, update=False, default="PENDING_CREATE")
    operating_status: str = attr(create=False, update=False, default="OFFLINE")


@resource
class LoadBalancer(Balancing):
    """A virtual IP on a tenant subnet, balanced by the listeners and pools of its project."""

    KIND: ClassVar[str] = "loadbalancer"
    COLLECTION: ClassVar[str] = "lbaas/loadbalancers"
    SCHEMA_RULES: ClassVar[list[dict]] = [either("vip_subnet_id", "vip_network_id")]

    vip_subnet_id: str | None = attr(nullable(check_uuid), update=False, default=None)
    vip_network_id: str | None = attr(nullable(check_uuid), update=False, default=None)
    vip_address: str | None = attr(nullable(check_ipv4), update=False, default=None)
    vip_port_id: str | None = attr(create=False, update=False, default=None)
    vip_sg_ids: list | None = attr(nullable(list_of(check_uuid)), update=False, default=None)
    provider: str = attr(one_of("nvapps"), update=False, default="nvapps")


@resource
class Listener(Balancing):
    """A protocol and port on a load balancer's VIP, handed to its default pool."""

    KIND: ClassVar[str] = "listener"
    COLLECTION: ClassVar[str] = "lbaas/listeners"

    loadbalancer_id: str = attr(check_uuid, update=False, required=True, default="")
    protocol: str = attr(one_of(*PROTOCOLS), update=False, required=True, default="")
    protocol_port: int = attr(check_l4_port, update=False, required=True, default=0)
    default_pool_id: str | None = attr(nullable(check_uuid), default=None)
    connection_limit: int = attr(int_range(-1, 1 << 31), default=-1)


@resource
class Pool(Balancing):
    """Members that share a load balancer's connections by an algorithm."""

    KIND: ClassVar[str] = "pool"
    COLLECTION: ClassVar[str] = "lbaas/pools"
    SCHEMA_RULES: ClassVar[list[dict]] = [either("listener_id", "loadbalancer_id")]

    loadbalancer_id: str | None = attr(nullable(check_uuid), update=False, default=None)
    listener_id: str | None = attr(nullable(check_uuid), update=False, default=None)
    protocol: str = attr(one_of(*PROTOCOLS), update=False, required=True, default="")
    lb_algorithm: str = attr(one_of(*ALGORITHMS), required=True, default="")
    session_persistence: None = attr(one_of(None), default=None)
    key: int = attr(create=False, update=False, internal=True, default=0)


@resource
class Member(Balancing):
    """An address and port that takes a pool's connections, in proportion to its weight (0: none)."""

    KIND: ClassVar[str] = "member"
    COLLECTION: ClassVar[str] = "members"
    PARENT: ClassVar[tuple[str, str] | None] = ("pool", "pool_id")

    pool_id: str = attr(create=False, update=False, default="")
    address: str = attr(check_ipv4, update=False, required=True, default="")
    protocol_port: int = attr(check_l4_port, update=False, required=True, default=0)
    subnet_id: str | None = attr(nullable(check_uuid), update=False, default=None)
    weight: int = attr(int_range(0, 256), default=1)
    backup: bool = attr(one_of(False), default=False)
    monitor_address: str | None = attr(nullable(check_ipv4), default=None)
    monitor_port: int | None = attr(int_range(1, 65535, nullable=True), default=None)


@resource
class HealthMonitor(Balancing):
    """How a pool's members are checked: every `delay` s, answered within `timeout` s; down after
    `max_retries_down` failures in a row, up again after `max_retries` successes."""

    KIND: ClassVar[str] = "healthmonitor"
    COLLECTION: ClassVar[str] = "lbaas/healthmonitors"

    pool_id: str = attr(check_uuid, update=False, required=True, default="")
    type: str = attr(one_of(*MONITOR_TYPES), update=False, required=True, default="")
    delay: int = attr(int_range(1, 3600), required=True, default=0)
    timeout: int = attr(int_range(1, 3600), required=True, default=0)
    max_retries: int = attr(int_range(1, 10), required=True, default=0)
    max_retries_down: int = attr(int_range(1, 10), default=3)
    http_method: str = attr(one_of("GET"), default="GET")
    url_path: str = attr(check_url_path, default="/")
    expected_codes: str = attr(check_codes, default="200")


# ---- what each object's rules read ----

def root_of(model: "Model", obj: Resource) -> str | None:
    """The id of the load balancer an object of its tree belongs to (None: gone meanwhile)."""
    if isinstance(obj, Member):
        pool = model.find("pool", obj.pool_id)
        return pool.loadbalancer_id if pool is not None else None
    if isinstance(obj, HealthMonitor):
        pool = model.find("pool", obj.pool_id)
        return pool.loadbalancer_id if pool is not None else None
    if isinstance(obj, LoadBalancer):
        return obj.id
    return getattr(obj, "loadbalancer_id", None)


KINDS = ("loadbalancer", "listener", "pool", "member", "healthmonitor")
# Live readings of an object (GET /v2.0/lbaas/<collection>/{id}/<reading>), and Octavia's statistics
READINGS = (("lbaas/loadbalancers", "stats"), ("lbaas/listeners", "stats"), ("lbaas/loadbalancers", "status"))
STATS = ("active_connections", "bytes_in", "bytes_out", "request_errors", "total_connections")


def no_stats() -> dict[str, int]:
    """Octavia's statistics of nothing counted."""
    return dict.fromkeys(STATS, 0)


def listeners_of(model: "Model", lb_id: str) -> list[Listener]:
    return model.list("listener", {"loadbalancer_id": [lb_id]})


def pools_of(model: "Model", lb_id: str) -> list[Pool]:
    return model.list("pool", {"loadbalancer_id": [lb_id]})


def members_of(model: "Model", pool_id: str) -> list[Member]:
    return model.list("member", {"pool_id": [pool_id]})


def monitor_of(model: "Model", pool_id: str) -> HealthMonitor | None:
    return next(iter(model.list("healthmonitor", {"pool_id": [pool_id]})), None)


def status_tree(model: "Model", lb: LoadBalancer, live: Callable[[Resource], dict]) -> dict:
    """Octavia's status tree of a load balancer: it, its listeners, each one's pool with its monitor and
    members, with their statuses (`live` gives them as shown now)."""
    def node(obj: Balancing, **more: Any) -> dict:
        shown = {"provisioning_status": obj.provisioning_status, "operating_status": obj.operating_status,
                 **live(obj)}
        return {"id": obj.id, "name": obj.name, "provisioning_status": shown["provisioning_status"],
                "operating_status": shown["operating_status"], **more}

    def pool_node(pool: Pool) -> dict:
        monitor = monitor_of(model, pool.id)
        return node(pool, health_monitor=node(monitor, type=monitor.type) if monitor is not None else {},
                    members=[node(m, address=m.address, protocol_port=m.protocol_port)
                             for m in members_of(model, pool.id)])

    listeners = []
    for li in listeners_of(model, lb.id):
        pool = model.find("pool", li.default_pool_id or "")
        listeners.append(node(li, pools=[pool_node(pool)] if pool is not None else []))
    return {"loadbalancer": node(lb, listeners=listeners)}


def reachable_subnets(model: "Model", vip_network_id: str) -> list[Subnet]:
    """The IPv4 subnets a VIP on `vip_network_id` reaches: its network's, and those of every router with
    an interface on it."""
    routers = {p.device_id for p in model.list("port", {"network_id": [vip_network_id]})
               if p.device_owner == ROUTER_INTERFACE}
    ids = {ip["subnet_id"] for r in routers for p in model.list("port", {"device_id": [r]})
           if p.device_owner == ROUTER_INTERFACE for ip in p.fixed_ips or []}
    subnets = model.list("subnet", {"network_id": [vip_network_id]}) + \
        [s for s in (model.find("subnet", i) for i in sorted(ids)) if s is not None]
    return list({s.id: s for s in subnets if s.ip_version == 4}.values())


# ---- rules ----

def prepare_loadbalancer(model: "Model", lb: LoadBalancer, old: LoadBalancer | None, ctx: Context):
    if old is not None:
        return lb, []
    if lb.vip_subnet_id is None and lb.vip_network_id is None:
        raise BadRequest("a load balancer needs vip_subnet_id or vip_network_id")
    if lb.vip_subnet_id is not None:       # the caller's, or a shared network's (as a port may be)
        sub: Subnet = model.get("subnet", lb.vip_subnet_id, ctx)
        if lb.vip_network_id not in (None, sub.network_id):
            raise BadRequest(f"Subnet {sub.id} is not on network {lb.vip_network_id}")
        net = owned_network(model, sub.network_id, ctx)
    else:
        net = owned_network(model, lb.vip_network_id or "", ctx)
        v4 = [s for s in model.list("subnet", {"network_id": [net.id]}) if s.ip_version == 4]
        if not v4:
            raise Conflict(f"Network {net.id} has no IPv4 subnet for a VIP")
        sub = v4[0]
    if sub.ip_version != 4:
        raise BadRequest(f"Subnet {sub.id} is not IPv4: VIPs are IPv4")
    if net.external:
        raise BadRequest(f"Network {net.id} is external: a VIP goes on a tenant subnet (a floating IP brings it "
                         f"outside)")
    wanted = [{"subnet_id": sub.id, **({"ip_address": lb.vip_address} if lb.vip_address else {})}]
    port, changes = service_port(model, net, lb.id, LOADBALANCER_VIP, lb.project_id, wanted,
                                 name=f"loadbalancer-{lb.id}")
    if lb.vip_sg_ids is None:       # as Octavia: listeners open to all; members in the group accept their
        group, made = default_group(model, lb.project_id)                        # hairpin from the VIP
        groups = [group.id]
    else:                           # the caller's groups decide who reaches the VIP (Octavia's vip_sg_ids)
        made, groups = [], [model.owned("security_group", gid, ctx).id for gid in dict.fromkeys(lb.vip_sg_ids)]
    port = replace(port, security_groups=groups, port_security_enabled=True)
    changes = made + [Change("port", None, port)]
    lb = replace(lb, vip_subnet_id=sub.id, vip_network_id=net.id,
                 vip_address=(port.fixed_ips or [{}])[0]["ip_address"], vip_port_id=port.id)
    return lb, changes


def deleting_loadbalancer(model: "Model", lb: LoadBalancer, ctx: Context) -> list[Change]:
    if listeners_of(model, lb.id) or pools_of(model, lb.id):
        raise Conflict(f"Load balancer {lb.id} still has listeners or pools: delete them, or the load balancer "
                       f"with cascade=true", "LoadBalancerInUse")
    return _without(model, lb)


def cascading_loadbalancer(model: "Model", lb: LoadBalancer, ctx: Context) -> list[Change]:
    """DELETE ?cascade=true: the load balancer with its listeners, pools, members and monitors."""
    changes = [Change("listener", li, None) for li in listeners_of(model, lb.id)]
    for pool in pools_of(model, lb.id):
        changes += _pool_gone(model, pool)
    return changes + _without(model, lb)


def _without(model: "Model", lb: LoadBalancer) -> list[Change]:
    vip = model.find("port", lb.vip_port_id or "")
    return [Change("loadbalancer", lb, None)] + ([Change("port", vip, None), *disassociated(model, vip)]
                                                 if vip is not None else [])


def prepare_listener(model: "Model", li: Listener, old: Listener | None, ctx: Context):
    lb: LoadBalancer = model.owned("loadbalancer", li.loadbalancer_id, ctx)
    if old is None:
        for other in listeners_of(model, lb.id):
            if (other.protocol, other.protocol_port) == (li.protocol, li.protocol_port):
                raise Conflict(f"Another listener on load balancer {lb.id} is using protocol {li.protocol} and "
                               f"protocol_port {li.protocol_port}", "DuplicateListenerEntry")
    if li.default_pool_id is not None:
        pool: Pool = model.owned("pool", li.default_pool_id, ctx)
        if pool.loadbalancer_id != lb.id or pool.protocol != li.protocol:
            raise Conflict(f"Pool {pool.id} is not a {li.protocol} pool of load balancer {lb.id}")
        if pool.listener_id not in (None, li.id):
            raise Conflict(f"Pool {pool.id} is the default pool of listener {pool.listener_id}")
        user = next((x for x in listeners_of(model, lb.id) if x.default_pool_id == pool.id and x.id != li.id), None)
        if user is not None:
            raise Conflict(f"Pool {pool.id} is already the default pool of listener {user.id}")
    return li, []


def deleting_listener(model: "Model", li: Listener, ctx: Context) -> list[Change]:
    pools = [p for p in model.list("pool", {"listener_id": [li.id]})]
    return [Change("listener", li, None)] + [Change("pool", p, replace(p, listener_id=None)) for p in pools]


def prepare_pool(model: "Model", pool: Pool, old: Pool | None, ctx: Context):
    if old is not None:
        return pool, []
    extra = []
    if pool.listener_id is not None:
        li: Listener = model.owned("listener", pool.listener_id, ctx)
        if pool.loadbalancer_id not in (None, li.loadbalancer_id):
            raise BadRequest(f"Listener {li.id} is not on load balancer {pool.loadbalancer_id}")
        if li.default_pool_id is not None:
            raise Conflict(f"Listener {li.id} already has default pool {li.default_pool_id}", "DuplicatePoolEntry")
        if li.protocol != pool.protocol:
            raise Conflict(f"A {pool.protocol} pool cannot serve {li.protocol} listener {li.id}")
        pool = replace(pool, loadbalancer_id=li.loadbalancer_id)
        extra.append(Change("listener", li, replace(li, default_pool_id=pool.id)))
    elif pool.loadbalancer_id is None:
        raise BadRequest("a pool needs listener_id or loadbalancer_id")
    model.owned("loadbalancer", pool.loadbalancer_id or "", ctx)
    key = model.next_key("pool", MAX_POOL_KEY)
    if key is None:
        raise Conflict("no free pool key left")
    return replace(pool, key=key), extra


def deleting_pool(model: "Model", pool: Pool, ctx: Context) -> list[Change]:
    return _pool_gone(model, pool) + [Change("listener", li, replace(li, default_pool_id=None))
                                      for li in model.list("listener", {"default_pool_id": [pool.id]})]


def _pool_gone(model: "Model", pool: Pool) -> list[Change]:
    """A pool with its members and monitor (Octavia deletes them with it)."""
    monitor = monitor_of(model, pool.id)
    return [Change("member", m, None) for m in members_of(model, pool.id)] + \
        ([Change("healthmonitor", monitor, None)] if monitor is not None else []) + [Change("pool", pool, None)]


def prepare_member(model: "Model", member: Member, old: Member | None, ctx: Context):
    if old is not None:
        return member, []
    pool: Pool = model.get("pool", member.pool_id)
    lb: LoadBalancer = model.get("loadbalancer", pool.loadbalancer_id or "")
    address = netaddr.IPAddress(member.address)
    if member.subnet_id is not None:
        named: Subnet = model.get("subnet", member.subnet_id, ctx)
        if address not in netaddr.IPNetwork(named.cidr):
            raise BadRequest(f"Member address {member.address} is not on subnet {named.id} ({named.cidr})")
    reachable = reachable_subnets(model, lb.vip_network_id or "")
    sub = next((s for s in reachable if address in netaddr.IPNetwork(s.cidr)
                and member.subnet_id in (None, s.id)), None)
    if sub is None:
        raise BadRequest(f"Member address {member.address} is on no subnet that load balancer {lb.id} reaches "
                         f"(its VIP's network, and the subnets of the routers on it)")
    if not ctx.can_see(sub):
        raise BadRequest(f"Subnet {sub.id} of member address {member.address} is neither the caller's nor shared")
    for other in members_of(model, pool.id):
        if (other.address, other.protocol_port) == (member.address, member.protocol_port):
            raise Conflict(f"Another member on pool {pool.id} has address {member.address} and port "
                           f"{member.protocol_port}", "DuplicateMemberEntry")
    return replace(member, subnet_id=sub.id), []


def deleting_member(model: "Model", member: Member, ctx: Context) -> list[Change]:
    return [Change("member", member, None)]


def prepare_monitor(model: "Model", hm: HealthMonitor, old: HealthMonitor | None, ctx: Context):
    pool: Pool = model.owned("pool", hm.pool_id, ctx)
    if old is None and monitor_of(model, pool.id) is not None:
        raise Conflict(f"Pool {pool.id} already has a health monitor", "DuplicateHealthMonitor")
    if hm.timeout > hm.delay:
        raise BadRequest(f"timeout ({hm.timeout}) must not be greater than delay ({hm.delay})")
    if (hm.type == "UDP-CONNECT") != (pool.protocol == "UDP"):
        raise Conflict(f"A {hm.type} monitor cannot check {pool.protocol} pool {pool.id}")
    return hm, []


def deleting_monitor(model: "Model", hm: HealthMonitor, ctx: Context) -> list[Change]:
    return [Change("healthmonitor", hm, None)]


def show_loadbalancer(model: "Model", lb: LoadBalancer) -> dict:
    return {"listeners": [{"id": li.id} for li in listeners_of(model, lb.id)],
            "pools": [{"id": p.id} for p in pools_of(model, lb.id)]}


def show_listener(model: "Model", li: Listener) -> dict:
    return {"loadbalancers": [{"id": li.loadbalancer_id}]}


def show_pool(model: "Model", pool: Pool) -> dict:
    monitor = monitor_of(model, pool.id)
    return {"loadbalancers": [{"id": pool.loadbalancer_id}],
            "listeners": [{"id": li.id} for li in model.list("listener", {"default_pool_id": [pool.id]})],
            "members": [{"id": m.id} for m in members_of(model, pool.id)],
            "healthmonitor_id": monitor.id if monitor is not None else None}


def show_monitor(model: "Model", hm: HealthMonitor) -> dict:
    return {"pools": [{"id": hm.pool_id}]}


MAX_POOL_KEY = 0xFFFF

RULES = [
    Rules(LoadBalancer, prepare_loadbalancer, deleting_loadbalancer, show_loadbalancer,
          cascade=cascading_loadbalancer),
    Rules(Listener, prepare_listener, deleting_listener, show_listener),
    Rules(Pool, prepare_pool, deleting_pool, show_pool),
    Rules(Member, prepare_member, deleting_member),
    Rules(HealthMonitor, prepare_monitor, deleting_monitor, show_monitor),
]
