"""Controller restart: the data plane keeps forwarding, reconnect sends nothing, state survives.

Its own controller and topology (a1, b1 on s1; a2, b2 on s2), since the tests stop the controller.
"""
from __future__ import annotations

import re
import time

from nvapps.lab.net import capture, ping, wait_ping
from nvapps.lab.ovs import bridge_setting, dump_flows
from nvapps.pipeline import COOKIE_LEARNED, AppId
from topologies.tenants import host_ip

HOSTS_PER_SWITCH = 1
NVAPPS = {AppId.CORE, AppId.L2}


def nvapps_flows(bridge: str):
    return [f for f in dump_flows(bridge) if f.cookie >> 56 in NVAPPS and not f.cookie & COOKIE_LEARNED]


def test_restart_keeps_ping_flowing_sends_zero_flow_mods_and_keeps_objects(lab):
    a1 = lab.host("a1")
    wait_ping(a1, host_ip(2))
    objects = {k: sorted(lab.api.list(k), key=lambda o: o["id"]) for k in ("network", "subnet", "port")}
    flows_before = {b: len(nvapps_flows(b)) for b in ("s1", "s2")}
    started = time.monotonic()
    pinger = a1.popen(["ping", "-n", "-q", "-i", "0.05", "-c", "200", host_ip(2)], stdout=-1, text=True)
    try:
        time.sleep(1)
        lab.controller.restart()
        status = lab.controller.wait_chassis(["s1", "s2"])
    finally:
        out, _ = pinger.communicate(timeout=60)
    elapsed = time.monotonic() - started

    sent, received = map(int, re.search(r"(\d+) packets transmitted, (\d+) received", out).groups())
    assert sent == received == 200, out
    for name in ("s1", "s2"):
        chassis = status[name]
        assert chassis["flow_mods"] == 0 and chassis["group_mods"] == 0, chassis
        assert {app: (s["flow_mods"], s["group_mods"]) for app, s in chassis["last_sync"].items()} == \
            {"core": (0, 0), "l2": (0, 0)}
        # switch side: no flow was re-added (a re-add resets its duration)
        flows = nvapps_flows(name)
        assert len(flows) == flows_before[name]
        assert min(f.duration for f in flows) >= elapsed - 1
    assert {k: sorted(lab.api.list(k), key=lambda o: o["id"]) for k in ("network", "subnet", "port")} == objects


def test_while_the_controller_is_away_tenants_stay_isolated(lab):
    a1, b1 = lab.host("a1"), lab.host("b1")
    assert bridge_setting("s1", "fail_mode") == bridge_setting("s2", "fail_mode") == "secure"
    lab.controller.stop()
    b1.cmd("ip addr add 10.0.0.50/24 dev b1-eth0")
    try:
        assert ping(a1, host_ip(2), count=3) == 3           # existing flows keep forwarding
        a1.cmd("ip neigh flush all")
        with capture(b1, "-Q in ether[6:4] == 0x02000001") as cap:   # frames sent by tenant a
            assert ping(a1, "10.0.0.50", count=3) == 0
        assert cap.count == 0, cap.lines
    finally:
        b1.cmd("ip addr del 10.0.0.50/24 dev b1-eth0")
        lab.controller.start()
    lab.controller.wait_chassis(["s1", "s2"])
    assert ping(a1, host_ip(2), count=2) == 2
