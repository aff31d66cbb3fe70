"""Incremental flow computation equals full recomputation: a random sequence of model and topology changes is
applied once, and after each the switches' tables as the kept pieces leave them (update()) must be those a
fresh computation gives (new pieces, diff() against what is held). And a change costs what it affects: one
port of 1,000 changed builds a handful of pieces, not 1,000. A failure names its seed (SEEDS=<seed>)."""
from __future__ import annotations

import os
import random
from collections.abc import Iterator

import pytest

from nvapps.acl import chassis as acl_chassis
from nvapps.acl import security_groups
from nvapps.acl.chassis import AclView, acl_view
from nvapps.core.topology import Chassis, Interface, Uplink, fabric
from nvapps.lab.offline import SERVICES, OfflineControlPlane
from nvapps.logical import view as views_module
from nvapps.logical.view import LogicalView, Views, logical_view
from nvapps.model.errors import ModelError
from nvapps.model.service import Model
from nvapps.pipeline import AppId
from tests.unit.modelkit import admin_for, new_model

ADMIN = admin_for("admin")
NAMES = ("hv1", "hv2", "hv3")
VM_PORTS = range(10, 40)
UPLINKS = [Uplink("hv1", "physnet1", "up1"), Uplink("hv2", "physnet1", "up1")]
SEEDS = [int(s) for s in os.environ.get("SEEDS", "").split(",") if s] or range(4)
MONITORS = ("TCP", "HTTP", "PING", "UDP-CONNECT")
STEPS = 125         # x 4 seeds: 500 changes


def switches() -> dict[str, Chassis]:
    """Three chassis joined by VXLAN, each with VM interfaces vm10..vm39 and (hv1, hv2) an uplink."""
    out = {}
    for k, name in enumerate(NAMES, start=1):
        ifaces = {"vxlan0": Interface("vxlan0", 1), "up1": Interface("up1", 2)} if k < 3 else \
            {"vxlan0": Interface("vxlan0", 1)}
        ifaces.update({f"vm{i}": Interface(f"vm{i}", i) for i in VM_PORTS})
        out[name] = Chassis(name, k, ifaces, uplinks={"physnet1": "up1"} if k < 3 else {},
                            tunnel_ports={"vxlan": "vxlan0"})
    return out


