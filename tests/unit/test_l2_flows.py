"""L2 flow builders, run through the fake switch: delivery, flooding, isolation, learning, trunking."""
from __future__ import annotations

from nvapps import pipeline
from nvapps.core import ofp
from nvapps.core.reconcile import Desired
from nvapps.core.stages import stage_defaults
from nvapps.core.topology import Chassis, Interface
from nvapps.logical.ports import BoundPort, bound_ports
from nvapps.logical.view import build_view
from nvapps.model.network import ROUTER_INTERFACE, Network, Port
from tests.unit.fakeswitch import FakeSwitch
from tests.unit.pipelinekit import l2_of

BCAST = "ff:ff:ff:ff:ff:ff"
TRUNK = 1


def chassis(name: str, *ifaces: str, trunk: str | None = None) -> Chassis:
    names = ([trunk] if trunk else []) + list(ifaces)
    ch = Chassis(name, int(name[-1]), {n: Interface(n, i + 1) for i, n in enumerate(names)},
                 frozenset([trunk]) if trunk else frozenset())
    return ch


def net(key: int, nid: str) -> Network:
    return Network(id=nid, project_id="p", segmentation_id=key)


def port(key: int, network_id: str, mac: str, host: str, iface: str, **kw) -> Port:
    return Port(id=f"port{key}", project_id="p", network_id=network_id, mac_address=mac, key=key,
                fixed_ips=[], host_id=host, profile={"interface_name": iface}, **kw)


NETS = [net(10, "A"), net(20, "B")]
# Two tenants with identical MACs on purpose: isolation must not depend on addresses.
PORTS = [
    port(1, "A", "02:00:00:00:00:01", "hv1", "hv1-eth2"),
    port(2, "A", "02:00:00:00:00:02", "hv1", "hv1-eth3"),
    port(3, "B", "02:00:00:00:00:01", "hv1", "hv1-eth4"),
    port(4, "B", "02:00:00:00:00:02", "hv1", "hv1-eth5"),
    port(5, "A", "02:00:00:00:00:05", "hv2", "hv2-eth2"),
]


def topology():
    hv1 = chassis("hv1", "hv1-eth2", "hv1-eth3", "hv1-eth4", "hv1-eth5", trunk="hv1-eth1")
    hv2 = chassis("hv2", "hv2-eth2", trunk="hv2-eth1")
    return {"hv1": hv1, "hv2": hv2}


def l2(here: Chassis, ports: list[Port], chs: dict[str, Chassis]) -> tuple[list[ofp.Flow], list[ofp.Group]]:
    """Chassis `here`'s L2 flows and groups for `ports` on NETS."""
    return l2_of(build_view(NETS, ports, [], [], chs, []), here)


def switch_for(name: str, ports=PORTS, chs=None) -> FakeSwitch:
    chs = chs or topology()
    flows, groups = l2(chs[name], ports, chs)
    return FakeSwitch.of(flows + list(stage_defaults().flows.values()), groups)


def ports_out(result) -> list[int]:
    return sorted(p for p, _ in result)


def test_unicast_to_a_known_mac_goes_only_to_its_port():
    sw = switch_for("hv1")
    assert ports_out(sw.send(2, eth_src="02:00:00:00:00:01", eth_dst="02:00:00:00:00:02")) == [3]


def test_tenant_b_with_the_same_macs_is_switched_inside_tenant_b_only():
    sw = switch_for("hv1")
    assert ports_out(sw.send(4, eth_src="02:00:00:00:00:01", eth_dst="02:00:00:00:00:02")) == [5]


def test_broadcast_floods_only_the_senders_network_and_the_trunk_when_it_spans():
    sw = switch_for("hv1")
    out = sw.send(2, eth_src="02:00:00:00:00:01", eth_dst=BCAST)
    assert ports_out(out) == [TRUNK, 3]
    trunk_copy = dict(out)[TRUNK]
    assert trunk_copy["vlan_vid"] == ofp.OFPVID_PRESENT | 10
    assert ports_out(sw.send(4, eth_src="02:00:00:00:00:01", eth_dst=BCAST)) == [5]


def test_a_port_on_another_chassis_is_reached_over_the_trunk_tagged_with_the_network_key():
    out = switch_for("hv1").send(2, eth_src="02:00:00:00:00:01", eth_dst="02:00:00:00:00:05")
    assert out == [(TRUNK, {"eth_src": 0x020000000001, "eth_dst": 0x020000000005,
                            "vlan_vid": ofp.OFPVID_PRESENT | 10})]


