"""ACL flows as pure functions: ranges, anti-spoofing, ACL order, conntrack stages, conjunctive groups."""
from __future__ import annotations

import pytest

from nvapps import pipeline
from nvapps.acl.chassis import AclView, acl_view, chassis_acl
from nvapps.acl.matches import Traffic, range_masks
from nvapps.acl.port_security import port_security_flows
from nvapps.acl.security_groups import merge_conjunctions
from nvapps.core import ofp
from nvapps.core.ofp import Flow, match
from nvapps.core.pieces import Pieces
from nvapps.core.stages import stage_defaults
from nvapps.core.topology import Chassis, Location, fabric
from nvapps.logical.ports import BoundPort
from nvapps.logical.view import logical_view
from nvapps.model.network import Port
from nvapps.model.security import NetworkAcl, SecurityGroup, SecurityGroupRule
from nvapps.pipeline import TABLES, AppId, Priority, Table
from tests.unit.fakeswitch import FakeSwitch
from tests.unit.modelkit import admin_for, new_model
from tests.unit.test_incremental import switches


def covered(pieces: list, bits: int) -> set[int]:
    out = set()
    for piece in pieces:
        value, mask = piece if isinstance(piece, tuple) else (piece, (1 << bits) - 1)
        out |= {v for v in range(1 << bits) if v & mask == value}
    return out


@pytest.mark.parametrize("low,high,pieces", [(0, 0, 1), (1, 255, 8), (3, 17, 4), (80, 80, 1), (100, 199, 5),
                                             (128, 255, 1), (7, 8, 2), (0, 254, 8), (255, 255, 1), (0, 127, 1)])
def test_range_masks_cover_exactly_the_range_in_as_few_pieces_as_can(low, high, pieces):
    masks = range_masks(low, high, bits=8)
    assert covered(masks, 8) == set(range(low, high + 1)) and len(masks) == pieces


def port_matches(**traffic) -> set[int]:
    """The TCP destination ports the matches of `traffic` cover."""
    out: set[int] = set()
    for m in Traffic("IPv4", "tcp", **traffic).matches():
        out |= covered([m["tcp_dst"]], 16) if "tcp_dst" in m else set(range(1 << 16))
    return out


def test_a_port_range_open_at_one_end_runs_to_the_end_of_the_port_space():
    assert port_matches(destination_ports=(1000, None)) == set(range(1000, 65536))
    assert port_matches(destination_ports=(None, 80)) == set(range(0, 81))
    assert port_matches(destination_ports=(0, 65534)) == set(range(0, 65535))


def test_icmp_rules_match_their_own_versions_type_and_code_and_prefixes_as_wide_as_they_say():
    assert Traffic("IPv4", "icmp", destination_ports=(8, 0)).matches() == [
        {"eth_type": 0x0800, "ip_proto": 1, "icmpv4_type": 8, "icmpv4_code": 0}]
    assert Traffic("IPv4", "icmp", destination_ports=(3, None)).matches() == [
        {"eth_type": 0x0800, "ip_proto": 1, "icmpv4_type": 3}]
    assert Traffic("IPv4", source="0.0.0.0/1").matches() == [
        {"eth_type": 0x0800, "ipv4_src": ("0.0.0.0", "128.0.0.0")}]
    assert Traffic("IPv4", source="0.0.0.0/0").matches() == [{"eth_type": 0x0800}]


def test_the_whole_port_space_needs_no_match_and_icmp_takes_type_and_code():
    assert range_masks(0, 65535) == []
    assert Traffic("IPv4", "tcp", destination_ports=(1, 65535)).matches()[0]["tcp_dst"] == 1
    icmp = Traffic("IPv6", "icmp", destination_ports=(128, 0)).matches()
    assert icmp == [{"eth_type": 0x86DD, "ip_proto": 58, "icmpv6_type": 128, "icmpv6_code": 0}]


def vm(key: int, ip: str, groups=(), **kw) -> Port:
    return Port(id=f"p{key}", project_id="t", network_id="n", mac_address=f"02:00:00:00:{key >> 8:02x}:{key & 0xFF:02x}",
                fixed_ips=[{"subnet_id": "s", "ip_address": ip}], key=key, security_groups=list(groups), **kw)


def test_port_security_passes_own_and_paired_sources_and_drops_the_rest():
    port = vm(3, "10.0.0.3", allowed_address_pairs=[{"ip_address": "10.0.9.0/24", "mac_address": "02:00:00:00:09:09"}])
    flows = port_security_flows(port)
    passes = {f.match for f in flows if f.goto == Table.ACL_FROM_VM}
    assert match(reg14=3, eth_src=port.mac_address, eth_type=0x0800, ipv4_src="10.0.0.3") in passes
    assert match(reg14=3, eth_src="02:00:00:00:09:09", eth_type=0x0806, arp_spa=("10.0.9.0", "255.255.255.0"),
                 arp_sha="02:00:00:00:09:09") in passes
    drops = [f for f in flows if f.goto is None]
    assert {(f.priority, f.match) for f in drops} >= {(Priority.FALLBACK, match(reg14=3))}
    assert all(f.priority > Priority.SPECIFIC for f in drops if f.match != match(reg14=3))   # DHCP answers
    assert port_security_flows(vm(4, "10.0.0.4", port_security_enabled=False)) == []


def acl_flows(view: AclView, pieces: Pieces | None = None) -> list[Flow]:
    return list(chassis_acl(Chassis("s1", 1), view, pieces).flows.values())


