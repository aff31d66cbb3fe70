"""Load balancing from outside, with real packets: a floating IP of a VIP's port brings the internet host's
connections to the VIP, balanced on the router's gateway chassis over members on either switch and either
subnet; replies leave from the floating IP. Two tenants with the same VIP and members stay apart.

Tenants a and b each have subnets 10.0.1.0/24 and 10.0.2.0/24 on their router (host <t><s><n>: subnet s,
IP 10.0.s.(10+n), n=1 on s1, n=2 on s2); both routers have their gateway on the external network (uplinks
on s1 and s2, host inet beyond). Each tenant's VIP is on subnet 1; members t12 (subnet 1, s2), t21 (subnet 2,
s1) and t22 (subnet 2, s2) answer with their names.
"""
from __future__ import annotations

import time
from contextlib import ExitStack

import pytest

from nvapps.lab.net import background, wait_listening
from tests.integration.lbkit import HERE, PORT, spread, wait_active
from tests.integration.natkit import SETTLE, floating_ip, open_edge
from topologies.tenants import INTERNET_GATEWAY, host_ip

HOSTS_PER_SWITCH = 1
SUBNETS = 2
INTERNET = True
APPS = ("nvapps.lb.app", "nvapps.nat.app", "nvapps.acl.app", "nvapps.l3.app", "nvapps.l2.app")
MEMBERS = {"12": (1, 2), "21": (2, 1), "22": (2, 2)}      # host (after the tenant) -> (subnet, n)
CONNECTIONS = 300
SPREAD = 0.35


@pytest.fixture(scope="module")
def ext(lab):
    """The external network, both tenants' gateways on it."""
    return open_edge(lab)[0]


@pytest.fixture(scope="module")
def exposed(lab, ext):
    """Each tenant's load balancer (TCP 80 and UDP 53 to its members' name servers) with a floating IP:
    tenant -> (load balancer, floating IP address)."""
    out = {}
    with ExitStack() as stack:
        for tenant in "ab":
            for host in MEMBERS:
                stack.enter_context(background(lab.host(tenant + host), f"/usr/bin/python3 {HERE / 'name_server.py'} "
                                                                       f"{tenant + host} {PORT}"))
                wait_listening(lab.host(tenant + host), PORT)
            out[tenant] = _exposed(lab, ext, tenant)
        time.sleep(SETTLE)
        yield out


def _exposed(lab, ext: dict, tenant: str) -> tuple[dict, str]:
    api, project = lab.api, f"tenant-{tenant}"
    lb = api.create("loadbalancer", vip_subnet_id=lab.tenants[tenant].subnets[1]["id"], project_id=project)
    for protocol, listen in (("TCP", 80), ("UDP", 53)):
        listener = api.create("listener", loadbalancer_id=lb["id"], protocol=protocol, protocol_port=listen,
                              project_id=project)
        pool = api.create("pool", listener_id=listener["id"], protocol=protocol, lb_algorithm="ROUND_ROBIN",
                          project_id=project)
        for subnet, n in MEMBERS.values():
            api.create("member", parent_id=pool["id"], address=host_ip(n, subnet), protocol_port=PORT,
                       project_id=project)
    lb = wait_active(api, lb["id"])
    fip = floating_ip(lab, ext, tenant, port_id=lb["vip_port_id"])
    return lb, fip["floating_ip_address"]


def test_a_floating_ip_of_a_vip_spreads_the_internet_s_connections_over_every_member(lab, exposed):
    (lb_a, fip_a), (lb_b, fip_b) = exposed["a"], exposed["b"]
    assert lb_a["vip_address"] == lb_b["vip_address"] and fip_a != fip_b
    for tenant, (_, fip) in exposed.items():
        assert "-" not in spread(lab, "inet", fip, count=3)     # fails fast (a lost connection waits 2 s)
        counts = spread(lab, "inet", fip, count=CONNECTIONS)
        members = {tenant + host for host in MEMBERS}
        assert set(counts) == members, counts          # every answer from the floating IP, from this tenant's
        for name in members:                           # members only
            assert abs(counts[name] - CONNECTIONS / 3) <= SPREAD * CONNECTIONS / 3, counts


def test_udp_through_the_floating_ip_of_a_vip(lab, exposed):
    for tenant, (_, fip) in exposed.items():
        counts = spread(lab, "inet", fip, protocol="udp", listen=53, count=60)
        assert set(counts) == {tenant + host for host in MEMBERS}, counts


def test_inside_clients_still_reach_the_vip_while_it_has_a_floating_ip(lab, exposed):
    lb, _ = exposed["a"]
    counts = spread(lab, "a11", lb["vip_address"], count=60)
    assert set(counts) == {"a" + host for host in MEMBERS}, counts


def test_a_vip_with_its_own_security_groups_admits_what_their_ingress_rules_admit(lab, ext, exposed):
    api, project, subnet = lab.api, "tenant-a", lab.tenants["a"].subnets[1]
    group = api.create("security_group", name="vip", project_id=project)
    lb = api.create("loadbalancer", vip_subnet_id=subnet["id"], vip_sg_ids=[group["id"]], project_id=project)
    listener = api.create("listener", loadbalancer_id=lb["id"], protocol="TCP", protocol_port=80, project_id=project)
    pool = api.create("pool", listener_id=listener["id"], protocol="TCP", lb_algorithm="ROUND_ROBIN",
                      project_id=project)
    for subnet_index, n in MEMBERS.values():
        api.create("member", parent_id=pool["id"], address=host_ip(n, subnet_index), protocol_port=PORT,
                   project_id=project)
    lb = wait_active(api, lb["id"])
    fip = floating_ip(lab, ext, "a", port_id=lb["vip_port_id"])
    try:
        time.sleep(SETTLE)
        nobody = {"-": 2}
        address = fip["floating_ip_address"]
        assert spread(lab, "inet", address, count=2) == nobody      # a new group admits nothing
        assert spread(lab, "a11", lb["vip_address"], count=2) == nobody
        rule = api.create("security_group_rule", security_group_id=group["id"], direction="ingress",
                          ethertype="IPv4", protocol="tcp", port_range_min=80, port_range_max=80,
                          remote_ip_prefix=f"{INTERNET_GATEWAY}/32", project_id=project)
        time.sleep(SETTLE)
        assert set(spread(lab, "inet", address, count=30)) == {"a" + host for host in MEMBERS}
        assert spread(lab, "a11", lb["vip_address"], count=2) == nobody     # still not an inside client
        api.delete("security_group_rule", rule["id"])
        time.sleep(SETTLE)
        assert spread(lab, "inet", address, count=2) == nobody
    finally:
        api.delete("loadbalancer", lb["id"], cascade=True)
    assert api.get("floatingip", fip["id"])["port_id"] is None            # the VIP port went with its LB
