"""Several fake switches joined the way chassis are: by tunnels (what leaves a tunnel port with tun_dst enters
the chassis that owns that underlay IP, on its tunnel port of the same type) or by the inter-chassis link."""
from __future__ import annotations

from dataclasses import dataclass

from nvapps.core.topology import Chassis
from tests.unit.fakeswitch import FakeSwitch

MAX_HOPS = 4
TUNNEL_FIELDS = ("tunnel_id", "tun_ipv4_src", "tun_ipv4_dst")


@dataclass(frozen=True)
class Delivery:
    """A copy of a packet leaving the fabric: by which chassis and port, with which headers."""

    chassis: str
    port: int
    wire: dict[str, int]


class FakeFabric:
    """Fake switches by chassis name; send() follows every copy across tunnels and the trunk."""

    def __init__(self, chassis: dict[str, Chassis], switches: dict[str, FakeSwitch]) -> None:
        self.chassis, self.switches = chassis, switches
        self._by_ip = {c.tunnel_ip: c for c in chassis.values() if c.tunnel_ip}

    def send(self, chassis: str, in_port: int, **headers: int | str) -> list[Delivery]:
        """Where a packet entering `chassis` at `in_port` leaves the fabric (tunnel and trunk hops followed)."""
        return self._follow(chassis, self.switches[chassis].send(in_port, **headers), 0)

    def _follow(self, here: str, out: list[tuple[int, dict[str, int]]], hops: int) -> list[Delivery]:
        if hops > MAX_HOPS:
            raise RuntimeError(f"a packet crossed between chassis more than {MAX_HOPS} times")
        ch, result = self.chassis[here], []
        tunnels = {ch.tunnel_ofport(kind): kind for kind in ch.tunnel_ports if ch.tunnel_ofport(kind)}
        for port, wire in out:
            if port in tunnels:
                there = self._by_ip[wire["tun_ipv4_dst"]]
                inner = {k: v for k, v in wire.items() if k not in TUNNEL_FIELDS}
                arrived = self.switches[there.name].send(there.tunnel_ofport(tunnels[port]), tunnel_id=wire["tunnel_id"],
                                                          tun_ipv4_src=ch.tunnel_ip, **inner)
                result += self._follow(there.name, arrived, hops + 1)
            elif port == ch.trunk_ofport:
                there = next(c for c in self.chassis.values() if c.name != here and c.trunk_ofport is not None)
                result += self._follow(there.name, self.switches[there.name].send(there.trunk_ofport, **wire), hops + 1)
            else:
                result.append(Delivery(here, port, {k: v for k, v in wire.items() if k not in TUNNEL_FIELDS}))
        return result