def view(ports: list[Port], groups: list[SecurityGroup], rules: list[SecurityGroupRule],
         acls: list[NetworkAcl] = ()) -> AclView:
    bound = [BoundPort(p, 1, Location("s1", p.key)) for p in ports]
    return AclView.build(bound, ports, groups, rules, list(acls), {"n": 1})


DEFAULT = SecurityGroup(id="g", project_id="t", key=1)
FROM_MEMBERS = SecurityGroupRule(id="r1", security_group_id="g", direction="ingress", remote_group_id="g")
EGRESS_ALL = SecurityGroupRule(id="r2", security_group_id="g", direction="egress")


def test_network_acls_run_by_position_and_deny_drops():
    acls = [NetworkAcl(id="a", network_id="n", position=20, action="deny", direction="ingress", protocol="icmp"),
            NetworkAcl(id="b", network_id="n", position=10, action="allow", direction="ingress", protocol="icmp")]
    flows = [f for f in acl_flows(view([vm(1, "10.0.0.1")], [], [], acls)) if f.table == Table.NACL_TO_VM]
    allow = next(f for f in flows if f.goto == Table.SG_TO_VM_CT and f.match)
    deny = next(f for f in flows if f.goto is None)
    assert allow.priority > deny.priority > Priority.FALLBACK


def test_every_acl_flow_goes_forward_and_ct_actions_match_ip():
    flows = acl_flows(view([vm(1, "10.0.0.1", ["g"]), vm(2, "10.0.0.2", ["g"])], [DEFAULT],
                                   [FROM_MEMBERS, EGRESS_ALL]))
    assert all(f.goto is None or f.goto > f.table for f in flows)
    with_ct = [f for f in flows if any(isinstance(a, ofp.Ct) for a in f.actions)]
    assert with_ct and all(dict((n, v) for n, v, _ in f.match).get("eth_type") in (0x0800, 0x86DD) for f in with_ct)


@pytest.mark.parametrize("secured", [True, False])
def test_every_acl_table_a_flow_continues_into_has_a_catch_all(secured):
    port = vm(1, "10.0.0.1", ["g"] if secured else [], port_security_enabled=secured)
    flows = acl_flows(view([port], [DEFAULT], [FROM_MEMBERS, EGRESS_ALL]))
    acl_tables = {t for t, spec in TABLES.items() if spec.owners == {AppId.ACL}} - {Table.ACL_FROM_VM, Table.ACL_TO_VM}
    targets = {f.goto for f in flows if f.goto in acl_tables}
    assert targets == {Table.NACL_FROM_VM, Table.NACL_TO_VM, Table.SG_FROM_VM_CT, Table.SG_TO_VM_CT,
                       Table.SG_FROM_VM_RULES, Table.SG_TO_VM_RULES} | (
        {Table.SG_FROM_VM_COMMIT, Table.SG_TO_VM_COMMIT, Table.PORT_SECURITY_ND} if secured else set())
    catch_all = {f.table for f in flows if f.match == () and f.goto is not None}
    assert targets - {Table.SG_FROM_VM_RULES, Table.SG_TO_VM_RULES} <= catch_all      # rules: no match, drop


def test_remote_group_flows_grow_with_members_not_their_square():
    def count(n: int) -> int:
        ports = [vm(k, f"10.0.{k // 250}.{k % 250 + 1}", ["g"]) for k in range(1, n + 1)]
        return len(acl_flows(view(ports, [DEFAULT], [FROM_MEMBERS, EGRESS_ALL])))

    per_port = (count(20) - count(10)) / 10
    assert count(1000) == count(10) + 990 * per_port
    assert per_port < 20


def test_a_shared_address_carries_the_clauses_of_both_groups_in_one_flow():
    other = SecurityGroup(id="h", project_id="u", key=2)
    rule_h = SecurityGroupRule(id="r3", security_group_id="h", direction="ingress", remote_group_id="h")
    ports = [vm(1, "10.0.0.1", ["g"]), vm(2, "10.0.0.1", ["h"])]             # same address, two tenants
    flows = acl_flows(view(ports, [DEFAULT, other], [FROM_MEMBERS, rule_h]))
    clause = [f for f in flows if f.match == match(eth_type=0x0800, ipv4_src="10.0.0.1")]
    assert len(clause) == 1 and [(a.id, a.clause) for a in clause[0].actions] == [(6, 1), (10, 1)]


def test_conflicting_flows_for_one_match_are_refused():
    a = Flow(Table.SG_TO_VM_RULES, 50, match(reg15=1), actions=(ofp.Conjunction(6, 2, 2),))
    b = Flow(Table.SG_TO_VM_RULES, 50, match(reg15=1), goto=Table.SG_TO_VM_COMMIT)
    with pytest.raises(ValueError):
        merge_conjunctions([a, b])


def test_zones_of_ports_and_routers_never_meet():
    assert pipeline.port_zone(pipeline.MAX_PORT_KEY) < pipeline.router_zone(1)
    assert pipeline.router_zone(pipeline.MAX_ROUTER_KEY) <= 0xFFFF


