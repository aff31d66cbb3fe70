"""Reachability across chassis on the fake fabric: every chassis knows the networks its ports can reach
through their routers (nvapps.logical.presence), so any placement of ports delivers exactly what the model allows.

The randomised test builds clouds through the model (tenants with identical CIDRs and MACs, networks,
routers, ports on random chassis joined by VXLAN, Geneve or the trunk), computes every chassis's flows
from one logical view, and sends a packet for every ordered pair of VMs: it must arrive exactly where the
model says (the destination, or for an unknown MAC the flood of the sender's own network), and nowhere
else. A failure names its seed: `SEEDS=<seed> pytest tests/unit/test_reachability.py` runs just that one.
"""
from __future__ import annotations

import os
import random
from dataclasses import dataclass

import pytest

from nvapps.core import ofp
from nvapps.core.topology import Chassis, Interface, fabric
from nvapps.logical.view import LogicalView, logical_view
from nvapps.model.service import Model
from nvapps.pipeline import ROUTER_METADATA
from tests.unit.fakefabric import FakeFabric
from tests.unit.modelkit import admin_for, new_model
from tests.unit.pipelinekit import l2_of, l3_of, overlay_of, switch_of

IP, ARP = 0x0800, 0x0806
CONTROLLER = ofp.OFPP_CONTROLLER       # a router without a route asks the controller for an ICMP error
VXLAN, GENEVE, TRUNK, FIRST_VM = 1, 2, 1, 3
BCAST = "ff:ff:ff:ff:ff:ff"
MODES = ("vxlan", "geneve", "mixed", "trunk")
SEEDS = [int(s) for s in os.environ.get("SEEDS", "").split(",") if s] or range(25)


@dataclass
class Vm:
    """A VM port: its tenant, network (index i in the tenant: subnet 10.0.i.0/24), where it is plugged."""

    tenant: int
    net: int
    n: int
    port_id: str
    chassis: str
    iface: str

    @property
    def ip(self) -> str:
        return f"10.0.{self.net}.{10 + self.n}"

    @property
    def mac(self) -> str:          # the same in every tenant: isolation must not depend on addresses
        return f"02:00:00:{self.net:02x}:00:{self.n:02x}"


@dataclass
class Cloud:
    """A model, its chassis (connected switches and their registrations), VMs and each network's router."""

    model: Model
    mode: str
    names: list[str]
    vms: list[Vm]
    routers: dict[tuple[int, int], str]     # (tenant, net) -> router id, when the router is up
    router_macs: dict[tuple[int, int], str]

    def chassis(self) -> dict[str, Chassis]:
        """The switches with the interfaces the VMs are plugged into, over the trunk or with tunnel ports."""
        switches = {}
        for k, name in enumerate(self.names, start=1):
            vms = sorted(v.iface for v in self.vms if v.chassis == name)
            if self.mode == "trunk":
                ifaces = {f"{name}-eth1": Interface(f"{name}-eth1", TRUNK)}
                switches[name] = Chassis(name, k, ifaces, frozenset([f"{name}-eth1"]))
            else:
                ifaces = {"vxlan0": Interface("vxlan0", VXLAN), "geneve0": Interface("geneve0", GENEVE)}
                switches[name] = Chassis(name, k, ifaces, tunnel_ports={"vxlan": "vxlan0", "geneve": "geneve0"})
            switches[name].interfaces.update({i: Interface(i, int(i.rsplit("vm", 1)[1])) for i in vms})
        return fabric(switches, self.model.list("chassis"))

    def fabric(self) -> tuple[FakeFabric, LogicalView]:
        chassis = self.chassis()
        view = logical_view(self.model, chassis, [])
        return FakeFabric(chassis, {name: switch_of(view, ch) for name, ch in chassis.items()}), view

    def ofport(self, vm: Vm) -> int:
        return int(vm.iface.rsplit("vm", 1)[1])

    def reachable(self, x: Vm, y: Vm) -> bool:
        """What the model allows: the same network, or two networks on one router that is up."""
        if (x.tenant, x.net) == (y.tenant, y.net):
            return True
        router = self.routers.get((x.tenant, x.net))
        return router is not None and router == self.routers.get((y.tenant, y.net))


