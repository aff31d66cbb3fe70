"""Load balancers in the lab: wait until one is ACTIVE, and count which member answers a client's connections
(the lab hosts' scripts lb_client.py and name_server.py live beside this module)."""
from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

TOOLS = Path(__file__).parent        # the lab hosts' scripts


def wait_active(api: Any, lb_id: str, timeout: float = 15.0) -> dict:
    """The load balancer once it is ACTIVE (AssertionError with it after `timeout` s)."""
    deadline = time.monotonic() + timeout
    while (lb := api.get("loadbalancer", lb_id))["provisioning_status"] != "ACTIVE":
        assert time.monotonic() < deadline, lb
        time.sleep(0.1)
    return lb


def spread(host: Any, vip: str, protocol: str = "tcp", port: int = 80, count: int = 300) -> dict[str, int]:
    """How many of `count` connections (datagrams) from Mininet host `host` to `vip`:`port` each member's name
    server answered ("-": none did)."""
    out = host.cmd(f"/usr/bin/python3 {TOOLS / 'lb_client.py'} {protocol} {vip} {port} {count}")
    return json.loads(out.strip().splitlines()[-1])
