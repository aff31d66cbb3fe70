"""The switches (chassis) the controller knows, and where each logical port's interface is."""
from __future__ import annotations

from dataclasses import dataclass, field, replace

import netaddr


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


@dataclass(frozen=True)
class BgpPeer:
    """An upstream router a gateway uplink's speaker holds an eBGP session with."""

    address: str
    remote_as: int


@dataclass(frozen=True)
class Speaker:
    """The BGP speaker of a gateway uplink: a switch interface of the gateway chassis (`interface`) leads to
    network namespace `netns`, where the speaker runs with the uplink's own address on the physical network
    and announces, through the uplink, what is behind it with that address as next hop."""

    chassis: str
    physnet: str
    interface: str
    netns: str
    address: str
    prefixlen: int
    local_as: int
    peers: tuple[BgpPeer, ...] = ()

    @property
    def mac(self) -> str:
        """The MAC the speaker's interface takes (and the uplink's flows expect): 02:bb + its IPv4 address."""
        return "02:bb:" + ":".join(f"{b:02x}" for b in netaddr.IPAddress(self.address).packed)


@dataclass
class Chassis:
    """A switch: its chassis name, datapath id, interfaces by name, and which of them are the inter-chassis
    link, the uplinks (interface name by physical network) and the tunnel ports (by tunnel type); with its
    tunnel endpoint once registered. A registered chassis that is not connected has no interfaces known."""

    name: str
    dpid: int
    interfaces: dict[str, Interface] = field(default_factory=dict)
    trunk_names: frozenset[str] = frozenset()
    uplinks: dict[str, str] = field(default_factory=dict)
    tunnel_ports: dict[str, str] = field(default_factory=dict)
    tunnel_ip: int = 0                  # underlay IPv4 (0: none)
    tunnel_type: str | None = None
    connected: bool = True
    presumed_up: bool = False           # not connected yet, but its uplinks count as up (controller start)
    bridge: str = ""                    # the OVS bridge's name (its LOCAL port), as ovs-appctl names it
    speakers: dict[str, Speaker] = field(default_factory=dict)     # BGP speakers by physical network
    learned: dict[str, tuple[tuple[str, str], ...]] = field(default_factory=dict)  # (prefix, next hop) by physnet

    def tunnel_ofport(self, tunnel_type: str | None) -> int | None:
        """The OpenFlow port of this chassis's tunnel port of `tunnel_type`, if it exists."""
        iface = self.interfaces.get(self.tunnel_ports.get(tunnel_type or "", ""))
        return iface.ofport if iface is not None else None

    @property
    def reaches_others(self) -> bool:
        """Whether packets can leave this chassis for another one (inter-chassis link or a tunnel port)."""
        return self.trunk_ofport is not None or any(self.tunnel_ofport(t) for t in self.tunnel_ports)

    def uplink_ofport(self, physnet: str | None) -> int | None:
        """The OpenFlow port of this chassis's uplink to `physnet`, if it exists and its link is up."""
        iface = self.interfaces.get(self.uplinks.get(physnet or "", ""))
        return iface.ofport if iface is not None and iface.up else None

    def speaker_ofport(self, physnet: str | None) -> int | None:
        """The OpenFlow port leading to the BGP speaker of this chassis's uplink to `physnet`, if it exists."""
        speaker = self.speakers.get(physnet or "")
        return self.ofport(speaker.interface) if speaker is not None else None

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
    """Where a bound port's interface is: which chassis and which OpenFlow port (None: a chassis that is not
    connected now, where the port is taken to be still)."""

    chassis: str
    ofport: int | None


def locate(host_id: str | None, interface_name: str | None,
           chassis: dict[str, Chassis]) -> Location | None:
    """The location of a port bound to (`host_id`, `interface_name`), or None while it is absent: its chassis
    is unknown, or connected without that interface. On a known chassis that is not connected, the port
    stays where it was (that chassis keeps forwarding with the flows it has)."""
    ch = chassis.get(host_id or "")
    if ch is None or not interface_name:
        return None
    if not ch.connected:
        return Location(ch.name, None)
    ofport = ch.ofport(interface_name)
    return Location(ch.name, ofport) if ofport is not None else None


def fabric(connected: dict[str, Chassis], registered: list, presume_up: bool = False) -> dict[str, Chassis]:
    """Every chassis known: the connected ones with their registered tunnel endpoints, and registered ones
    that are not connected now (with `presume_up`, taken to have their uplinks up: a controller that just
    started must not move gateways away from chassis that have not reconnected yet). `registered` holds
    objects with name, tunnel_ip and tunnel_type. Each chassis is a copy as it is now (with its interfaces), so
    a view built on it can be compared with the next."""
    out = {name: replace(ch, interfaces=dict(ch.interfaces)) for name, ch in connected.items()}
    for reg in registered:
        ip = int(netaddr.IPAddress(reg.tunnel_ip)) if reg.tunnel_ip else 0
        ch = out.get(reg.name)
        out[reg.name] = replace(ch, tunnel_ip=ip, tunnel_type=reg.tunnel_type) if ch is not None else \
            Chassis(reg.name, 0, tunnel_ip=ip, tunnel_type=reg.tunnel_type, connected=False, presumed_up=presume_up)
    return out


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
        if ch is not None and (ch.uplink_ofport(physnet) is not None or ch.presumed_up):
            return ch.name
    return None
