"""The logical view the forwarding services compute from: the model placed on the chassis known now.

A view is rebuilt from the model for each sync round, but what did not change is the very object of the
previous view (bound ports, each network's members, each chassis's local ports, the tunnel endpoints), so
flows cached by these
objects (nvapps.core.pieces) are found again at the cost of a pointer comparison.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable
from dataclasses import dataclass, field

from nvapps.core.topology import Chassis, Uplink
from nvapps.logical.gateways import router_gateways
from nvapps.logical.ports import BoundPort, bound_by_id, router_interfaces
from nvapps.logical.presence import Presence, presence
from nvapps.logical.routers import RouterView, router_views
from nvapps.model.network import LOADBALANCER_VIP, Network, Port, Subnet
from nvapps.model.router import Router
from nvapps.model.service import Model


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
    members = {}
    for key in by_network.keys() | ifaces_by_network.keys():
        ports_of, ifaces_of = tuple(by_network.get(key, ())), tuple(ifaces_by_network.get(key, ()))
        vips_of = tuple(vips_by_network.get(key, ()))
        old = previous.members.get(key) if previous is not None else None
        members[key] = old if old is not None and old.same(ports_of, ifaces_of, vips_of) else \
            Members(key, ports_of, ifaces_of, frozenset(b.chassis for b in ports_of), vips_of)
    tunnels = tuple((c.name, c.tunnel_type, c.tunnel_ip) for c in chassis.values())
    fabric = previous.fabric if previous is not None and previous.fabric.tunnels == tunnels else Endpoints(tunnels)
    return LogicalView(bound, interfaces, views, presence(bound, interfaces, gateways, up), chassis, members,
                       by_chassis(bound, previous.local if previous is not None else {}), fabric, placed)


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
    """The view of the current model on the current topology, rebuilt only after one of them changed, from the
    previous view (so every service of a round reads the same objects, and unchanged ones stay the same)."""

    def __init__(self, model: Model) -> None:
        self.model = model
        self._key: Hashable = None
        self._view: LogicalView | None = None

    def current(self, chassis: dict[str, Chassis], uplinks: list[Uplink], topology: Hashable) -> LogicalView:
        """The view on `chassis`, which `topology` identifies (it changes whenever they do)."""
        key = (self.model.generation, topology)
        if self._view is None or key != self._key:
            self._view = logical_view(self.model, chassis, uplinks, self._view)
            self._key = key
        return self._view
