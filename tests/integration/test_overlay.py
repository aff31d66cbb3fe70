"""The overlay with real packets: three chassis (each its own OVS in its own namespace) joined by VXLAN or
Geneve over an underlay bridge; two tenants with identical CIDRs; routing across chassis; a host that
moves; a chassis that loses its controller; an L2 gateway to a VLAN segment; SNAT through a gateway
chassis reached by tunnel; tenant IPv6 routed across chassis inside the (IPv4) tunnels.

Tenants a and b each have subnets 10.0.1.0/24 and 10.0.2.0/24 joined by their router; host <t><s><n> is on
subnet s with IP 10.0.s.(10+n), on chassis hv<n>. Chassis hv<n> has tunnel IP 172.30.0.<n> on interface
hv<n>-eth0 (the underlay, MTU 1600). Behind hv3's interface 50, a legacy switch carries v100 (10.0.1.50) on
VLAN 100 and v200 (10.0.1.60) on VLAN 200.
"""
from __future__ import annotations

import re
import time
from contextlib import ExitStack

import netaddr

from nvapps.lab.net import capture, dhcp_lease, ping, tcp_reaches, wait_ping
from nvapps.lab.ovs import dump_flows, dump_groups
from nvapps.lab.reach import MARKED, MARKED_SIZE
from nvapps.lab.scenarios import create_external
from nvapps.lab.wait import eventually
from nvapps.pipeline import COOKIE_LEARNED, Table
from tests.integration.overlaykit import SETTLE, chassis_status, key, tunnel_type, tunnelled, underlay, wait_until
from topologies.tenants import GATEWAY_PORT, INTERNET_HOST, host_ip, legacy_ip, tunnel_ip

SWITCHES = 3
HOSTS_PER_SWITCH = 1
SUBNETS = 2
OVERLAY = "vxlan"
VLANS = True
INTERNET = True
APPS = ("nvapps.overlay.app", "nvapps.nat.app", "nvapps.dhcp.app", "nvapps.l3.app", "nvapps.l2.app")
FLAGS = ("--nvapps-ra-interval", "1")       # router advertisements of the IPv6 subnets added below


def test_chassis_show_their_tunnel_endpoints_and_networks_fit_inside_the_underlay(lab):
    status = chassis_status(lab)
    assert {n: (c["connected"], c["tunnel_type"], c["tunnel_ip"]) for n, c in status.items()} == {
        f"hv{i}": (True, "vxlan", tunnel_ip(i)) for i in (1, 2, 3)}
    assert all(c["tunnel_ports"]["vxlan"]["ofport"] and c["tunnel_ports"]["geneve"]["ofport"]
               for c in status.values())
    net = lab.api.get("network", lab.tenants["a"].networks[1]["id"])
    assert (net["provider:network_type"], net["mtu"]) == ("vxlan", 1550)       # 1600 - 50


def test_dhcp_tells_a_vm_on_the_overlay_the_mtu_that_fits_the_tunnel(lab, tmp_path):
    a23 = lab.host("a23")
    try:
        lease = dhcp_lease(a23, tmp_path / "lease")
        assert (lease["ip"], lease["router"], lease["mtu"]) == (host_ip(3, 2), "10.0.2.1", "1550")
        assert ping(a23, host_ip(1, 1), count=3) == 3          # routed, across chassis
    finally:
        a23.cmd(f"ip -4 addr flush dev a23-eth0; ip addr add {host_ip(3, 2)}/24 dev a23-eth0; "
                "ip route replace default via 10.0.2.1")


def test_tenants_with_identical_cidrs_reach_their_hosts_on_every_chassis_and_never_each_other(lab):
    a11, b11 = lab.host("a11"), lab.host("b11")
    tenant_b = [h for h in lab.topo.attachments if h.startswith("b")]
    with ExitStack() as stack:
        caps = {h: stack.enter_context(capture(lab.host(h), MARKED)) for h in tenant_b}
        for n in (2, 3):
            wait_ping(a11, host_ip(n, 1))
            out = a11.cmd(f"ping -n -c 2 -i 0.2 -W 1 -s {MARKED_SIZE} {host_ip(n, 1)}")
            assert " 2 received" in out, out
    assert {h: c.count for h, c in caps.items()} == dict.fromkeys(tenant_b, 0)
    assert tcp_reaches(a11, lab.host("a13"), host_ip(3, 1), 5001)
    assert ping(b11, host_ip(2, 1), count=2) == 2


def test_the_underlay_carries_only_tunnel_packets_between_chassis_with_a_vni_per_network(lab):
    a11, b11 = lab.host("a11"), lab.host("b11")
    with underlay(lab, "hv1", "ip and not udp dst port 4789") as other, \
            underlay(lab, "hv1", "udp dst port 4789") as tunnels:
        assert ping(a11, host_ip(2, 1), count=3) == 3
        assert ping(b11, host_ip(2, 1), count=3) == 3
    assert other.count == 0, other.lines
    outer = [line for line in tunnels.lines if "VXLAN" in line]
    assert outer and all(re.search(r"172\.30\.0\.\d\.\d+ > 172\.30\.0\.\d\.4789: VXLAN", line) for line in outer)
    echoes = {vni for vni, inner in tunnelled(tunnels.lines) if "ICMP echo" in inner}
    assert echoes == {key(lab, "a", 1), key(lab, "b", 1)}