def test_tagged_packets_from_the_trunk_are_delivered_untagged_in_their_network():
    sw = switch_for("hv2")
    out = sw.send(TRUNK, eth_src="02:00:00:00:00:01", eth_dst="02:00:00:00:00:05",
                  vlan_vid=ofp.OFPVID_PRESENT | 10)
    assert out == [(2, {"eth_src": 0x020000000001, "eth_dst": 0x020000000005})]
    # tenant B's key reaches nothing on hv2, which has no port of B
    assert sw.send(TRUNK, eth_src="02:00:00:00:00:01", eth_dst=BCAST, vlan_vid=ofp.OFPVID_PRESENT | 20) == []


def test_unknown_source_is_learned_in_the_datapath_and_then_reached_without_flooding():
    sw = switch_for("hv1")
    stranger = "02:99:00:00:00:01"
    sw.send(3, eth_src=stranger, eth_dst=BCAST)          # behind port 2 (ofport 3), network A
    assert len(sw.learned) == 1
    assert ports_out(sw.send(2, eth_src="02:00:00:00:00:01", eth_dst=stranger)) == [3]
    # the same MAC is still unknown in network B: flooded there, never sent to A's port
    assert ports_out(sw.send(4, eth_src="02:00:00:00:00:01", eth_dst=stranger)) == [5]


def test_unknown_unicast_floods_inside_the_network():
    out = switch_for("hv1").send(2, eth_src="02:00:00:00:00:01", eth_dst="02:42:00:00:00:09")
    assert ports_out(out) == [TRUNK, 3]


def test_unbound_interfaces_and_unknown_ports_are_dropped():
    chs = topology()
    chs["hv1"].interfaces["hv1-eth9"] = Interface("hv1-eth9", 9)
    sw = switch_for("hv1", chs=chs)
    assert sw.send(9, eth_src="02:00:00:00:00:09", eth_dst=BCAST) == []


def test_a_port_whose_interface_is_missing_gets_no_flows():
    chs = topology()
    del chs["hv1"].interfaces["hv1-eth3"]
    bound = bound_ports(NETS, PORTS, chs)
    assert "port2" not in {b.port.id for b in bound}
    assert ports_out(switch_for("hv1", chs=chs).send(2, eth_src="02:00:00:00:00:01", eth_dst=BCAST)) == [TRUNK]


def test_admin_down_ports_and_networks_are_not_bound():
    ports = [*PORTS[:-1], port(5, "A", "02:00:00:00:00:05", "hv2", "hv2-eth2", admin_state_up=False)]
    assert "port5" not in {b.port.id for b in bound_ports(NETS, ports, topology())}
    down = [Network(id="A", project_id="p", segmentation_id=10, admin_state_up=False), NETS[1]]
    assert {b.port.network_id for b in bound_ports(down, PORTS, topology())} == {"B"}


def test_without_a_trunk_remote_ports_get_no_flows():
    chs = topology()
    chs["hv1"] = chassis("hv1", "hv1-eth2", "hv1-eth3", "hv1-eth4", "hv1-eth5")
    flows, groups = l2(chs["hv1"], PORTS, chs)
    assert not any(("eth_dst", 0x020000000005, None) in f.match for f in flows)
    remote_first = [PORTS[4], *PORTS[:4]]                 # a remote member listed before the local ones
    sw = FakeSwitch.of(l2(chs["hv1"], remote_first, chs)[0] + list(stage_defaults().flows.values()), [])
    assert ports_out(sw.send(1, eth_src="02:00:00:00:00:01", eth_dst="02:00:00:00:00:02")) == [2]   # eth2 -> eth3


def test_flows_grow_by_a_constant_per_port():
    def count(n: int) -> int:
        hv1 = chassis("hv1", *[f"hv1-eth{i}" for i in range(2, n + 2)], trunk="hv1-eth1")
        ports = [port(i, "A", f"02:00:00:00:01:{i:02x}", "hv1", f"hv1-eth{i + 1}") for i in range(1, n + 1)]
        flows, _ = l2(hv1, ports, {"hv1": hv1})
        return len(flows)
    assert count(20) - count(10) == count(30) - count(20) == 10 * 4


def test_chassis_without_local_ports_gets_nothing():
    chs = topology()
    assert l2(chs["hv2"], [p for p in PORTS if p.host_id == "hv1"], chs) == ([], [])


def test_flood_group_ids_are_in_the_l2_range():
    chs = topology()
    _, groups = l2(chs["hv1"], PORTS, chs)
    assert Desired.build(pipeline.AppId.L2, [], groups).groups   # raises if outside the range
    assert {pipeline.app_of_group(g.group_id) for g in groups} == {pipeline.AppId.L2}


