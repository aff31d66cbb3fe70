"""Security with real packets: port security (anti-spoofing), network ACLs and stateful security groups,
alone and with routing.

Tenant a has subnets 10.0.1.0/24 and 10.0.2.0/24 joined by its router; host a<s><n> is on subnet s with IP
10.0.s.(10+n), on s1 for odd n and s2 for even n. Every port starts in its project's default group. Each
test puts back what it changed.
"""
from __future__ import annotations

import time
from contextlib import contextmanager

from nvapps.lab.net import tcp_reaches, wait_ping
from topologies.tenants import host_ip

HOSTS_PER_SWITCH = 2
SUBNETS = 2
APPS = ("nvapps.acl.app", "nvapps.l3.app", "nvapps.l2.app")


def port_of(lab, host: str) -> dict:
    return lab.tenants["a"].ports[host]


def group(lab, name: str, *rules: dict) -> dict:
    """A new tenant-a group with Neutron's egress rules and `rules`."""
    created = lab.api.create("security_group", name=name, project_id="tenant-a")
    for rule in rules:
        lab.api.create("security_group_rule", security_group_id=created["id"], **rule)
    return created


@contextmanager
def in_groups(lab, host: str, *groups: dict):
    """The host's port in `groups` for the block, back in its own groups after."""
    port = port_of(lab, host)
    before = lab.api.get("port", port["id"])["security_groups"]
    lab.api.update("port", port["id"], security_groups=[g["id"] for g in groups])
    try:
        time.sleep(0.5)
        yield
    finally:
        lab.api.update("port", port["id"], security_groups=before)
        time.sleep(0.5)


def test_default_group_members_talk_on_one_switch_across_switches_and_through_the_router(lab):
    a11 = lab.host("a11")
    for dst in (host_ip(3, 1), host_ip(2, 1), host_ip(1, 2), host_ip(2, 2)):
        wait_ping(a11, dst)
    assert tcp_reaches(a11, lab.host("a12"), host_ip(2, 1), 5001)
    assert tcp_reaches(lab.host("a22"), lab.host("a11"), host_ip(1, 1), 5002)
