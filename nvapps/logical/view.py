"""The logical view the forwarding services compute from: the model placed on the chassis known now.

A view follows the model from one sync round to the next, and what did not change is the very object of the
previous view (bound ports, each network's members, each chassis's local ports, the tunnel endpoints), so
flows cached by these objects (nvapps.core.pieces) are found again at the cost of a pointer comparison.
When only ports changed (none of them a router's port or a VIP), the next view is the previous one patched
where those ports were and are (their networks' members, their chassis's ports and presence): its cost grows
with the change, not with the model. Any other change of what the view reads builds it whole, from the
previous one (`build_view`, also the reference the patched view is tested against). Each view carries the
model's changes since the one before it (`Delta`), so the readings built from views (the ACL view) can
follow them in the same way.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Protocol, TypeVar

from nvapps.core.topology import Chassis, Uplink
from nvapps.logical.gateways import router_gateways
from nvapps.logical.ports import BoundPort, bind, bound_by_id, router_interfaces
from nvapps.logical.presence import Presence, presence
from nvapps.logical.routers import RouterView, router_views
from nvapps.model.base import Change, Resource
from nvapps.model.network import LOADBALANCER_VIP, ROUTER_GATEWAY, ROUTER_INTERFACE, Network, Port, Subnet
from nvapps.model.router import Router
from nvapps.model.service import Model

VIEW_KINDS = frozenset({"network", "subnet", "router", "chassis"})   # read by the view (ports apart)
ROUTING_OWNERS = frozenset({ROUTER_INTERFACE, ROUTER_GATEWAY, LOADBALANCER_VIP})   # ports read beyond their binding
JOURNAL_LIMIT = 2000       # changed objects followed between two views; beyond, the next one is built whole


@dataclass(frozen=True, eq=False)
class Members:
    """One network's bound ports, router interfaces and load balancers' VIPs, and the chassis its ports are
    on; the same object while they are unchanged (compared, and cached by, identity)."""

    key: int
    ports: tuple[BoundPort, ...]
    interfaces: tuple[BoundPort, ...]
    chassis: frozenset[str]
    vips: tuple[BoundPort, ...] = ()

    def same(self, ports: tuple[BoundPort, ...], interfaces: tuple[BoundPort, ...], vips: tuple[BoundPort, ...]) -> bool:
        return self.ports == ports and self.interfaces == interfaces and self.vips == vips


@dataclass(frozen=True, eq=False)
class Endpoints:
    """Each chassis's tunnel type and IP (what reg12 carries towards it); the same object while unchanged."""

    tunnels: tuple[tuple[str, str | None, int], ...]        # (chassis, tunnel type, tunnel IP)

    @property
    def ips(self) -> dict[str, int]:
        """Tunnel IPs by chassis name."""
        return self.__dict__.get("_ips") or self.__dict__.setdefault("_ips", {n: ip for n, _, ip in self.tunnels})


@dataclass(frozen=True)
class Delta:
    """The model's changes since the previous view: each changed object's state as that view saw it (None: it
    did not exist), by kind and id."""

    was: dict[str, dict[str, Resource | None]]

    def touches(self, kinds: Iterable[str]) -> bool:
        """Whether an object of one of `kinds` changed."""
        return any(kind in self.was for kind in kinds)

    def ports(self) -> dict[str, Port | None]:
        """The changed ports' states then, by id."""
        return self.was.get("port", {})  # type: ignore[return-value]


NO_MEMBERS_CHASSIS: frozenset[str] = frozenset()
_NO_MEMBERS: dict[int, Members] = {}


@dataclass(frozen=True)
class LogicalView:
    """Bound ports, router interfaces, routers with their gateways, what each chassis must know, and every
    chassis with its tunnel endpoint; indexed by network (members) and by chassis (local ports)."""

    bound: list[BoundPort]
    interfaces: list[BoundPort]
    routers: list[RouterView]
    presence: Presence
    chassis: dict[str, Chassis]
    members: dict[int, Members] = field(default_factory=dict)
    local: dict[str, tuple[BoundPort, ...]] = field(default_factory=dict)
    fabric: Endpoints = Endpoints(())
    placed: dict[str, BoundPort] = field(default_factory=dict)     # the bound ports by port id
    keys: dict[str, int] = field(default_factory=dict)             # the up networks' keys by network id
    vips: dict[int, tuple[BoundPort, ...]] = field(default_factory=dict)   # the up VIPs by network key
    serial: int = 0                 # this view's number in its Views (0: built alone)
    delta: Delta | None = None      # the changes since view serial - 1 (None: not known)

    @property
    def endpoints(self) -> dict[str, int]:
        """Each chassis's tunnel IP by name."""
        return self.fabric.ips

    def members_of(self, key: int) -> Members:
        """Network `key`'s members (the same object for a network without any, too)."""
        return self.members.get(key) or _NO_MEMBERS.setdefault(key, Members(key, (), (), NO_MEMBERS_CHASSIS))


