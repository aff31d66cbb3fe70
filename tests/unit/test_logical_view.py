"""The logical view: what is unchanged since the previous view is its very object (so cached flows are found
again), a network without members still has its own members object, and what each chassis must know."""
from __future__ import annotations

import random
from dataclasses import replace
from types import SimpleNamespace

from nvapps.core.topology import Chassis, Interface, Uplink
from nvapps.logical import view as view_module
from nvapps.logical.gateways import router_gateways
from nvapps.logical.presence import presence
from nvapps.logical.view import Views, build_view
from nvapps.model.network import ROUTER_GATEWAY, ROUTER_INTERFACE, Network, Port, Subnet
from nvapps.model.router import Router
from tests.unit.modelkit import admin_for, network_with_subnet, new_model


def _chassis() -> dict[str, Chassis]:
    return {name: Chassis(name, n + 1, {f"{name}-vm{i}": Interface(f"{name}-vm{i}", i) for i in (1, 2)})
            for n, name in enumerate(("hv1", "hv2"))}


NETS = [Network(id="A", project_id="p", segmentation_id=10), Network(id="B", project_id="p", segmentation_id=20)]


def _port(n: int, network: str, host: str, iface: str, **kw) -> Port:
    return Port(id=f"port{n}", project_id="p", network_id=network, mac_address=f"02:00:00:00:00:{n:02x}", key=n,
                fixed_ips=[], host_id=host, profile={"interface_name": iface}, **kw)


def _interface(n: int, network: str, router: str) -> Port:
    return Port(id=f"rif{n}", project_id="p", network_id=network, mac_address=f"02:00:00:00:01:{n:02x}", key=100 + n,
                fixed_ips=[], device_owner=ROUTER_INTERFACE, device_id=router)


PORTS = [_port(1, "A", "hv1", "hv1-vm1"), _port(2, "A", "hv2", "hv2-vm1"), _port(3, "B", "hv2", "hv2-vm2"),
         _interface(1, "A", "r1"), _interface(2, "B", "r1")]


def test_an_unchanged_port_network_and_chassis_keep_their_very_objects_in_the_next_view():
    chassis = _chassis()
    first = build_view(NETS, PORTS, [], [], chassis, [])
    moved = replace(PORTS[2], profile={"interface_name": "hv1-vm2"}, host_id="hv1")
    ports = PORTS[:2] + [moved] + PORTS[3:]
    second = build_view(NETS, ports, [], [], chassis, [], first)
    assert second.chassis is chassis
    assert second.placed["port1"] is first.placed["port1"] and second.placed["port2"] is first.placed["port2"]
    assert second.placed["port3"] is not first.placed["port3"] and second.placed["port3"].chassis == "hv1"
    assert [a is b for a, b in zip(second.interfaces, first.interfaces)] == [True, True]
    assert second.members[10] is first.members[10]                  # network A: same ports, same interfaces
    assert second.members[20] is not first.members[20] and second.members[20].chassis == {"hv1"}
    assert second.local["hv1"] is not first.local["hv1"] and second.local["hv2"] is not first.local["hv2"]
    third = build_view(NETS, ports, [], [], chassis, [], second)
    assert third.local["hv1"] is second.local["hv1"] and third.local["hv2"] is second.local["hv2"]
    assert third.members is not second.members and third.members == second.members


def test_a_changed_router_interface_is_a_new_object_and_its_network_new_members():
    first = build_view(NETS, PORTS, [], [], _chassis(), [])
    renamed = replace(PORTS[4], name="renamed")
    second = build_view(NETS, PORTS[:4] + [renamed], [], [], _chassis(), [], first)
    assert second.interfaces[0] is first.interfaces[0]
    assert second.interfaces[1] is not first.interfaces[1] and second.interfaces[1].port is renamed
    assert second.members[20] is not first.members[20] and second.members[10] is first.members[10]


