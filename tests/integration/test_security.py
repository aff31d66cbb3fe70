"""Security with real packets: port security (anti-spoofing), network ACLs and stateful security groups,
alone and with routing.

Tenant a has subnets 10.0.1.0/24 and 10.0.2.0/24 joined by its router; host a<s><n> is on subnet s with IP
10.0.s.(10+n), on s1 for odd n and s2 for even n. Every port starts in its project's default group. Each
test puts back what it changed.
"""
from __future__ import annotations

import time
from contextlib import ExitStack, contextmanager

from nvapps.lab.net import background, capture, listen, ping, send, tcp_reaches, wait_ping
from nvapps.lab.ovs import dump_flows
from nvapps.pipeline import AppId, app_cookie
from topologies.tenants import host_ip, host_mac

HOSTS_PER_SWITCH = 2
SUBNETS = 2
APPS = ("nvapps.acl.app", "nvapps.l3.app", "nvapps.l2.app")
SETTLE = 0.5        # seconds for a model change to reach the switches


def port_of(lab, host: str) -> dict:
    return lab.api.get("port", lab.tenants["a"].ports[host]["id"])


def group(lab, name: str, *rules: dict) -> dict:
    """A new tenant-a group: Neutron's egress rules plus `rules`."""
    created = lab.api.create("security_group", name=name, project_id="tenant-a")
    for rule in rules:
        lab.api.create("security_group_rule", security_group_id=created["id"], **rule)
    return created


@contextmanager
def port_settings(lab, host: str, **settings):
    """The host's port updated with `settings` for the block, as it was after."""
    port = port_of(lab, host)
    lab.api.update("port", port["id"], **settings)
    try:
        time.sleep(SETTLE)
        yield
    finally:
        lab.api.update("port", port["id"], **{k: port[k] for k in settings})
        time.sleep(SETTLE)


def in_groups(lab, host: str, *groups: dict):
    return port_settings(lab, host, security_groups=[g["id"] for g in groups])


def test_default_group_members_talk_on_one_switch_across_switches_and_through_the_router(lab):
    a11 = lab.host("a11")
    for dst in (host_ip(3, 1), host_ip(2, 1), host_ip(1, 2), host_ip(2, 2)):
        wait_ping(a11, dst)
    assert tcp_reaches(a11, lab.host("a12"), host_ip(2, 1), 5001)
    assert tcp_reaches(lab.host("a22"), a11, host_ip(1, 1), 5002)


def test_another_groups_host_cannot_open_tcp_to_the_default_group_but_replies_to_its_own_come_back(lab):
    a11, a13 = lab.host("a11"), lab.host("a13")
    tcp_in = group(lab, "tcp-in", dict(direction="ingress", protocol="tcp"))
    with in_groups(lab, "a13", tcp_in):
        assert not tcp_reaches(a13, a11, host_ip(1, 1), 5003)    # a11 admits only its own group
        assert ping(a13, host_ip(1, 1)) == 0
        assert tcp_reaches(a11, a13, host_ip(3, 1), 5004)        # a11's SYN out, a13's SYN-ACK back in
    assert tcp_reaches(a13, a11, host_ip(1, 1), 5003)            # a member again


def test_a_rule_for_tcp_80_from_a_prefix_admits_port_80_only(lab):
    a11, a12 = lab.host("a11"), lab.host("a12")
    web = group(lab, "web", dict(direction="ingress", protocol="tcp", port_range_min=80, port_range_max=80,
                                 remote_ip_prefix="10.0.1.0/24"))
    with in_groups(lab, "a12", web):
        assert tcp_reaches(a11, a12, host_ip(2, 1), 80)
        assert not tcp_reaches(a11, a12, host_ip(2, 1), 81)
        with listen(a12, 80, udp=True) as got:
            send(a11, host_ip(2, 1), 80, "hello", udp=True)
        assert "hello" not in got.text
        assert not tcp_reaches(lab.host("a21"), a12, host_ip(2, 1), 80)   # 10.0.2.11 is not in the prefix
    with listen(a12, 80, udp=True) as got:                                # the default group admits it
        send(a11, host_ip(2, 1), 80, "hello", udp=True)
    assert "hello" in got.text


