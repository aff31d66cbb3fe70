"""Tenant L2 networks on two switches, shown by real packets: reachability, isolation, learning, binding.

Tenants a and b use the same subnet, MAC pattern and IPs (10.0.0.11-14); a1, a3, b1, b3 are on s1 and
a2, a4, b2, b4 on s2. One controller and topology serve the whole module; the test that deletes a port
runs last.
"""
from __future__ import annotations

import time
from contextlib import ExitStack

import pytest

from nvapps.client import ApiError
from nvapps.lab.net import capture, ping, wait_ping
from nvapps.lab.ovs import dump_flows
from nvapps.lab.wait import eventually
from nvapps.pipeline import COOKIE_LEARNED, AppId, Table
from topologies.nodes import TxOffHost
from topologies.tenants import host_ip, host_mac

# Frames that entered a host and were sent by a tenant-a host (MACs 02:00:00:01:xx:xx).
FROM_TENANT_A = "-Q in ether[6:4] == 0x02000001"


def static_l2_flows(bridge: str):
    return {f.cookie: f for f in dump_flows(bridge)
            if f.cookie >> 56 == AppId.L2 and not f.cookie & COOKIE_LEARNED}


def test_hosts_of_a_tenant_reach_each_other_on_one_switch(lab):
    assert wait_ping(lab.host("a1"), host_ip(3)) < 15
    assert ping(lab.host("a1"), host_ip(3), count=3) == 3
    assert ping(lab.host("b3"), host_ip(1), count=3) == 3


def test_hosts_of_one_network_on_two_switches_reach_each_other(lab):
    for src, dst in (("a1", 2), ("a3", 4), ("b1", 2), ("b4", 3)):
        wait_ping(lab.host(src), host_ip(dst))
        assert ping(lab.host(src), host_ip(dst), count=3) == 3, (src, dst)


def test_tcp_crosses_the_pipeline_and_the_trunk_intact(lab):
    a1, a2 = lab.host("a1"), lab.host("a2")
    wait_ping(a1, host_ip(2))
    server = a2.popen(["sh", "-c", "nc -l 5001 | wc -c"], stdout=-1, text=True)   # no $SHELL in CI
    try:
        time.sleep(0.5)
        a1.cmd(f"head -c 2000000 /dev/urandom | nc -N -w 5 {host_ip(2)} 5001")
        received, _ = server.communicate(timeout=20)
    finally:
        if server.poll() is None:
            server.kill()
    assert int(received.strip()) == 2_000_000


def test_every_ports_mac_is_programmed_on_both_switches_before_traffic(lab):
    for bridge in ("s1", "s2"):
        lookups = [f for f in dump_flows(bridge) if f.table == Table.L2_LOOKUP]
        for tenant in "ab":
            key = lab.tenants[tenant].network["provider:segmentation_id"]
            for n in range(1, 5):
                mac = host_mac(lab.topo.tenants.index(tenant) + 1, n)
                hits = [f for f in lookups if f"dl_dst={mac}" in f.match]
                assert [f"metadata={key:#x}" in f.match for f in hits] == [True], (bridge, mac)


def test_chassis_status_counts_the_flows_each_app_holds(lab):
    for chassis in lab.api.chassis():
        in_switch = dump_flows(chassis["name"])
        for app, app_id in (("core", AppId.CORE), ("l2", AppId.L2)):
            held = [f for f in in_switch if f.cookie >> 56 == app_id and not f.cookie & COOKIE_LEARNED]
            assert chassis["flows"][app] == len(held) > 0, (chassis["name"], app)


def test_tenant_b_sees_nothing_of_tenant_a_using_the_same_addresses(lab):
    a1 = lab.host("a1")
    a1.cmd("ip neigh flush all")
    with ExitStack() as stack:
        caps = {h: stack.enter_context(capture(lab.host(h), FROM_TENANT_A)) for h in ("b1", "b2", "b3", "b4")}
        assert ping(a1, host_ip(3), count=3) == 3        # answered by a3 only
        assert ping(a1, host_ip(2), count=3) == 3        # across the trunk, answered by a2 only
    assert {h: c.count for h, c in caps.items()} == {"b1": 0, "b2": 0, "b3": 0, "b4": 0}