def build_view(networks: list[Network], ports: list[Port], subnets: list[Subnet], routers: list[Router],
               chassis: dict[str, Chassis], uplinks: list[Uplink], previous: LogicalView | None = None) -> LogicalView:
    """The view of these objects on `chassis` (connected or registered), gateways placed on `uplinks`;
    what is unchanged since `previous` is taken from it."""
    keys = {n.id: n.key for n in networks if n.admin_state_up}
    gateways = router_gateways(routers, networks, ports, subnets, uplinks, chassis)
    views = router_views(routers, ports, subnets, keys, gateways)
    placed = bound_by_id(networks, ports, chassis, *((previous.placed, previous.chassis) if previous else ()))
    bound = list(placed.values())
    interfaces = router_interfaces(networks, ports)
    if previous is not None:
        interfaces = _reused(interfaces, previous.interfaces)
    up = {v.router.id for v in views}
    by_network, ifaces_by_network, vips_by_network = _by_network(bound), _by_network(interfaces), \
        _by_network([v for v in router_interfaces(networks, ports, LOADBALANCER_VIP) if v.port.admin_state_up])
    vips = {key: tuple(of) for key, of in vips_by_network.items()}
    members = {}
    for key in by_network.keys() | ifaces_by_network.keys():
        members[key] = _members(key, tuple(by_network.get(key, ())), tuple(ifaces_by_network.get(key, ())),
                                vips.get(key, ()), previous.members.get(key) if previous is not None else None)
    tunnels = tuple((c.name, c.tunnel_type, c.tunnel_ip) for c in chassis.values())
    fabric = previous.fabric if previous is not None and previous.fabric.tunnels == tunnels else Endpoints(tunnels)
    return LogicalView(bound, interfaces, views, presence(bound, interfaces, gateways, up), chassis, members,
                       by_chassis(bound, previous.local if previous is not None else {}), fabric, placed, keys, vips)


def _members(key: int, ports: tuple[BoundPort, ...], interfaces: tuple[BoundPort, ...],
             vips: tuple[BoundPort, ...], old: Members | None) -> Members:
    """Network `key`'s members: `old` itself while they are the same."""
    if old is not None and old.same(ports, interfaces, vips):
        return old
    return Members(key, ports, interfaces, frozenset(b.chassis for b in ports), vips)


def patched(view: LogicalView, ports: Iterable[str], model: Model) -> LogicalView:
    """`view` after the ports of ids `ports` changed in `model` (none of them a router's port or a VIP, before
    or after), every other object it reads and the topology being the same: equal to the view built whole."""
    changed: list[tuple[BoundPort | None, BoundPort | None]] = []     # (was, now) of each port bound otherwise
    for port_id in ports:
        was, port = view.placed.get(port_id), model.find("port", port_id)
        now = bind(port, view.keys, view.chassis) if port is not None else None
        if now != was:
            changed.append((was, now))
    if not changed:
        return view
    place = place_of(model)
    placed = dict(view.placed)
    for was, now in changed:
        if now is not None and was is not None:
            placed[now.port.id] = now           # in its place already
        elif was is not None:
            del placed[was.port.id]
    added = sorted((now for was, now in changed if was is None and now is not None), key=place)
    if added:
        last = next(reversed(placed.values()), None)
        ordered = last is None or place(last) < place(added[0])
        placed.update((b.port.id, b) for b in added)
        if not ordered:
            placed = dict(sorted(placed.items(), key=lambda item: place(item[1])))
    gone = {b.port.id for pair in changed for b in pair if b is not None}
    now_bound = [now for _, now in changed if now is not None]
    touched = [b for pair in changed for b in pair if b is not None]
    members = dict(view.members)
    for key in {b.network_key for b in touched}:
        old = view.members.get(key)
        ports_of = spliced(old.ports if old is not None else (), gone,
                           [b for b in now_bound if b.network_key == key], place)
        interfaces = old.interfaces if old is not None else ()
        if ports_of or interfaces:
            members[key] = _members(key, ports_of, interfaces, view.vips.get(key, ()), None)
        else:
            del members[key]            # (it had the port that left)
    local = dict(view.local)
    hosts = {b.chassis for b in touched}
    for host in hosts:
        ports_of = spliced(view.local.get(host, ()), gone, [b for b in now_bound if b.chassis == host], place)
        if ports_of:
            local[host] = ports_of
        else:
            del local[host]
    return replace(view, bound=list(placed.values()), placed=placed, members=members, local=local,
                   presence=view.presence.patched(local, hosts))


