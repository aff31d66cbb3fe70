"""eBGP at the provider edge with a real peer: FRR (Debian's bgpd) in host inet is the upstream router (AS 65000);
each switch's uplink has its BGP speaker (AS 65001, 172.16.0.2 on s1, .3 on s2) in its own namespace behind
the switch's interface 98. Both routers have their gateway on the external network 172.16.0.0/24 (one per
uplink); floating IPs come from 198.51.100.0/24, a subnet of the external network that is on no wire: inet
reaches them only by the routes the speakers announce.

up2 (172.16.0.254, AS 65002) is a second upstream router on the same network, peering with both speakers.

Tenant a's hosts: a11 (s1) on 10.0.1.0/24, a21 (s1) on 10.0.2.0/24; tenant b's the same addresses. Routes
inet announces (its default route) become the routers' routes out; a failed uplink moves its routers to the
other gateway, whose speaker announces their floating IPs from then on.
"""
from __future__ import annotations

import re
import subprocess
import time

import pytest

from nvapps import cli
from nvapps.lab import wait
from nvapps.lab.controller import ADMIN_TOKEN
from nvapps.lab.frr import HOLD_TIME, Frr
from nvapps.lab.net import background, ping, wait_ping
from tests.integration import natkit
from topologies.tenants import (
    EDGE_AS,
    EXTERNAL_CIDR,
    INTERNET_GATEWAY,
    INTERNET_HOST,
    SECOND_UPSTREAM,
)

HOSTS_PER_SWITCH = 1
SUBNETS = 2
INTERNET = True
BGP = True
APPS = ("nvapps.bgp.app", "nvapps.nat.app", "nvapps.acl.app", "nvapps.l3.app", "nvapps.l2.app")
FIP_CIDR = "198.51.100.0/24"
WAIT = 20.0


def eventually(check, what: str):
    return wait.eventually(check, WAIT, 0.3, what)


@pytest.fixture(scope="module")
def upstream(lab) -> Frr:
    """inet: the upstream router that leads to the internet (it announces a default route)."""
    return lab.upstreams["inet"]


@pytest.fixture(scope="module")
def second(lab) -> Frr:
    """up2: another upstream router (it announces nothing)."""
    return lab.upstreams["up2"]


@pytest.fixture(scope="module")
def edge(lab, upstream, second):
    """The external network with both gateways, and its floating IP subnet."""
    ext, gateways = natkit.open_edge(lab)
    fips = lab.api.create("subnet", network_id=ext["id"], ip_version=4, cidr=FIP_CIDR, gateway_ip=None,
                          allocation_pools=[{"start": "198.51.100.10", "end": "198.51.100.50"}], name="fips")
    return ext, gateways, fips


def speaker_of(lab, router_id: str) -> str:
    """The address of the speaker on the uplink where router `router_id`'s gateway is active."""
    for sw, address in lab.topo.speakers().items():
        if router_id in lab.controller.wait_chassis([sw])[sw]["gateway_routers"]:
            return address
    raise AssertionError(f"router {router_id} has no gateway chassis")


def test_sessions_come_up_and_gateways_are_announced_by_their_uplinks(lab, upstream, second, edge, capsys):
    _, gateways, _ = edge
    for peer in (upstream, second):
        eventually(lambda: set(peer.sessions().values()) == {"Established"}, f"sessions: {peer.sessions()}")
        for tenant in ("a", "b"):
            hop = speaker_of(lab, lab.tenants[tenant].router["id"])
            eventually(lambda: peer.routes().get(f"{gateways[tenant]}/32") == [hop],
                       f"{gateways[tenant]}/32 not announced via {hop}: {peer.routes()}")
        assert "172.16.0.0/24" in peer.routes()
    assert {speaker_of(lab, lab.tenants[t].router["id"]) for t in "ab"} == \
        set(lab.topo.speakers().values())          # both gateways active
    for sw in lab.topo.chassis:
        def speaker() -> dict | None:
            (mine,) = lab.controller.wait_chassis([sw])[sw]["bgp"]
            sessions = [(s["peer"], s["state"]) for s in mine["sessions"]]
            up = [(INTERNET_GATEWAY, "Established"), (SECOND_UPSTREAM, "Established")]
            return mine if sessions == up and mine["learned"] else None
        shown = eventually(speaker, f"no session and route shown in {sw}'s status")
        assert shown["running"] and shown["local_as"] == EDGE_AS and shown["address"] == lab.topo.speakers()[sw]
        assert shown["learned"] == {"0.0.0.0/0": {"next_hop": INTERNET_GATEWAY, "peer": INTERNET_GATEWAY}}
    assert cli.main(["--url", lab.controller.url, "--token", ADMIN_TOKEN, "bgp", "status"]) == 0
    table = capsys.readouterr().out.splitlines()
    assert len(table) == 5 and all(line.split()[5] == "Established" for line in table[1:])