def test_a_network_without_members_has_empty_members_of_its_own_key():
    view = build_view(NETS, PORTS, [], [], _chassis(), [])
    seven = random.randrange(1 << 20, 1 << 30)       # keys no view asked for before (what it returns is kept)
    none7, none8 = view.members_of(seven), view.members_of(seven + 1)
    assert (none7.key, none8.key) == (seven, seven + 1)
    assert none7.ports == none7.interfaces == none7.vips == () and none7.chassis == frozenset()
    assert view.members_of(seven) is none7
    assert view.members_of(10) is view.members[10]


def test_the_view_is_rebuilt_only_after_the_model_or_the_topology_changed():
    model = new_model()
    net, _ = network_with_subnet(model, "p")
    views = Views(model)
    chassis = _chassis()
    first = views.current(chassis, [], 1)
    assert views.current(chassis, [], 1) is first
    model.create("port", {"network_id": net.id, "binding:host_id": "hv1",
                          "binding:profile": {"interface_name": "hv1-vm1"}}, admin_for("p"))
    second = views.current(chassis, [], 1)
    assert second is not first and len(second.bound) == 1
    assert views.current(chassis, [], 1) is second
    third = views.current({"hv2": chassis["hv2"]}, [], 2)
    assert third.bound == [] and views.current({"hv2": chassis["hv2"]}, [], 2) is third


def test_a_port_bound_again_after_newer_ones_takes_its_place_in_creation_order_and_one_port_is_bound_alone(
        monkeypatch):
    model, ctx, chassis = new_model(), admin_for("p"), _chassis()
    net, _ = network_with_subnet(model, "p")
    ports = [model.create("port", {"network_id": net.id, "binding:host_id": "hv1",
                                   "binding:profile": {"interface_name": f"hv1-vm{i}"}}, ctx) for i in (1, 2)]
    views = Views(model)
    views.current(chassis, [], 1)
    model.update("port", ports[0].id, {"admin_state_up": False}, ctx)
    assert [b.port.id for b in views.current(chassis, [], 1).bound] == [ports[1].id]
    bound: list[str] = []
    real = view_module.bind
    monkeypatch.setattr(view_module, "bind", lambda port, *a: bound.append(port.id) or real(port, *a))
    model.update("port", ports[0].id, {"admin_state_up": True}, ctx)
    again = views.current(chassis, [], 1)
    assert [b.port.id for b in again.bound] == list(again.placed) == [p.id for p in ports]
    assert [b.port.id for b in again.local["hv1"]] == [b.port.id for b in again.members[net.key].ports] == \
        [p.id for p in ports]
    assert bound == [ports[0].id]             # the other port is not bound again
    assert again.presence.own == {"hv1": {net.key}} and again.presence.networks_on("hv1") == {net.key}


def _whole(view) -> tuple:
    """What a view holds, comparable."""
    return (view.bound, list(view.placed.items()), view.local, view.presence.networks, view.presence.routers,
            view.presence.own, {k: (m.ports, m.interfaces, m.chassis, m.vips) for k, m in view.members.items()})


