"""Which networks and routers each chassis must know: the one definition L2, L3, NAT and the overlay share.

Routing is one virtual hop, done on the chassis where a packet enters its router: it leaves that chassis
already in its destination network. So a chassis must know
- the routers with an interface on a network of one of its ports, and the router whose gateway is active
  there (it routes what comes from outside and what the other chassis send it un-routed);
- the networks of its ports and every network of those routers (where routed packets arrive), whether or
  not a port of them is bound there.
Nothing two routers away is needed: a router's next hops are ports, never another router's interface.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from nvapps.logical.gateways import Gateway
from nvapps.logical.ports import BoundPort

NOTHING: frozenset = frozenset()


@dataclass(frozen=True)
class Presence:
    """Network keys and router ids by chassis name."""

    networks: dict[str, frozenset[int]]
    routers: dict[str, frozenset[str]]

    def networks_on(self, chassis: str) -> frozenset[int]:
        return self.networks.get(chassis, NOTHING)

    def routers_on(self, chassis: str) -> frozenset[str]:
        return self.routers.get(chassis, NOTHING)


def presence(bound: list[BoundPort], interfaces: list[BoundPort], gateways: dict[str, Gateway],
             routers_up: set[str]) -> Presence:
    """What every chassis with a bound port or an active gateway must know. `interfaces` are the router
    interface ports (device_id: the router), `gateways` the routers' gateways by router id, `routers_up` the
    ids of the administratively up routers (a router that is down routes nothing anywhere)."""
    by_network: dict[int, set[str]] = defaultdict(set)
    networks_of: dict[str, set[int]] = defaultdict(set)
    for i in interfaces:
        if i.port.device_id in routers_up:
            by_network[i.network_key].add(i.port.device_id)
            networks_of[i.port.device_id].add(i.network_key)
    local: dict[str, set[int]] = defaultdict(set)
    for b in bound:
        local[b.chassis].add(b.network_key)
    routers: dict[str, set[str]] = defaultdict(set)
    for chassis, keys in local.items():
        for key in keys:
            routers[chassis] |= by_network.get(key, set())
    for router_id, gw in gateways.items():
        if gw.chassis is not None and router_id in routers_up:
            routers[gw.chassis].add(router_id)
    networks = {chassis: frozenset(local.get(chassis, set()).union(*(networks_of[r] for r in routers.get(chassis, ()))))
                for chassis in local.keys() | routers.keys()}
    return Presence(networks, {chassis: frozenset(ids) for chassis, ids in routers.items()})
