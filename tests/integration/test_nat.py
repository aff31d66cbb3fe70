"""The provider edge with real packets: SNAT, floating IPs, port forwarding, ARP for external addresses,
conntrack cleared on disassociation, gateway failover between two uplinks, and a controller restart.

Tenants a and b each have subnets 10.0.1.0/24 and 10.0.2.0/24 on their router (host <t><s><n>: subnet s,
IP 10.0.s.(10+n), n=1 on s1, n=2 on s2). s1 and s2 both have an uplink (s1-eth99, s2-eth99) to physnet1,
a learning bridge where host inet is 172.16.0.1 (the external subnet's gateway) and 203.0.113.10 beyond.
Both routers have their gateway on the external network; they spread over the two uplinks.
"""
from __future__ import annotations

import subprocess
import time
import urllib.request
from contextlib import ExitStack
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from nvapps.lab.controller import ADMIN_TOKEN
from nvapps.lab.net import background, capture, listen, ping, send, wait_listening, wait_ping
from nvapps.lab.ovs import dump_flows
from nvapps.pipeline import AppId, Table
from tests.integration.natkit import SETTLE, floating_ip, open_edge
from topologies.tenants import INTERNET_GATEWAY, INTERNET_HOST, host_ip

HOSTS_PER_SWITCH = 1
SUBNETS = 2
INTERNET = True
APPS = ("nvapps.nat.app", "nvapps.acl.app", "nvapps.l3.app", "nvapps.l2.app")
FLAGS = ("--nvapps-stats-interval", "0.5")     # the floating IPs' counters, polled
PEER_ECHO = Path(__file__).resolve().parents[2] / "nvapps" / "lab" / "peer_echo.py"


@pytest.fixture(scope="module")
def edge(lab):
    return open_edge(lab)


def gateway_chassis(lab, tenant: str) -> str:
    router_id = lab.tenants[tenant].router["id"]
    return next(c["name"] for c in lab.api.chassis() if router_id in c["gateway_routers"])


def conntrack(address: str) -> list[str]:
    out = subprocess.run(["ovs-appctl", "dpctl/dump-conntrack"], capture_output=True, text=True, check=True).stdout
    return [line for line in out.splitlines() if f"={address}," in line]


def test_each_tenant_reaches_the_internet_masqueraded_as_its_router_even_with_identical_sockets(lab, edge):
    _, gateways = edge
    inet = lab.host("inet")
    with ExitStack() as stack:
        stack.enter_context(background(inet, f"/usr/bin/python3 {PEER_ECHO} 7000 1.0"))
        wait_listening(inet, 7000)
        clients = {t: lab.host(f"{t}11").popen(["sh", "-c", f"echo hi | nc -p 40000 -w 5 {INTERNET_HOST} 7000"],
                                               stdout=-1, text=True) for t in "ab"}   # same IP and port, at once
        seen = {t: p.communicate(timeout=10)[0].split() for t, p in clients.items()}
    assert {t: s[0] for t, s in seen.items()} == gateways, seen      # the server saw each router's address
    assert gateways["a"] != gateways["b"]
    assert ping(lab.host("a22"), INTERNET_HOST, count=3) == 3         # ICMP through SNAT, from s2


def test_icmp_errors_for_translated_connections_come_back_translated(lab, edge):
    a11 = lab.host("a11")
    with capture(a11, "icmp and icmp[0] == 3") as unreachable:
        send(a11, INTERNET_HOST, 9999, "anyone?", udp=True, timeout=1)    # nothing listens on inet
    assert unreachable.count == 1 and f"> {host_ip(1, 1)}: ICMP {INTERNET_HOST} udp port 9999 unreachable" \
        in unreachable.lines[0], unreachable.lines


