"""Routing across chassis when networks are not everywhere: three chassis (VXLAN, then Geneve), tenants a and
b with identical CIDRs; subnet 1 (10.0.1.0/24) has hosts on hv1 and hv2 only (a11, a12), subnet 2
(10.0.2.0/24) its only host on hv3 (a21); each tenant's router joins them. Every host reaches every host of
its tenant (ping and TCP), nothing crosses tenants, also after a host moves so that its network vanishes
from a chassis; the outside is reached by SNAT and a floating IP from wherever the gateway is.
"""
from __future__ import annotations

import re
import time

from nvapps.lab.net import capture, ping, wait_ping
from nvapps.lab.ovs import dump_flows
from nvapps.lab.reach import reach_matrix
from nvapps.lab.scenarios import create_external
from tests.integration.overlaykit import SETTLE, chassis_status, key, tunnel_type, tunnelled, underlay
from topologies.tenants import INTERNET_GATEWAY, INTERNET_HOST, host_ip

SWITCHES = 3
HOSTS_PER_SWITCH = 1
SUBNETS = 2
OVERLAY = "vxlan"
PLACEMENT = "asymmetric"
INTERNET = True
APPS = ("nvapps.overlay.app", "nvapps.nat.app", "nvapps.l3.app", "nvapps.l2.app")


def assert_matrix(lab, tenant: str, tcp: bool = True) -> None:
    pairs = reach_matrix(lab, tenant, tcp=tcp)
    assert len(pairs) == 6 and all(p.ok for p in pairs), "\n".join(p.line(lab, 3) for p in pairs)


def network_flows(lab, chassis: str, network_key: int) -> list[str]:
    """The flows of `chassis` that match on the network's key."""
    exact = re.compile(rf"metadata=0x{network_key:x}(,|$)")
    return [f"table={f.table} {f.match}" for f in dump_flows(lab.bridge(chassis)) if exact.search(f.match)]


def test_the_placement_leaves_every_network_off_some_chassis(lab):
    where = {h: a.switch for h, a in lab.topo.attachments.items()}
    assert where == {"a11": "hv1", "a12": "hv2", "a21": "hv3", "b11": "hv1", "b12": "hv2", "b21": "hv3"}


def test_every_vm_reaches_every_vm_of_its_tenant_and_nothing_crosses_tenants(lab):
    assert_matrix(lab, "a")
    assert_matrix(lab, "b")


def test_routed_packets_leave_the_sender_in_the_destination_network_both_ways(lab):
    a11 = lab.host("a11")
    wait_ping(a11, host_ip(1, 2))
    with underlay(lab, "hv1", "udp dst port 4789 and src host 172.30.0.1") as sent, \
            underlay(lab, "hv3", "udp dst port 4789 and src host 172.30.0.3") as replied:
        assert ping(a11, host_ip(1, 2), count=2) == 2
    assert {vni for vni, inner in tunnelled(sent.lines) if "ICMP echo request" in inner} == {key(lab, "a", 2)}
    assert {vni for vni, inner in tunnelled(replied.lines) if "ICMP echo reply" in inner} == {key(lab, "a", 1)}


def test_the_same_matrix_holds_over_geneve(lab):
    with tunnel_type(lab, "geneve"):
        with underlay(lab, "hv1", "udp port 4789") as vxlan:
            assert_matrix(lab, "a")
        assert vxlan.count == 0


def test_a_network_that_vanishes_from_a_chassis_leaves_no_flow_there_and_reachability_holds(lab):
    k1, k2 = key(lab, "a", 1), key(lab, "a", 2)
    assert network_flows(lab, "hv2", k1) and network_flows(lab, "hv2", k2)     # a12 is there, routes to net 2
    with lab.moved("a12", "hv3"):
        time.sleep(SETTLE)
        assert network_flows(lab, "hv2", k1) == [] and network_flows(lab, "hv2", k2) == []
        assert network_flows(lab, "hv3", k1)
        assert_matrix(lab, "a")
        assert_matrix(lab, "b", tcp=False)
    time.sleep(SETTLE)
    assert network_flows(lab, "hv2", k1)
    wait_ping(lab.host("a11"), host_ip(2, 1))


def test_every_vm_reaches_the_outside_by_snat_and_a_floating_ip_reaches_the_lone_vm(lab):
    ext, _ = create_external(lab.api)
    tenant = lab.tenants["a"]
    router = lab.api.update("router", tenant.router["id"], external_gateway_info={"network_id": ext["id"]})
    address = router["external_gateway_info"]["external_fixed_ips"][0]["ip_address"]
    fip = lab.api.create("floatingip", floating_network_id=ext["id"], port_id=tenant.ports["a21"]["id"],
                         project_id=tenant.name)
    try:
        time.sleep(SETTLE)
        gateway = next(n for n, c in chassis_status(lab).items() if router["id"] in c["gateway_routers"])
        for host in ("a11", "a12"):
            with capture(lab.host("inet"), "icmp") as outside:
                wait_ping(lab.host(host), INTERNET_HOST)
            assert outside.lines and all(address in line for line in outside.lines), (gateway, outside.lines)
        wait_ping(lab.host("inet"), fip["floating_ip_address"])
        with capture(lab.host("a21"), "icmp") as inside:
            assert ping(lab.host("inet"), fip["floating_ip_address"], count=2) == 2
        assert any(f"{INTERNET_GATEWAY} > {host_ip(1, 2)}" in line for line in inside.lines), inside.lines
    finally:
        lab.api.delete("floatingip", fip["id"])
        lab.api.update("router", router["id"], external_gateway_info=None)
        lab.api.delete("subnet", lab.api.list("subnet", network_id=ext["id"])[0]["id"])
        lab.api.delete("network", ext["id"])
