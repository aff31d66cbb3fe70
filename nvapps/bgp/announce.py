"""Pure functions: what each gateway uplink's BGP speaker announces, and the orders that get it there."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from nvapps.core.topology import Speaker
from nvapps.nat.flows import NatView

Announced = dict[str, str]      # prefix -> next hop


def announcements(view: NatView, speakers: Iterable[Speaker]) -> dict[Speaker, Announced]:
    """For each speaker, the routers whose gateway is active on its uplink now: their external subnet, their
    gateway address (the SNAT address) and every floating IP, each with the speaker's address as next hop."""
    out: dict[Speaker, Announced] = {s: {} for s in speakers}
    by_uplink = {(s.chassis, s.physnet): s for s in out}
    for r in view.routers:
        gw = r.gateway
        speaker = by_uplink.get((gw.chassis or "", gw.physnet or ""))
        if speaker is not None:
            for prefix in (gw.subnet.cidr, f"{gw.ip}/32", *(f"{f.address}/32" for f in r.floating)):
                out[speaker][prefix] = speaker.address
    return out


@dataclass(frozen=True)
class Order:
    """What a speaker must withdraw and announce to go from what it announces to what it should."""

    announce: tuple[tuple[str, str], ...] = ()
    withdraw: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.announce or self.withdraw)


def order(now: Announced, wanted: Announced) -> Order:
    """The difference from `now` to `wanted` (a changed next hop is announced again)."""
    return Order(tuple(sorted((p, nh) for p, nh in wanted.items() if now.get(p) != nh)),
                 tuple(sorted(p for p in now if p not in wanted)))