def to_vm_switch(acl: AclView, key: int, ofport: int) -> FakeSwitch:
    """The ACL flows with the stage defaults, and around them: what enters at port 9 is for port `key`'s
    to-VM stages; accepted, it leaves by `ofport`."""
    return FakeSwitch.of(acl_flows(acl) + list(stage_defaults().flows.values()) + [
        Flow(Table.CLASSIFY, Priority.SPECIFIC, match(in_port=9), actions=(ofp.SetField("reg15", key),),
             goto=Table.ACL_TO_VM),
        Flow(Table.EGRESS, Priority.SPECIFIC, match(reg15=key), actions=(ofp.Output(ofport),))], [])


def tcp_from(switch: FakeSwitch, src: str, port: int) -> bool:
    """Whether a new TCP connection from `src` to 10.0.0.1:`port` reaches the VM."""
    out = switch.send(9, eth_type=0x0800, ip_proto=6, ipv4_src=src, ipv4_dst="10.0.0.1", tcp_src=40000,
                      tcp_dst=port)
    return [p for p, _ in out] == [5]


def test_a_remote_group_rule_admits_its_members_on_its_port_only_as_packets():
    web = SecurityGroup(id="web", project_id="t", key=2)
    members = SecurityGroup(id="m", project_id="t", key=3)
    rule = SecurityGroupRule(id="r", security_group_id="web", direction="ingress", protocol="tcp",
                             port_range_min=80, port_range_max=80, remote_group_id="m")
    target = vm(1, "10.0.0.1", ["web"])
    inside, other, outsider = vm(2, "10.0.0.2", ["m"]), vm(3, "10.0.0.3", ["m"]), vm(4, "10.0.0.4", [])

    def acl(ports):
        bound = [BoundPort(target, 1, Location("s1", 5))] + [BoundPort(p, 1, Location("s2", p.key)) for p in ports]
        return AclView.build(bound, [target, *ports], [web, members], [rule], [], {"n": 1})

    switch = to_vm_switch(acl([inside, other, outsider]), 1, 5)
    assert tcp_from(switch, "10.0.0.2", 80) and tcp_from(switch, "10.0.0.3", 80)
    assert not tcp_from(switch, "10.0.0.4", 80)                 # not a member
    assert not tcp_from(switch, "10.0.0.2", 81)                 # a member, another port
    left = vm(2, "10.0.0.2", [])                                # 10.0.0.2 leaves the group
    switch = to_vm_switch(acl([left, other, outsider]), 1, 5)
    assert not tcp_from(switch, "10.0.0.2", 80) and tcp_from(switch, "10.0.0.3", 80)


# Two secured ports on one chassis: port 1 (ofport 5, 10.0.0.1, group "client": egress only) and port 2 (ofport
# 6, 10.0.0.2, group "ssh": egress, and ingress TCP 22 from anywhere); the rest of the network is at port 9.
CLIENT, SSH = SecurityGroup(id="client", project_id="t", key=4), SecurityGroup(id="ssh", project_id="t", key=5)
OUT = [SecurityGroupRule(id=f"out-{g}", security_group_id=g, direction="egress") for g in ("client", "ssh")]
SSH_IN = SecurityGroupRule(id="ssh-in", security_group_id="ssh", direction="ingress", protocol="tcp",
                           port_range_min=22, port_range_max=22)
WIRE, PORTS = 9, {1: 5, 2: 6}
ACK, SYN = 0x10, 0x02


def two_ports(rules, conntrack=None, ports=None, acls=(), members=(), pieces=None, previous=None) -> FakeSwitch:
    """Both ports' ACL flows and around them: a packet from a port's ofport enters its from-VM stages and, if
    accepted, leaves by the wire; one from the wire to 10.0.0.N is for port N's to-VM stages and, if accepted,
    leaves by its ofport. `conntrack` carries connections over from an earlier switch; `members`: group
    members on no chassis; `pieces` (with the `previous` view) the pieces kept from an earlier switch."""
    ports = ports or [vm(1, "10.0.0.1", ["client"]), vm(2, "10.0.0.2", ["ssh"])]
    bound = [BoundPort(p, 1, Location("s1", PORTS[p.key])) for p in ports]
    acl = AclView.build(bound, ports + list(members), [CLIENT, SSH], rules, list(acls), {"n": 1, "m": 2}, previous)
    around = [Flow(Table.L2_CONTROL, Priority.SPECIFIC, match(reg14=key), actions=(ofp.Output(WIRE),)) for key in PORTS]
    into_n = (1, pipeline.METADATA_MASK)                 # network "n" (key 1), where both ports are
    around += [Flow(Table.CLASSIFY, Priority.SPECIFIC, match(in_port=WIRE, eth_type=0x86DD, ipv6_dst=ip),
                    actions=(ofp.SetField("reg15", p.key),), write_metadata=into_n, goto=Table.ACL_TO_VM)
               for p in ports for ip in p.ip_addresses if ":" in ip]
    for key, ofport in PORTS.items():
        around += [
            Flow(Table.CLASSIFY, Priority.SPECIFIC, match(in_port=ofport), actions=(ofp.SetField("reg14", key),),
                 write_metadata=into_n, goto=Table.PORT_SECURITY),
            Flow(Table.CLASSIFY, Priority.SPECIFIC, match(in_port=WIRE, eth_type=0x0800, ipv4_dst=f"10.0.0.{key}"),
                 actions=(ofp.SetField("reg15", key),), write_metadata=into_n, goto=Table.ACL_TO_VM),
            Flow(Table.EGRESS, Priority.SPECIFIC, match(reg15=key), actions=(ofp.Output(ofport),))]
    switch = FakeSwitch.of(acl_flows(acl, pieces) + list(stage_defaults().flows.values()) + around, [])
    switch.conntrack = conntrack if conntrack is not None else switch.conntrack
    switch.acl = acl
    return switch


