"""The switches (chassis) the controller knows, and where each logical port's interface is."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Interface:
    """A switch port as OpenFlow reports it."""

    name: str
    ofport: int
    up: bool = True


@dataclass(frozen=True)
class Uplink:
    """A chassis interface into a physical network (the provider side of external networks)."""

    chassis: str
    physnet: str
    interface: str


@dataclass
class Chassis:
    """A connected switch: its chassis name, datapath id, interfaces by name, and which of them are the
    inter-chassis link and the uplinks (interface name by physical network)."""

    name: str
    dpid: int
    interfaces: dict[str, Interface] = field(default_factory=dict)
    trunk_names: frozenset[str] = frozenset()
    uplinks: dict[str, str] = field(default_factory=dict)

    def uplink_ofport(self, physnet: str | None) -> int | None:
        """The OpenFlow port of this chassis's uplink to `physnet`, if it exists and its link is up."""
        iface = self.interfaces.get(self.uplinks.get(physnet or "", ""))
        return iface.ofport if iface is not None and iface.up else None

    def ofport(self, interface_name: str | None) -> int | None:
        """The OpenFlow port number of `interface_name` on this switch, if it exists now."""
        iface = self.interfaces.get(interface_name) if interface_name else None
        return iface.ofport if iface else None

    @property
    def trunk_ofport(self) -> int | None:
        """The inter-chassis link's port (the first configured trunk name present), if any."""
        for name in sorted(self.trunk_names):
            if name in self.interfaces:
                return self.interfaces[name].ofport
        return None


@dataclass(frozen=True)
class Location:
    """Where a bound port's interface is: which chassis and which OpenFlow port."""

    chassis: str
    ofport: int


def locate(host_id: str | None, interface_name: str | None,
           chassis: dict[str, Chassis]) -> Location | None:
    """The location of a port bound to (`host_id`, `interface_name`), or None while it is absent."""
    ch = chassis.get(host_id or "")
    ofport = ch.ofport(interface_name) if ch else None
    return Location(ch.name, ofport) if ofport is not None else None


def place_gateway(key: int, physnet: str | None, uplinks: list[Uplink], chassis: dict[str, Chassis]) -> str | None:
    """The chassis that carries gateway `key` (a router's) to `physnet` now, or None.

    Gateways spread over the uplinks configured for the physical network (by key); when a gateway's own
    uplink is down or its chassis gone, the next configured uplink that is up takes over, and the gateway
    moves back when its own returns.
    """
    ranked = [u for u in uplinks if u.physnet == physnet]
    if not ranked:
        return None
    start = key % len(ranked)
    for uplink in ranked[start:] + ranked[:start]:
        ch = chassis.get(uplink.chassis)
        if ch is not None and ch.uplink_ofport(physnet) is not None:
            return ch.name
    return None
