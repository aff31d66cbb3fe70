"""The switches (chassis) the controller knows, and where each logical port's interface is."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Interface:
    """A switch port as OpenFlow reports it."""

    name: str
    ofport: int
    up: bool = True


@dataclass
class Chassis:
    """A connected switch: its chassis name, datapath id and interfaces by name."""

    name: str
    dpid: int
    interfaces: dict[str, Interface] = field(default_factory=dict)
    trunk_names: frozenset[str] = frozenset()

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