def tcp(switch: FakeSwitch, src: str, dst: str, sport: int, dport: int, flags: int = SYN) -> list[int]:
    """The ports a TCP segment from `src` to `dst` leaves by (it enters at its sender's port, or the wire)."""
    key = int(src.rsplit(".", 1)[1])
    in_port = PORTS[key] if src.startswith("10.0.0.") and key in PORTS else WIRE
    mac = f"02:00:00:00:00:{key:02x}"
    out = switch.send(in_port, tcp_flags=flags, eth_src=mac, eth_type=0x0800, ip_proto=6, ipv4_src=src,
                      ipv4_dst=dst, tcp_src=sport, tcp_dst=dport)
    return [p for p, _ in out]


def test_replies_of_a_port_s_own_connections_come_back_and_nothing_else_does():
    switch = two_ports(OUT + [SSH_IN])
    assert tcp(switch, "10.0.0.1", "192.0.2.9", 40000, 443) == [WIRE]
    assert tcp(switch, "192.0.2.9", "10.0.0.1", 443, 40000, SYN | ACK) == [5]       # its reply
    assert tcp(switch, "192.0.2.9", "10.0.0.1", 443, 40001) == []                   # a new connection in: no rule


def test_a_rule_admits_only_the_ports_of_its_group():
    switch = two_ports(OUT + [SSH_IN])
    assert tcp(switch, "192.0.2.9", "10.0.0.2", 50000, 22) == [6]
    assert tcp(switch, "192.0.2.9", "10.0.0.1", 50000, 22) == []                    # port 1 is not in "ssh"


def test_a_segment_of_no_known_connection_is_dropped_even_where_a_rule_admits_its_port():
    switch = two_ports(OUT + [SSH_IN])
    assert tcp(switch, "192.0.2.9", "10.0.0.2", 50000, 22, ACK) == []               # invalid: no SYN seen
    assert tcp(switch, "192.0.2.9", "10.0.0.2", 50000, 22) == [6]


def test_a_removed_rule_blocks_its_established_connection_both_ways():
    before = two_ports(OUT + [SSH_IN])
    assert tcp(before, "192.0.2.9", "10.0.0.2", 50000, 22) == [6]
    assert tcp(before, "10.0.0.2", "192.0.2.9", 22, 50000, SYN | ACK) == [WIRE]
    after = two_ports(OUT, before.conntrack)                                       # the rule is gone
    assert tcp(after, "192.0.2.9", "10.0.0.2", 50000, 22, ACK) == []
    assert tcp(after, "10.0.0.2", "192.0.2.9", 22, 50000, ACK) == []               # the reply is blocked too
    again = two_ports(OUT + [SSH_IN], after.conntrack)
    assert tcp(again, "192.0.2.9", "10.0.0.2", 50000, 22, ACK) == []               # blocked stays blocked


def udp(switch: FakeSwitch, key: int, src: str, dst: str, sport: int, dport: int, mac: str | None = None) -> list[int]:
    """The ports a UDP datagram port `key` sends leaves by."""
    out = switch.send(PORTS[key], eth_src=mac or f"02:00:00:00:00:{key:02x}", eth_type=0x0800, ip_proto=17,
                      ipv4_src=src, ipv4_dst=dst, udp_src=sport, udp_dst=dport)
    return [p for p, _ in out]


def test_a_port_asks_for_an_address_but_never_answers_as_a_dhcp_server():
    switch = two_ports(OUT + [SSH_IN])
    assert udp(switch, 1, "0.0.0.0", "255.255.255.255", 68, 67) == [WIRE]                   # its discover
    assert udp(switch, 1, "0.0.0.0", "255.255.255.255", 68, 67, mac="02:00:00:00:00:09") == []   # another MAC's
    assert udp(switch, 1, "0.0.0.0", "255.255.255.255", 68, 53) == []                       # not DHCP
    assert udp(switch, 1, "0.0.0.0", "10.0.0.2", 68, 67) == []                              # not broadcast
    assert udp(switch, 1, "10.0.0.1", "10.0.0.9", 5000, 53) == [WIRE]                      # its own address
    assert udp(switch, 1, "10.0.0.1", "255.255.255.255", 67, 68) == []                      # a rogue offer
    assert udp(switch, 1, "10.0.0.7", "10.0.0.9", 5000, 53) == []                           # a spoofed source


LL1 = "fe80::ff:fe00:1"          # port 1's link-local address (its MAC 02:00:00:00:00:01)


def nd(switch: FakeSwitch, kind: int, src: str = LL1, mac: str = "02:00:00:00:00:01", **fields) -> list[int]:
    """The ports an ICMPv6 message of `kind` from port 1 leaves by."""
    out = switch.send(PORTS[1], eth_src=mac, eth_type=0x86DD, ipv6_src=src, ipv6_dst="ff02::1", ip_proto=58,
                      icmpv6_type=kind, icmpv6_code=0, ip_ttl=255, **fields)
    return [p for p, _ in out]