class Changer:
    """Random changes to a model of two tenants, an external network and three chassis."""

    def __init__(self, model: Model, chassis: dict[str, Chassis], rng: random.Random) -> None:
        self.model, self.chassis, self.rng = model, chassis, rng
        for k, name in enumerate(NAMES, start=1):
            model.create("chassis", {"name": name, "tunnel_type": "vxlan", "tunnel_ip": f"127.0.0.{k + 10}"})
        ext = model.create("network", {"name": "ext", "router:external": True,
                                       "provider:physical_network": "physnet1"}, ADMIN)
        model.create("subnet", {"network_id": ext.id, "cidr": "172.24.4.0/24", "ip_version": 4}, ADMIN)
        self.external = ext.id
        self.tenants = [admin_for(f"t{t}") for t in range(2)]
        self.subnets = 0
        self.moves = 0        # topology changes made (interfaces removed or restored)

    def pick(self, kind: str, ctx=None):
        objs = [o for o in self.model.list(kind) if ctx is None or o.project_id == ctx.project_id]
        return self.rng.choice(objs) if objs else None

    def vm_ports(self, ctx=None):
        return [p for p in self.model.ports() if not p.device_owner and (ctx is None or p.project_id == ctx.project_id)]

    def actions(self) -> list:
        """The changes a step draws from (repeated: more likely)."""
        return [self.network, self.port, self.port, self.port, self.move_port, self.delete_port, self.port_groups,
                self.group, self.rule, self.rule, self.delete_rule, self.router, self.interface, self.gateway,
                self.floating, self.network_acl, self.interface_down, self.admin_state, self.balancer, self.member,
                self.member, self.balancer_change]

    def step(self) -> str:
        """One random change; what it was (changes the model refuses count too: nothing may move)."""
        ctx = self.rng.choice(self.tenants)
        action = self.rng.choice(self.actions())
        try:
            return f"{action.__name__}: {action(ctx)}"
        except ModelError as exc:
            return f"{action.__name__}: refused ({exc.message})"

    def network(self, ctx) -> str:
        net = self.model.create("network", {"name": "n"}, ctx)
        self.subnets += 1
        self.model.create("subnet", {"network_id": net.id, "cidr": f"10.{self.subnets}.0.0/24", "ip_version": 4}, ctx)
        return net.id

    def port(self, ctx) -> str:
        net = self.pick("network", ctx)
        if net is None:
            return self.network(ctx)
        host = self.rng.choice(NAMES)
        groups = [g.id for g in self.model.list("security_group") if g.project_id == ctx.project_id]
        body = {"network_id": net.id, "binding:host_id": host,
                "binding:profile": {"interface_name": f"vm{self.rng.choice(VM_PORTS)}"}}
        if groups and self.rng.random() < 0.5:
            body["security_groups"] = self.rng.sample(groups, self.rng.randint(1, len(groups)))
        return self.model.create("port", body, ctx).id

    def move_port(self, ctx) -> str:
        ports = self.vm_ports(ctx)
        if not ports:
            return "none"
        p = self.rng.choice(ports)
        self.model.update("port", p.id, {"binding:host_id": self.rng.choice(NAMES),
                                         "binding:profile": {"interface_name": f"vm{self.rng.choice(VM_PORTS)}"}}, ADMIN)
        return p.id

    def delete_port(self, ctx) -> str:
        ports = self.vm_ports(ctx)
        if not ports:
            return "none"
        p = self.rng.choice(ports)
        self.model.delete("port", p.id, ctx)
        return p.id

    def port_groups(self, ctx) -> str:
        ports, groups = self.vm_ports(ctx), [g.id for g in self.model.list("security_group")
                                            if g.project_id == ctx.project_id]
        if not ports or not groups:
            return "none"
        p = self.rng.choice(ports)
        if self.rng.random() < 0.3:
            body = {"port_security_enabled": not p.port_security_enabled, "security_groups": []
                    if p.port_security_enabled else groups[:1]}
        else:
            body = {"security_groups": self.rng.sample(groups, self.rng.randint(0, len(groups)))}
        self.model.update("port", p.id, body, ctx)
        return p.id

    def balancer(self, ctx) -> str:
        """A load balancer on one of the tenant's subnets, with a listener and its pool (checked, or not)."""
        sub = self.pick("subnet", ctx)
        if sub is None:
            return self.network(ctx)
        lb = self.model.create("loadbalancer", {"vip_subnet_id": sub.id}, ctx)
        proto = self.rng.choice(["TCP", "UDP"])
        li = self.model.create("listener", {"loadbalancer_id": lb.id, "protocol": proto,
                                            "protocol_port": self.rng.randint(1, 100)}, ctx)
        pool = self.model.create("pool", {"listener_id": li.id, "protocol": proto,
                                          "lb_algorithm": self.rng.choice(["ROUND_ROBIN", "SOURCE_IP"])}, ctx)
        if li.protocol_port % 2:        # half of them, drawing nothing more from rng (seeds keep their clouds)
            self.model.create("healthmonitor", {"pool_id": pool.id, "delay": 5, "timeout": 3, "max_retries": 2,
                                                "type": MONITORS[li.protocol_port // 2 % len(MONITORS)]}, ctx)
        return lb.id

    def member(self, ctx) -> str:
        """A VM port's address as a member of a pool (refused when the pool's VIP does not reach it)."""
        pool, ports = self.pick("pool", ctx), [p for p in self.vm_ports(ctx) if p.fixed_ips]
        if pool is None or not ports:
            return self.balancer(ctx)
        port = self.rng.choice(ports)
        return self.model.create("member", {"address": port.fixed_ips[0]["ip_address"],
                                            "protocol_port": self.rng.randint(1, 100),
                                            "weight": self.rng.randint(0, 3)}, ctx, parent_id=pool.id).id

    def balancer_change(self, ctx) -> str:
        """A member's weight or state changed, or a load balancer deleted with everything it has."""
        member = self.pick("member", ctx)
        if member is not None and self.rng.random() < 0.6:
            self.model.update("member", member.id, self.rng.choice([{"weight": self.rng.randint(0, 3)},
                                                                    {"admin_state_up": not member.admin_state_up}]),
                              ctx)
            return member.id
        lb = self.pick("loadbalancer", ctx)
        if lb is None:
            return "none"
        self.model.delete("loadbalancer", lb.id, ctx, cascade=True)
        return lb.id

    def group(self, ctx) -> str:
        return self.model.create("security_group", {"name": "g"}, ctx).id

    def rule(self, ctx) -> str:
        group = self.pick("security_group", ctx)
        if group is None:
            return self.group(ctx)
        body = {"security_group_id": group.id, "direction": self.rng.choice(["ingress", "egress"]),
                "ethertype": "IPv4", "protocol": self.rng.choice([None, "tcp", "udp", "icmp"])}
        if body["protocol"] in ("tcp", "udp"):
            low = self.rng.randint(1, 2000)
            body.update(port_range_min=low, port_range_max=low + self.rng.choice([0, 7, 100]))
        remote = self.pick("security_group", ctx)
        if remote is not None and self.rng.random() < 0.5:
            body["remote_group_id"] = remote.id
        elif self.rng.random() < 0.5:
            body["remote_ip_prefix"] = f"10.{self.rng.randint(0, 9)}.0.0/16"
        return self.model.create("security_group_rule", body, ctx).id

    def delete_rule(self, ctx) -> str:
        rule = self.pick("security_group_rule", ctx)
        if rule is None:
            return "none"
        self.model.delete("security_group_rule", rule.id, ctx)
        return rule.id

    def router(self, ctx) -> str:
        return self.model.create("router", {"name": "r"}, ctx).id

    def interface(self, ctx) -> str:
        router, sub = self.pick("router", ctx), self.pick("subnet", ctx)
        if router is None or sub is None:
            return self.router(ctx)
        verb = self.rng.choice(["add_router_interface", "add_router_interface", "remove_router_interface"])
        self.model.action("router", router.id, verb, {"subnet_id": sub.id}, ctx)
        return f"{verb} {router.id} {sub.id}"

    def gateway(self, ctx) -> str:
        router = self.pick("router", ctx)
        if router is None:
            return "none"
        info = None if router.external_gateway_info else {"network_id": self.external,
                                                          "enable_snat": self.rng.random() < 0.7}
        self.model.update("router", router.id, {"external_gateway_info": info}, ctx)
        return router.id

    def floating(self, ctx) -> str:
        fip = self.pick("floatingip", ctx)
        if fip is not None and self.rng.random() < 0.4:
            self.model.delete("floatingip", fip.id, ctx)
            return f"deleted {fip.id}"
        ports = self.vm_ports(ctx)
        body = {"floating_network_id": self.external}
        if ports:
            body["port_id"] = self.rng.choice(ports).id
        return self.model.create("floatingip", body, ctx).id

    def network_acl(self, ctx) -> str:
        acl = self.pick("network_acl", ctx)
        if acl is not None and self.rng.random() < 0.4:
            self.model.delete("network_acl", acl.id, ctx)
            return f"deleted {acl.id}"
        net = self.pick("network", ctx)
        if net is None:
            return "none"
        return self.model.create("network_acl", {
            "network_id": net.id, "position": self.rng.randint(0, 50), "direction": self.rng.choice(["ingress", "egress"]),
            "action": self.rng.choice(["allow", "deny"]), "protocol": "tcp"}, ctx).id

    def interface_down(self, ctx) -> str:
        """A chassis loses a VM interface or its uplink, or gets it back (the topology changes)."""
        ch = self.chassis[self.rng.choice(NAMES)]
        name = self.rng.choice([f"vm{i}" for i in VM_PORTS] + (["up1"] * 5 if ch.uplinks else []))
        if name in ch.interfaces:
            del ch.interfaces[name]
        else:
            ch.interfaces[name] = Interface(name, 2 if name == "up1" else int(name[2:]))
        self.moves += 1
        return f"{ch.name} {name}"

    def admin_state(self, ctx) -> str:
        kind = self.rng.choice(["network", "port", "router"])
        obj = self.pick(kind, ctx)
        if obj is None:
            return "none"
        self.model.update(kind, obj.id, {"admin_state_up": not obj.admin_state_up}, ctx)
        return f"{kind} {obj.id}"


def random_rounds(seed: int, steps: int) -> Iterator[OfflineControlPlane]:
    """A random cloud changed `steps` times by Changer, with an incremental round after each change: the
    control plane (its tables as the switches hold them) after each round."""
    rng = random.Random(seed)
    model, chassis = new_model(), switches()
    changer = Changer(model, chassis, rng)
    plane = OfflineControlPlane(model, chassis, UPLINKS)
    for _ in range(steps):
        changer.step()
        plane.topology = changer.moves
        plane.round()
        yield plane


def assert_same(inc: OfflineControlPlane, ref: OfflineControlPlane, label: str) -> None:
    assert inc.tables.keys() == ref.tables.keys(), label
    for key, table in inc.tables.items():
        want = ref.tables[key]
        assert table.flows.keys() == want.flows.keys(), f"{label}: {key[0].name} on {key[1]}"
        assert {g: (x.type, x.buckets) for g, x in table.groups.items()} == \
            {g: (x.type, x.buckets) for g, x in want.groups.items()}, f"{label}: {key[0].name} groups on {key[1]}"


@pytest.mark.parametrize("seed", SEEDS)
def test_incremental_rounds_leave_the_tables_a_full_recomputation_gives(seed):
    rng = random.Random(seed)
    model, chassis = new_model(), switches()
    changer = Changer(model, chassis, rng)
    inc = OfflineControlPlane(model, chassis, UPLINKS)
    ref = OfflineControlPlane(model, chassis, UPLINKS, incremental=False)
    flows = 0
    for step in range(STEPS):
        done = changer.step()
        inc.topology = changer.moves
        inc.round(), ref.round()
        assert_same(inc, ref, f"seed {seed}, step {step} ({done})")
        flows = max(flows, sum(len(t.flows) for t in inc.tables.values()))
    assert flows > 200          # the sequence built a model of some size


def _shape(v: LogicalView) -> tuple:
    """Everything a view holds, comparable (members are compared by identity otherwise)."""
    return (v.bound, list(v.placed.items()), v.interfaces, v.routers, v.local, v.keys, v.vips, v.fabric.tunnels,
            {k: (m.ports, m.interfaces, m.chassis, m.vips) for k, m in v.members.items()},
            v.presence.networks, v.presence.routers, v.presence.own)


def _acl_shape(a: AclView) -> tuple:
    return (a.local, {g: (p.group, p.rules) for g, p in a.policies.items()},
            {g: (m.group, m.ports) for g, m in a.members.items()}, a.acls, a.remotes)


@pytest.mark.parametrize("seed", SEEDS)
def test_views_patched_after_port_changes_equal_views_built_whole(seed, monkeypatch):
    rng = random.Random(seed)
    model, chassis = new_model(), switches()
    changer, views, acl = Changer(model, chassis, rng), Views(model), None
    patched = {"view": 0, "acl": 0}
    for name, owner, attr in (("view", views_module, "patched"), ("acl", AclView, "patched")):
        real = getattr(owner, attr)
        monkeypatch.setattr(owner, attr, lambda *a, real=real, name=name: patched.update({name: patched[name] + 1})
                            or real(*a))
    for step in range(STEPS):
        done = changer.step()
        known = fabric(chassis, model.list("chassis"))
        view, whole = views.current(known, UPLINKS, changer.moves), logical_view(model, known, UPLINKS)
        assert _shape(view) == _shape(whole), f"seed {seed}, step {step} ({done})"
        acl = acl_view(model, view, acl)
        assert _acl_shape(acl) == _acl_shape(acl_view(model, whole, None)), f"seed {seed}, step {step} ({done})"
    assert patched["view"] > STEPS // 4 and patched["acl"] > STEPS // 4, patched


def thousand_ports() -> tuple[Model, dict[str, Chassis], list]:
    """10 tenants, each a network (and router) of 100 ports spread over the three chassis, each port in its
    project's default group (whose rule names the group itself)."""
    model, chassis = new_model(), switches()
    for ch in chassis.values():
        ch.interfaces.update({f"p{i}": Interface(f"p{i}", 100 + i) for i in range(334)})
    for k, name in enumerate(NAMES, start=1):
        model.create("chassis", {"name": name, "tunnel_type": "vxlan", "tunnel_ip": f"127.0.0.{k + 10}"})
    ports = []
    for t in range(10):
        ctx = admin_for(f"t{t}")
        net = model.create("network", {"name": "n"}, ctx)
        sub = model.create("subnet", {"network_id": net.id, "cidr": f"10.{t}.0.0/22", "ip_version": 4}, ctx)
        router = model.create("router", {"name": "r"}, ctx)
        model.action("router", router.id, "add_router_interface", {"subnet_id": sub.id}, ctx)
        for i in range(100):
            n = t * 100 + i
            ports.append(model.create("port", {"network_id": net.id, "binding:host_id": NAMES[n % 3],
                                               "binding:profile": {"interface_name": f"p{n // 3}"}}, ctx))
    return model, chassis, ports


def test_one_port_changed_of_1000_builds_a_handful_of_pieces(monkeypatch):
    model, chassis, ports = thousand_ports()
    plane = OfflineControlPlane(model, chassis)
    first = plane.round()
    assert all(first.built[s.app] > 0 for s in SERVICES if s.app.name not in ("NAT", "LB"))    # no gateways, LBs
    assert plane.round().built == {s.app: 0 for s in SERVICES}       # nothing changed: nothing built
    read: dict[str, list] = {"bind": [], "remote groups": [], "member addresses": []}
    for name, owner, attr in (("bind", views_module, "bind"), ("remote groups", acl_chassis, "_remote_groups"),
                              ("member addresses", security_groups, "port_members")):
        real = getattr(owner, attr)
        monkeypatch.setattr(owner, attr, lambda *a, real=real, name=name: read[name].append(a[0]) or real(*a))
    model.update("port", ports[500].id, {"name": "renamed", "admin_state_up": False}, admin_for("t5"))
    built = plane.round().built
    # the view binds that port only; the ACL reading reads the remote groups of its chassis only, and the
    # member pieces the addresses of that port only (before and after), not its group's 100 members
    assert len(read["bind"]) == 1 and len(read["remote groups"]) <= 1
    assert {p.id for p in read["member addresses"]} <= {ports[500].id}
    # the port left: L2 rebuilds the state and flood group of each of the 3 chassis, ACL the states of the
    # chassis whose rules name its group, DHCP its chassis's state, L3 the next hops of its router's interface
    # on each chassis; no other port's flows are built again
    assert sum(built.values()) <= 13 and sum(first.built.values()) > 1000, built


def test_a_chassis_connecting_builds_its_own_ports_pieces_not_those_the_others_hold_of_its_ports():
    model, chassis, _ = thousand_ports()
    third = chassis.pop("hv3")          # registered, not connected yet: its ports are there, not local anywhere
    plane = OfflineControlPlane(model, chassis)
    plane.round()
    plane.chassis["hv3"] = third
    plane.topology += 1
    built = plane.round().built
    # hv3's 333 ports: their local pieces on hv3 (L2, ACL, DHCP), and the sections and groups that list them;
    # the member, remote and next-hop pieces hv1 and hv2 hold of them stay (they do not depend on where on hv3
    # a port is), so L2 and L3 build far fewer than one piece per port of hv3 anew
    assert built[AppId.L2] < 333 + 60 and built[AppId.L3] < 60, built
    reference = OfflineControlPlane(model, plane.chassis, incremental=False)
    reference.round()
    assert {k: t.flows.keys() for k, t in plane.tables.items()} == {k: t.flows.keys() for k, t in reference.tables.items()}
