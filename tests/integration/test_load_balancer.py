"""Load balancing with real packets: connections to a VIP spread over its members by weight, on the client's
chassis; replies come back from the VIP; members behind the router and on the other switch; UDP; two
tenants with the same VIP and members stay apart; health checks take a dead member out and bring it back.

Tenants a and b each have subnets 10.0.1.0/24 and 10.0.2.0/24 on their router, hosts <t><s><n> (subnet s,
10.0.s.(10+n); n odd on s1, even on s2). The VIP is on subnet 1; members a12 (s2), a13 (s1) and a22 (s2,
behind the router) each run a server that answers with its name.
"""
from __future__ import annotations

import time
from contextlib import ExitStack

import pytest

from nvapps.lab.net import background, wait_listening
from tests.integration import lbkit
from tests.integration.lbkit import HERE, PORT, spread, wait_active
from topologies.tenants import host_ip

HOSTS_PER_SWITCH = 2
SUBNETS = 2
APPS = ("nvapps.lb.app", "nvapps.acl.app", "nvapps.l3.app", "nvapps.l2.app")
MEMBERS = {"a12": (1, 2), "a13": (1, 3), "a22": (2, 2)}       # host -> (subnet, n)
CONNECTIONS = 600
WEIGHTED = 1200         # connections of the weights test
SPREAD = 0.35           # allowed deviation from a member's share, for 3 equal weights


@pytest.fixture(scope="module")
def servers(lab):
    with ExitStack() as stack:
        for tenant in "ab":
            for host in MEMBERS:
                name = f"{tenant}{host[1:]}"
                stack.enter_context(background(lab.host(name), f"/usr/bin/python3 {HERE / 'name_server.py'} "
                                                                f"{name} {PORT}"))
                wait_listening(lab.host(name), PORT)
        yield


def balancer(lab, tenant: str, protocol: str = "TCP", weights: dict[str, int] | None = None,
             listen: int = 80, algorithm: str = "ROUND_ROBIN", member_port: int = PORT,
             monitor: dict | None = None) -> dict:
    """A load balancer of `tenant` on its subnet 1, a listener on `listen` and a pool of the three members."""
    api, project = lab.api, f"tenant-{tenant}"
    subnet = lab.tenants[tenant].subnets[1]
    lb = api.create("loadbalancer", vip_subnet_id=subnet["id"], project_id=project)
    listener = api.create("listener", loadbalancer_id=lb["id"], protocol=protocol, protocol_port=listen,
                          project_id=project)
    pool = api.create("pool", listener_id=listener["id"], protocol=protocol, lb_algorithm=algorithm,
                      project_id=project)
    for host, (subnet_index, n) in MEMBERS.items():
        api.create("member", parent_id=pool["id"], address=host_ip(n, subnet_index), protocol_port=member_port,
                   weight=(weights or {}).get(host, 1), project_id=project)
    if monitor is not None:
        api.create("healthmonitor", pool_id=pool["id"], project_id=project, **monitor)
    return wait_active(api, lb["id"])


def test_connections_to_the_vip_spread_over_every_member_from_any_client(lab, servers):
    lb = balancer(lab, "a")
    for client in ("a11", "a14", "a21"):        # the VIP's network on s1 and s2, and behind the router
        seen = spread(lab, client, lb["vip_address"], count=CONNECTIONS)
        assert set(seen) == {"a12", "a13", "a22"}, (client, seen)
        for name, count in seen.items():      # OVS's dp_hash table quantises 3 equal buckets (5/5/6 of 16 slots)
            assert abs(count - CONNECTIONS / 3) <= SPREAD * CONNECTIONS / 3, (client, seen)
    lab.api.delete("loadbalancer", lb["id"], cascade=True)


def test_weights_share_the_connections(lab, servers):
    lb = balancer(lab, "a", weights={"a12": 1, "a13": 1, "a22": 2}, listen=81)
    count = WEIGHTED             # +-20% of a quarter is 4 standard deviations of the binomial spread
    seen = spread(lab, "a11", lb["vip_address"], listen=81, count=count)
    assert set(seen) == {"a12", "a13", "a22"}, seen
    for name, share in (("a12", 0.25), ("a13", 0.25), ("a22", 0.5)):
        assert abs(seen[name] - count * share) <= 0.2 * count * share, seen
    deadline = time.monotonic() + 5         # OVS adds the datapath's counters to the flows' about once a second
    while (stats := lab.api.request("GET", f"/v2.0/lbaas/loadbalancers/{lb['id']}/stats")[1]["stats"])[
            "total_connections"] < count and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(1.5)
    stats = lab.api.request("GET", f"/v2.0/lbaas/loadbalancers/{lb['id']}/stats")[1]["stats"]
    assert count <= stats["total_connections"] <= 1.1 * count, stats    # new ones (a SYN sent again counts again)
    assert stats["bytes_in"] > count * 200 and stats["bytes_out"] > count * 140, stats  # SYN, ACK, FIN / SYN-ACK, name
    listener = lab.api.list("listener", loadbalancer_id=lb["id"])[0]
    assert lab.api.request("GET", f"/v2.0/lbaas/listeners/{listener['id']}/stats")[1]["stats"] == stats
    lab.api.delete("loadbalancer", lb["id"], cascade=True)


