"""The pipeline contract: every table declared with its owners and exits, every flow and group of every app
on whole chassis of random clouds within it, no (table, priority, match) written by two apps, and a flow
outside it refused before it could reach a switch."""
from __future__ import annotations

import pytest

from nvapps import pipeline
from nvapps.core import ofp
from nvapps.core.contract import ContractError, check_disjoint, check_flow, check_group
from nvapps.core.reconcile import Desired, Piece
from nvapps.core.stages import stage_defaults
from nvapps.pipeline import AppId, Priority, Table
from tests.unit.test_incremental import random_rounds


def test_every_table_is_declared_and_every_stage_passes_on_by_a_declared_exit():
    assert set(pipeline.TABLES) == set(Table)
    for stage in pipeline.STAGES:
        assert stage.next is None or stage.next in pipeline.TABLES[stage.entry].exits, stage
    for flow in stage_defaults().flows.values():
        check_flow(AppId.CORE, flow)


def test_the_load_balancer_stages_sit_before_the_l2_lookup_and_before_the_to_vm_acl():
    order = [s.entry for s in pipeline.STAGES]
    assert order.index(Table.ACL_FROM_VM) < order.index(Table.LB_FROM_VM) < order.index(Table.L2_CONTROL)
    assert order.index(Table.L2_CONTROL) < order.index(Table.LB_TO_VM) < order.index(Table.ACL_TO_VM)
    assert all(s.next is None or s.next > s.entry for s in pipeline.STAGES)       # goto only goes forward


@pytest.mark.parametrize("seed", range(3))
def test_every_apps_flows_and_groups_on_whole_chassis_keep_the_contract(seed):
    apps = set()
    for plane in random_rounds(seed, 80):
        for name in plane.chassis:
            tables = {app: t for (app, ch), t in plane.tables.items() if ch == name}
            for app, table in tables.items():
                for flow in table.flows.values():
                    check_flow(app, flow)
                for group in table.groups.values():
                    check_group(app, group)
            check_disjoint({app: t.flows.values() for app, t in tables.items()})
            apps |= {app for app, t in tables.items() if t.flows}
    assert apps == {AppId.L2, AppId.L3, AppId.ACL, AppId.DHCP, AppId.NAT, AppId.OVERLAY, AppId.LB}


def test_conntrack_zones_of_ports_routers_and_load_balancing_never_meet():
    ports = range(1, pipeline.MAX_PORT_KEY + 1)
    routers = {pipeline.router_zone(k) for k in range(1, pipeline.MAX_ROUTER_KEY + 1)}
    routed = {pipeline.router_lb_zone(k) for k in range(1, pipeline.MAX_ROUTER_KEY + 1)}
    balancing = {pipeline.lb_zone(k) for k in range(1, pipeline.MAX_NETWORK_KEY + 1)}
    hairpins = {pipeline.hairpin_zone(k) for k in range(1, pipeline.MAX_NETWORK_KEY + 1)}
    assert max(ports) < min(routers) and max(routers) < min(routed) and max(routed) < min(balancing) and max(balancing) < min(hairpins)
    assert max(hairpins) <= 0xFFFF


VM = ofp.match(reg14=1)