def test_removing_the_rule_ends_the_tcp_session_it_allowed(lab, tmp_path):
    a11, a12 = lab.host("a11"), lab.host("a12")
    web = group(lab, "web-session")
    rule = lab.api.create("security_group_rule", security_group_id=web["id"], direction="ingress",
                          protocol="tcp", port_range_min=80, port_range_max=80)
    received = tmp_path / "received"
    with in_groups(lab, "a12", web), background(a12, f"nc -l 80 > {received}"):
        time.sleep(0.3)
        with background(a11, f"while true; do echo tick; sleep 0.05; done | nc {host_ip(2, 1)} 80"):
            time.sleep(1.0)
            flowing = received.stat().st_size
            time.sleep(0.5)
            assert received.stat().st_size > flowing > 0           # the session carries data
            lab.api.delete("security_group_rule", rule["id"])
            time.sleep(SETTLE + 0.5)
            stopped = received.stat().st_size
            time.sleep(1.5)
            assert received.stat().st_size == stopped              # nothing more got through


def test_spoofed_sources_arp_and_dhcp_answers_are_dropped_until_port_security_is_off(lab):
    a11, a13 = lab.host("a11"), lab.host("a13")
    intf, target = a11.defaultIntf().name, host_ip(3, 1)
    ipv4_in = group(lab, "ipv4-in", dict(direction="ingress"))      # a13 admits anything: only a11 is tested
    a11.cmd(f"ip neigh replace {target} lladdr {host_mac(1, 3, 1)} dev {intf}; "
            f"ip addr add 10.0.1.99/32 dev {intf}; sysctl -qw net.ipv4.ip_nonlocal_bind=1")
    try:
        with in_groups(lab, "a13", ipv4_in):
            assert spoofing_seen_by(a13, a11, target) == dict(ip=0, mac=0, arp=0, dhcp=0)
            with port_settings(lab, "a11", port_security_enabled=False, security_groups=[]):
                assert all(spoofing_seen_by(a13, a11, target).values())
    finally:
        a11.cmd(f"ip addr del 10.0.1.99/32 dev {intf}; ip neigh del {target} dev {intf}")


def spoofing_seen_by(victim, attacker, target: str) -> dict[str, int]:
    """Packets `victim` receives when `attacker` spoofs: an IP, a MAC, an ARP claim, a DHCP answer."""
    intf, mac = attacker.defaultIntf().name, attacker.MAC()
    spoofed_mac = "02:00:00:01:01:99"
    with ExitStack() as stack:
        ip = stack.enter_context(capture(victim, "icmp and src host 10.0.1.99"))
        by_mac = stack.enter_context(capture(victim, f"ether src {spoofed_mac}"))
        arp = stack.enter_context(capture(victim, f"arp and ether src {mac} and arp[14:4] = 0x0a00010c"))
        dhcp = stack.enter_context(capture(victim, "udp dst port 68"))
        attacker.cmd(f"ping -n -c 2 -i 0.2 -W 1 -I 10.0.1.99 {target}")
        attacker.cmd(f"arping -A -c 2 -I {intf} -s {host_ip(2, 1)} {host_ip(2, 1)}")   # gratuitous "10.0.1.12 is at me"
        attacker.cmd(f"echo offer | nc -u -w 1 -p 67 {target} 68")
        attacker.cmd(f"ip link set dev {intf} address {spoofed_mac}")
        try:
            attacker.cmd(f"ping -n -c 2 -i 0.2 -W 1 {target}")
        finally:
            attacker.cmd(f"ip link set dev {intf} address {mac}")
    return dict(ip=ip.count, mac=by_mac.count, arp=arp.count, dhcp=dhcp.count)