def test_a_port_speaks_neighbour_discovery_only_for_its_own_addresses_and_never_as_a_router():
    dual = Port(id="p1", project_id="t", network_id="n", mac_address="02:00:00:00:00:01", key=1,
                security_groups=["client"], fixed_ips=[{"subnet_id": "s", "ip_address": "10.0.0.1"},
                                                       {"subnet_id": "s6", "ip_address": "2001:db8::1"}],
                allowed_address_pairs=[{"ip_address": "2001:db8:9::/64", "mac_address": "02:00:00:00:09:09"}])
    out6 = SecurityGroupRule(id="out6", security_group_id="client", direction="egress", ethertype="IPv6")
    switch = two_ports(OUT + [out6], ports=[dual, vm(2, "10.0.0.2", ["ssh"])])
    own = "02:00:00:00:00:01"
    assert nd(switch, 135, ipv6_nd_target="2001:db8::2", ipv6_nd_sll=own) == [WIRE]       # it asks
    assert nd(switch, 135, "::", ipv6_nd_target="2001:db8::1") == [WIRE]                  # DAD: no option
    assert nd(switch, 135, ipv6_nd_target="2001:db8::2", ipv6_nd_sll="02:00:00:00:00:07") == []  # another MAC
    for target in ("2001:db8::1", LL1):
        assert nd(switch, 136, ipv6_nd_target=target, ipv6_nd_tll=own) == [WIRE], target
        assert nd(switch, 136, ipv6_nd_target=target) == [WIRE], target                  # no option
        assert nd(switch, 136, ipv6_nd_target=target, ipv6_nd_tll="02:00:00:00:00:07") == [], target
    assert nd(switch, 136, ipv6_nd_target="2001:db8::2", ipv6_nd_tll=own) == []            # another's address
    assert nd(switch, 136, ipv6_nd_target="2001:db8:9::5", ipv6_nd_tll="02:00:00:00:09:09") == [WIRE]   # its pair
    assert nd(switch, 136, ipv6_nd_target="2001:db8:9::5", ipv6_nd_tll=own) == []          # the pair's MAC only
    assert nd(switch, 134) == [] and nd(switch, 137) == []                                  # router adverts, redirects
    assert nd(switch, 128, "2001:db8::1") == [WIRE]                                         # other ICMPv6 passes
    assert nd(switch, 128, "2001:db8::2") == []                                             # from another address


def tcp6(switch: FakeSwitch, dst: str, dport: int) -> list[int]:
    """The ports a TCP SYN from port 1 (2001:db8::1) to `dst`:`dport` leaves by."""
    out = switch.send(PORTS[1], tcp_flags=SYN, eth_src="02:00:00:00:00:01", eth_type=0x86DD, ip_proto=6,
                      ipv6_src="2001:db8::1", ipv6_dst=dst, tcp_src=40000, tcp_dst=dport)
    return [p for p, _ in out]


def test_network_acls_and_security_groups_apply_to_ipv6_by_ethertype():
    dual = Port(id="p1", project_id="t", network_id="n", mac_address="02:00:00:00:00:01", key=1,
                security_groups=["client"], fixed_ips=[{"subnet_id": "s", "ip_address": "10.0.0.1"},
                                                       {"subnet_id": "s6", "ip_address": "2001:db8::1"}])
    deny = NetworkAcl(id="d", network_id="n", position=1, action="deny", direction="egress", ethertype="IPv6",
                      protocol="tcp", destination_ip_prefix="2001:db8:9::/48", destination_port_range_min=80,
                      destination_port_range_max=80)
    out6 = SecurityGroupRule(id="out6", security_group_id="client", direction="egress", ethertype="IPv6")
    ports = [dual, vm(2, "10.0.0.2", ["ssh"])]
    switch = two_ports(OUT + [out6], ports=ports, acls=[deny])
    assert tcp6(switch, "2001:db8:9::5", 80) == []                    # denied by the network ACL
    assert tcp6(switch, "2001:db8:9::5", 81) == [WIRE]
    assert tcp6(switch, "2001:db8:8::5", 80) == [WIRE]
    assert tcp(switch, "10.0.0.1", "192.0.2.9", 40000, 80) == [WIRE]  # IPv4 is another ethertype
    assert tcp6(two_ports(OUT, ports=ports), "2001:db8:8::5", 80) == []   # no IPv6 egress rule: dropped


def sent(switch: FakeSwitch, key: int, mac: str, **fields) -> list[int]:
    """The ports a packet port `key` sends (from `mac`) leaves by."""
    return [p for p, _ in switch.send(PORTS[key], eth_src=mac, **fields)]


