"""Packet traces: ofproto/trace output read into passes and outputs, each flow named by the objects its app built
it for, verdicts (delivered, dropped by a security group, sent through a tunnel and followed), and the REST
endpoint's refusals. ovs-appctl is replaced by recorded output."""
from __future__ import annotations

from nvapps import pipeline
from nvapps.core.ofp import Flow
from nvapps.core.topology import Chassis, Interface
from nvapps.model.errors import Conflict
from nvapps.pipeline import AppId, Table
from nvapps.trace.ofproto import parse
from nvapps.trace.tracer import Tracer
from tests.unit.fakecore import FakeCore, FakeSync
from tests.unit.restkit import call, token_api

L2 = pipeline.app_cookie(AppId.L2)
ACL = pipeline.app_cookie(AppId.ACL)
OVERLAY = pipeline.app_cookie(AppId.OVERLAY)

# From hv1 (userspace datapath): classified, rules passed, sent by the tunnel port 3 to 172.30.0.3, whose
# underlay bridge's steps follow (not the traced bridge's)
TO_TUNNEL = f"""Flow: tcp,in_port=4,vlan_tci=0x0000,dl_src=02:00:00:01:01:01,dl_dst=02:00:00:01:02:01,nw_src=10.0.0.11,nw_dst=10.0.0.12,nw_ttl=64,tp_src=0,tp_dst=80,tcp_flags=0

bridge("hv1")
-------------
 0. in_port=4, priority 100, cookie {L2 | 1:#x}
    set_field:0x3->reg14
    write_metadata:0x2/0xffffffff
    goto_table:14
14. ip,reg14=0x3, priority 100, cookie {ACL | 2:#x}
    goto_table:71
71. reg12=0xac1e0003, priority 100, cookie {OVERLAY | 3:#x}
    move:OXM_OF_METADATA[]->NXM_NX_TUN_ID[]
     -> NXM_NX_TUN_ID[] is now 0x2
    set_field:172.30.0.3->tun_dst
    output:3
     -> output to native tunnel
     -> tunneling to 172.30.0.3 via br-phy

bridge("br-phy")
----------------
 0. priority 0
    NORMAL
     -> forwarding to learned port

Final flow: recirc_id=0x1b,eth,tcp,reg14=0x3,tun_src=0.0.0.0,tun_dst=172.30.0.3,gtpu_flags=0,metadata=0x2,vlan_tci=0x0000,dl_src=02:00:00:01:01:01,dl_dst=02:00:00:01:02:01,nw_src=10.0.0.11,nw_dst=10.0.0.12,nw_ttl=64,nw_frag=no,tp_src=0,tp_dst=80,tcp_flags=0
Megaflow: recirc_id=0x1b,eth,tcp,in_port=4
Datapath actions: tnl_push(tnl_port(4)),7
"""

# On hv3, from the tunnel: conntrack, then no rule of the port's groups allows TCP 81
DROPPED = f"""Flow: tcp,in_port=3,tun_id=0x2,vlan_tci=0x0000,dl_src=02:00:00:01:01:01,dl_dst=02:00:00:01:02:01,nw_src=10.0.0.11,nw_dst=10.0.0.12,tp_dst=81

bridge("hv3")
-------------
 0. in_port=3,tun_id=0x2, priority 100, cookie {OVERLAY | 4:#x}
    set_field:0xfffffffe->reg14
    set_field:0x5->reg15
    ct(table=63,zone=NXM_NX_REG13[0..15])
    drop
     -> A clone of the packet is forked to recirculate. The forked pipeline will be resumed at table 63.

Final flow: tcp,reg14=0xfffffffe,reg15=0x5,in_port=3
Megaflow: recirc_id=0,eth,ip,in_port=3
Datapath actions: ct(zone=5),recirc(0x2b)

===============================================================================
recirc(0x2b) - resume conntrack with default ct_state=trk|new (use --ct-next to customize)
===============================================================================

Flow: recirc_id=0x2b,ct_state=new|trk,ct_zone=5,eth,tcp,reg14=0xfffffffe,reg15=0x5,metadata=0x2,in_port=3,tp_dst=81

bridge("hv3")
-------------
    thaw
        Resuming from table 63
63. priority 10, cookie {ACL | 5:#x}
    goto_table:64
64. ct_state=+new+trk,ip, priority 10, cookie {ACL | 6:#x}

Final flow: recirc_id=0x2b,eth,tcp,reg14=0xfffffffe,reg15=0x5,in_port=3,tp_dst=81
Megaflow: recirc_id=0x2b,ct_state=+new-est-rel-rpl-inv+trk,eth,ip,in_port=3
Datapath actions: drop
"""