def test_a_deny_icmp_network_acl_blocks_ping_both_ways_and_order_decides(lab):
    a11, a13 = lab.host("a11"), lab.host("a13")
    net = lab.tenants["a"].networks[1]
    wait_ping(a11, host_ip(3, 1))
    deny = lab.api.create("network_acl", network_id=net["id"], action="deny", direction="ingress",
                          protocol="icmp", position=20)
    try:
        time.sleep(SETTLE)
        assert ping(a11, host_ip(3, 1), count=2) == 0 and ping(a13, host_ip(1, 1), count=2) == 0
        assert tcp_reaches(a11, a13, host_ip(3, 1), 5005)           # only ICMP is denied
        allow = lab.api.create("network_acl", network_id=net["id"], action="allow", direction="ingress",
                               protocol="icmp", position=10)          # runs first
        time.sleep(SETTLE)
        assert ping(a11, host_ip(3, 1), count=2) == 2
        lab.api.update("network_acl", allow["id"], position=30)      # now after the deny
        time.sleep(SETTLE)
        assert ping(a11, host_ip(3, 1), count=2) == 0
        lab.api.delete("network_acl", allow["id"])
    finally:
        lab.api.delete("network_acl", deny["id"])
    wait_ping(a11, host_ip(3, 1), timeout=5)
    assert ping(a13, host_ip(1, 1), count=2) == 2


def test_an_egress_network_acl_stops_what_the_networks_hosts_send(lab):
    a11, a21 = lab.host("a11"), lab.host("a21")
    net = lab.tenants["a"].networks[1]
    deny = lab.api.create("network_acl", network_id=net["id"], action="deny", direction="egress",
                          protocol="tcp", destination_port_range_min=5006, destination_port_range_max=5006)
    try:
        time.sleep(SETTLE)
        assert not tcp_reaches(a11, a21, host_ip(1, 2), 5006)       # leaves subnet 1: denied
        assert tcp_reaches(a11, a21, host_ip(1, 2), 5007)
        assert tcp_reaches(a21, a11, host_ip(1, 1), 5006)           # into subnet 1: not egress
    finally:
        lab.api.delete("network_acl", deny["id"])


def test_a_remote_prefix_rule_admits_another_subnet_through_the_router(lab):
    a21 = lab.host("a21")
    from_subnet_1 = group(lab, "from-subnet-1", dict(direction="ingress", protocol="tcp",
                                                    remote_ip_prefix="10.0.1.0/24"))
    with in_groups(lab, "a21", from_subnet_1):
        assert tcp_reaches(lab.host("a12"), a21, host_ip(1, 2), 5008)     # routed on s2, across the trunk
        assert not tcp_reaches(lab.host("a22"), a21, host_ip(1, 2), 5009)  # its own subnet is not allowed


def test_a_membership_change_replaces_only_the_flow_of_the_members_address(lab):
    def acl_flows() -> dict[tuple, float]:
        return {(f.table, f.priority, f.match, f.actions): f.duration for f in dump_flows("s1")
                if f.cookie >> 56 == app_cookie(AppId.ACL) >> 56}

    before = acl_flows()
    with in_groups(lab, "a14", group(lab, "elsewhere")):                   # a14 (on s2) leaves the default group
        after = acl_flows()
    changed = set(before) ^ set(after)
    # only a14's address flow changed: it no longer carries clause 1 of "from tenant a's default group"
    # (tenant b's identical address keeps its own clause: the port clause keeps the tenants apart)
    assert {(t, m) for t, _, m, _ in changed} == {(64, f"ip,nw_src={host_ip(4, 1)}")}, changed
    assert len(changed) == 2
    assert all(after[k] >= before[k] for k in set(after) & set(before))    # the others were not reinstalled
    assert set(acl_flows()) == set(before)


def test_a_controller_restart_resends_no_acl_flow_and_keeps_tcp_sessions(lab, tmp_path):
    status, during, later = lab.restart_during_a_session("a11", "a22", host_ip(2, 2), 5010, tmp_path / "received")
    assert later > during > 0             # the routed, tracked session lives on
    for name in ("s1", "s2"):
        assert {app: (s["flow_mods"], s["group_mods"]) for app, s in status[name]["last_sync"].items()} == \
            dict.fromkeys(("core", "acl", "l3", "l2"), (0, 0))