def test_arp_for_known_addresses_is_answered_by_the_switch_without_flooding(lab):
    a1 = lab.host("a1")
    a1.cmd("ip neigh flush all")
    with ExitStack() as stack:
        caps = {h: stack.enter_context(capture(lab.host(h), "-Q in arp")) for h in ("a2", "a3", "a4")}
        out = a1.cmd(f"arping -c 3 -w 3 -I a1-eth0 {host_ip(2)}")
    assert "Received 3 response" in out, out
    assert host_mac(1, 2) in out.lower()
    assert {h: c.count for h, c in caps.items()} == {"a2": 0, "a3": 0, "a4": 0}


def test_cross_tenant_ping_and_arp_get_nothing(lab):
    a1, b3 = lab.host("a1"), lab.host("b3")
    b3.cmd("ip addr add 10.0.0.50/24 dev b3-eth0")
    try:
        a1.cmd("ip neigh flush all")
        with capture(b3, FROM_TENANT_A) as cap:
            assert ping(a1, "10.0.0.50", count=3) == 0
            a1.cmd("arping -c 2 -w 2 -I a1-eth0 10.0.0.50 >/dev/null 2>&1")
        assert cap.count == 0, cap.lines
    finally:
        b3.cmd("ip addr del 10.0.0.50/24 dev b3-eth0")


def _packet_ins(lab) -> dict[str, int]:
    return {c["name"]: c["packet_ins"] for c in lab.api.chassis()}


def test_known_unicast_never_reaches_the_controller(lab):
    a1 = lab.host("a1")
    for n in (2, 3):
        wait_ping(a1, host_ip(n))
    before = _packet_ins(lab)
    out = a1.cmd(f"ping -n -q -c 1000 -i 0.002 {host_ip(2)}")
    assert " 1000 received" in out, out
    assert _packet_ins(lab) == before


def test_a_host_no_port_describes_is_learned_in_the_datapath(lab):
    """A MAC behind a3's port (a macvlan on a3's interface, its own address and routes) is learned."""
    a3 = lab.host("a3")
    mac, ip = "02:99:00:00:00:03", "10.0.0.60"
    setup = [
        f"ip link add link a3-eth0 name mv0 address {mac} type macvlan mode bridge",
        "sysctl -qw net.ipv4.conf.all.arp_ignore=1",          # only mv0 answers ARP for its address
        f"ip addr add {ip}/32 dev mv0", "ip link set mv0 up", "ethtool -K mv0 tx off",
        "ip route add 10.0.0.0/24 dev mv0 table 60", f"ip rule add from {ip} table 60",
    ]
    try:
        for cmd in setup:
            a3.cmd(cmd)
        before = _packet_ins(lab)
        wait_ping(lab.host("a1"), ip)      # same switch
        wait_ping(lab.host("a2"), ip)      # over the trunk
        for bridge, pinger in (("s1", "a1"), ("s2", "a2")):
            learned = [f for f in dump_flows(bridge)
                       if f.table == Table.L2_LEARNED and f"dl_dst={mac}" in f.match]
            assert len(learned) == 1, bridge
            assert learned[0].cookie & COOKIE_LEARNED
            assert ping(lab.host(pinger), ip, count=3) == 3
            assert [f.n_packets for f in dump_flows(bridge) if f.cookie == learned[0].cookie][0] > 0
        assert _packet_ins(lab) == before
        # the learned MAC means nothing in tenant b: b1 cannot reach it
        assert ping(lab.host("b1"), ip, count=2) == 0
    finally:
        a3.cmd(f"ip rule del from {ip} table 60")
        a3.cmd("ip link del mv0")
        a3.cmd("sysctl -qw net.ipv4.conf.all.arp_ignore=0")


