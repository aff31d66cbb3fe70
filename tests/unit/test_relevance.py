"""Apps skip the model changes they call irrelevant (`KINDS`): a random cloud's changes of other kinds only leave
each such app's flows, fully recomputed, exactly as they were; and with changes of single kinds (floating IPs moved,
subnets changed) incremental rounds still give what a full recomputation gives."""
from __future__ import annotations

import random

import pytest

from nvapps.acl.app import AclApp
from nvapps.lab.offline import OfflineControlPlane
from nvapps.nat.app import NatApp
from tests.unit.modelkit import new_model
from tests.unit.test_incremental import SEEDS, STEPS, UPLINKS, Changer, assert_same, switches

SKIPPING = (AclApp, NatApp)


class SingleKindChanger(Changer):
    """Changer's changes, and changes that touch one kind of object only."""

    def actions(self) -> list:
        return super().actions() + [self.reassociate, self.reassociate, self.subnet_change, self.subnet_change]

    def reassociate(self, ctx) -> str:
        """A floating IP moved to another VM port, or taken off its port (no port changes); the tenant's first
        floating IP made when it has none."""
        fip = self.pick("floatingip", ctx)
        if fip is None:
            return self.model.create("floatingip", {"floating_network_id": self.external}, ctx).id
        ports = [p.id for p in self.vm_ports(ctx) if p.id != fip.port_id]
        port_id = self.rng.choice(ports) if ports and self.rng.random() < 0.7 else None
        self.model.update("floatingip", fip.id, {"port_id": port_id}, ctx)
        return f"{fip.id} -> {port_id}"

    def subnet_change(self, ctx) -> str:
        """A subnet's DNS servers, host routes, gateway or DHCP changed (no port changes)."""
        sub = self.pick("subnet", ctx)
        if sub is None:
            return "none"
        base = sub.cidr.rsplit(".", 2)[0]
        body = self.rng.choice([{"dns_nameservers": [f"{base}.0.{self.rng.randint(2, 9)}"]},
                                {"host_routes": [{"destination": "192.168.9.0/24", "nexthop": f"{base}.0.{self.rng.randint(2, 9)}"}]},
                                {"gateway_ip": f"{base}.0.{self.rng.choice([1, 254])}"}, {"name": "renamed"},
                                {"enable_dhcp": not sub.enable_dhcp}])
        self.model.update("subnet", sub.id, body, ctx)
        return f"{sub.id} {body}"


@pytest.mark.parametrize("seed", SEEDS)
def test_changes_an_app_skips_leave_its_flows_as_a_full_recomputation_gives_them(seed):
    model, chassis = new_model(), switches()
    changer = SingleKindChanger(model, chassis, random.Random(seed))
    plane = OfflineControlPlane(model, chassis, UPLINKS, incremental=False)
    incremental = OfflineControlPlane(model, chassis, UPLINKS)
    heard: list = []
    model.subscribe(heard.extend)
    plane.round(), incremental.round()
    skipped = dict.fromkeys(SKIPPING, 0)
    for step in range(STEPS):
        heard.clear()
        moves = changer.moves
        held = {key: dict(table.flows) for key, table in plane.tables.items()}
        done = changer.step()
        plane.round()
        incremental.topology = changer.moves
        incremental.round()
        assert_same(incremental, plane, f"seed {seed}, step {step} ({done})")
        if changer.moves != moves or not heard:       # the fabric moved (not a model change), or nothing changed
            continue
        for app in SKIPPING:
            if not app.relevant(heard):
                skipped[app] += 1
                for (app_id, name), table in plane.tables.items():
                    if app_id == app.APP_ID:
                        assert table.flows == held.get((app_id, name), {}), f"{app.__name__} {done} on {name}"
    assert all(skipped.values()), skipped          # each app skipped some changes