def test_a_port_can_pass_neither_as_another_port_nor_as_a_dhcp_server():
    dual = Port(id="p1", project_id="t", network_id="n", mac_address="02:00:00:00:00:01", key=1,
                security_groups=["client"], fixed_ips=[{"subnet_id": "s", "ip_address": "10.0.0.1"},
                                                       {"subnet_id": "s6", "ip_address": "2001:db8::1"}])
    out6 = SecurityGroupRule(id="out6", security_group_id="client", direction="egress", ethertype="IPv6")
    switch = two_ports(OUT + [out6], ports=[dual, vm(2, "10.0.0.2", ["client"])])
    one, two, other = "02:00:00:00:00:01", "02:00:00:00:00:02", "02:00:00:00:00:07"
    v6 = dict(eth_type=0x86DD, ip_proto=58, icmpv6_type=128, icmpv6_code=0, ipv6_dst="2001:db8::9")
    assert sent(switch, 1, one, ipv6_src=LL1, **v6) == [WIRE]
    assert sent(switch, 2, one, ipv6_src=LL1, **v6) == []                    # port 1's MAC and link-local
    assert sent(switch, 1, other, ipv6_src=LL1, **v6) == []                  # its link-local, another MAC
    assert sent(switch, 1, one, ipv6_src="2001:db8::1", **v6) == [WIRE]
    assert sent(switch, 2, one, ipv6_src="2001:db8::1", **v6) == []          # port 1's address
    assert sent(switch, 1, other, ipv6_src="2001:db8::1", **v6) == []
    mld = dict(eth_type=0x86DD, ip_proto=58, icmpv6_type=143, icmpv6_code=0, ipv6_src="::", ipv6_dst="ff02::16")
    assert sent(switch, 1, one, **mld) == [WIRE]
    assert sent(switch, 2, one, **mld) == [] and sent(switch, 1, other, **mld) == []
    assert sent(switch, 1, one, eth_type=0x86DD, ip_proto=17, ipv6_src="::", ipv6_dst="ff02::1:2", udp_src=546,
                udp_dst=547) == []                                          # only ICMPv6 from ::
    nd = dict(eth_type=0x86DD, ip_proto=58, icmpv6_code=0, ipv6_src="fe80::ff:fe00:2", ipv6_dst="ff02::1")
    assert sent(switch, 2, two, icmpv6_type=136, ipv6_nd_target="2001:db8::1", ipv6_nd_tll=one, **nd) == []
    assert sent(switch, 2, two, icmpv6_type=135, ipv6_nd_target="2001:db8::5", ipv6_nd_sll=one, **nd) == []
    dhcp = dict(eth_type=0x0800, ip_proto=17, ipv4_dst="255.255.255.255", udp_src=68, udp_dst=67)
    assert sent(switch, 1, one, ipv4_src="0.0.0.0", **dhcp) == [WIRE]
    assert sent(switch, 2, one, ipv4_src="0.0.0.0", **dhcp) == []             # with port 1's MAC
    assert sent(switch, 1, one, ipv4_src="10.0.0.7", **dhcp) == []            # a spoofed source
    assert sent(switch, 1, one, **{**dhcp, "ipv4_src": "0.0.0.0", "udp_src": 5000}) == []
    udp4 = dict(eth_type=0x0800, ip_proto=17, ipv4_src="10.0.0.1", ipv4_dst="10.0.0.9")
    assert sent(switch, 1, one, udp_src=5000, udp_dst=68, **udp4) == [WIRE]  # not a DHCP answer
    assert sent(switch, 1, one, udp_src=67, udp_dst=5000, **udp4) == [WIRE]
    assert sent(switch, 1, one, udp_src=67, udp_dst=68, **udp4) == []         # a DHCP answer
    unsecured = two_ports(OUT, ports=[dual, vm(2, "10.0.0.2", [], port_security_enabled=False)])
    assert sent(unsecured, 2, two, eth_type=0x0800, ip_proto=17, ipv4_src="10.0.0.2", ipv4_dst="10.0.0.9",
                udp_src=67, udp_dst=68) == [WIRE]                           # its own choice: no port security


def test_rules_admit_only_their_remote_prefix_or_their_remote_groups_members_by_ethertype():
    client = Port(id="p1", project_id="t", network_id="n", mac_address="02:00:00:00:00:01", key=1,
                  security_groups=["client"], fixed_ips=[{"subnet_id": "s", "ip_address": "10.0.0.1"},
                                                         {"subnet_id": "s6", "ip_address": "2001:db8::1"}])
    server = Port(id="p2", project_id="t", network_id="n", mac_address="02:00:00:00:00:02", key=2,
                  security_groups=["ssh"], fixed_ips=[{"subnet_id": "s", "ip_address": "10.0.0.2"},
                                                      {"subnet_id": "s6", "ip_address": "2001:db8::2"}])
    rules = [SecurityGroupRule(id="web", security_group_id="ssh", direction="ingress", protocol="tcp",
                               port_range_min=80, port_range_max=80, remote_ip_prefix="192.0.2.0/24"),
             SecurityGroupRule(id="ssh6", security_group_id="ssh", direction="ingress", ethertype="IPv6",
                               protocol="tcp", port_range_min=22, port_range_max=22, remote_group_id="client"),
             SecurityGroupRule(id="out", security_group_id="client", direction="egress",
                               remote_ip_prefix="203.0.113.0/24")]
    switch = two_ports(rules, ports=[client, server])
    assert tcp(switch, "192.0.2.9", "10.0.0.2", 50000, 80) == [6]
    assert tcp(switch, "198.51.100.9", "10.0.0.2", 50000, 80) == []             # outside the prefix
    assert tcp_in(switch, "2001:db8::1", "2001:db8::2", 22) == [6]             # a member of "client"
    assert tcp_in(switch, "2001:db8::7", "2001:db8::2", 22) == []              # not a member
    assert tcp(switch, "10.0.0.1", "203.0.113.5", 40000, 443) == [WIRE]         # egress to its prefix
    assert tcp(switch, "10.0.0.1", "198.51.100.5", 40000, 443) == []            # and nowhere else


def tcp_in(switch: FakeSwitch, src: str, dst: str, dport: int, flags: int = SYN) -> list[int]:
    """The ports a TCP segment from the wire (from `src`, whatever it is; IPv4 or IPv6) to `dst`:`dport` leaves by."""
    ip = {"eth_type": 0x86DD, "ipv6_src": src, "ipv6_dst": dst} if ":" in src else \
        {"eth_type": 0x0800, "ipv4_src": src, "ipv4_dst": dst}
    out = switch.send(WIRE, tcp_flags=flags, eth_src="02:00:00:00:00:99", ip_proto=6, tcp_src=50000, tcp_dst=dport, **ip)
    return [p for p, _ in out]