def test_source_ip_keeps_each_client_on_one_member(lab, servers):
    lb = balancer(lab, "a", listen=83, algorithm="SOURCE_IP")
    chosen = set()
    for client in ("a11", "a14", "a21", "a23", "a24"):
        seen = spread(lab, client, lb["vip_address"], listen=83, count=20)
        assert len(seen) == 1 and "-" not in seen, (client, seen)
        chosen |= set(seen)
    assert len(chosen) >= 2, chosen         # five sources do not all hash to one of three members
    lab.api.delete("loadbalancer", lb["id"], cascade=True)


def test_udp_datagrams_are_balanced_and_answered_from_the_vip(lab, servers):
    lb = balancer(lab, "a", protocol="UDP", listen=53)
    seen = spread(lab, "a11", lb["vip_address"], "udp", 53, count=60)
    assert "-" not in seen and set(seen) == {"a12", "a13", "a22"}, seen     # every datagram answered, by any member
    lab.api.delete("loadbalancer", lb["id"], cascade=True)


def test_a_member_reaches_its_own_vip_and_itself_through_it(lab, servers):
    tcp, udp = balancer(lab, "a", listen=88), balancer(lab, "a", protocol="UDP", listen=89)
    for member in ("a12", "a22"):           # on the VIP's subnet, and behind the router
        seen = spread(lab, member, tcp["vip_address"], listen=88, count=60)
        assert "-" not in seen and member in seen and set(seen) <= {"a12", "a13", "a22"}, (member, seen)
    seen = spread(lab, "a13", udp["vip_address"], "udp", 89, count=60)
    assert "-" not in seen and "a13" in seen, seen
    for lb in (tcp, udp):
        lab.api.delete("loadbalancer", lb["id"], cascade=True)


def test_two_tenants_with_the_same_vip_and_members_stay_apart(lab, servers):
    a, b = balancer(lab, "a", listen=82), balancer(lab, "b", listen=82)
    assert a["vip_address"] == b["vip_address"]
    assert set(spread(lab, "a11", a["vip_address"], listen=82, count=30)) <= {"a12", "a13", "a22"}
    assert set(spread(lab, "b11", b["vip_address"], listen=82, count=30)) <= {"b12", "b13", "b22"}
    lab.api.delete("loadbalancer", b["id"], cascade=True)
    time.sleep(0.5)
    assert spread(lab, "b11", b["vip_address"], listen=82, count=3) == {"-": 3}     # b's flows went
    assert set(spread(lab, "a11", a["vip_address"], listen=82, count=30)) <= {"a12", "a13", "a22"}
    lab.api.delete("loadbalancer", a["id"], cascade=True)


CHECK = dict(type="TCP", delay=1, timeout=1, max_retries=2, max_retries_down=2)
DETECTION = CHECK["delay"] * (CHECK["max_retries_down"] + 1)     # the bound: delay x retries (+1 delay)


def statuses(api, lb: dict) -> dict[str, str]:
    """The operating status of the load balancer ("lb"), its pool ("pool") and each member, by host name."""
    return lbkit.statuses(api, lb, {host_ip(n, s): host for host, (s, n) in MEMBERS.items()})


def wait_statuses(api, lb: dict, want: dict[str, str], within: float) -> float:
    return lbkit.wait_statuses(api, lb, {host_ip(n, s): host for host, (s, n) in MEMBERS.items()}, want, within)


