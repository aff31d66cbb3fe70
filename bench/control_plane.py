"""The control plane's cost per change, without switches (nvapps.lab.offline): every service (L2, L3, ACL,
DHCP, NAT, overlay) on C chassis joined by VXLAN, for N ports (10 tenants, networks of 100 ports behind one
router per tenant, each port in its project's default group, whose ingress rule names the group itself; a
tenant's ports on its own C/10 chassis, or with --placement all on every chassis).
For each size: the first round (everything built), then one port created, one port's name changed, one rule
added to a group of N/10 members, each computed incrementally (kept pieces, update()) and by full
recomputation (fresh pieces, diff() against the tables): seconds, pieces built, flow mods sent.

    .venv/bin/python -m bench.control_plane [--ports 1000 3000 10000] [--chassis 50] [--placement tenant|all]
"""
from __future__ import annotations

import argparse
import time
from collections.abc import Callable

from nvapps.core.topology import Chassis, Interface
from nvapps.lab.offline import OfflineControlPlane, Round
from nvapps.model.context import Context
from nvapps.model.service import Model
from nvapps.store.sqlite import SQLiteStore

TENANTS = 10
PORTS_PER_NETWORK = 100


def cloud(ports: int, chassis: int, placement: str = "tenant", prefix: str = "hv",
          store: SQLiteStore | None = None) -> tuple[Model, dict[str, Chassis], list]:
    """The model (in `store`, else in memory) and the chassis `<prefix>0..`; each chassis's VM ports are VLANs
    1.. of its interface `<chassis>-vm`. Placement "tenant": a tenant's ports on its own chassis (chassis c
    serves tenant c mod 10); "all": every tenant's ports on every chassis."""
    model = Model(store or SQLiteStore(":memory:"))
    names = [f"{prefix}{c}" for c in range(chassis)]
    switches = {name: Chassis(name, c + 1, {"vxlan0": Interface("vxlan0", 1), f"{name}-vm": Interface(f"{name}-vm", 2)},
                              tunnel_ports={"vxlan": "vxlan0"}) for c, name in enumerate(names)}
    for c, name in enumerate(names):
        model.create("chassis", {"name": name, "tunnel_type": "vxlan", "tunnel_ip": tunnel_ip(c)})
    created, used = [], [0] * chassis
    networks = max(ports // PORTS_PER_NETWORK, TENANTS)
    for t in range(TENANTS):
        ctx = Context(f"t{t}", is_admin=True)
        router = model.create("router", {"name": "r"}, ctx)
        hosts = [c for c in range(chassis) if c % TENANTS == t % chassis] if placement == "tenant" else range(chassis)
        count = 0
        for n in range(t, networks, TENANTS):
            net = model.create("network", {"name": f"n{n}"}, ctx)
            sub = model.create("subnet", {"network_id": net.id, "cidr": f"10.{n // 64}.{n % 64 * 4}.0/22",
                                          "ip_version": 4}, ctx)
            model.action("router", router.id, "add_router_interface", {"subnet_id": sub.id}, ctx)
            for _ in range(min(PORTS_PER_NETWORK, ports // TENANTS // (networks // TENANTS))):
                c = hosts[count % len(hosts)]
                count += 1
                used[c] += 1
                created.append(model.create("port", {"network_id": net.id, "binding:host_id": names[c],
                                                     "binding:profile": {"interface_name": f"{names[c]}-vm",
                                                                         "vlan": used[c]}}, ctx))
    return model, switches, created


def tunnel_ip(c: int) -> str:
    """Chassis c's tunnel endpoint, on loopback."""
    return f"127.1.{c // 250}.{c % 250 + 1}"


def measure(inc: OfflineControlPlane, ref: OfflineControlPlane, change: Callable[[], None]) -> tuple[Round, float, Round, float]:
    """One change, then a round of each plane: (incremental round, its seconds, full round, its seconds)."""
    change()
    start = time.perf_counter()
    a = inc.round()
    inc_s = time.perf_counter() - start
    start = time.perf_counter()
    b = ref.round()
    return a, inc_s, b, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ports", type=int, nargs="+", default=[1000, 3000, 10000])
    parser.add_argument("--chassis", type=int, default=50)
    parser.add_argument("--placement", choices=["tenant", "all"], default="tenant")
    args = parser.parse_args()
    print(f"{'ports':>6} {'change':<22} {'incremental s':>13} {'pieces':>7} {'view s':>7} {'full s':>8} "
          f"{'full/inc':>8} {'flow mods':>9} {'flows/chassis':>13}")
    for n in args.ports:
        model, switches, ports = cloud(n, args.chassis, args.placement)
        inc = OfflineControlPlane(model, switches)
        ref = OfflineControlPlane(model, switches, incremental=False)
        start = time.perf_counter()
        first = inc.round()
        first_s = time.perf_counter() - start
        ref.round()
        flows = sum(len(t.flows) for t in inc.tables.values()) / len(switches)
        print(f"{n:6d} {'first round':<22} {first_s:13.3f} {sum(first.built.values()):7d} {first.view_seconds:7.3f} "
              f"{'':>8} {'':>8} {sum(first.flow_mods.values()):9d} {flows:13.0f}")
        ctx = Context("t0", is_admin=True)
        net = model.get("network", ports[0].network_id)
        group = next(g for g in model.list("security_group") if g.project_id == "t0")
        changes = {
            "port created": lambda: model.create("port", {"network_id": net.id, "binding:host_id": "hv0",
                                                          "binding:profile": {"interface_name": "hv0-vm",
                                                                              "vlan": 4000}}, ctx),
            "port renamed": lambda: model.update("port", ports[len(ports) // 2].id, {"name": "renamed"}, ctx),
            f"rule on {n // TENANTS}-member group": lambda: model.create("security_group_rule", {
                "security_group_id": group.id, "direction": "ingress", "ethertype": "IPv4", "protocol": "tcp",
                "port_range_min": 80, "port_range_max": 80}, ctx),
        }
        for label, change in changes.items():
            a, inc_s, b, full_s = measure(inc, ref, change)
            assert {k: t.flows.keys() for k, t in inc.tables.items()} == {k: t.flows.keys() for k, t in ref.tables.items()}
            print(f"{n:6d} {label:<22} {inc_s:13.3f} {sum(a.built.values()):7d} {a.view_seconds:7.3f} {full_s:8.3f} "
                  f"{full_s / inc_s:8.1f} {sum(a.flow_mods.values()):9d}")


if __name__ == "__main__":
    main()