def random_cloud(rng: random.Random, mode: str) -> Cloud:
    model = new_model()
    names = [f"hv{k}" for k in range(1, 3 if mode == "trunk" else rng.randint(2, 4) + 1)]
    if mode != "trunk":
        for k, name in enumerate(names, start=1):
            kind = rng.choice(["vxlan", "geneve"]) if mode == "mixed" else mode
            model.create("chassis", {"name": name, "tunnel_type": kind, "tunnel_ip": f"172.30.0.{k}"})
    vms, routers, macs, next_port = [], {}, {}, FIRST_VM
    for t in range(rng.randint(2, 3)):
        ctx = admin_for(f"tenant-{t}")
        nets = [model.create("network", {"name": f"t{t}n{i}"}, ctx) for i in range(rng.randint(1, 3))]
        subs = [model.create("subnet", {"network_id": net.id, "cidr": f"10.0.{i}.0/24", "ip_version": 4}, ctx)
                for i, net in enumerate(nets)]
        tenant_routers = [model.create("router", {"name": f"t{t}r{r}", "admin_state_up": rng.random() > 0.1}, ctx)
                          for r in range(rng.randint(0, 2))]
        for i, sub in enumerate(subs):
            router = rng.choice([None, *tenant_routers, *tenant_routers])
            if router is not None:
                info = model.action("router", router.id, "add_router_interface", {"subnet_id": sub.id}, ctx)
                macs[t, i] = model.get("port", info["port_id"]).mac_address
                if router.admin_state_up:
                    routers[t, i] = router.id
        for i, net in enumerate(nets):
            for n in range(1, rng.randint(1, 3) + 1):
                chassis = rng.choice(names)
                vm = Vm(t, i, n, "", chassis, f"{chassis}-vm{next_port}")
                next_port += 1
                vm.port_id = model.create("port", {
                    "network_id": net.id, "mac_address": vm.mac, "fixed_ips": [{"ip_address": vm.ip}],
                    "binding:host_id": chassis, "binding:profile": {"interface_name": vm.iface}}, ctx).id
                vms.append(vm)
    return Cloud(model, mode, names, vms, routers, macs)


def packet(x: Vm, eth_dst: str, ip_dst: str) -> dict:
    return dict(eth_src=x.mac, eth_dst=eth_dst, eth_type=IP, ipv4_src=x.ip, ipv4_dst=ip_dst, ip_ttl=64)


def check_pairs(cloud: Cloud, label: str) -> None:
    """Every ordered pair of VMs: unicast in a network, routed between networks, or an unknown MAC."""
    fab, _ = cloud.fabric()
    at = {(v.chassis, cloud.ofport(v)): v for v in cloud.vms}
    for x in cloud.vms:
        router_mac = cloud.router_macs.get((x.tenant, x.net)) if (x.tenant, x.net) in cloud.routers else None
        for y in cloud.vms:
            if y is x:
                continue
            same = [v for v in cloud.vms if (v.tenant, v.net) == (x.tenant, x.net) and v is not x]
            if (x.tenant, x.net) == (y.tenant, y.net):
                sent, want = packet(x, y.mac, y.ip), [y]
            elif router_mac is not None and y.net != x.net:        # routed: y's address leaves x's subnet
                sent = packet(x, router_mac, y.ip)
                want = [v for v in cloud.vms if v.tenant == x.tenant and v.ip == y.ip and cloud.reachable(x, v)]
            else:                      # y's MAC in x's network: known there (x's own: nowhere), or flooded
                sent = packet(x, y.mac, y.ip)
                want = [] if x.mac == y.mac else [v for v in same if v.mac == y.mac] or same
            got = [d for d in fab.send(x.chassis, cloud.ofport(x), **sent) if d.port != CONTROLLER]
            where = sorted((d.chassis, d.port) for d in got)
            assert where == sorted((v.chassis, cloud.ofport(v)) for v in want), (
                f"{label}: t{x.tenant} net{x.net} vm{x.n} on {x.chassis} -> t{y.tenant} net{y.net} vm{y.n} on "
                f"{y.chassis} ({y.ip}): arrived at {[(at[w].tenant, at[w].net, at[w].n) for w in where]}")
            for d in got:
                v = at[d.chassis, d.port]
                if v.tenant == x.tenant and v.net != x.net:                 # routed: one hop, from the router
                    assert (d.wire["ip_ttl"], d.wire["eth_dst"]) == (63, int(v.mac.replace(":", ""), 16)), label


