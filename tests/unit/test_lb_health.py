"""Health checks: the probes a member gets, how its answers (or their absence) take it down and bring it
back, and what that does to its pool's flows."""
from __future__ import annotations

import netaddr
from os_ken.lib.packet import ethernet, icmp, ipv4, packet, tcp, udp

from nvapps import pipeline
from nvapps.core.ofp import PUNT
from nvapps.core.pieces import Pieces
from nvapps.core.topology import fabric
from nvapps.lb import flows, probes
from nvapps.lb.health import ACK, RST, SYN, Checker, Target
from nvapps.lb.probes import Path
from nvapps.logical.view import logical_view
from tests.unit.modelkit import admin_for, new_model
from tests.unit.test_incremental import switches

PATH = Path("fa:16:3e:00:00:02", "10.0.0.12", 8080, "fa:16:3e:00:00:01", "10.0.0.5")
DELAY, TIMEOUT, RISE, FALL = 2.0, 1.0, 2, 3


def target(kind: str = "TCP", **kw) -> Target:
    return Target("m1", kind, PATH, DELAY, TIMEOUT, RISE, FALL, chassis="hv1", port_key=7, **kw)


def probe_of(sends) -> packet.Packet:
    (t, frame), = sends
    assert t.member_id == "m1"
    pkt = packet.Packet(frame)
    eth, ip = pkt.get_protocol(ethernet.ethernet), pkt.get_protocol(ipv4.ipv4)
    assert (eth.src, eth.dst, ip.src, ip.dst) == (PATH.source_mac, PATH.mac, PATH.source, PATH.address)
    return pkt


def reply(pkt: packet.Packet, flags: int, payload: bytes = b"", seq: int = 1000) -> bytes:
    """The member's TCP answer to probe segment `pkt`."""
    ip, seg = pkt.get_protocol(ipv4.ipv4), pkt.get_protocol(tcp.tcp)
    out = packet.Packet()
    out.add_protocol(ethernet.ethernet(dst=PATH.source_mac, src=PATH.mac))
    out.add_protocol(ipv4.ipv4(src=ip.dst, dst=ip.src, proto=6))
    out.add_protocol(tcp.tcp(src_port=seg.dst_port, dst_port=seg.src_port, seq=seq, ack=seg.seq + 1, bits=flags))
    if payload:
        out.add_protocol(payload)
    out.serialize()
    return bytes(out.data)


def started(kind: str = "TCP", **kw) -> tuple[Checker, packet.Packet]:
    checker = Checker()
    checker.watch({"m1": target(kind, **kw)}, now=0.0)
    sends, changed = checker.tick(1.0)          # the first check comes within a second of watching
    assert not changed
    return checker, probe_of(sends)


def test_a_tcp_check_is_a_syn_and_a_syn_ack_passes_it_then_a_reset_closes_it():
    checker, syn = started()
    seg = syn.get_protocol(tcp.tcp)
    assert seg.bits == SYN and seg.dst_port == 8080 and seg.src_port >= 0xFF00
    sends, changed = checker.answer(probes.parse(reply(syn, SYN | ACK)), 1.1)
    rst = probe_of(sends).get_protocol(tcp.tcp)
    assert rst.bits == RST and rst.seq == seg.seq + 1 and rst.src_port == seg.src_port
    assert checker.states["m1"].successes == 1 and checker.status("m1") == "ONLINE" and not changed


def test_a_member_goes_down_after_fall_unanswered_checks_and_comes_back_after_rise_answers():
    checker = Checker()
    checker.watch({"m1": target()}, now=0.0)
    went_down, now = None, 0.0
    while went_down is None and now < 30:
        now += 0.05
        _, changed = checker.tick(now)
        if changed:
            went_down = now
    assert checker.down() == {"m1"} and checker.status("m1") == "ERROR"
    assert went_down <= DELAY * FALL + DELAY            # the bound: delay x max_retries_down (+1 delay)
    answered = 0
    while checker.down():
        now += 0.05
        sends, changed = checker.tick(now)
        if sends:
            _, changed = checker.answer(probes.parse(reply(probe_of(sends), SYN | ACK)), now)
            answered += 1
    assert answered == RISE and checker.status("m1") == "ONLINE"


def test_a_reset_fails_a_check_at_once():
    checker, syn = started()
    checker.answer(probes.parse(reply(syn, RST | ACK)), 1.1)
    assert checker.states["m1"].failures == 1


def test_an_answer_to_no_probe_of_ours_counts_for_nothing():
    checker, syn = started()
    stray = reply(syn, SYN | ACK)
    other = Path(PATH.mac, "10.0.0.13", 8080, PATH.source_mac, PATH.source)    # another member's address
    checker.answer(probes.parse(stray.replace(bytes([10, 0, 0, 12]), bytes([10, 0, 0, 13]), 1)), 1.1)
    assert checker.states["m1"].successes == 0 and other.address not in checker.states