def test_a_port_bound_before_its_interface_exists_works_when_it_appears_and_stops_when_it_goes(lab):
    tenant = lab.tenants["a"]
    s1, a1 = lab.net.get("s1"), lab.host("a1")
    mac, ip = host_mac(1, 9), host_ip(9)
    port = lab.api.create("port", network_id=tenant.network["id"], project_id=tenant.name, mac_address=mac,
                          fixed_ips=[{"ip_address": ip}],
                          **{"binding:host_id": "s1", "binding:profile": {"interface_name": "s1-eth9"}})
    host = link = None
    try:
        assert lab.api.get("port", port["id"])["status"] == "DOWN"
        host = lab.net.addHost("a9", cls=TxOffHost)
        link = lab.net.addLink(host, s1, port2=9)
        host.configDefault(ip=f"{ip}/24", mac=mac)
        s1.attach(link.intf2)

        def active():
            """the port turned ACTIVE"""
            return lab.api.get("port", port["id"])["status"] == "ACTIVE"
        eventually(active, interval=0.02)
        s1_status = next(c for c in lab.api.chassis() if c["name"] == "s1")
        in_port = f"in_port={next(i['ofport'] for i in s1_status['interfaces'] if i['name'] == 's1-eth9')}"
        assert any(in_port == f.match.split(",")[0] for f in dump_flows("s1"))    # ACTIVE: its flows are in
        assert wait_ping(a1, ip) < 15
        s1.detach(link.intf2)

        def gone():
            """the port's classify flow left s1"""
            return not any(in_port == f.match.split(",")[0] for f in dump_flows("s1"))
        eventually(gone)
        assert ping(a1, ip, count=2) == 0
        assert lab.api.get("port", port["id"])["status"] == "DOWN"
    finally:
        if link is not None:
            lab.net.delLink(link)
        if host is not None:
            lab.net.delHost(host)
        lab.api.delete("port", port["id"])


@pytest.mark.parametrize("kind, attrs, status", [
    ("subnet", {"cidr": "10.0.0.0/33", "ip_version": 4}, 400),
    ("port", {"mac_address": "02:00:00:00:00:zz"}, 400),
    ("port", {"network_id": "5b1c0d2e-0000-4000-8000-00000000abcd"}, 404),
    ("port", {"fixed_ips": [{"ip_address": "10.0.0.11"}]}, 409),          # a1's address
])
def test_bad_rest_input_gets_a_json_error_and_stores_nothing(lab, kind, attrs, status):
    before = {k: lab.api.list(k) for k in ("network", "subnet", "port")}
    body = {"network_id": lab.tenants["a"].network["id"], "project_id": "tenant-a", **attrs}
    with pytest.raises(ApiError) as err:
        lab.api.create(kind, **body)
    assert err.value.status == status
    assert err.value.body["NeutronError"]["message"]
    assert {k: lab.api.list(k) for k in ("network", "subnet", "port")} == before


def test_deleting_a_port_removes_its_flows_and_leaves_the_others_untouched(lab):
    a1, a4 = lab.host("a1"), lab.tenants["a"].ports["a4"]
    wait_ping(a1, host_ip(4))
    before = {b: static_l2_flows(b) for b in ("s1", "s2")}
    lab.api.delete("port", a4["id"])

    def unreachable():
        """a4 stopped answering"""
        return ping(a1, host_ip(4), count=1, timeout=0.5) == 0
    eventually(unreachable)
    after = {b: static_l2_flows(b) for b in ("s1", "s2")}
    removed = {b: len(set(before[b]) - set(after[b])) for b in ("s1", "s2")}
    # s2 (a4's switch): classify, egress, known source, lookup, ARP answer, ARP owner exception;
    # s1: lookup, known source, egress to s2, ARP answer
    assert removed == {"s1": 4, "s2": 6}
    for bridge in ("s1", "s2"):
        assert set(after[bridge]) <= set(before[bridge]), "flows were added or rewritten"
        assert not any(a4["mac_address"] in f.match for f in after[bridge].values())
        for cookie, flow in after[bridge].items():       # the others were not re-sent
            assert flow.duration >= before[bridge][cookie].duration
    for src, dst in (("a1", 2), ("a1", 3), ("a2", 1), ("b1", 4)):
        assert ping(lab.host(src), host_ip(dst), count=2) == 2, (src, dst)