def test_several_port_changes_between_two_views_patch_it_reading_the_creation_order_of_the_changed_ports_only(
        monkeypatch):
    model, ctx = new_model(), admin_for("p")
    chassis = {name: Chassis(name, n + 1, {f"{name}-vm{i}": Interface(f"{name}-vm{i}", i) for i in range(1, 40)})
               for n, name in enumerate(("hv1", "hv2"))}
    net, _ = network_with_subnet(model, "p")

    def port(host: str, iface: str, **attrs):
        return model.create("port", {"network_id": net.id, "binding:host_id": host, **attrs,
                                     "binding:profile": {"interface_name": iface}}, ctx)
    ports = [port("hv1", "hv1-vm1"), port("hv1", "hv1-vm2"), port("hv2", "hv2-vm1")]
    others = [port("hv1", f"hv1-vm{i}") for i in range(10, 30)]
    views = Views(model)
    first = views.current(chassis, [], 1)
    assert (first.serial, first.delta) == (1, None)
    places: list[str] = []
    real = model.place
    monkeypatch.setattr(model, "place", lambda kind, obj_id: places.append(obj_id) or real(kind, obj_id))
    model.delete("port", ports[2].id, ctx)
    new = [port("hv2", "hv2-vm1"), port("hv2", "hv2-vm2")]                # two at once
    model.update("port", others[5].id, {"name": "renamed"}, ctx)         # in its place
    model.update("port", ports[1].id, {"admin_state_up": False}, ctx)    # gone
    view = views.current(chassis, [], 1)
    assert _whole(view) == _whole(build_view(model.networks(), model.ports(), model.subnets(), [], chassis, []))
    assert [b.port.id for b in view.local["hv2"]] == [p.id for p in new] and view.local["hv1"][6].port.name == "renamed"
    assert view.delta is not None and view.serial == 2
    assert set(view.delta.ports()) == {ports[1].id, ports[2].id, others[5].id, *(p.id for p in new)}
    assert len(places) <= 10                # the joining ports' places, not the others' (nothing sorted whole)
    model.update("port", ports[1].id, {"admin_state_up": True}, ctx)     # back, before the others: sorted
    view = views.current(chassis, [], 1)
    assert _whole(view) == _whole(build_view(model.networks(), model.ports(), model.subnets(), [], chassis, []))
    assert [b.port.id for b in view.local["hv1"][:2]] == [p.id for p in ports[:2]]


def test_a_change_the_view_does_not_read_keeps_its_contents_and_one_it_reads_otherwise_builds_it_whole(monkeypatch):
    model, ctx, chassis = new_model(), admin_for("p"), _chassis()
    net, _ = network_with_subnet(model, "p")
    model.create("port", {"network_id": net.id, "binding:host_id": "hv1",
                          "binding:profile": {"interface_name": "hv1-vm1"}}, ctx)
    views = Views(model)
    first = views.current(chassis, [], 1)
    group = model.create("security_group", {"name": "g"}, ctx)
    second = views.current(chassis, [], 1)
    assert second.delta is not None and second.delta.was["security_group"] == {group.id: None}
    assert set(second.delta.was) == {"security_group", "security_group_rule"}      # with its default rules
    assert (second.members is first.members, second.local is first.local, second.serial) == (True, True, 2)
    model.update("network", net.id, {"name": "renamed"}, ctx)
    third = views.current(chassis, [], 1)
    assert third.placed is not second.placed and third.members[net.key] is second.members[net.key]
    assert third.local["hv1"] is second.local["hv1"]          # built whole, from the previous view


def test_more_changes_than_followed_between_two_views_build_the_next_whole(monkeypatch):
    model, ctx, chassis = new_model(), admin_for("p"), _chassis()
    net, _ = network_with_subnet(model, "p")
    monkeypatch.setattr(view_module, "JOURNAL_LIMIT", 3)
    model.create("port", {"network_id": net.id, "name": "first"}, ctx)        # (and the default group)
    views = Views(model)
    views.current(chassis, [], 1)
    built: list[int] = []
    real = view_module.logical_view
    monkeypatch.setattr(view_module, "logical_view", lambda *a: built.append(1) or real(*a))
    for n in range(3):
        model.create("port", {"network_id": net.id, "name": f"p{n}"}, ctx)
    view = views.current(chassis, [], 1)
    assert view.delta is not None and len(view.delta.ports()) == 3 and built == []
    for n in range(4):
        model.create("port", {"network_id": net.id, "name": f"q{n}"}, ctx)
    view = views.current(chassis, [], 1)
    assert view.delta is None and built == [1] and view.serial == 3
    model.create("port", {"network_id": net.id, "name": "r"}, ctx)
    assert views.current(chassis, [], 1).delta is not None          # followed again after that view


def _gw(chassis: str | None) -> SimpleNamespace:
    return SimpleNamespace(chassis=chassis)


def _bound(chassis: str, key: int, device: str = "") -> SimpleNamespace:
    return SimpleNamespace(chassis=chassis, network_key=key, port=SimpleNamespace(device_id=device))