@pytest.mark.parametrize("app, flow", [
    (AppId.L2, ofp.Flow(Table.NAT_SNAT, Priority.SPECIFIC, VM)),                         # not its table
    (AppId.DHCP, ofp.Flow(Table.L2_LOOKUP, Priority.SPECIFIC, VM)),
    (AppId.L2, ofp.Flow(Table.L2_LOOKUP, Priority.SPECIFIC, VM, goto=Table.EGRESS)),     # skips the to-VM stages
    (AppId.L2, ofp.Flow(Table.L2_LOOKUP, Priority.SPECIFIC, VM, goto=Table.ACL_TO_VM)),  # names another's stage
    (AppId.L3, ofp.Flow(Table.L3_ROUTING, Priority.SPECIFIC, VM, actions=(ofp.Resubmit(Table.CLASSIFY),))),
    (AppId.NAT, ofp.Flow(Table.NAT_SNAT, Priority.SPECIFIC, VM,
                         actions=(ofp.Ct(table=Table.L2_LOOKUP),))),
    (AppId.L2, ofp.Flow(Table.L2_LOOKUP, Priority.SPECIFIC, VM,
                        actions=(ofp.Learn(Table.NAT_MAC_BINDING, 100, 0, ()),))),
    (AppId.L2, ofp.Flow(Table.L2_LOOKUP, Priority.STAGE_DEFAULT)),                       # the core's flow
    (AppId.CORE, ofp.Flow(Table.L2_LOOKUP, Priority.STAGE_DEFAULT)),                     # not a stage entry
    (AppId.CORE, ofp.Flow(Table.L2_CONTROL, Priority.STAGE_DEFAULT, goto=Table.L2_LOOKUP)),
    (AppId.ACL, ofp.Flow(99, Priority.SPECIFIC, VM)),                                    # undeclared table
    # fields without their prerequisites: a switch refuses these (OFPBMC_BAD_PREREQ)
    (AppId.NAT, ofp.Flow(Table.NAT_DNAT, Priority.SPECIFIC, ofp.match(eth_type=0x0800, tcp_dst=22))),
    (AppId.NAT, ofp.Flow(Table.NAT_DNAT, Priority.SPECIFIC, ofp.match(eth_type=0x0800, ip_proto=17, tcp_dst=22))),
    (AppId.L3, ofp.Flow(Table.L3_ROUTING, Priority.SPECIFIC, ofp.match(ipv4_dst="10.0.0.1"))),
    (AppId.L3, ofp.Flow(Table.L3_INPUT, Priority.SPECIFIC, ofp.match(eth_type=0x86DD, ipv4_dst="10.0.0.1"))),
    (AppId.L3, ofp.Flow(Table.L3_INPUT, Priority.SPECIFIC, ofp.match(ip_ttl=1))),
    (AppId.L2, ofp.Flow(Table.L2_CONTROL, Priority.SPECIFIC, ofp.match(arp_tpa="10.0.0.1"))),
    (AppId.ACL, ofp.Flow(Table.SG_TO_VM_RULES, Priority.SPECIFIC,
                         ofp.match(eth_type=0x0800, ip_proto=(6, 0xff), tcp_dst=22))),          # masked: not exact
    (AppId.ACL, ofp.Flow(Table.PORT_SECURITY, Priority.SPECIFIC,
                         ofp.match(eth_type=0x86DD, ip_proto=58, ipv6_nd_target="fe80::1"))),
])
def test_a_flow_outside_the_contract_is_refused_before_it_reaches_a_switch(app, flow):
    with pytest.raises(ContractError):
        check_flow(app, flow)
    with pytest.raises(ContractError):
        Piece.of(app, [flow])


def test_a_group_whose_buckets_leave_by_undeclared_exits_or_of_another_app_is_refused():
    to_vm = ofp.Bucket((ofp.SetField("reg15", 1), ofp.Resubmit(pipeline.next_stage("l2"))))
    check_group(AppId.L2, ofp.Group(pipeline.group_id(AppId.L2, 1), "all", (to_vm,)))
    skip = ofp.Bucket((ofp.Resubmit(Table.NAT_SNAT),))
    for app, group in [(AppId.L2, ofp.Group(pipeline.group_id(AppId.L2, 1), "all", (to_vm, skip))),
                       (AppId.L2, ofp.Group(pipeline.group_id(AppId.NAT, 1), "all", (to_vm,)))]:
        with pytest.raises(ContractError):
            check_group(app, group)
        with pytest.raises(ContractError):
            Desired.build(app, [], [group])


def test_two_apps_writing_the_same_table_priority_and_match_are_refused():
    flow = ofp.Flow(Table.CLASSIFY, Priority.SPECIFIC, ofp.match(in_port=3), goto=pipeline.AFTER_CLASSIFY)
    check_disjoint({AppId.L2: [flow], AppId.OVERLAY: [ofp.Flow(Table.CLASSIFY, Priority.SPECIFIC, ofp.match(in_port=4))]})
    with pytest.raises(ContractError):
        check_disjoint({AppId.L2: [flow], AppId.OVERLAY: [ofp.Flow(Table.CLASSIFY, Priority.SPECIFIC,
                                                                   ofp.match(in_port=3))]})
