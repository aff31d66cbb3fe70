"""A chassis's flows as the apps compute them, from one logical view (nvapps.logical.view), on the fake switch."""
from __future__ import annotations

from nvapps.core import ofp
from nvapps.core.stages import stage_defaults
from nvapps.core.topology import Chassis
from nvapps.l2.flows import chassis_l2
from nvapps.l3.flows import chassis_l3
from nvapps.logical.view import LogicalView
from nvapps.overlay.flows import chassis_overlay
from tests.unit.fakeswitch import FakeSwitch


def l2_of(view: LogicalView, here: Chassis) -> tuple[list[ofp.Flow], list[ofp.Group]]:
    desired = chassis_l2(here, view)
    return list(desired.flows.values()), list(desired.groups.values())


def l3_of(view: LogicalView, here: Chassis) -> list[ofp.Flow]:
    return list(chassis_l3(here, view).flows.values())


def overlay_of(view: LogicalView, here: Chassis) -> list[ofp.Flow]:
    return list(chassis_overlay(here, view).flows.values())


def switch_of(view: LogicalView, here: Chassis, extra: list[ofp.Flow] = ()) -> FakeSwitch:
    """The fake switch of chassis `here` with the stage defaults, L2, L3, the overlay and `extra` flows."""
    flows, groups = l2_of(view, here)
    flows += l3_of(view, here) + overlay_of(view, here) + list(extra) + list(stage_defaults().flows.values())
    return FakeSwitch.of(flows, groups)
