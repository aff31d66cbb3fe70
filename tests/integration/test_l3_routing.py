"""Tenant routers with real packets: routing across subnets and switches, VRF isolation with identical
CIDRs, ICMP from the router (echo in flows; time exceeded and net unreachable from the controller), static
routes, and removing an interface.

Tenants a and b each have subnets 10.0.1.0/24, 10.0.2.0/24 and 10.0.3.0/24 joined by their own router;
host <t><s><n> is on subnet s with IP 10.0.s.(10+n), n=1 on s1 and n=2 on s2.
"""
from __future__ import annotations

import subprocess
from contextlib import ExitStack

from nvapps.lab.net import capture, dhcp_lease, ping, wait_ping
from nvapps.lab.ovs import dump_flows
from nvapps.lab.reach import MARKED, MARKED_SIZE
from topologies.tenants import host_ip

HOSTS_PER_SWITCH = 1
SUBNETS = 3
APPS = ("nvapps.l3.app", "nvapps.dhcp.app", "nvapps.l2.app")


def test_hosts_on_different_subnets_reach_each_other_through_their_router(lab):
    for src, dst in (("a11", host_ip(1, 2)), ("a11", host_ip(2, 2)), ("b21", host_ip(2, 1)), ("a32", host_ip(1, 1))):
        wait_ping(lab.host(src), dst)
        assert ping(lab.host(src), dst, count=3) == 3, (src, dst)


def test_the_router_answers_ping_on_each_of_its_addresses(lab):
    for gateway in ("10.0.1.1", "10.0.2.1", "10.0.3.1"):
        assert ping(lab.host("a12"), gateway, count=2) == 2, gateway


def test_no_routed_packet_crosses_tenants_with_identical_cidrs_and_routers(lab):
    tenant_b = [h for h in lab.topo.attachments if h.startswith("b")]
    with ExitStack() as stack:
        caps = {h: stack.enter_context(capture(lab.host(h), MARKED)) for h in tenant_b}
        for dst in (host_ip(1, 2), host_ip(2, 2), host_ip(2, 3)):
            out = lab.host("a11").cmd(f"ping -n -c 3 -i 0.2 -W 1 -s {MARKED_SIZE} {dst}")
            assert " 3 received" in out, out
    assert {h: c.count for h, c in caps.items()} == dict.fromkeys(tenant_b, 0)


def test_ttl_expiry_shows_the_router_hop(lab):
    a11 = lab.host("a11")
    out = a11.cmd(f"ping -n -c 1 -W 2 -t 1 {host_ip(2, 2)}")
    assert "From 10.0.1.1" in out and "Time to live exceeded" in out, out
    trace = a11.cmd(f"traceroute -n -I -q 1 -w 2 -m 4 {host_ip(2, 2)}")
    hops = [line.split()[1] for line in trace.splitlines()[1:] if line.split()]
    assert hops[:2] == ["10.0.1.1", host_ip(2, 2)], trace


def test_an_unrouted_address_gets_net_unreachable(lab):
    out = lab.host("a11").cmd("ping -n -c 1 -W 2 192.0.2.9")
    assert "From 10.0.1.1" in out and "Destination Net Unreachable" in out, out


def test_every_flow_that_punts_to_the_controller_is_rate_limited_by_a_meter(lab):
    for bridge in ("s1", "s2"):
        meters = subprocess.run(["ovs-ofctl", "-O", "OpenFlow13", "dump-meters", bridge], capture_output=True,
                                text=True, check=True).stdout
        assert "meter=3 pktps" in meters and "meter=8 pktps" in meters, meters
        punts = [f for f in dump_flows(bridge) if "CONTROLLER" in f.actions]
        assert punts and all(f.actions.startswith("meter:") for f in punts), punts


def test_routed_unicast_between_known_ports_never_reaches_the_controller(lab):
    a11 = lab.host("a11")
    wait_ping(a11, host_ip(2, 2))
    before = {c["name"]: c["packet_ins"] for c in lab.api.chassis()}
    out = a11.cmd(f"ping -n -q -c 1000 -i 0.002 {host_ip(2, 2)}")
    assert " 1000 received" in out, out
    assert {c["name"]: c["packet_ins"] for c in lab.api.chassis()} == before


def test_a_static_route_sends_its_prefix_to_the_next_hop(lab):
    a22, router = lab.host("a22"), lab.tenants["a"].router
    a22.cmd("ip addr add 192.168.50.1/32 dev lo")
    try:
        lab.api.update("router", router["id"], routes=[{"destination": "192.168.50.0/24", "nexthop": host_ip(2, 2)}])
        wait_ping(lab.host("a11"), "192.168.50.1")
        assert ping(lab.host("b11"), "192.168.50.1", count=2) == 0        # tenant b's router has no such route
    finally:
        lab.api.update("router", router["id"], routes=[])
        a22.cmd("ip addr del 192.168.50.1/32 dev lo")


def test_a_dhcp_client_gets_its_address_and_gateway_and_routes_through_it(lab, tmp_path):
    a22 = lab.host("a22")
    try:
        lease = dhcp_lease(a22, tmp_path / "lease")
        assert (lease["ip"], lease["mask"], lease["router"], lease["mtu"]) == (host_ip(2, 2), "24", "10.0.2.1", "1500")
        assert int(lease["lease"]) == 86400
        assert ping(a22, host_ip(1, 1), count=3) == 3          # through the router it was given
    finally:
        a22.cmd(f"ip -4 addr flush dev a22-eth0; ip addr add {host_ip(2, 2)}/24 dev a22-eth0; "
                "ip route replace default via 10.0.2.1")


def test_removing_a_router_interface_stops_routing_for_that_subnet_only(lab):
    tenant = lab.tenants["a"]
    a11 = lab.host("a11")
    wait_ping(a11, host_ip(2, 3))
    lab.api.action("router", tenant.router["id"], "remove_router_interface", subnet_id=tenant.subnets[3]["id"])

    def cut():
        return ping(a11, host_ip(2, 3), count=1, timeout=0.5) == 0
    deadline = 20
    while not cut() and deadline:
        deadline -= 1
    assert cut()
    assert ping(a11, host_ip(2, 2), count=3) == 3             # subnet 2 still routed
    assert ping(lab.host("b11"), host_ip(2, 3), count=3) == 3  # tenant b untouched