def test_a_floating_ip_reaches_its_port_which_sees_the_real_source_and_answers_from_it(lab, edge):
    ext, _ = edge
    inet, a22 = lab.host("inet"), lab.host("a22")
    fip = floating_ip(lab, ext, "a", "a22")
    try:
        time.sleep(SETTLE)
        address = fip["floating_ip_address"]
        with capture(a22, "tcp port 7100") as inside, listen(a22, 7100) as got:
            send(inet, address, 7100, "to-the-floating-ip")
        assert "to-the-floating-ip" in got.text
        assert inside.count and all(f"{INTERNET_GATEWAY}." in line for line in inside.lines), inside.lines
        with capture(inet, "icmp") as outside:
            assert ping(a22, INTERNET_HOST, count=2) == 2
        assert outside.count == 4 and all(address in line for line in outside.lines), outside.lines
    finally:
        lab.api.delete("floatingip", fip["id"])


def floating_counters(lab, address: str) -> dict[str, float]:
    """The floating IP's counters in GET /metrics (rx_packets, rx_bytes, tx_packets, tx_bytes)."""
    request = urllib.request.Request(f"{lab.controller.url}/metrics", headers={"X-Auth-Token": ADMIN_TOKEN})
    with urllib.request.urlopen(request) as answer:
        text = answer.read().decode()
    return {s.name.removeprefix("nvapps_floatingip_").removesuffix("_total"): s.value
            for family in text_string_to_metric_families(text) for s in family.samples
            if s.name.startswith("nvapps_floatingip_") and s.labels.get("address") == address}


def test_a_floating_ip_s_traffic_is_metered_in_both_directions(lab, edge):
    ext, _ = edge
    fip = floating_ip(lab, ext, "b", "b22")
    try:
        time.sleep(SETTLE)
        address = fip["floating_ip_address"]
        deadline = time.monotonic() + 5
        while not (before := floating_counters(lab, address)) and time.monotonic() < deadline:
            time.sleep(0.2)         # until its first poll
        assert set(before) == {"rx_packets", "rx_bytes", "tx_packets", "tx_bytes"}, before
        assert ping(lab.host("inet"), address, count=5) == 5
        deadline = time.monotonic() + 5          # flow counters reach OpenFlow within a second or so
        while True:
            grown = {k: v - before[k] for k, v in floating_counters(lab, address).items()}
            if grown["rx_packets"] >= 5 and grown["tx_packets"] >= 5 or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert grown["rx_packets"] >= 5 and grown["tx_packets"] >= 5 and grown["rx_bytes"] >= 5 * 98, grown
    finally:
        lab.api.delete("floatingip", fip["id"])


def test_port_forwarding_for_tcp_and_udp(lab, edge):
    ext, _ = edge
    inet, b12 = lab.host("inet"), lab.host("b12")
    fip = floating_ip(lab, ext, "b")
    port = lab.tenants["b"].ports["b12"]
    for proto in ("tcp", "udp"):
        lab.api.create("port_forwarding", parent_id=fip["id"], protocol=proto, internal_port_id=port["id"],
                       internal_ip_address=host_ip(2, 1), internal_port=22, external_port=2222)
    try:
        time.sleep(SETTLE)
        address = fip["floating_ip_address"]
        for udp in (False, True):
            with listen(b12, 22, udp=udp) as got:
                send(inet, address, 2222, "forwarded", udp=udp)
            assert "forwarded" in got.text, udp
        with listen(b12, 2223) as other:
            send(inet, address, 2223, "not-forwarded", timeout=1)
        assert other.text == ""
    finally:
        lab.api.delete("floatingip", fip["id"])


def test_arp_for_external_addresses_is_answered_in_flows_by_the_active_gateway(lab, edge):
    ext, gateways = edge
    inet = lab.host("inet")
    fip = floating_ip(lab, ext, "a", "a11")
    try:
        time.sleep(SETTLE)
        before = {c["name"]: c["packet_ins"] for c in lab.api.chassis()}
        router_mac = lab.api.list("port", device_owner="network:router_gateway",
                                  device_id=lab.tenants["a"].router["id"])[0]["mac_address"]
        for address in (gateways["a"], fip["floating_ip_address"]):
            with capture(inet, "arp") as arp:
                out = inet.cmd(f"arping -c 1 -w 2 -I inet-eth0 {address}")
            assert router_mac.upper() in out.upper(), out
            answers = [line for line in arp.lines if f"{address} is-at" in line]
            assert len(answers) == 1, arp.lines          # the active gateway answers, the standby does not
        assert {c["name"]: c["packet_ins"] for c in lab.api.chassis()} == before
        answering = [f for f in dump_flows(gateway_chassis(lab, "a")) if f.table == Table.NAT_UPLINK_IN
                     and "arp" in f.match and fip["floating_ip_address"] in f.match]
        assert answering and answering[0].n_packets >= 1
    finally:
        lab.api.delete("floatingip", fip["id"])