def test_passes_steps_and_outputs_are_read_with_the_tunnel_fields_as_they_were_sent():
    (only,) = parse(TO_TUNNEL)
    assert only.bridge == "hv1"
    assert [(s.table, s.priority, s.cookie) for s in only.steps] == [
        (0, 100, L2 | 1), (14, 100, ACL | 2), (71, 100, OVERLAY | 3)]      # br-phy's step is not hv1's
    assert only.steps[0].actions == ["set_field:0x3->reg14", "write_metadata:0x2/0xffffffff", "goto_table:14"]
    (out,) = only.outputs()
    assert out.ofport == 3 and out.fields["tun_dst"] == "172.30.0.3" and out.fields["tun_id"] == "0x2"
    assert out.fields["reg14"] == "0x3" and out.fields["metadata"] == "0x2"
    assert not only.dropped and only.final.startswith("recirc_id=0x1b")


def test_a_recirculated_pass_that_ends_in_nothing_is_dropped():
    first, second = parse(DROPPED)
    assert not first.dropped and first.outputs() == []
    assert second.dropped and [s.table for s in second.steps] == [63, 64] and second.steps[-1].actions == []
    assert second.tracked()[-1]["reg15"] == "0x5"


def test_output_to_the_port_a_packet_came_in_by_is_no_output():
    text = TO_TUNNEL.replace("     -> output to native tunnel", "             >> skipping output to input port")
    assert parse(text)[0].outputs() == []


def _cloud(tmp_path):
    """A network of project pa with two ports, bound on hv1 and hv3, and hv1/hv3 registered with tunnel IPs."""
    api = token_api(tmp_path)
    net = call(api, "POST", "/v2.0/networks", "alice", {"network": {"name": "n"}})[1]["network"]
    call(api, "POST", "/v2.0/subnets", "alice", {"subnet": {"network_id": net["id"], "cidr": "10.0.0.0/24",
                                                            "ip_version": 4}})
    ports = {}
    for name, host, iface in (("client", "hv1", "hv1-eth1"), ("server", "hv3", "hv3-eth1")):
        port = call(api, "POST", "/v2.0/ports", "adm", {"port": {
            "name": name, "network_id": net["id"], "project_id": "pa", "binding:host_id": host,
            "binding:profile": {"interface_name": iface}}})[1]["port"]
        ports[name] = api.model.get("port", port["id"])
    group = call(api, "POST", "/v2.0/security-groups", "alice", {"security_group": {"name": "web"}})[1]
    call(api, "PUT", f"/v2.0/ports/{ports['server'].id}", "adm",
         {"port": {"security_groups": [group["security_group"]["id"]]}})
    for name, ip in (("hv1", "172.30.0.1"), ("hv3", "172.30.0.3")):
        call(api, "POST", "/v2.0/chassis", "adm", {"chassis": {"name": name, "tunnel_type": "geneve",
                                                               "tunnel_ip": ip}})
    chassis = {name: Chassis(name, dpid, {f"{name}-eth1": Interface(f"{name}-eth1", 4), "geneve0": Interface("geneve0", 3)},
                             tunnel_ports={"geneve": "geneve0"}, bridge=name)
               for name, dpid in (("hv1", 1), ("hv3", 3))}
    server = api.model.get("port", ports["server"].id)
    syncs = {AppId.ACL: FakeSync({ACL | 2: (("rules", ports["client"].id), Flow(
        Table.SG_FROM_VM_RULES, 100, origin=(("security_group_rule", "r1"),)))})}
    return api, FakeCore(chassis, syncs), ports["client"], server, group["security_group"]["id"]


def test_a_trace_follows_the_tunnel_to_the_remote_chassis_and_names_what_dropped_it(tmp_path):
    api, core, client, server, group = _cloud(tmp_path)
    ran = []

    def run(chassis: Chassis, flow: str) -> str:
        ran.append((chassis.name, flow))
        return TO_TUNNEL if chassis.name == "hv1" else DROPPED.replace("reg15=0x5", f"reg15={server.key:#x}")

    api.tracing = Tracer(api.model, core, run).trace
    status, answer = call(api, "GET", f"/v2.0/trace?port_id={client.id}&flow=tcp,nw_dst=10.0.0.12,tp_dst=81",
                          "alice")
    assert status == 200, answer
    trace = answer["trace"]
    first, second = ran
    assert first[0] == "hv1" and first[1].startswith("tcp,in_port=4,") and f"dl_src={client.mac_address}" in first[1]
    assert "nw_src=10.0.0." in first[1] and "nw_ttl=64" in first[1]
    # the packet as it arrives on hv3: its tunnel port, the VNI and endpoints, the wire's fields only
    assert second[0] == "hv3" and second[1].startswith("tcp,in_port=3,tun_id=0x2,tun_src=172.30.0.1,tun_dst=172.30.0.3")
    assert "reg14" not in second[1] and "metadata" not in second[1] and "gtpu" not in second[1]
    hv1, hv3 = trace["hops"]
    assert hv1["verdicts"] == [{"result": "sent", "chassis": "hv1", "to_chassis": "hv3", "tunnel": "geneve",
                                "text": "sent to chassis hv3 by geneve tunnel (VNI 2)"}]
    rules = hv1["steps"][1]
    assert (rules["stage"], rules["service"], rules["objects"]) == ("sg_from_vm_rules", "acl", [
        {"kind": "security_group_rule"}])       # r1 is no rule of the model: named by kind only
    assert hv1["steps"][0]["service"] == "l2" and hv1["steps"][0]["objects"] == []
    (verdict,) = trace["verdicts"]
    assert verdict["result"] == "dropped" and verdict["chassis"] == "hv3"
    assert verdict["by"]["stage"] == "sg_to_vm_rules"
    assert {"kind": "port", "id": server.id, "name": "server"} in verdict["by"]["objects"]
    assert {"kind": "security_group", "id": group, "name": "web"} in verdict["by"]["objects"]
    assert trace["text"].splitlines()[-1].startswith("verdict: dropped on chassis hv3 by sg_to_vm_rules (acl)")


