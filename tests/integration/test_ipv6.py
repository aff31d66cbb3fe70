"""IPv6 addresses by SLAAC: a subnet with ipv6_ra_mode/ipv6_address_mode slaac on tenant a's first network,
attached to its router; the controller advertises the prefix (every second here, and on solicitation), and
a11 forms the very address the model gave its port (the EUI-64 of its MAC), with a default route via the
router's link-local address; tenant b's host on the same switch hears no advertisement of it.

Tenant a: a11 (s1) on 10.0.1.0/24, a21 on 10.0.2.0/24 behind router a; tenant b the same.
"""
from __future__ import annotations

from nvapps.lab.wait import eventually

HOSTS_PER_SWITCH = 1
SUBNETS = 2
APPS = ("nvapps.dhcp.app", "nvapps.acl.app", "nvapps.l3.app", "nvapps.l2.app")
FLAGS = ("--nvapps-ra-interval", "1")
PREFIX = "2001:db8:a1::/64"


def global_addresses(host) -> str:
    return host.cmd(f"ip -6 addr show dev {host.defaultIntf().name} scope global")


def test_a_host_forms_its_ports_address_from_the_routers_advertisement(lab):
    a, a11, b11 = lab.tenants["a"], lab.host("a11"), lab.host("b11")
    net = a.networks[1]
    v6 = lab.api.create("subnet", network_id=net["id"], ip_version=6, cidr=PREFIX, ipv6_ra_mode="slaac",
                        ipv6_address_mode="slaac", project_id="tenant-a")
    lab.api.action("router", a.router["id"], "add_router_interface", subnet_id=v6["id"])
    port = lab.api.get("port", a.ports["a11"]["id"])
    formed = next(ip["ip_address"] for ip in port["fixed_ips"] if ip["subnet_id"] == v6["id"])
    assert formed.startswith("2001:db8:a1:")
    eventually(lambda: f"{formed}/64" in global_addresses(a11), timeout=20,
               what=f"a11 did not form {formed}: {global_addresses(a11)}")
    assert "via fe80::" in a11.cmd("ip -6 route show default")
    assert "2001:db8:a1:" not in global_addresses(b11)            # another tenant hears nothing of it