def test_bound_port_records_location():
    bound = {b.port.id: b for b in bound_ports(NETS, PORTS, topology())}
    assert isinstance(bound["port5"], BoundPort)
    assert (bound["port5"].location.chassis, bound["port5"].location.ofport, bound["port5"].network_key) == \
        ("hv2", 2, 10)


def with_ips() -> list[Port]:
    ports = [port(1, "A", "02:00:00:00:00:01", "hv1", "hv1-eth2"), port(2, "A", "02:00:00:00:00:02", "hv1", "hv1-eth3")]
    for p_, ip in zip(ports, ("10.0.0.11", "10.0.0.12"), strict=True):
        p_.fixed_ips = [{"subnet_id": "s", "ip_address": ip}]
    gateway = Port(id="rif", project_id="p", network_id="A", mac_address="fa:16:3e:00:00:01", key=9,
                   fixed_ips=[{"subnet_id": "s", "ip_address": "10.0.0.1"}], device_owner=ROUTER_INTERFACE)
    return ports + [gateway]


def arp_switch(ports):
    chs = topology()
    flows, groups = l2(chs["hv1"], ports, chs)
    return FakeSwitch.of(flows + list(stage_defaults().flows.values()), groups)


ARP_REQUEST = dict(eth_type=0x0806, arp_op=1, eth_src="02:00:00:00:00:01", eth_dst=BCAST,
                   arp_sha="02:00:00:00:00:01", arp_spa="10.0.0.11")


def test_arp_for_a_known_port_is_answered_in_flows_back_to_the_asker_only():
    out = arp_switch(with_ips()).send(2, **ARP_REQUEST, arp_tpa="10.0.0.12")
    assert out == [(2, {"eth_type": 0x0806, "arp_op": 2, "eth_src": 0x020000000002, "eth_dst": 0x020000000001,
                        "arp_sha": 0x020000000002, "arp_spa": 0x0A00000C, "arp_tha": 0x020000000001,
                        "arp_tpa": 0x0A00000B})]


def test_arp_for_the_router_interface_is_answered_with_its_mac():
    [(port_out, reply)] = arp_switch(with_ips()).send(2, **ARP_REQUEST, arp_tpa="10.0.0.1")
    assert port_out == 2 and reply["arp_sha"] == 0xFA163E000001 and reply["arp_spa"] == 0x0A000001


def test_a_port_probing_its_own_address_is_not_answered_but_flooded():
    out = arp_switch(with_ips()).send(2, **ARP_REQUEST, arp_tpa="10.0.0.11")
    assert ports_out(out) == [3]


def test_unknown_addresses_are_flooded_in_the_network_only():
    assert ports_out(arp_switch(with_ips()).send(2, **ARP_REQUEST, arp_tpa="10.0.0.99")) == [3]


def test_router_interfaces_are_known_macs_on_every_chassis_of_their_network():
    ports = with_ips()
    chs = topology()
    flows, _ = l2(chs["hv1"], ports, chs)
    lookups = [f for f in flows if ("eth_dst", 0xFA163E000001, None) in f.match]
    assert [f.actions for f in lookups] == [(ofp.SetField("reg15", 9),)]
    # hv2 has no port of network A bound here in this set: no router flows there either
    assert l2(chs["hv2"], ports, chs) == ([], [])


def test_arp_is_answered_from_the_askers_own_network_where_another_has_the_same_address():
    ports = with_ips() + [port(3, "B", "02:00:00:00:00:03", "hv1", "hv1-eth4"),
                          port(4, "B", "02:00:00:00:00:04", "hv1", "hv1-eth5")]
    for p_, ip in zip(ports[-2:], ("10.0.0.11", "10.0.0.12"), strict=True):
        p_.fixed_ips = [{"subnet_id": "s-b", "ip_address": ip}]
    sw = arp_switch(ports)
    asks_b = dict(ARP_REQUEST, eth_src="02:00:00:00:00:03", arp_sha="02:00:00:00:00:03")
    [(out, reply)] = sw.send(4, **asks_b, arp_tpa="10.0.0.12")                  # b's 10.0.0.11 asks
    assert out == 4 and reply["arp_sha"] == 0x020000000004                       # b's 10.0.0.12, not a's
    [(out, reply)] = sw.send(2, **ARP_REQUEST, arp_tpa="10.0.0.12")
    assert out == 2 and reply["arp_sha"] == 0x020000000002