def test_a_router_that_is_down_is_on_no_chassis_even_where_its_gateway_is_active():
    interfaces = [_bound("", 10, "r1"), _bound("", 20, "r2")]
    bound = [_bound("hv1", 10)]
    seen = presence(bound, interfaces, {"r1": _gw("hv9"), "r2": _gw("hv8")}, {"r1"})
    assert seen.routers == {"hv1": {"r1"}, "hv9": {"r1"}}
    assert seen.networks_on("hv9") == {10} and seen.networks_on("hv8") == frozenset()
    unplaced = presence(bound, interfaces, {"r1": _gw(None)}, {"r1"})
    assert set(unplaced.routers) == set(unplaced.networks) == {"hv1"}


EXT = Network(id="ext", project_id="admin", segmentation_id=99, physical_network="physnet1")
EXT_V4 = Subnet(id="s4", project_id="admin", network_id="ext", cidr="172.16.0.0/24", ip_version=4)
EXT_V6 = Subnet(id="s6", project_id="admin", network_id="ext", cidr="2001:db8::/64", ip_version=6)


def _router(n: int, **kw) -> Router:
    return Router(id=f"r{n}", project_id="p", key=n, external_gateway_info={"network_id": "ext"}, **kw)


def _gateway_port(n: int, *ips: tuple[str, str]) -> Port:
    return Port(id=f"gw{n}", project_id="p", network_id="ext", mac_address=f"02:00:00:00:02:{n:02x}", key=200 + n,
                device_owner=ROUTER_GATEWAY, device_id=f"r{n}",
                fixed_ips=[{"subnet_id": s, "ip_address": ip} for s, ip in ips])


def _gateways(routers: list[Router], ports: list[Port], networks=(EXT,), uplinks=(Uplink("hv1", "physnet1", "up"),)):
    hv1 = Chassis("hv1", 1, {"up": Interface("up", 9)}, uplinks={"physnet1": "up"}, tunnel_ip=7)
    return router_gateways(routers, list(networks), ports, [EXT_V4, EXT_V6], list(uplinks), {"hv1": hv1})


def test_a_gateway_is_placed_on_its_uplinks_chassis_with_that_chassis_tunnel_endpoint_or_nowhere():
    ports = [_gateway_port(1, ("s6", "2001:db8::5"), ("s4", "172.16.0.5"))]
    placed = _gateways([_router(1)], ports)["r1"]
    assert (placed.ip, placed.ip6, placed.chassis, placed.chassis_ip) == ("172.16.0.5", "2001:db8::5", "hv1", 7)
    unplaced = _gateways([_router(1)], ports, uplinks=())["r1"]
    assert (unplaced.chassis, unplaced.chassis_ip) == (None, 0)


def test_no_gateway_for_a_router_that_is_down_an_external_network_that_is_down_or_no_ipv4_address():
    down = _router(1, admin_state_up=False)
    ports = [_gateway_port(n, ("s4", f"172.16.0.{n}")) for n in (1, 2, 3)] + [_gateway_port(4, ("s6", "2001:db8::4"))]
    routers = [down, _router(2), Router(id="r3", project_id="p", key=3), _router(4)]
    assert set(_gateways(routers, ports)) == {"r2"}       # r3 has no gateway, r4 only an IPv6 address
    assert _gateways(routers, ports, networks=(replace(EXT, admin_state_up=False),)) == {}


def test_a_port_on_a_changed_chassis_is_located_again():
    chassis = _chassis()
    first = build_view(NETS, PORTS, [], [], chassis, [])
    renumbered = {**chassis, "hv2": replace(chassis["hv2"], interfaces={"hv2-vm1": Interface("hv2-vm1", 5)})}
    second = build_view(NETS, PORTS, [], [], renumbered, [], first)
    assert second.placed["port1"] is first.placed["port1"]
    assert second.placed["port2"].location.ofport == 5 and "port3" not in second.placed