def test_a_member_that_stops_answering_its_checks_gets_no_new_connections_until_it_recovers(lab):
    api, port = lab.api, PORT + 1
    with ExitStack() as stack:
        def serve(host: str) -> ExitStack:
            server = stack.enter_context(ExitStack())
            server.enter_context(background(lab.host(host), f"/usr/bin/python3 {HERE / 'name_server.py'} {host} {port}"))
            wait_listening(lab.host(host), port)
            return server
        servers = {host: serve(host) for host in MEMBERS}
        lb = balancer(lab, "a", listen=84, member_port=port, monitor=CHECK)
        time.sleep(3 * CHECK["delay"])      # checks answered: everything stays up (a22 is checked across the router)
        assert statuses(api, lb) == {"a12": "ONLINE", "a13": "ONLINE", "a22": "ONLINE", "lb": "ONLINE",
                                     "pool": "ONLINE"}
        servers["a12"].close()                                  # its server dies (the host still answers)
        took = wait_statuses(api, lb, {"a12": "ERROR", "a13": "ONLINE", "lb": "DEGRADED", "pool": "DEGRADED"},
                             within=DETECTION + 1)
        assert took <= DETECTION + 1, took
        tree = api.request("GET", f"/v2.0/lbaas/loadbalancers/{lb['id']}/status")[1]["statuses"]["loadbalancer"]
        members = {m["address"]: m["operating_status"] for m in tree["listeners"][0]["pools"][0]["members"]}
        assert tree["operating_status"] == "DEGRADED" and members[host_ip(2, 1)] == "ERROR", tree
        time.sleep(0.5)
        seen = spread(lab, "a11", lb["vip_address"], listen=84, count=60)
        assert set(seen) == {"a13", "a22"}, seen                 # none lost, none to a12
        servers["a12"] = serve("a12")
        wait_statuses(api, lb, {"a12": "ONLINE", "lb": "ONLINE", "pool": "ONLINE"},
                      within=CHECK["delay"] * (CHECK["max_retries"] + 1) + 1)
        time.sleep(0.5)
        assert set(spread(lab, "a21", lb["vip_address"], listen=84, count=60)) == {"a12", "a13", "a22"}
        api.delete("loadbalancer", lb["id"], cascade=True)


def test_http_checks_read_the_status_code_and_ping_checks_the_host(lab):
    api, port = lab.api, PORT + 2
    with ExitStack() as stack:
        for host in MEMBERS:                # python's http.server: 200 for /, 404 for what is not in /tmp
            stack.enter_context(background(lab.host(host), f"/usr/bin/python3 -m http.server {port} -d /tmp"))
            wait_listening(lab.host(host), port)
        good = balancer(lab, "a", listen=85, member_port=port, monitor=dict(CHECK, type="HTTP", url_path="/"))
        bad = balancer(lab, "a", listen=86, member_port=port,
                       monitor=dict(CHECK, type="HTTP", url_path="/no-such-page", expected_codes="200-204"))
        pinged = balancer(lab, "a", listen=87, member_port=port, monitor=dict(CHECK, type="PING"))
        wait_statuses(api, bad, {"a12": "ERROR", "a13": "ERROR", "a22": "ERROR", "lb": "ERROR"}, within=DETECTION + 1)
        assert statuses(api, good)["lb"] == "ONLINE" and statuses(api, pinged)["lb"] == "ONLINE"
        assert spread(lab, "a11", bad["vip_address"], listen=86, count=3) == {"-": 3}     # no member to take it
        for lb in (good, bad, pinged):
            api.delete("loadbalancer", lb["id"], cascade=True)


def test_a_controller_restart_keeps_sessions_through_the_vip_and_resends_nothing(lab, tmp_path):
    api, project, port = lab.api, "tenant-a", 5011
    lb = api.create("loadbalancer", vip_subnet_id=lab.tenants["a"].subnets[1]["id"], project_id=project)
    listener = api.create("listener", loadbalancer_id=lb["id"], protocol="TCP", protocol_port=port, project_id=project)
    pool = api.create("pool", listener_id=listener["id"], protocol="TCP", lb_algorithm="ROUND_ROBIN",
                      project_id=project)
    api.create("member", parent_id=pool["id"], address=host_ip(3, 1), protocol_port=port, project_id=project)
    api.create("healthmonitor", pool_id=pool["id"], project_id=project, **dict(CHECK, type="PING"))
    lb = wait_active(api, lb["id"])
    status, during, later = lab.restart_during_a_session("a21", "a13", lb["vip_address"], port, tmp_path / "received")
    assert later > during > 0             # the balanced, routed session lives on
    for name in ("s1", "s2"):
        assert {app: (s["flow_mods"], s["group_mods"]) for app, s in status[name]["last_sync"].items()} == \
            dict.fromkeys(("core", "lb", "acl", "l3", "l2"), (0, 0))
    time.sleep(3 * CHECK["delay"])
    assert statuses(api, lb) | {"a12": "-", "a22": "-"} == \
        {"a12": "-", "a13": "ONLINE", "a22": "-", "lb": "ONLINE", "pool": "ONLINE"}
    api.delete("loadbalancer", lb["id"], cascade=True)
