"""IPv6 out of a router's gateway with real packets: routed, not translated (as Neutron does). The external
network gets an IPv6 subnet (2001:db8:ff::/64, inet at ::1), tenant a's router a gateway address on it and
a SLAAC subnet inside (2001:db8:a1::/64); inet routes that prefix to the gateway address. a11 reaches inet's
2001:db8:beef::10 with its own address as source, and inet reaches a11; the next hop is resolved by
neighbour discovery on the uplink.
"""
from __future__ import annotations

import pytest

from nvapps.lab.net import capture, ping, wait_ping
from nvapps.lab.wait import eventually
from tests.integration.natkit import open_edge
from topologies.tenants import INTERNET_GATEWAY6, INTERNET_HOST6

HOSTS_PER_SWITCH = 1
SUBNETS = 2
INTERNET = True
APPS = ("nvapps.nat.app", "nvapps.dhcp.app", "nvapps.acl.app", "nvapps.l3.app", "nvapps.l2.app")
FLAGS = ("--nvapps-ra-interval", "1")
EXTERNAL6, INSIDE6 = "2001:db8:ff::/64", "2001:db8:a1::/64"


@pytest.fixture(scope="module")
def edge6(lab) -> dict[str, str]:
    """The external network's IPv6 subnet, router a's gateway address on it, tenant a's SLAAC subnet on its
    first network, inet's route to it, and ingress from the internet's IPv6 prefix: router a's gateway
    address ("gateway") and a11's address ("a11")."""
    ext, _ = open_edge(lab)
    a = lab.tenants["a"]
    sub6 = lab.api.create("subnet", network_id=ext["id"], ip_version=6, cidr=EXTERNAL6, gateway_ip=INTERNET_GATEWAY6,
                          enable_dhcp=False)
    router = lab.api.get("router", a.router["id"])
    fixed = router["external_gateway_info"]["external_fixed_ips"] + [{"subnet_id": sub6["id"]}]
    router = lab.api.update("router", a.router["id"], external_gateway_info={"network_id": ext["id"],
                                                                             "external_fixed_ips": fixed})
    gateway = next(ip["ip_address"] for ip in router["external_gateway_info"]["external_fixed_ips"]
                   if ip["subnet_id"] == sub6["id"])
    inside = lab.api.create("subnet", network_id=a.networks[1]["id"], ip_version=6, cidr=INSIDE6,
                            ipv6_ra_mode="slaac", ipv6_address_mode="slaac", project_id="tenant-a")
    lab.api.action("router", a.router["id"], "add_router_interface", subnet_id=inside["id"])
    default = lab.api.list("security_group", project_id="tenant-a", name="default")[0]
    lab.api.create("security_group_rule", security_group_id=default["id"], direction="ingress", ethertype="IPv6",
                   remote_ip_prefix="2001:db8:beef::/64", project_id="tenant-a")
    address = next(ip["ip_address"] for ip in lab.api.get("port", a.ports["a11"]["id"])["fixed_ips"]
                   if ip["subnet_id"] == inside["id"])
    a11 = lab.host("a11")
    eventually(lambda: address in a11.cmd("ip -6 addr show scope global"), timeout=20, what=f"a11 forms {address}")
    lab.host("inet").cmd(f"ip -6 route add {INSIDE6} via {gateway}")
    return {"gateway": gateway, "a11": address}


def test_a_vm_reaches_an_ipv6_internet_host_with_its_own_address(lab, edge6):
    a11, inet = lab.host("a11"), lab.host("inet")
    wait_ping(a11, INTERNET_HOST6, timeout=20)
    with capture(inet, "icmp6 and ip6[40] == 128") as seen:
        assert ping(a11, INTERNET_HOST6, count=3) == 3
    assert seen.count == 3 and all(f"{edge6['a11']} > {INTERNET_HOST6}" in line for line in seen.lines), seen.lines


def test_the_internet_reaches_the_vm_through_the_routers_gateway_address(lab, edge6):
    inet, intf = lab.host("inet"), lab.host("inet").defaultIntf().name
    inet.cmd(f"ip -6 neigh flush dev {intf}")                 # inet must solicit the gateway address again
    out = inet.cmd(f"ping -n -c 3 -i 0.2 -W 1 -I {INTERNET_HOST6} {edge6['a11']}")
    assert " 3 received" in out, out
    neighbours = inet.cmd(f"ip -6 neigh show {edge6['gateway']}")
    assert "router" in neighbours, neighbours                  # the gateway answered, as a router