def check_arp(cloud: Cloud, label: str) -> None:
    """Every VM on a routed network has its router's address answered in flows, back to itself only."""
    fab, _ = cloud.fabric()
    for x in cloud.vms:
        mac = cloud.router_macs.get((x.tenant, x.net))
        if mac is None:
            continue
        got = fab.send(x.chassis, cloud.ofport(x), eth_type=ARP, arp_op=1, eth_src=x.mac, eth_dst=BCAST,
                       arp_sha=x.mac, arp_spa=x.ip, arp_tpa=f"10.0.{x.net}.1")
        assert [(d.chassis, d.port, d.wire["arp_sha"]) for d in got] == [
            (x.chassis, cloud.ofport(x), int(mac.replace(":", ""), 16))], label


def move_one(cloud: Cloud, rng: random.Random) -> str:
    """Move a random VM to another chassis (its network may vanish from the old one)."""
    vm = rng.choice(cloud.vms)
    old = vm.chassis
    vm.chassis = rng.choice([n for n in cloud.names if n != old])
    vm.iface = f"{vm.chassis}-vm{cloud.ofport(vm)}"
    cloud.model.update("port", vm.port_id, {"binding:host_id": vm.chassis,
                                            "binding:profile": {"interface_name": vm.iface}}, admin_for("admin"))
    return f"t{vm.tenant} net{vm.net} vm{vm.n} {old} -> {vm.chassis}"


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("seed", SEEDS)
def test_random_placements_deliver_exactly_what_the_model_allows(mode, seed):
    rng = random.Random(f"{mode}-{seed}")
    cloud = random_cloud(rng, mode)
    label = f"seed {seed}, mode {mode}"
    check_pairs(cloud, label)
    check_arp(cloud, label)
    moved = move_one(cloud, rng)
    check_pairs(cloud, f"{label}, after moving {moved}")


# ---- the asymmetric case of the bug report, and what a chassis stops needing ----

def asymmetric() -> tuple[Model, dict, dict]:
    """net1 (10.0.1.0/24) with VMs on hv1 and hv2, net2 (10.0.2.0/24) with its only VM on hv3, one router."""
    model, ctx = new_model(), admin_for("a")
    for k in (1, 2, 3):
        model.create("chassis", {"name": f"hv{k}", "tunnel_type": "vxlan", "tunnel_ip": f"172.30.0.{k}"})
    nets = {i: model.create("network", {"name": f"net{i}"}, ctx) for i in (1, 2)}
    subs = {i: model.create("subnet", {"network_id": nets[i].id, "cidr": f"10.0.{i}.0/24", "ip_version": 4}, ctx)
            for i in (1, 2)}
    router = model.create("router", {"name": "r"}, ctx)
    for sub in subs.values():
        model.action("router", router.id, "add_router_interface", {"subnet_id": sub.id}, ctx)
    ports = {}
    for name, i, host in (("vm11", 1, "hv1"), ("vm12", 1, "hv2"), ("vm23", 2, "hv3")):
        ports[name] = model.create("port", {"network_id": nets[i].id, "binding:host_id": host,
                                            "binding:profile": {"interface_name": f"{host}-{name}"}}, ctx)
    return model, {i: n.key for i, n in nets.items()}, {"router": router, "subnets": subs, "ports": ports}


