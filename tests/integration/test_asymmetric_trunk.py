"""Routing across the inter-switch link when networks are not on both switches: tenants a and b with
identical CIDRs and three subnets on their router; subnets 1 and 3 have their host on s1 (a11, a31),
subnet 2 on s2 (a21). Every host reaches every host of its tenant (ping and TCP), nothing crosses tenants,
also after a21 moves to s1 and its network vanishes from s2.
"""
from __future__ import annotations

import re
import time

from nvapps.lab.ovs import dump_flows
from nvapps.lab.reach import reach_matrix

HOSTS_PER_SWITCH = 1
SUBNETS = 3
PLACEMENT = "asymmetric"
APPS = ("nvapps.l3.app", "nvapps.l2.app")
SETTLE = 0.5


def assert_matrix(lab, tenant: str) -> None:
    pairs = reach_matrix(lab, tenant)
    assert len(pairs) == 6 and all(p.ok for p in pairs), "\n".join(p.line(lab, 3) for p in pairs)


def tenant_flows(lab, switch: str, tenant: str) -> list[str]:
    """`switch`'s flows that match on one of `tenant`'s network keys."""
    keys = "|".join(f"{n['provider:segmentation_id']:x}" for n in lab.tenants[tenant].networks.values())
    exact = re.compile(rf"metadata=0x({keys})(,|$)")
    return [f"table={f.table} {f.match}" for f in dump_flows(switch) if exact.search(f.match)]


def test_every_vm_reaches_every_vm_of_its_tenant_across_the_trunk_and_nothing_crosses(lab):
    assert {h: a.switch for h, a in lab.topo.attachments.items() if h.startswith("a")} == {
        "a11": "s1", "a21": "s2", "a31": "s1"}
    assert_matrix(lab, "a")
    assert_matrix(lab, "b")


def test_a_network_that_vanishes_from_a_switch_leaves_no_flow_there_and_reachability_holds(lab):
    assert tenant_flows(lab, "s2", "a")
    with lab.moved("a21", "s1"):
        time.sleep(SETTLE)
        assert tenant_flows(lab, "s2", "a") == []          # no port of tenant a is left on s2
        assert_matrix(lab, "a")
    time.sleep(SETTLE)
    assert tenant_flows(lab, "s2", "a")
