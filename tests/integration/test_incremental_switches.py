"""Incremental computation equals full recomputation on real switches: a random sequence of changes over REST
(ports bound, moved and deleted, security group rules, router interfaces, network ACLs, admin state), each
synced incrementally; then a controller restart recomputes everything from scratch and reconciles it
against what the switches hold: not one flow or group mod may be owed, on any chassis, by any app."""
from __future__ import annotations

import random
import subprocess

from nvapps.client import ApiError
from nvapps.lab.ovs import dump_flows

SUBNETS = 2
APPS = ("nvapps.acl.app", "nvapps.dhcp.app", "nvapps.l3.app", "nvapps.l2.app")
SPARE = 4          # interfaces sp<switch><n> per switch that random ports bind to
STEPS = 60


def spare(switch: str, n: int) -> str:
    return f"sp{switch[1:]}{n}"


def test_a_restart_after_random_changes_owes_no_flow_mod(lab):
    rng = random.Random(7)
    api, tenant = lab.api, lab.tenants["a"]
    switches = ["s1", "s2"]
    added = []
    try:
        for sw in switches:
            for n in range(SPARE):
                subprocess.run(["ovs-vsctl", "add-port", sw, spare(sw, n), "--", "set", "interface", spare(sw, n),
                                "type=internal"], check=True)
                added.append((sw, spare(sw, n)))
        group = api.create("security_group", name="web", project_id=tenant.name)
        ports: list[dict] = []
        acls: list[dict] = []
        vlans = iter(range(1, 4000))

        def binding() -> dict:
            sw = rng.choice(switches)
            return {"binding:host_id": sw, "binding:profile": {"interface_name": spare(sw, rng.randrange(SPARE)),
                                                               "vlan": next(vlans)}}

        def port():
            net = tenant.networks[rng.choice(sorted(tenant.networks))]
            ports.append(api.create("port", network_id=net["id"], project_id=tenant.name,
                                    security_groups=rng.sample([group["id"]], rng.randint(0, 1)), **binding()))

        def move():
            if ports:
                api.update("port", rng.choice(ports)["id"], **binding())

        def delete():
            if ports:
                api.delete("port", ports.pop(rng.randrange(len(ports)))["id"])

        def rule():
            low = rng.randint(1, 3000)
            api.create("security_group_rule", security_group_id=group["id"], direction=rng.choice(["ingress", "egress"]),
                       ethertype="IPv4", protocol=rng.choice(["tcp", "udp"]), port_range_min=low, port_range_max=low + 3,
                       **rng.choice([{}, {"remote_group_id": group["id"]}, {"remote_ip_prefix": "10.0.2.0/24"}]))

        def interface():
            verb = rng.choice(["add_router_interface", "remove_router_interface"])
            subnet = tenant.subnets[rng.choice(sorted(tenant.subnets))]
            api.action("router", tenant.router["id"], verb, subnet_id=subnet["id"])

        def acl():
            if acls and rng.random() < 0.4:
                api.delete("network_acl", acls.pop()["id"])
            else:
                net = tenant.networks[rng.choice(sorted(tenant.networks))]
                acls.append(api.create("network_acl", network_id=net["id"], project_id=tenant.name,
                                       position=rng.randint(0, 99), direction="ingress",
                                       action=rng.choice(["allow", "deny"]), protocol="tcp"))

        def admin():
            if ports:
                p = rng.choice(ports)
                p.update(api.update("port", p["id"], admin_state_up=not p["admin_state_up"]))

        for _ in range(STEPS):
            try:
                rng.choice([port, port, port, move, delete, rule, rule, interface, acl, admin])()
            except ApiError as exc:
                assert exc.status in (404, 409), exc   # an interface already there, or not there: refused
        lab.controller.wait_ports([p["id"] for p in ports if p["admin_state_up"]])
        assert sum(len(dump_flows(sw)) for sw in switches) > 200
        lab.controller.restart()
        status = lab.controller.wait_chassis(switches)
        for sw in switches:
            owed = {app: (s["flow_mods"], s["group_mods"]) for app, s in status[sw]["last_sync"].items()}
            assert owed == dict.fromkeys(["core", "acl", "dhcp", "l3", "l2"], (0, 0)), (sw, owed)
    finally:
        for sw, name in added:
            subprocess.run(["ovs-vsctl", "--if-exists", "del-port", sw, name], check=False)
