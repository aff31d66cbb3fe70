"""Packet traces on three Geneve chassis, checked against real packets: an allowed connection (the security group
rule that allows it named), a blocked one (dropped by the server's security group, named), a routed packet
(router and route named), the tunnel to the remote chassis, and a packet from the internet to a floating IP
(the NAT rule named).

Tenant a has subnets 10.0.1.0/24 and 10.0.2.0/24 on its router; host a<s><n> is on subnet s, chassis hv<n>:
the client a11 is on hv1, the server a23 on hv3.
"""
from __future__ import annotations

import time

import pytest

from nvapps.lab.net import listen, send, tcp_reaches
from nvapps.lab.scenarios import open_edge
from topologies.tenants import host_ip

SWITCHES = 3
HOSTS_PER_SWITCH = 1
SUBNETS = 2
OVERLAY = "geneve"
INTERNET = True
APPS = ("nvapps.nat.app", "nvapps.overlay.app", "nvapps.acl.app", "nvapps.l3.app", "nvapps.l2.app")
SERVER, SERVER_IP = "a23", host_ip(3, 2)
SETTLE = 1.0


@pytest.fixture(scope="module")
def web(lab):
    """The server in group web only (TCP 80 in from anywhere); its groups as they were afterwards."""
    api = lab.api
    group = api.create("security_group", name="web", project_id="tenant-a")
    rule = api.create("security_group_rule", security_group_id=group["id"], direction="ingress", ethertype="IPv4",
                      protocol="tcp", port_range_min=80, port_range_max=80, project_id="tenant-a")
    port = lab.tenants["a"].ports[SERVER]
    api.update("port", port["id"], security_groups=[group["id"]])
    time.sleep(SETTLE)
    try:
        yield group, rule
    finally:
        api.update("port", port["id"], security_groups=port["security_groups"])


def trace(lab, flow: str) -> dict:
    return lab.api.trace(flow, port_id=lab.tenants["a"].ports["a11"]["id"])


def objects(steps: list[dict], stage: str) -> list[dict]:
    """The objects named by the steps of `stage`."""
    return [o for s in steps if s["stage"] == stage for o in s["objects"]]


def test_an_allowed_connection_names_the_rule_that_allows_it(lab, web):
    group, rule = web
    t = trace(lab, f"tcp,nw_dst={SERVER_IP},tp_dst=80")
    server = lab.tenants["a"].ports[SERVER]["id"]
    assert [(v["result"], v.get("port_id"), v["chassis"]) for v in t["verdicts"]] == [("delivered", server, "hv3")]
    hv3 = t["hops"][-1]
    assert {"kind": "security_group_rule", "id": rule["id"], "name": ""} in objects(hv3["steps"], "sg_to_vm_rules")
    assert {"kind": "security_group", "id": group["id"], "name": "web"} in objects(hv3["steps"], "sg_to_vm_rules")
    assert tcp_reaches(lab.host("a11"), lab.host(SERVER), SERVER_IP, 80)


def test_a_blocked_connection_is_dropped_by_the_servers_security_group(lab, web):
    group, _ = web
    t = trace(lab, f"tcp,nw_dst={SERVER_IP},tp_dst=81")
    (verdict,) = t["verdicts"]
    assert (verdict["result"], verdict["chassis"], verdict["by"]["stage"]) == ("dropped", "hv3", "sg_to_vm_rules")
    assert {"kind": "security_group", "id": group["id"], "name": "web"} in verdict["by"]["objects"]
    assert {"kind": "port", "id": lab.tenants["a"].ports[SERVER]["id"], "name": SERVER} in verdict["by"]["objects"]
    assert not tcp_reaches(lab.host("a11"), lab.host(SERVER), SERVER_IP, 81)


def test_a_routed_packet_names_the_router_and_the_route(lab, web):
    t = trace(lab, f"icmp,nw_dst={SERVER_IP}")
    routing = objects(t["hops"][0]["steps"], "l3_routing")
    router = lab.tenants["a"].router
    assert {"kind": "router", "id": router["id"], "name": router["name"]} in routing
    assert {"kind": "route", "text": "10.0.2.0/24 connected"} in routing
    assert any(o["kind"] == "next_hop" and o.get("name") == SERVER for o in objects(t["hops"][0]["steps"], "l3_neighbor"))


def test_a_packet_to_another_chassis_names_the_tunnel_and_the_chassis_and_is_followed_there(lab, web):
    t = trace(lab, f"tcp,nw_dst={SERVER_IP},tp_dst=80")
    assert [h["chassis"] for h in t["hops"]] == ["hv1", "hv3"]
    (sent,) = t["hops"][0]["verdicts"]
    assert (sent["result"], sent["to_chassis"], sent["tunnel"]) == ("sent", "hv3", "geneve")
    assert {"kind": "chassis", "text": "hv3"} in objects(t["hops"][0]["steps"], "egress_remote")
    assert t["hops"][1]["flow"].startswith("tcp,in_port=") and "tun_dst=172.30.0.3" in t["hops"][1]["flow"]


def test_a_packet_from_the_internet_to_a_floating_ip_names_the_nat_rule(lab, web):
    ext, _ = open_edge(lab.api, lab.tenants)
    fip = lab.api.create("floatingip", floating_network_id=ext["id"], port_id=lab.tenants["a"].ports[SERVER]["id"],
                         project_id="tenant-a")
    time.sleep(SETTLE)
    t = lab.api.trace(f"tcp,nw_dst={fip['floating_ip_address']},tp_dst=80", network_id=ext["id"])
    dnat = objects(t["hops"][0]["steps"], "nat_dnat")
    assert {"kind": "floatingip", "id": fip["id"], "name": ""} in dnat
    assert {"kind": "dnat", "text": f"{fip['floating_ip_address']} to {SERVER_IP}"} in dnat
    assert [(v["result"], v.get("port_id")) for v in t["verdicts"]] == [
        ("delivered", lab.tenants["a"].ports[SERVER]["id"])]
    with listen(lab.host(SERVER), 80) as got:
        send(lab.host("inet"), fip["floating_ip_address"], 80, "inbound")
    assert "inbound" in got.text
