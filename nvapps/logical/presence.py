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
from dataclasses import dataclass, field

from nvapps.logical.gateways import Gateway
from nvapps.logical.ports import BoundPort

NOTHING: frozenset = frozenset()


@dataclass(frozen=True)
class Reach:
    """What a chassis's ports make it know: the routers on each network, each router's networks, and the routers
    whose gateway is active on each chassis (only administratively up routers)."""

    by_network: dict[int, frozenset[str]]
    networks_of: dict[str, frozenset[int]]
    gateways: dict[str, frozenset[str]]

    def on(self, chassis: str, local: frozenset[int]) -> tuple[frozenset[int], frozenset[str]]:
        """The networks and routers `chassis` must know, its ports being on networks `local`."""
        routers = set(self.gateways.get(chassis, NOTHING)).union(*(self.by_network.get(k, NOTHING) for k in local))
        return frozenset(local.union(*(self.networks_of.get(r, NOTHING) for r in routers))), frozenset(routers)


@dataclass(frozen=True)
class Presence:
    """Network keys and router ids by chassis name (every chassis with a bound port or an active gateway)."""

    networks: dict[str, frozenset[int]]
    routers: dict[str, frozenset[str]]
    reach: Reach = Reach({}, {}, {})
    own: dict[str, frozenset[int]] = field(default_factory=dict)     # the networks of each chassis's own ports

    def networks_on(self, chassis: str) -> frozenset[int]:
        return self.networks.get(chassis, NOTHING)

    def routers_on(self, chassis: str) -> frozenset[str]:
        return self.routers.get(chassis, NOTHING)

    def patched(self, local: dict[str, tuple[BoundPort, ...]], changed: set[str]) -> "Presence":
        """This presence with the chassis `changed` (each with a bound port before or now) computed again from
        their bound ports `local`."""
        networks, routers, own = dict(self.networks), dict(self.routers), dict(self.own)
        for chassis in changed:
            if chassis in local:
                own[chassis] = frozenset(b.network_key for b in local[chassis])
            else:
                del own[chassis]            # (it had the port that left)
            if chassis in local or chassis in self.reach.gateways:
                networks[chassis], routers[chassis] = self.reach.on(chassis, own.get(chassis, NOTHING))
            else:
                del networks[chassis], routers[chassis]
        return Presence(networks, routers, self.reach, own)


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
    active: dict[str, set[str]] = defaultdict(set)
    for router_id, gw in gateways.items():
        if gw.chassis is not None and router_id in routers_up:
            active[gw.chassis].add(router_id)
    reach = Reach({k: frozenset(v) for k, v in by_network.items()}, {k: frozenset(v) for k, v in networks_of.items()},
                  {k: frozenset(v) for k, v in active.items()})
    local: dict[str, set[int]] = defaultdict(set)
    for b in bound:
        local[b.chassis].add(b.network_key)
    own = {chassis: frozenset(keys) for chassis, keys in local.items()}
    networks, routers = {}, {}
    for chassis in own.keys() | active.keys():
        networks[chassis], routers[chassis] = reach.on(chassis, own.get(chassis, NOTHING))
    return Presence(networks, routers, reach, own)
