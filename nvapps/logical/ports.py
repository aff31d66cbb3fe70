"""Bound ports: the ports whose interface exists now, each with its network's key and where it is."""
from __future__ import annotations

from dataclasses import dataclass, field

from nvapps.core.topology import Chassis, Location, locate
from nvapps.model.network import ROUTER_INTERFACE, Network, Port


@dataclass(frozen=True)
class BoundPort:
    """A port whose interface exists now (or a distributed router port): its network key and where it is."""

    port: Port
    network_key: int
    location: Location | None     # None: a router interface, present wherever its network is
    chassis: str = field(init=False, compare=False, repr=False)     # where it is ("" for a router interface)
    _hash: int = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        """What a round reads many times is computed once: the chassis, and the hash (bound ports key flows)."""
        object.__setattr__(self, "chassis", self.location.chassis if self.location is not None else "")
        object.__setattr__(self, "_hash", hash((self.port, self.network_key, self.location)))

    def __hash__(self) -> int:
        return self._hash

    @property
    def id(self) -> str:
        """Its port's id."""
        return self.port.id


def bound_ports(networks: list[Network], ports: list[Port], chassis: dict[str, Chassis]) -> list[BoundPort]:
    """Ports that are administratively up, on an up network, and whose bound interface exists now."""
    return list(bound_by_id(networks, ports, chassis).values())


def bound_by_id(networks: list[Network], ports: list[Port], chassis: dict[str, Chassis],
                was: dict[str, BoundPort] | None = None, was_on: dict[str, Chassis] | None = None
                ) -> dict[str, BoundPort]:
    """The bound ports by port id (in the ports' order). A port bound in `was` (computed on `was_on`) whose
    object, network key and chassis are unchanged keeps that very bound port, without being located again."""
    keys = {n.id: n.key for n in networks if n.admin_state_up}
    same = {name for name, ch in chassis.items() if was_on is not None and was_on.get(name) == ch}
    old = was if was is not None and same else {}
    out = {}
    for port in ports:
        b = old.get(port.id)
        if b is not None and b.port is port and b.chassis in same and keys.get(port.network_id) == b.network_key:
            out[port.id] = b
            continue
        bound = bind(port, keys, chassis)
        if bound is not None:
            out[port.id] = bound
    return out


def bind(port: Port, keys: dict[str, int], chassis: dict[str, Chassis]) -> BoundPort | None:
    """The port bound where its interface is, if it exists, the port is up and its network (keys: the up
    networks' keys by id) is up."""
    loc = locate(port.host_id, port.interface_name, chassis)
    if loc is not None and port.admin_state_up and port.network_id in keys:
        return BoundPort(port, keys[port.network_id], loc)
    return None


def router_interfaces(networks: list[Network], ports: list[Port], owner: str = ROUTER_INTERFACE) -> list[BoundPort]:
    """Router interface ports (or other distributed ports of `owner`, such as VIPs): present on every chassis
    that has their network (location None)."""
    keys = {n.id: n.key for n in networks if n.admin_state_up}
    return [BoundPort(p, keys[p.network_id], None) for p in ports
            if p.device_owner == owner and p.network_id in keys]
