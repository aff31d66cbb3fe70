"""The overlay on the fake switch: tunnels by the remote chassis's type and endpoint, classification by
tunnel id, flooding only to chassis with ports on the network, split horizon, learned senders behind a
tunnel, VLAN ports of L2 gateways, network MTUs; and tunnel flows that grow with chassis, not ports."""
from __future__ import annotations

import netaddr
import pytest

from nvapps.core import ofp
from nvapps.core.topology import Chassis, Interface, fabric
from nvapps.logical.view import build_view
from nvapps.model.chassis import RegisteredChassis
from nvapps.model.errors import BadRequest, Conflict
from nvapps.model.network import L2_GATEWAY, Network, Port, TenantNetworks
from nvapps.model.service import Model
from nvapps.store.sqlite import SQLiteStore
from tests.unit.fakeswitch import FakeSwitch
from tests.unit.modelkit import admin_for, network_with_subnet, snapshot
from tests.unit.pipelinekit import overlay_of, switch_of

VXLAN, GENEVE, VM, VM2 = 1, 2, 3, 4
BCAST = "ff:ff:ff:ff:ff:ff"


def ip(n: int) -> int:
    return int(netaddr.IPAddress(f"172.30.0.{n}"))


def hv(n: int, *vms: str) -> Chassis:
    interfaces = {"vxlan0": Interface("vxlan0", VXLAN), "geneve0": Interface("geneve0", GENEVE)}
    interfaces.update({name: Interface(name, VM + i) for i, name in enumerate(vms)})
    return Chassis(f"hv{n}", n, interfaces, tunnel_ports={"vxlan": "vxlan0", "geneve": "geneve0"})


def registered(n: int, kind: str = "vxlan") -> RegisteredChassis:
    return RegisteredChassis(id=str(n), name=f"hv{n}", tunnel_type=kind, tunnel_ip=f"172.30.0.{n}")


NETS = [Network(id="A", project_id="p", segmentation_id=10), Network(id="B", project_id="p", segmentation_id=20)]


def vm(key: int, network: str, host: str, iface: str, **kw) -> Port:
    return Port(id=f"p{key}", project_id="p", network_id=network, mac_address=f"02:00:00:00:00:{key:02x}", key=key,
                fixed_ips=[], host_id=host, profile={"interface_name": iface}, **kw)


PORTS = [vm(1, "A", "hv1", "hv1-vm1"), vm(2, "A", "hv2", "hv2-vm1"), vm(3, "B", "hv3", "hv3-vm1")]


def switch(here: int, ports=PORTS, kinds=("vxlan", "vxlan", "geneve")) -> FakeSwitch:
    connected = {"hv1": hv(1, "hv1-vm1", "hv1-vm2"), "hv2": hv(2, "hv2-vm1"), "hv3": hv(3, "hv3-vm1", "hv3-vm2")}
    known = fabric(connected, [registered(i + 1, kind) for i, kind in enumerate(kinds)])
    return switch_of(build_view(NETS, ports, [], [], known, []), known[f"hv{here}"])


def frame(dst: str, src_key: int = 1) -> dict:
    return dict(eth_src=f"02:00:00:00:00:{src_key:02x}", eth_dst=dst, eth_type=0x0800)


def test_a_packet_for_a_port_on_another_chassis_is_tunnelled_there_with_the_networks_vni():
    [(port, wire)] = switch(1).send(VM, **frame("02:00:00:00:00:02"))
    assert port == VXLAN and (wire["tunnel_id"], wire["tun_ipv4_dst"]) == (10, ip(2))


def test_the_remote_chassis_type_picks_the_tunnel_port():
    ports = PORTS + [vm(4, "A", "hv3", "hv3-vm2")]
    sw = switch(1, ports)
    [(port, wire)] = sw.send(VM, **frame("02:00:00:00:00:04"))
    assert port == GENEVE and wire["tun_ipv4_dst"] == ip(3)          # hv3 is a geneve chassis


def test_tunnel_id_classifies_into_the_network_and_unknown_vnis_are_dropped():
    sw = switch(2)
    [(port, _)] = sw.send(VXLAN, tunnel_id=10, tun_ipv4_src=ip(1), **frame("02:00:00:00:00:02"))
    assert port == VM
    assert sw.send(VXLAN, tunnel_id=20, tun_ipv4_src=ip(1), **frame("02:00:00:00:00:02")) == []   # B is not here


def test_broadcast_reaches_only_chassis_with_ports_on_the_network_and_never_goes_on_to_another():
    sw = switch(1)
    out = sw.send(VM, **frame(BCAST))
    assert [(p, w["tun_ipv4_dst"]) for p, w in out] == [(VXLAN, ip(2))]      # not hv3: it has no port on A
    mixed = switch(2, kinds=("geneve", "vxlan", "geneve"))          # back to hv1 would be by geneve0
    from_tunnel = mixed.send(VXLAN, tunnel_id=10, tun_ipv4_src=ip(1), **frame(BCAST))
    assert [p for p, _ in from_tunnel] == [VM]                        # split horizon: no copy back to hv1


def test_a_sender_learned_from_a_tunnel_is_reached_back_through_that_chassis():
    sw = switch(2)
    sw.send(VXLAN, tunnel_id=10, tun_ipv4_src=ip(1), **frame("02:00:00:00:00:02", src_key=0x77))
    [(port, wire)] = sw.send(VM, **frame("02:00:00:00:00:77", src_key=2))
    assert port == VXLAN and wire["tun_ipv4_dst"] == ip(1)