def test_a_floating_ip_is_reached_by_its_announced_route_and_withdrawn_with_it(lab, upstream, edge):
    ext, _, fips = edge
    inet = lab.host("inet")
    fip = lab.api.create("floatingip", floating_network_id=ext["id"], subnet_id=fips["id"],
                         port_id=lab.tenants["a"].ports["a11"]["id"], project_id="tenant-a")
    address, hop = fip["floating_ip_address"], speaker_of(lab, lab.tenants["a"].router["id"])
    eventually(lambda: upstream.routes().get(f"{address}/32") == [hop], f"{address}/32 not announced via {hop}")
    eventually(lambda: "proto bgp" in inet.cmd(f"ip route show {address}"), "not in inet's routes")  # by BGP only
    eventually(lambda: ping(inet, address), f"inet cannot reach {address}")

    lab.api.update("floatingip", fip["id"], port_id=None)
    eventually(lambda: f"{address}/32" not in upstream.routes(), f"{address}/32 still announced")
    eventually(lambda: inet.cmd(f"ip route show {address}").strip() == "", "still in inet's routes")
    assert ping(inet, address, count=3) == 0


def test_without_a_gateway_address_the_learned_default_route_leads_out(lab, upstream, edge):
    ext, _, _ = edge
    subnet = next(s for s in lab.api.list("subnet", network_id=ext["id"]) if s["cidr"] == EXTERNAL_CIDR)
    lab.api.update("subnet", subnet["id"], gateway_ip=None)       # no default route but the one inet announces
    try:
        for host in ("a11", "b11"):
            wait_ping(lab.host(host), INTERNET_HOST)
    finally:
        lab.api.update("subnet", subnet["id"], gateway_ip=INTERNET_GATEWAY)


def test_a_failed_uplink_moves_its_floating_ip_to_the_other_gateway_by_bgp(lab, upstream, second, edge):
    ext, _, fips = edge
    inet = lab.host("inet")
    fip = lab.api.create("floatingip", floating_network_id=ext["id"], subnet_id=fips["id"],
                         port_id=lab.tenants["a"].ports["a21"]["id"], project_id="tenant-a")
    address, hop = fip["floating_ip_address"], speaker_of(lab, lab.tenants["a"].router["id"])
    home = next(sw for sw, address in lab.topo.speakers().items() if address == hop)
    other = next(sw for sw in lab.topo.chassis if sw != home)
    eventually(lambda: upstream.routes().get(f"{address}/32") == [hop], f"{address}/32 not announced via {hop}")
    eventually(lambda: ping(inet, address), f"inet cannot reach {address}")
    try:
        with background(inet, f"ping -n -i 0.1 -w 12 {address}") as pinging:
            time.sleep(1.0)
            subprocess.run(["ip", "link", "set", f"{home}-eth99", "down"], check=True)
            for peer in (upstream, second):
                eventually(lambda: peer.routes().get(f"{address}/32") == [lab.topo.speakers()[other]],
                           f"{address}/32 did not move to {other}'s speaker: {peer.routes().get(f'{address}/32')}")
            out = pinging.communicate(timeout=20)[0].decode()
        sent, got = (int(x) for x in re.search(r"(\d+) packets transmitted, (\d+) received", out).groups())
        print(f"uplink of {home} down: {sent - got} of {sent} pings lost at 10 pps (~{(sent - got) / 10:.1f} s)")
        assert got > 0 and sent - got <= (HOLD_TIME + 2) * 10
        assert ping(inet, address, count=3) == 3
    finally:
        subprocess.run(["ip", "link", "set", f"{home}-eth99", "up"], check=True)
        lab.api.delete("floatingip", fip["id"])
    eventually(lambda: upstream.sessions().get(hop) == "Established", f"{home}'s session did not come back")
