"""IPv6 with real packets. Tenants a and b each get the same two SLAAC subnets (2001:db8:a1::/64 on their
first network, 2001:db8:a2::/64 on their second), attached to their own router. The controller advertises
the prefixes (every second here, and on solicitation); hosts form the very addresses the model gave their
ports (the EUI-64 of their MACs) and route through their router's link-local address; the router's
addresses answer neighbour solicitations (in flows) and echo; routed IPv6 crosses chassis, hop limit 1 gets
time exceeded, an unknown prefix gets unreachable; nothing crosses tenants. A host can neither advertise a
prefix nor claim another's address.

Host <t><s><n> is on subnet s, n=1 on s1 and n=2 on s2.
"""
from __future__ import annotations

import sys
import time
from contextlib import ExitStack

import pytest

from nvapps.lab.net import capture, listen, ping, send, wait_ping
from nvapps.lab.wait import eventually
from nvapps.model.ipam import link_local

HOSTS_PER_SWITCH = 1
SUBNETS = 2
APPS = ("nvapps.dhcp.app", "nvapps.acl.app", "nvapps.l3.app", "nvapps.l2.app")
FLAGS = ("--nvapps-ra-interval", "1")
PREFIXES = {1: "2001:db8:a1::/64", 2: "2001:db8:a2::/64"}
ECHO_REQUESTS = "icmp6 and ip6[40] == 128"
ROGUE_PREFIX = "2001:db8:bad::/64"


def forge(host, kind: str, what: str) -> None:
    """`host` sends a forged router advertisement (kind "ra") or neighbour advertisement ("na"), from its MAC."""
    intf = host.defaultIntf()
    host.cmd(f"{sys.executable} -m nvapps.lab.forge {kind} {intf.name} {intf.MAC()} {what}")


def global_addresses(host) -> str:
    return host.cmd(f"ip -6 addr show dev {host.defaultIntf().name} scope global")


@pytest.fixture(scope="module")
def v6(lab) -> dict[str, str]:
    """Both tenants' IPv6 subnets attached to their routers; each host's formed address, by host name (and
    each router interface's address and MAC, by "<tenant>-r<s>" and "<tenant>-r<s>-mac")."""
    addresses: dict[str, str] = {}
    for name, tenant in lab.tenants.items():
        for s, cidr in PREFIXES.items():
            subnet = lab.api.create("subnet", network_id=tenant.networks[s]["id"], ip_version=6, cidr=cidr,
                                    ipv6_ra_mode="slaac", ipv6_address_mode="slaac", project_id=f"tenant-{name}")
            attached = lab.api.action("router", tenant.router["id"], "add_router_interface", subnet_id=subnet["id"])
            router_port = lab.api.get("port", attached["port_id"])
            addresses[f"{name}-r{s}"] = next(ip["ip_address"] for ip in router_port["fixed_ips"]
                                             if ip["subnet_id"] == subnet["id"])
            addresses[f"{name}-r{s}-mac"] = router_port["mac_address"]
            for host, port in tenant.ports.items():
                if port["network_id"] == tenant.networks[s]["id"]:
                    fixed = lab.api.get("port", port["id"])["fixed_ips"]
                    addresses[host] = next(ip["ip_address"] for ip in fixed if ip["subnet_id"] == subnet["id"])
    for host in lab.topo.attachments:
        eventually(lambda: f"{addresses[host]}/64" in global_addresses(lab.host(host)), timeout=20,
                   what=f"{host} did not form {addresses[host]}: {global_addresses(lab.host(host))}")
    return addresses


def test_hosts_form_their_ports_addresses_from_their_own_routers_advertisements(lab, v6):
    assert v6["a11"].startswith("2001:db8:a1:") and v6["b11"].startswith("2001:db8:a1:")
    for host in ("a11", "b11"):
        route = lab.host(host).cmd("ip -6 route show default")
        assert f"via {link_local(v6[host[0] + '-r1-mac'])}" in route, (host, route)
    assert v6["b11"] not in global_addresses(lab.host("a11"))


def packet_ins(lab) -> dict[str, int]:
    return {c["name"]: c["packet_ins"] for c in lab.api.chassis()}


def test_hosts_reach_each_other_over_ipv6_through_their_router_across_chassis(lab, v6):
    for src, dst in (("a11", "a22"), ("a12", "a21"), ("b21", "b12")):
        wait_ping(lab.host(src), v6[dst])
        assert ping(lab.host(src), v6[dst], count=3) == 3, (src, dst)
    before = packet_ins(lab)                     # warmed up: known unicast never reaches the controller
    for src, dst in (("a11", "a22"), ("a12", "a21"), ("a11", "a-r1"), ("a11", "a12")):
        assert ping(lab.host(src), v6[dst], count=10, interval=0.05) == 10, (src, dst)
    assert packet_ins(lab) == before


def test_the_router_answers_on_its_global_and_link_local_addresses_as_a_router(lab, v6):
    a12 = lab.host("a12")
    for address in (v6["a-r1"], v6["a-r2"], f"{link_local(v6['a-r1-mac'])}%{a12.defaultIntf().name}"):
        assert ping(a12, address, count=2) == 2, address
    neighbours = a12.cmd(f"ip -6 neigh show {v6['a-r1']}")
    assert f"lladdr {v6['a-r1-mac']} router" in neighbours, neighbours