def test_a_routed_packet_leaves_its_chassis_routed_with_the_destination_networks_vni(lab):
    a11 = lab.host("a11")
    wait_ping(a11, host_ip(2, 2))
    with underlay(lab, "hv1", "udp dst port 4789 and src host 172.30.0.1") as sent:
        out = a11.cmd(f"ping -n -c 2 -i 0.2 -W 1 {host_ip(2, 2)}")
    assert " 2 received" in out and "ttl=63" in out, out
    assert {vni for vni, inner in tunnelled(sent.lines) if "ICMP echo" in inner} == {key(lab, "a", 2)}


def test_broadcast_reaches_only_the_chassis_with_ports_on_the_network(lab):
    a13 = lab.tenants["a"].ports["a13"]
    lab.api.update("port", a13["id"], **{"binding:host_id": ""})      # network a1 now on hv1 and hv2 only
    try:
        time.sleep(SETTLE)
        with underlay(lab, "hv2", "udp dst port 4789") as hv2, underlay(lab, "hv3", "udp dst port 4789") as hv3:
            lab.host("a11").cmd("arping -c 2 -w 2 -I a11-eth0 10.0.1.99")
        vni = f"vni {key(lab, 'a', 1)}"
        assert any(vni in line for line in hv2.lines) and not any(vni in line for line in hv3.lines)
    finally:
        lab.api.update("port", a13["id"], **{"binding:host_id": "hv3"})
        time.sleep(SETTLE)
    wait_ping(lab.host("a11"), host_ip(3, 1))


def test_geneve_chassis_work_the_same_way(lab):
    a11 = lab.host("a11")
    with tunnel_type(lab, "geneve"):
        with underlay(lab, "hv1", "udp port 6081") as geneve, underlay(lab, "hv1", "udp port 4789") as vxlan:
            wait_ping(a11, host_ip(3, 1))
            assert tcp_reaches(a11, lab.host("a13"), host_ip(3, 1), 5002)
        assert geneve.count > 0 and vxlan.count == 0
        assert all("172.30.0." in line for line in geneve.lines if "Geneve" in line)
    wait_ping(a11, host_ip(3, 1))


def test_a_chassis_that_loses_its_controller_keeps_forwarding_and_gets_nothing_new_back(lab):
    hv3, a11, a13 = lab.host("hv3"), lab.host("a11"), lab.host("a13")
    hv3.disconnect_controller()
    try:
        wait_until(lambda: not chassis_status(lab)["hv3"]["connected"])
        time.sleep(SETTLE)        # the others have synced without hv3: its ports stay where they were
        assert ping(a11, host_ip(3, 1), count=3) == 3 and ping(a13, host_ip(1, 1), count=3) == 3
        assert tcp_reaches(a13, a11, host_ip(1, 1), 5003)
    finally:
        hv3.reconnect_controller()
    lab.controller.wait_chassis(["hv3"])
    wait_until(lambda: chassis_status(lab)["hv3"]["connected"])
    status = chassis_status(lab)["hv3"]
    assert {app: s["flow_mods"] for app, s in status["last_sync"].items()} == dict.fromkeys(
        ["core", *(app.split(".")[1] for app in APPS)], 0)


def test_an_l2_gateway_bridges_vlan_100_into_the_network_and_vlan_200_stays_out(lab):
    admin, net = lab.api, lab.tenants["a"].networks[1]
    gateway = admin.create("l2_gateway", name="legacy", devices=[
        {"device_name": "hv3", "interfaces": [{"name": f"hv3-eth{GATEWAY_PORT}"}]}])
    connection = admin.create("l2_gateway_connection", l2_gateway_id=gateway["id"], network_id=net["id"],
                              segmentation_id=100)
    v100, v200, a11 = lab.host("v100"), lab.host("v200"), lab.host("a11")
    try:
        wait_ping(v100, host_ip(1, 1))
        assert tcp_reaches(a11, v100, legacy_ip("v100", 1), 5004)
        with capture(a11, f"src host {legacy_ip('v200', 1)}") as seen:
            assert ping(v200, host_ip(1, 1), count=2) == 0
            assert ping(a11, legacy_ip("v200", 1), count=2) == 0
        assert seen.count == 0, seen.lines
        v100_mac = v100.defaultIntf().MAC()
        learned = {name: [f for f in dump_flows(lab.host(name).bridge) if f.table == Table.L2_LEARNED
                          and v100_mac in f.match] for name in ("hv3", "hv1")}
        assert learned["hv3"] and learned["hv1"], learned                     # learned in the datapath
        assert f"load:0x{int(netaddr.IPAddress(tunnel_ip(3))):x}->NXM_NX_REG12[]" in learned["hv1"][0].actions
    finally:
        admin.delete("l2_gateway_connection", connection["id"])
        admin.delete("l2_gateway", gateway["id"])
    time.sleep(SETTLE)
    assert ping(v100, host_ip(1, 1), count=2) == 0