def test_an_http_check_sends_a_get_after_the_handshake_and_reads_the_status_code():
    for status, ok in ((b"HTTP/1.0 200 OK", True), (b"HTTP/1.1 503 Service Unavailable", False)):
        checker, syn = started("HTTP", url_path="/health", codes="200-204")
        sends, _ = checker.answer(probes.parse(reply(syn, SYN | ACK, seq=5000)), 1.1)
        get = probe_of(sends)
        assert get.protocols[-1].startswith(b"GET /health HTTP/1.0\r\n")
        assert get.get_protocol(tcp.tcp).ack == 5001
        sends, _ = checker.answer(probes.parse(reply(syn, ACK | 0x08, status + b"\r\n\r\n", seq=5001)), 1.2)
        assert probe_of(sends).get_protocol(tcp.tcp).bits == RST
        state = checker.states["m1"]
        assert (state.successes, state.failures) == ((1, 0) if ok else (0, 1)), status


def test_ping_checks_are_echo_requests_answered_by_echo_replies():
    checker, request = started("PING")
    echo = request.get_protocol(icmp.icmp)
    assert echo.type == icmp.ICMP_ECHO_REQUEST
    answer = packet.Packet()
    answer.add_protocol(ethernet.ethernet(dst=PATH.source_mac, src=PATH.mac))
    answer.add_protocol(ipv4.ipv4(src=PATH.address, dst=PATH.source, proto=1))
    answer.add_protocol(icmp.icmp(type_=icmp.ICMP_ECHO_REPLY, code=0, csum=0, data=echo.data))
    answer.serialize()
    checker.answer(probes.parse(bytes(answer.data)), 1.1)
    assert checker.states["m1"].successes == 1


def test_udp_connect_fails_only_on_a_port_unreachable():
    checker, datagram = started("UDP-CONNECT")
    assert datagram.get_protocol(udp.udp).dst_port == 8080
    checker.tick(1.0 + TIMEOUT)                 # no answer: the port is open
    assert checker.states["m1"].successes == 1
    sends, _ = checker.tick(1.0 + DELAY)
    quoted = bytes(probe_of(sends).data)[14:14 + 28]
    error = packet.Packet()
    error.add_protocol(ethernet.ethernet(dst=PATH.source_mac, src=PATH.mac))
    error.add_protocol(ipv4.ipv4(src=PATH.address, dst=PATH.source, proto=1))
    error.add_protocol(icmp.icmp(type_=icmp.ICMP_DEST_UNREACH, code=3, csum=0, data=icmp.dest_unreach(data=quoted)))
    error.serialize()
    checker.answer(probes.parse(bytes(error.data)), 1.0 + DELAY + 0.1)
    assert checker.states["m1"].failures == 1


def test_members_no_longer_watched_are_forgotten_and_no_longer_down():
    checker = Checker()
    checker.watch({"m1": target()}, now=0.0)
    for step in range(1, 200):
        checker.tick(step * 0.05)
    assert checker.down() == {"m1"}
    assert checker.watch({}, now=10.0) and checker.down() == frozenset() and checker.next_time() is not None
    assert checker.tick(20.0) == ([], False)


def monitored_cloud():
    """Tenant t's VIP on 10.0.0.0/24 with two members on hv1 and hv2 checked by TCP."""
    model, ctx = new_model(), admin_for("t")
    net = model.create("network", {"name": "n"}, ctx)
    sub = model.create("subnet", {"network_id": net.id, "cidr": "10.0.0.0/24", "ip_version": 4}, ctx)
    members = []
    for host, iface in (("hv1", "vm10"), ("hv2", "vm11")):
        port = model.create("port", {"network_id": net.id, "binding:host_id": host,
                                     "binding:profile": {"interface_name": iface}}, ctx)
        members.append(port)
    lb = model.create("loadbalancer", {"vip_subnet_id": sub.id}, ctx)
    li = model.create("listener", {"loadbalancer_id": lb.id, "protocol": "TCP", "protocol_port": 80}, ctx)
    pool = model.create("pool", {"listener_id": li.id, "protocol": "TCP", "lb_algorithm": "ROUND_ROBIN"}, ctx)
    ids = [model.create("member", {"address": p.fixed_ips[0]["ip_address"], "protocol_port": 8080}, ctx,
                        parent_id=pool.id).id for p in members]
    model.create("healthmonitor", {"pool_id": pool.id, "type": "TCP", "delay": 2, "timeout": 1,
                                   "max_retries": 2}, ctx)
    return model, members, ids, pool