def test_no_ipv6_packet_crosses_tenants_with_identical_prefixes(lab, v6):
    tenant_b = [h for h in lab.topo.attachments if h.startswith("b")]
    with ExitStack() as stack:
        caps = {h: stack.enter_context(capture(lab.host(h), ECHO_REQUESTS)) for h in tenant_b}
        for dst in ("a12", "a21", "a22"):
            assert ping(lab.host("a11"), v6[dst], count=2) == 2, dst
        for dst in ("b12", "b21", "b22"):          # tenant b's addresses in the same prefixes: unknown to a
            assert ping(lab.host("a11"), v6[dst], count=2) == 0, dst
    assert {h: c.count for h, c in caps.items()} == dict.fromkeys(tenant_b, 0)


def test_hop_limit_expiry_and_unknown_prefixes_get_icmpv6_errors_from_the_router(lab, v6):
    a11 = lab.host("a11")
    out = a11.cmd(f"ping -n -c 1 -W 2 -t 1 {v6['a22']}")
    assert f"From {v6['a-r1']}" in out and "Time exceeded" in out, out
    trace = a11.cmd(f"traceroute -6 -n -I -q 1 -w 2 -m 4 {v6['a22']}")
    hops = [line.split()[1] for line in trace.splitlines()[1:] if line.split()]
    assert hops[:2] == [v6["a-r1"], v6["a22"]], trace
    out = a11.cmd("ping -n -c 1 -W 2 2001:db8:ff::1")
    assert f"From {v6['a-r1']}" in out and "Destination unreachable" in out, out


def test_a_host_can_neither_advertise_a_prefix_nor_claim_the_routers_address(lab, v6):
    a11, a12 = lab.host("a11"), lab.host("a12")
    assert ping(a12, v6["a-r1"], count=1) == 1                       # a12 knows the router's MAC
    adverts = "icmp6 and (ip6[40] == 134 or ip6[40] == 136)"         # router and neighbour advertisements
    with capture(a12, f"{adverts} and ether src {a11.defaultIntf().MAC()}") as seen:
        forge(a11, "ra", ROGUE_PREFIX)
        forge(a11, "na", v6["a-r1"])
        time.sleep(1)
    assert seen.count == 0, seen.lines
    assert "2001:db8:bad:" not in global_addresses(a12)
    neighbours = a12.cmd(f"ip -6 neigh show {v6['a-r1']}")
    assert f"lladdr {v6['a-r1-mac']}" in neighbours, neighbours
    assert ping(a12, v6["a-r1"], count=1) == 1


def dhclient(host, tmp_path, *flags: str) -> str:
    """Run dhclient -6 once on `host`, its script recording what it would configure (and configuring
    nothing), stop it, and return what it recorded."""
    leases, pid, seen = (tmp_path / f"{host.name}.{suffix}" for suffix in ("leases", "pid", "env"))
    script = tmp_path / f"{host.name}.sh"
    script.write_text(f"#!/bin/sh\nenv >> {seen}\n")
    script.chmod(0o755)
    try:
        out = host.cmd(f"timeout 20 dhclient -6 -1 -v {' '.join(flags)} -sf {script} -lf {leases} -pf {pid} "
                       f"{host.defaultIntf().name} 2>&1")
    finally:
        if pid.exists():
            host.cmd(f"kill {pid.read_text().strip()}")
    return seen.read_text() if seen.exists() else out


def test_dhcpv6_gives_a_stateful_subnets_port_its_fixed_ip_and_a_stateless_one_options(lab, v6, tmp_path):
    a = lab.tenants["a"]
    made = {}
    for s, mode, cidr in ((1, "dhcpv6-stateful", "2001:db8:a3::/64"), (2, "dhcpv6-stateless", "2001:db8:a4::/64")):
        made[s] = lab.api.create("subnet", network_id=a.networks[s]["id"], ip_version=6, cidr=cidr,
                                 ipv6_ra_mode=mode, ipv6_address_mode=mode, dns_nameservers=["2001:db8::53"],
                                 project_id="tenant-a")
        lab.api.action("router", a.router["id"], "add_router_interface", subnet_id=made[s]["id"])
    port = lab.api.get("port", a.ports["a11"]["id"])
    port = lab.api.update("port", port["id"], fixed_ips=port["fixed_ips"] + [{"subnet_id": made[1]["id"]}])
    fixed = next(ip["ip_address"] for ip in port["fixed_ips"] if ip["subnet_id"] == made[1]["id"])
    stateful = dhclient(lab.host("a11"), tmp_path)
    assert f"new_ip6_address={fixed}\n" in stateful and "new_dhcp6_name_servers=2001:db8::53" in stateful, stateful
    stateless = dhclient(lab.host("a21"), tmp_path, "-S")
    assert "new_dhcp6_name_servers=2001:db8::53" in stateless and "new_ip6_address" not in stateless, stateless


def test_a_security_group_admits_tcp_80_over_ipv6_only_from_its_prefix(lab, v6):
    a = lab.tenants["a"]
    web = lab.api.create("security_group", name="web6", project_id="tenant-a")
    lab.api.create("security_group_rule", security_group_id=web["id"], direction="ingress", ethertype="IPv6",
                   protocol="tcp", port_range_min=80, port_range_max=80, remote_ip_prefix=PREFIXES[1],
                   project_id="tenant-a")
    before = lab.api.get("port", a.ports["a22"]["id"])["security_groups"]
    lab.api.update("port", a.ports["a22"]["id"], security_groups=[web["id"]])
    try:
        a22 = lab.host("a22")
        for src, admitted in (("a11", True), ("a21", False)):
            with listen(a22, 80, ipv6=True) as got:
                send(lab.host(src), v6["a22"], 80, f"from-{src}")
            assert (f"from-{src}" in got.text) == admitted, (src, got.text)
        assert ping(lab.host("a11"), v6["a22"], count=2) == 0          # only TCP 80
    finally:
        lab.api.update("port", a.ports["a22"]["id"], security_groups=before)