def test_outside_traffic_crosses_the_overlay_to_its_gateway_chassis_and_leaves_translated(lab):
    ext, _ = create_external(lab.api)
    router = lab.api.update("router", lab.tenants["a"].router["id"], external_gateway_info={"network_id": ext["id"]})
    address = router["external_gateway_info"]["external_fixed_ips"][0]["ip_address"]
    try:
        time.sleep(SETTLE)
        gateway = next(n for n, c in chassis_status(lab).items() if router["id"] in c["gateway_routers"])
        source = next(h for h in ("a11", "a12", "a13") if lab.topo.attachments[h].switch != gateway)
        home = lab.topo.attachments[source].switch
        with underlay(lab, home, f"udp dst port 4789 and dst host {tunnel_ip(int(gateway[-1]))}") as towards, \
                capture(lab.host("inet"), "icmp") as outside:
            wait_ping(lab.host(source), INTERNET_HOST)
        assert towards.count > 0                       # un-routed, through the tunnel to the gateway chassis
        assert outside.count and all(address in line for line in outside.lines), outside.lines
    finally:
        lab.api.update("router", router["id"], external_gateway_info=None)
        lab.api.delete("subnet", lab.api.list("subnet", network_id=ext["id"])[0]["id"])
        lab.api.delete("network", ext["id"])


def test_a_host_that_moves_to_another_chassis_is_reached_there_and_its_old_flows_go(lab):
    old = lab.tenants["a"].ports["a13"]["binding:profile"]["interface_name"]
    with lab.moved("a13", "hv2", 9) as new_port:                # the VM's new NIC, on hv2
        wait_ping(lab.host("a11"), host_ip(3, 1))
        assert tcp_reaches(lab.host("a11"), lab.host("a13"), host_ip(3, 1), 5005)
        old_ofport = next(i["ofport"] for i in chassis_status(lab)["hv3"]["interfaces"] if i["name"] == old)
        assert not [f for f in dump_flows(lab.bridge("hv3")) if f"in_port={old_ofport}" in f.match], "stale flows on hv3"
        new_ofport = next(i["ofport"] for i in chassis_status(lab)["hv2"]["interfaces"] if i["name"] == new_port)
        assert [f for f in dump_flows(lab.bridge("hv2")) if f"in_port={new_ofport}" in f.match]
    wait_ping(lab.host("a11"), host_ip(3, 1))


def test_a_restarted_vswitchd_gets_its_whole_pipeline_back_without_a_controller_restart(lab):
    hv2 = lab.host("hv2")

    def static() -> list[tuple]:
        return sorted((f.cookie, f.table, f.priority, f.match) for f in dump_flows(lab.bridge("hv2"))
                      if not f.cookie & COOKIE_LEARNED)

    before, groups = static(), dump_groups(lab.bridge("hv2"))
    assert len(before) > 50
    hv2.restart_vswitchd()
    wait_ping(lab.host("a11"), host_ip(2, 1))         # across chassis, into the restarted one
    wait_ping(lab.host("a22"), host_ip(1, 1))         # routed, out of it
    assert tcp_reaches(lab.host("a11"), lab.host("a12"), host_ip(2, 1), 5006)
    wait_until(lambda: static() == before)
    synced = chassis_status(lab)["hv2"]["last_sync"]      # each app found nothing there and sent it all
    assert all(s["flow_mods"] == s["flows"] for s in synced.values()) and synced["l2"]["flows"], synced
    assert sorted(dump_groups(lab.bridge("hv2"))) == sorted(groups)


def test_tenant_ipv6_is_routed_across_chassis_inside_the_ipv4_tunnels(lab):
    a = lab.tenants["a"]
    for s, cidr in ((1, "2001:db8:a1::/64"), (2, "2001:db8:a2::/64")):
        sub = lab.api.create("subnet", network_id=a.networks[s]["id"], ip_version=6, cidr=cidr,
                             ipv6_ra_mode="slaac", ipv6_address_mode="slaac", project_id="tenant-a")
        lab.api.action("router", a.router["id"], "add_router_interface", subnet_id=sub["id"])
    a11, a22 = lab.host("a11"), lab.host("a22")
    address = next(ip["ip_address"] for ip in lab.api.get("port", a.ports["a22"]["id"])["fixed_ips"]
                   if ":" in ip["ip_address"])
    for host in (a11, a22):
        eventually(lambda: "2001:db8:a" in host.cmd("ip -6 addr show scope global"), timeout=20,
                   what=f"{host.name} forms its IPv6 address")
    wait_ping(a11, address, timeout=20)
    with underlay(lab, "hv1", "ip6 net 2001:db8::/32") as bare, underlay(lab, "hv1", "udp dst port 4789") as tunnels:
        assert ping(a11, address, count=3) == 3
    assert bare.count == 0, bare.lines                    # tenant IPv6 is only inside the (IPv4) tunnels
    echoes = {vni for vni, inner in tunnelled(tunnels.lines) if "ICMP6, echo request" in inner}
    assert echoes == {key(lab, "a", 2)}                   # routed on hv1, in the destination network's VNI