class _Identified(Protocol):
    @property
    def id(self) -> str: ...


T = TypeVar("T", bound=_Identified)


def spliced(items: tuple[T, ...], changed: set[str], now: Sequence[T], place: Callable[[T], int]) -> tuple[T, ...]:
    """`items` after those of ids `changed` changed: each is now the one of `now` with its id, in its place, or
    gone; the others of `now` join, in their creation order (`place`)."""
    fresh = {x.id: x for x in now}
    out = [fresh.pop(x.id) if x.id in fresh else x for x in items if x.id not in changed or x.id in fresh]
    if fresh:
        joined = sorted(fresh.values(), key=place)
        out = out + joined if not out or place(joined[0]) > place(out[-1]) else sorted(out + joined, key=place)
    return tuple(out)


def place_of(model: Model) -> Callable[[_Identified], int]:
    """A port's (or a bound port's) place in the model's creation order."""
    return lambda x: model.place("port", x.id)


def _by_network(ports: list[BoundPort]) -> dict[int, list[BoundPort]]:
    by: dict[int, list[BoundPort]] = defaultdict(list)
    for b in ports:
        by[b.network_key].append(b)
    return by


def by_chassis(bound: list[BoundPort], previous: dict[str, tuple[BoundPort, ...]]) -> dict[str, tuple[BoundPort, ...]]:
    """Bound ports by chassis; a chassis's ports equal to those in `previous` are that very tuple."""
    local: dict[str, list[BoundPort]] = defaultdict(list)
    for b in bound:
        local[b.chassis].append(b)
    out = {}
    for name, ports_of in local.items():
        here, was = tuple(ports_of), previous.get(name)
        out[name] = was if was == here else here
    return out


def _reused(new: list[BoundPort], old: list[BoundPort]) -> list[BoundPort]:
    """`new`, with each bound port equal to one in `old` replaced by that very object."""
    by_id = {b.port.id: b for b in old}
    out = []
    for b in new:
        was = by_id.get(b.port.id)
        out.append(was if was is not None and was == b else b)
    return out


def logical_view(model: Model, chassis: dict[str, Chassis], uplinks: list[Uplink],
                 previous: LogicalView | None = None) -> LogicalView:
    """The view of the whole model."""
    return build_view(model.networks(), model.ports(), model.subnets(), model.list("router"), chassis, uplinks,
                      previous)


class Views:
    """The view of the current model on the current topology, made again only after one of them changed, from the
    previous view (so every service of a round reads the same objects, and unchanged ones stay the same):
    patched where only ports changed, else built whole."""

    def __init__(self, model: Model) -> None:
        self.model = model
        self._generation = -1                          # the model's, and the topology, of the current view
        self._topology: Hashable = None
        self._view: LogicalView | None = None
        self._was: dict[str, dict[str, Resource | None]] | None = None   # None: not followed (no view yet, or
        self._followed = 0                                                 # more changes than JOURNAL_LIMIT)
        model.subscribe(self._changed)

    def _changed(self, changes: list[Change]) -> None:
        """Each changed object's state as the current view saw it (its first state since)."""
        if self._was is None:
            return
        for c in changes:
            was = self._was.setdefault(c.kind, {})
            if c.obj.id not in was:
                was[c.obj.id] = c.old
                self._followed += 1
        if self._followed > JOURNAL_LIMIT:
            self._was = None

    def current(self, chassis: dict[str, Chassis], uplinks: list[Uplink], topology: Hashable) -> LogicalView:
        """The view on `chassis`, which `topology` identifies (it changes whenever they do)."""
        previous = self._view
        if previous is not None and (self.model.generation, topology) == (self._generation, self._topology):
            return previous
        delta = Delta(self._was) if self._was is not None else None
        self._was, self._followed = {}, 0
        if previous is None or delta is None or topology != self._topology or delta.touches(VIEW_KINDS) \
                or not _plain(delta.ports(), self.model):
            view = logical_view(self.model, chassis, uplinks, previous)
        else:
            view = patched(previous, delta.ports(), self.model)
        self._view = replace(view, serial=previous.serial + 1 if previous is not None else 1, delta=delta)
        self._generation, self._topology = self.model.generation, topology
        return self._view


def _plain(ports: dict[str, Port | None], model: Model) -> bool:
    """Whether none of these ports (as they were, and are) is a router's port or a VIP."""
    for port_id, was in ports.items():
        now = model.find("port", port_id)
        if was is not None and was.device_owner in ROUTING_OWNERS or \
                now is not None and now.device_owner in ROUTING_OWNERS:
            return False
    return True