def ssh_from(remote_group: str, rule_id: str) -> SecurityGroupRule:
    return SecurityGroupRule(id=rule_id, security_group_id="ssh", direction="ingress", protocol="tcp",
                             port_range_min=22, port_range_max=22, remote_group_id=remote_group)


def test_two_remote_group_rules_on_the_same_traffic_admit_the_members_of_either_group():
    rules = OUT + [ssh_from("client", "from-clients"), ssh_from("ssh", "from-peers")]
    switch = two_ports(rules)
    assert tcp_in(switch, "10.0.0.1", "10.0.0.2", 22) == [6]                 # a member of "client"
    assert tcp_in(switch, "10.0.0.2", "10.0.0.2", 22) == [6]                 # a member of "ssh"
    assert tcp_in(switch, "10.0.0.9", "10.0.0.2", 22) == []                  # of neither
    assert tcp_in(switch, "10.0.0.1", "10.0.0.2", 23) == []
    shared = [f for f in switch.flows if len([a for a in f.actions if isinstance(a, ofp.Conjunction)]) == 2
              and ("reg15", 2, None) in f.match]
    assert len(shared) == 1 and {("security_group_rule", "from-clients"), ("security_group_rule", "from-peers")} <= \
        set(shared[0].origin)


def test_a_remote_group_address_two_members_share_is_admitted_until_both_left_with_the_pieces_kept():
    rules, pieces, previous = OUT + [ssh_from("client", "from-clients")], Pieces(AppId.ACL), None
    ports = [vm(1, "10.0.0.1", ["client"]), vm(2, "10.0.0.2", ["ssh"])]
    pair = {"allowed_address_pairs": [{"ip_address": "10.0.0.7"}]}
    p7, p8 = vm(7, "10.0.0.7", ["client"]), vm(8, "10.0.0.8", ["client"], **pair)
    p7_out, p8_out = vm(7, "10.0.0.7", []), vm(8, "10.0.0.8", [], **pair)
    steps = [([p7, p8], [6], [6]),
             ([p8], [6], [6]),                  # 10.0.0.7 is still 8's
             ([p7, p8], [6], [6]),
             ([p7, p8_out], [6], []),           # ... and 7's
             ([p7_out, p8_out], [], []),
             ([p8], [6], [6])]
    for others, seven, eight in steps:
        switch = two_ports(rules, ports=ports, members=others, pieces=pieces, previous=previous)
        assert (tcp_in(switch, "10.0.0.7", "10.0.0.2", 22), tcp_in(switch, "10.0.0.8", "10.0.0.2", 22)) == \
            (seven, eight), others
        assert {f.body() for f in switch.flows} == {f.body() for f in two_ports(rules, ports=ports, members=others).flows}
        previous = switch.acl


def test_an_egress_remote_group_rule_admits_connections_to_its_members_only():
    to_servers = SecurityGroupRule(id="to-ssh", security_group_id="client", direction="egress", remote_group_id="ssh")
    switch = two_ports([to_servers, SSH_IN])
    assert tcp(switch, "10.0.0.1", "10.0.0.2", 40000, 22) == [WIRE]
    assert tcp(switch, "10.0.0.1", "192.0.2.9", 40000, 22) == []


def test_a_connection_refused_for_want_of_a_rule_gets_through_once_the_rule_exists():
    before = two_ports(OUT)
    assert tcp_in(before, "192.0.2.9", "10.0.0.2", 22) == []
    after = two_ports(OUT + [SSH_IN], before.conntrack)
    assert tcp_in(after, "192.0.2.9", "10.0.0.2", 22) == [6]                 # the same SYN, sent again
    assert tcp(after, "10.0.0.2", "192.0.2.9", 22, 50000, SYN | ACK) == [WIRE]


def test_only_neighbour_discovery_bypasses_the_rules_of_ipv6():
    server = Port(id="p2", project_id="t", network_id="n", mac_address="02:00:00:00:00:02", key=2,
                  security_groups=["ssh"], fixed_ips=[{"subnet_id": "s6", "ip_address": "2001:db8::2"}])
    switch = two_ports(OUT, ports=[vm(1, "10.0.0.1", ["client"]), server])
    icmp6 = dict(eth_src="02:00:00:00:00:99", eth_type=0x86DD, ip_proto=58, ipv6_src="2001:db8::9",
                 ipv6_dst="2001:db8::2", icmpv6_code=0, ip_ttl=255)
    assert [p for p, _ in switch.send(WIRE, **icmp6, icmpv6_type=135, ipv6_nd_target="2001:db8::2")] == [6]
    assert switch.send(WIRE, **icmp6, icmpv6_type=128) == []               # an echo request: no rule admits it


def test_dhcp_requests_pass_without_egress_rules_and_nothing_else_does():
    switch = two_ports([SSH_IN])                                            # no egress rule at all
    assert udp(switch, 1, "0.0.0.0", "255.255.255.255", 68, 67) == [WIRE]
    assert udp(switch, 1, "10.0.0.1", "10.0.0.9", 68, 67) == [WIRE]        # a renewal, unicast
    assert udp(switch, 1, "10.0.0.1", "10.0.0.9", 5000, 67) == []
    assert udp(switch, 1, "10.0.0.1", "10.0.0.9", 68, 53) == []
    into = switch.send(WIRE, eth_src="02:00:00:00:00:99", eth_type=0x0800, ip_proto=17, ipv4_src="10.0.0.9",
                       ipv4_dst="10.0.0.2", udp_src=68, udp_dst=67)
    assert into == []                                                       # no ingress rule admits it