def test_disassociating_ends_reachability_and_clears_its_connections_and_the_ip_moves_in_one_update(
        lab, edge, tmp_path):
    ext, _ = edge
    inet, a12, a21 = lab.host("inet"), lab.host("a12"), lab.host("a21")
    fip = floating_ip(lab, ext, "a", "a12")
    address, received = fip["floating_ip_address"], tmp_path / "received"
    try:
        time.sleep(SETTLE)
        with background(a12, f"nc -l 7200 > {received}"):
            time.sleep(0.3)
            with background(inet, f"while true; do echo tick; sleep 0.1; done | nc {address} 7200"):
                time.sleep(1.0)
                assert received.stat().st_size > 0 and conntrack(address), "a tracked session runs"
                lab.api.update("floatingip", fip["id"], port_id=None)
                time.sleep(SETTLE)
                deadline = time.monotonic() + 3.0        # the NAT app flushes again once the datapath revalidated
                while conntrack(address) and time.monotonic() < deadline:
                    time.sleep(0.2)
                assert conntrack(address) == []
                stopped = received.stat().st_size
                time.sleep(1.0)
                assert received.stat().st_size == stopped            # the session passes nothing more
        assert ping(inet, address, count=2) == 0
        moved = lab.api.update("floatingip", fip["id"], port_id=lab.tenants["a"].ports["a21"]["id"])
        assert moved["fixed_ip_address"] == host_ip(1, 2)
        time.sleep(SETTLE)
        with listen(a21, 7201) as got:
            send(inet, address, 7201, "moved")
        assert "moved" in got.text
    finally:
        lab.api.delete("floatingip", fip["id"])


def test_gateway_failover_moves_a_router_to_the_other_uplink_and_back(lab, edge):
    home = gateway_chassis(lab, "a")
    other = next(s for s in ("s1", "s2") if s != home)
    uplink = f"{home}-eth99"
    a11 = lab.host("a11")
    subprocess.run(["ip", "link", "set", uplink, "down"], check=True)
    try:
        deadline = time.monotonic() + 15
        while gateway_chassis(lab, "a") != other and time.monotonic() < deadline:
            time.sleep(0.2)
        assert gateway_chassis(lab, "a") == other
        wait_ping(a11, INTERNET_HOST, timeout=10)                  # new connections work through the other uplink
        with listen(lab.host("inet"), 7300) as got:
            send(a11, INTERNET_HOST, 7300, "via-the-standby")
        assert "via-the-standby" in got.text
        assert any(f.table == Table.NAT_UPLINK_IN and f.cookie >> 56 == AppId.NAT for f in dump_flows(other))
    finally:
        subprocess.run(["ip", "link", "set", uplink, "up"], check=True)
    deadline = time.monotonic() + 15
    while gateway_chassis(lab, "a") != home and time.monotonic() < deadline:
        time.sleep(0.2)
    assert gateway_chassis(lab, "a") == home
    wait_ping(a11, INTERNET_HOST, timeout=10)


def test_a_controller_restart_resends_no_nat_flow_and_keeps_a_translated_session(lab, edge, tmp_path):
    status, during, later = lab.restart_during_a_session("a22", "inet", INTERNET_HOST, 7400, tmp_path / "received")
    assert later > during > 0
    for name in ("s1", "s2"):
        nat = status[name]["last_sync"]["nat"]
        assert (nat["flow_mods"], nat["group_mods"]) == (0, 0) and nat["flows"] > 0