def test_a_next_chassis_that_cannot_trace_ends_the_trace_there_and_keeps_the_first_hop(tmp_path):
    api, core, client, _, _ = _cloud(tmp_path)

    def run(chassis: Chassis, flow: str) -> str:
        if chassis.name == "hv3":
            raise Conflict("chassis hv3 cannot be traced: connection refused", "TraceUnavailable")
        return TO_TUNNEL
    api.tracing = Tracer(api.model, core, run).trace
    status, answer = call(api, "GET", f"/v2.0/trace?port_id={client.id}&flow=tcp,nw_dst=10.0.0.12,tp_dst=81",
                          "alice")
    assert status == 200, answer
    (hop,) = answer["trace"]["hops"]
    assert hop["chassis"] == "hv1" and [v["result"] for v in hop["verdicts"]] == ["sent", "unknown"]
    assert answer["trace"]["verdicts"] == [{"result": "unknown", "chassis": "hv3", "text":
                                            "not followed on chassis hv3: chassis hv3 cannot be traced: connection refused"}]


def test_a_port_delivered_to_is_named(tmp_path):
    api, core, client, server, _ = _cloud(tmp_path)
    delivered = TO_TUNNEL.replace("output:3", "output:4").replace("bridge(\"hv1\")", "bridge(\"hv3\")")
    api.tracing = Tracer(api.model, core, lambda chassis, flow: delivered).trace
    answer = call(api, "GET", f"/v2.0/trace?port_id={server.id}&flow=tcp,nw_dst=10.0.0.11", "adm")[1]["trace"]
    assert answer["verdicts"] == [{"result": "delivered", "chassis": "hv3", "port_id": server.id,
                                   "interface": "hv3-eth1", "text": "delivered to port server on chassis hv3 (hv3-eth1)"}]


def test_refusals(tmp_path):
    api, core, client, server, _ = _cloud(tmp_path)
    api.tracing = Tracer(api.model, core, lambda chassis, flow: TO_TUNNEL).trace
    base = f"/v2.0/trace?port_id={client.id}&flow="
    for path, status, words in (
            (base + "tcp,in_port=1", 400, "in_port is set by the trace"),
            (base + "tcp,reg14=3", 400, "reg14 is set by the trace"),
            (base + "tcp,nw_dst=10.0.0.1%20reboot", 400, "is not a field=value"),
            (base + "nonsense", 400, "is not a field=value"),
            (base, 400, "Give the packet"),
            ("/v2.0/trace?flow=tcp", 400, "exactly one of port_id"),
            (f"/v2.0/trace?port_id={client.id}&network_id={client.network_id}&flow=tcp", 400, "exactly one"),
            ("/v2.0/trace?port_id=nope&flow=tcp", 400, "not a valid UUID"),
            (base + "tcp&colour=red", 400, "not colour"),
            (base + "tcp&flow=udp", 400, "each of flow"),
            (f"/v2.0/trace?network_id={client.network_id}&flow=tcp,nw_dst=10.0.0.5", 409, "is not external"),
    ):
        got, answer = call(api, "GET", path, "alice")
        assert (got, words in answer["NeutronError"]["message"]) == (status, True), (path, answer)
    # another project's port does not exist for bob; a port bound nowhere connected cannot be traced
    assert call(api, "GET", base + "tcp,nw_dst=10.0.0.12", "bob")[0] == 404
    core.chassis.pop("hv1")
    got, answer = call(api, "GET", base + "tcp,nw_dst=10.0.0.12", "alice")
    assert (got, answer["NeutronError"]["type"]) == (409, "PortNotBound")
    assert call(api, "GET", base + "tcp", None)[0] == 401