def test_security_group_flows_name_their_group_and_rule_and_remote_group():
    switch = two_ports(OUT + [SSH_IN, ssh_from("client", "from-clients")])
    rules = [f for f in switch.flows if f.table in (Table.SG_TO_VM_RULES, Table.SG_FROM_VM_RULES) and f.origin]
    assert {f.origin for f in rules} == {
        (("security_group", "client"), ("security_group_rule", "out-client")),
        (("security_group", "ssh"), ("security_group_rule", "out-ssh")),
        (("security_group", "ssh"), ("security_group_rule", "ssh-in")),
        (("security_group", "ssh"), ("security_group_rule", "from-clients")),
        (("remote_group", "client"),)}


def test_the_acl_view_of_a_model_carries_its_groups_rules_and_network_acls_to_the_ports_chassis():
    model, ctx = new_model(), admin_for("t")
    net = model.create("network", {"name": "n"}, ctx)
    model.create("subnet", {"network_id": net.id, "cidr": "10.0.0.0/24", "ip_version": 4}, ctx)
    group = model.create("security_group", {"name": "ssh"}, ctx)
    rule = model.create("security_group_rule", {"security_group_id": group.id, "direction": "ingress",
                                                "protocol": "tcp", "port_range_min": 22, "port_range_max": 22,
                                                "remote_group_id": group.id}, ctx)
    acl = model.create("network_acl", {"network_id": net.id, "position": 1, "action": "deny",
                                       "direction": "ingress", "protocol": "udp"}, ctx)
    model.create("port", {"network_id": net.id, "security_groups": [group.id], "binding:host_id": "hv1",
                          "binding:profile": {"interface_name": "vm10"}}, ctx)
    chassis = switches()
    view = acl_view(model, logical_view(model, fabric(chassis, []), []), None)
    origins = {o for f in chassis_acl(chassis["hv1"], view).flows.values() for o in f.origin}
    assert {("security_group_rule", rule.id), ("remote_group", group.id), ("network_acl", acl.id)} <= origins
    assert chassis_acl(chassis["hv2"], view).flows == {}


def test_a_network_acl_denies_only_its_source_prefix_and_only_on_its_own_network():
    deny = NetworkAcl(id="d", network_id="n", position=1, action="deny", direction="ingress", protocol="tcp",
                      source_ip_prefix="192.0.2.0/24")
    switch = two_ports(OUT + [SSH_IN], acls=[deny])
    assert tcp_in(switch, "192.0.2.9", "10.0.0.2", 22) == []
    assert tcp_in(switch, "198.51.100.9", "10.0.0.2", 22) == [6]
    elsewhere = NetworkAcl(id="e", network_id="m", position=1, action="deny", direction="ingress")
    assert tcp_in(two_ports(OUT + [SSH_IN], acls=[elsewhere]), "192.0.2.9", "10.0.0.2", 22) == [6]


def test_a_port_with_port_security_and_no_groups_passes_any_connection_and_one_without_port_security_too():
    ports = [vm(1, "10.0.0.1"), vm(2, "10.0.0.2", ["ssh"], port_security_enabled=False)]
    switch = two_ports([SSH_IN], ports=ports)
    for dst in ("10.0.0.1", "10.0.0.2"):
        assert tcp(switch, "192.0.2.9", dst, 50000, 8080) == [PORTS[int(dst[-1])]]
        assert tcp(switch, dst, "192.0.2.9", 40000, 443) == [WIRE]


def test_the_acl_view_keeps_what_did_not_change_as_the_very_objects_and_takes_a_changed_rule():
    ports = [vm(1, "10.0.0.1", ["client"]), vm(2, "10.0.0.2", ["ssh"])]
    bound = [BoundPort(p, 1, Location("s1", PORTS[p.key])) for p in ports]
    acl = NetworkAcl(id="a", project_id="t", network_id="n", position=1, action="deny", ethertype="IPv4")

    def build(rules, previous=None) -> AclView:
        return AclView.build(bound, ports, [CLIENT, SSH], rules, [acl], {"n": 1}, previous)
    first = build([ssh_from("client", "r1")])
    again = build([ssh_from("client", "r1")], first)
    assert (again.policies is first.policies, again.acls is first.acls, again.local["s1"] is first.local["s1"],
            again.remotes["s1"] is first.remotes["s1"], again.members["ssh"] is first.members["ssh"]) == (True,) * 5
    changed = build([ssh_from("ssh", "r1")], again)
    assert changed.policies is not again.policies and changed.policies["client"] is again.policies["client"]
    assert [remote.id for _, remote in changed.policies["ssh"].rules] == ["ssh"]
    assert changed.remotes["s1"] == (("ssh", "ingress", "IPv4"),)
    only = AclView.build(bound, ports, [SSH], [ssh_from("client", "r1")], [], {"n": 1})
    alone = AclView.build(bound, ports, [SSH], [ssh_from("ssh", "r1")], [], {"n": 1}, only)
    assert [remote.id for _, remote in alone.policies["ssh"].rules] == ["ssh"]
    assert chassis_acl(Chassis("s9", 9), alone).flows == {}           # a chassis without ports holds none