def test_ports_on_a_chassis_whose_controller_is_away_stay_reachable():
    connected = {"hv1": hv(1, "hv1-vm1", "hv1-vm2")}               # hv2 registered, not connected
    known = fabric(connected, [registered(1), registered(2)])
    [(port, wire)] = switch_of(build_view(NETS, PORTS, [], [], known, []), known["hv1"]).send(
        VM, **frame("02:00:00:00:00:02"))
    assert port == VXLAN and wire["tun_ipv4_dst"] == ip(2)


def test_a_vlan_port_tags_what_it_sends_and_takes_only_its_vlan():
    gw = vm(9, "A", "hv1", "hv1-vm2", device_owner=L2_GATEWAY, port_security_enabled=False)
    gw.profile["vlan"] = 100
    sw = switch(1, PORTS + [gw])
    sw.send(VM + 1, vlan_vid=ofp.OFPVID_PRESENT | 100, **frame("02:00:00:00:00:01", src_key=0x55))   # learns .55
    [(port, wire)] = sw.send(VM, **frame("02:00:00:00:00:55"))
    assert port == VM + 1 and wire["vlan_vid"] == ofp.OFPVID_PRESENT | 100
    assert sw.send(VM + 1, vlan_vid=ofp.OFPVID_PRESENT | 200, **frame("02:00:00:00:00:01", src_key=0x66)) == []


def test_tunnel_flows_grow_with_chassis_and_networks_not_with_ports():
    def count(chassis: int, ports_per_chassis: int) -> int:
        here = hv(1, "hv1-vm0")
        regs = [registered(n) for n in range(1, chassis + 1)]
        ports = [vm(1000 * c + i, "A", f"hv{c}", f"hv{c}-vm{i}") for c in range(1, chassis + 1)
                 for i in range(ports_per_chassis)]
        known = fabric({"hv1": here}, regs)
        return len(overlay_of(build_view(NETS, ports, [], [], known, []), here))
    assert count(10, 5) == count(10, 50)
    assert count(30, 5) - count(10, 5) == 20                            # one egress flow per chassis


def test_networks_get_the_mtu_that_fits_their_encapsulation():
    model = Model(SQLiteStore(":memory:"), tenant_networks=TenantNetworks("geneve", 1600))
    net, _ = network_with_subnet(model, "p1")
    assert (net.network_type, net.mtu) == ("geneve", 1542)
    ext = model.create("network", {"router:external": True, "provider:physical_network": "physnet1"})
    assert (ext.network_type, ext.mtu) == ("flat", 1600)
    with pytest.raises(BadRequest):
        model.create("network", {"provider:network_type": "vlan"})


def test_an_l2_gateway_connection_binds_a_vlan_port_per_interface_and_conflicts_are_refused():
    model = Model(SQLiteStore(":memory:"))
    net, _ = network_with_subnet(model, "p1")
    gw = model.create("l2_gateway", {"name": "g", "devices": [
        {"device_name": "hv3", "interfaces": [{"name": "eth5"}, {"name": "eth6", "segmentation_id": [300]}]}]})
    with pytest.raises(Conflict):                  # eth5 has no VLAN of its own and the connection gives none
        model.create("l2_gateway_connection", {"l2_gateway_id": gw.id, "network_id": net.id})
    conn = model.create("l2_gateway_connection", {"l2_gateway_id": gw.id, "network_id": net.id, "segmentation_id": 100})
    ports = [p for p in model.list("port") if p.device_owner == L2_GATEWAY]
    assert sorted((p.host_id, p.interface_name, p.vlan) for p in ports) == [("hv3", "eth5", 100), ("hv3", "eth6", 100)]
    assert len({p.key for p in ports}) == 2
    other, _ = network_with_subnet(model, "p1", "10.1.0.0/24")
    before = snapshot(model)
    with pytest.raises(Conflict):                  # VLAN 100 on those interfaces is taken
        model.create("l2_gateway_connection", {"l2_gateway_id": gw.id, "network_id": other.id, "segmentation_id": 100})
    with pytest.raises(Conflict):
        model.create("port", {"network_id": other.id, "binding:host_id": "hv3",
                              "binding:profile": {"interface_name": "eth5"}}, admin_for("p1"))
    with pytest.raises(Conflict):
        model.delete("l2_gateway", gw.id)
    with pytest.raises(Conflict):
        model.delete("port", ports[0].id)
    assert snapshot(model) == before
    model.delete("l2_gateway_connection", conn.id)
    assert [p for p in model.list("port") if p.device_owner == L2_GATEWAY] == []
    model.delete("l2_gateway", gw.id)


def test_tunnel_flows_name_the_chassis_and_tunnel_they_lead_to():
    connected = {"hv1": hv(1, "hv1-vm1"), "hv2": hv(2, "hv2-vm1"), "hv3": hv(3, "hv3-vm1")}
    known = fabric(connected, [registered(1), registered(2), registered(3, "geneve")])
    flows = overlay_of(build_view(NETS, PORTS, [], [], known, []), known["hv1"])
    assert {f.origin for f in flows if f.origin} == {(("chassis", "hv2"), ("tunnel", "vxlan")),
                                                    (("chassis", "hv3"), ("tunnel", "geneve"))}
