"""Helpers of the load balancer tests: wait for a load balancer, count which member answers, read statuses."""
from __future__ import annotations

import time

from nvapps.lab import balancing
from nvapps.lab.balancing import wait_active

HERE = balancing.TOOLS  # the lab hosts' scripts
PORT = 8080             # the members' name servers

__all__ = ["HERE", "PORT", "spread", "statuses", "wait_active", "wait_statuses"]


def spread(lab, client: str, vip: str, protocol: str = "tcp", listen: int = 80, count: int = 300) -> dict[str, int]:
    """How many of `count` connections (datagrams) from `client` each member answered ("-": none did)."""
    return balancing.spread(lab.host(client), vip, protocol, listen, count)


def statuses(api, lb: dict, names: dict[str, str]) -> dict[str, str]:
    """The operating status of the load balancer ("lb"), its first pool ("pool") and each member, named by
    `names` (address -> name)."""
    pool = api.list("pool", loadbalancer_id=lb["id"])[0]
    out = {names[m["address"]]: m["operating_status"] for m in api.list("member", parent_id=pool["id"])}
    return {**out, "lb": api.get("loadbalancer", lb["id"])["operating_status"], "pool": pool["operating_status"]}


def wait_statuses(api, lb: dict, names: dict[str, str], want: dict[str, str], within: float) -> float:
    """Seconds until the statuses include `want` (AssertionError after `within` s)."""
    start = time.monotonic()
    while True:
        now = statuses(api, lb, names)
        if {k: v for k, v in now.items() if k in want} == want:
            return time.monotonic() - start
        assert time.monotonic() - start < within, (want, now)
        time.sleep(0.1)