def hv_switches(names: list[str]) -> dict[str, Chassis]:
    out = {}
    for k, name in enumerate(names, start=1):
        ifaces = {"vxlan0": Interface("vxlan0", VXLAN), "geneve0": Interface("geneve0", GENEVE)}
        ifaces.update({f"{name}-vm{i}{k}": Interface(f"{name}-vm{i}{k}", FIRST_VM + i) for i in (1, 2)})
        out[name] = Chassis(name, k, ifaces, tunnel_ports={"vxlan": "vxlan0", "geneve": "geneve0"})
    return out


def networks_in_flows(view: LogicalView, here: Chassis) -> set[int]:
    """The network keys that chassis `here`'s L2, L3 and overlay flows match on (metadata below the VRF bit)."""
    flows, _ = l2_of(view, here)
    keys = set()
    for f in flows + l3_of(view, here) + overlay_of(view, here):
        for name, value, _mask in f.match:
            if name == "metadata" and not value & ROUTER_METADATA:
                keys.add(value)
    return keys


def test_a_network_routed_to_is_known_where_its_senders_are_and_only_there():
    model, keys, objs = asymmetric()
    chassis = fabric(hv_switches(["hv1", "hv2", "hv3"]), model.list("chassis"))
    view = logical_view(model, chassis, [])
    router = objs["router"].id
    assert {c: set(view.presence.networks_on(c)) for c in chassis} == dict.fromkeys(chassis, {keys[1], keys[2]})
    assert {c: set(view.presence.routers_on(c)) for c in chassis} == dict.fromkeys(chassis, {router})
    sw = switch_of(view, chassis["hv1"])
    vm23 = objs["ports"]["vm23"]
    rif = next(p for p in model.ports() if p.device_id == router and p.network_id == vm23.network_id)
    gateway1 = next(p for p in model.ports() if p.device_id == router and p.network_id != vm23.network_id)
    [(port, wire)] = sw.send(FIRST_VM + 1, eth_src=objs["ports"]["vm11"].mac_address, eth_dst=gateway1.mac_address,
                             eth_type=IP, ipv4_src=objs["ports"]["vm11"].ip_addresses[0],
                             ipv4_dst=vm23.ip_addresses[0], ip_ttl=64)
    assert (port, wire["tunnel_id"], wire["tun_ipv4_dst"]) == (VXLAN, keys[2], chassis["hv3"].tunnel_ip)
    assert wire["eth_src"] == int(rif.mac_address.replace(":", ""), 16)       # routed here, leaves in net2


def test_moving_the_last_port_of_a_network_or_removing_an_interface_takes_its_flows_away():
    model, keys, objs = asymmetric()
    chassis = fabric(hv_switches(["hv1", "hv2", "hv3"]), model.list("chassis"))
    ctx = admin_for("a")
    model.update("port", objs["ports"]["vm23"].id, {"binding:host_id": "hv1",
                                                    "binding:profile": {"interface_name": "hv1-vm21"}}, ctx)
    view = logical_view(model, chassis, [])
    assert networks_in_flows(view, chassis["hv3"]) == set()                 # hv3 has no port left
    assert l2_of(view, chassis["hv3"]) == ([], []) and l3_of(view, chassis["hv3"]) == []
    assert networks_in_flows(view, chassis["hv2"]) == {keys[1], keys[2]}
    model.action("router", objs["router"].id, "remove_router_interface", {"subnet_id": objs["subnets"][2].id}, ctx)
    view = logical_view(model, chassis, [])
    assert networks_in_flows(view, chassis["hv2"]) == {keys[1]}             # net2 is no longer routed to
    assert set(view.presence.networks_on("hv1")) == {keys[1], keys[2]}      # hv1 still has net2's port