def test_a_member_that_failed_its_checks_leaves_the_buckets_and_its_answers_go_to_the_controller():
    model, ports, ids, pool = monitored_cloud()
    chassis = switches()
    view = logical_view(model, fabric(chassis, model.list("chassis")), [])
    reading = flows.read(model, view, None)
    assert set(reading.targets) == set(ids)
    assert {t.chassis for t in reading.targets.values()} == {"hv1", "hv2"}
    gid = flows.pool_group_id(pool)
    desired = flows.chassis_lb(chassis["hv1"], reading, Pieces(pipeline.AppId.LB))
    assert len(desired.groups[gid].buckets) == 2
    answers = [f for f in desired.flows.values() if PUNT in f.actions]
    assert len(answers) == 1 and answers[0].meter == pipeline.app_meter(pipeline.AppId.LB)
    fields = {name: value for name, value, _ in answers[0].match}
    assert fields[pipeline.Reg.IN_PORT] == ports[0].key and fields["tcp_src"] == 8080
    down = flows.read(model, view, reading, frozenset(ids[:1]))
    desired = flows.chassis_lb(chassis["hv1"], down, Pieces(pipeline.AppId.LB))
    assert len(desired.groups[gid].buckets) == 1            # still probed, no longer balanced to
    assert set(down.targets) == set(ids)


def test_a_members_hairpin_flows_are_on_its_own_chassis_only():
    model, ports, _, _ = monitored_cloud()
    chassis = switches()
    reading = flows.read(model, logical_view(model, fabric(chassis, model.list("chassis")), []), None)
    for name, port in (("hv1", ports[0]), ("hv2", ports[1])):
        desired = flows.chassis_lb(chassis[name], reading, Pieces(pipeline.AppId.LB))
        hairpins = [f for f in desired.flows.values()
                    if f.table == pipeline.Table.LB_DELIVER and f.priority == pipeline.Priority.OVERRIDE]
        assert [dict((n, v) for n, v, _ in f.match)["ipv4_src"] for f in hairpins] == \
            [int(netaddr.IPAddress(port.fixed_ips[0]["ip_address"]))], name


def listener_sources(model, vip: str) -> list[object]:
    """The sources table 16 on hv1 balances to `vip`:80 from (None: any)."""
    hosts = switches()
    reading = flows.read(model, logical_view(model, fabric(hosts, model.list("chassis")), []), None)
    desired = flows.chassis_lb(hosts["hv1"], reading, Pieces(pipeline.AppId.LB))
    fields = [{n: (v, m) if n == "ipv4_src" else v for n, v, m in f.match} for f in desired.flows.values()
              if f.table == pipeline.Table.LB_FROM_VM and f.priority == pipeline.Priority.SPECIFIC and f.actions]
    return sorted((f.get("ipv4_src") for f in fields
                   if f.get("tcp_dst") == 80 and f.get("ipv4_dst") == int(netaddr.IPAddress(vip))), key=str)


def test_the_vip_admits_what_the_ingress_rules_of_its_vip_sg_ids_admit_and_anyone_without_them():
    model, ports, _, _ = monitored_cloud()
    first = model.list("loadbalancer")[0].vip_address
    assert listener_sources(model, first) == [None]      # as Octavia: the listener is open
    ctx = admin_for("t")
    group, web = (model.create("security_group", {"name": name}, ctx) for name in ("vip", "web"))
    for prefix, protocol, low in (("203.0.113.0/25", "tcp", 80), ("203.0.113.128/25", None, None),
                                  ("198.51.100.0/24", "udp", None), ("192.0.2.0/24", "tcp", 81)):
        model.create("security_group_rule", {"security_group_id": group.id, "direction": "ingress",
                                             "remote_ip_prefix": prefix, "protocol": protocol,
                                             "port_range_min": low, "port_range_max": low}, ctx)
    model.create("security_group_rule", {"security_group_id": group.id, "direction": "ingress",
                                         "remote_group_id": web.id}, ctx)
    model.update("port", ports[1].id, {"security_groups": [web.id]}, ctx)
    sub = model.list("subnet")[0]
    lb = model.create("loadbalancer", {"vip_subnet_id": sub.id, "vip_sg_ids": [group.id]}, ctx)
    li = model.create("listener", {"loadbalancer_id": lb.id, "protocol": "TCP", "protocol_port": 80}, ctx)
    pool = model.create("pool", {"listener_id": li.id, "protocol": "TCP", "lb_algorithm": "ROUND_ROBIN"}, ctx)
    model.create("member", {"address": ports[0].fixed_ips[0]["ip_address"], "protocol_port": 8080}, ctx,
                 parent_id=pool.id)
    web_member = int(netaddr.IPAddress(ports[1].fixed_ips[0]["ip_address"]))
    merged = netaddr.IPNetwork("203.0.113.0/24")
    assert listener_sources(model, lb.vip_address) == [(web_member, None), (int(merged.network), int(merged.netmask))]
    assert listener_sources(model, first) == [None]
