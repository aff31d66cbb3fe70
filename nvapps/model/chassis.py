"""Chassis (hypervisors): registered by an admin, or by themselves when their switch first connects.

A chassis's tunnel endpoint (underlay IPv4 and tunnel type) is what the overlay sends other chassis's
traffic for its ports to. A chassis without one is reached over the inter-chassis link, if at all.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from nvapps.model.base import Change, Resource, Rules, resource
from nvapps.model.context import Context
from nvapps.model.errors import BadRequest, Conflict
from nvapps.model.fields import attr, check_ipv4, check_name, nullable, one_of, together

if TYPE_CHECKING:
    from nvapps.model.service import Model

TUNNEL_TYPES = ("vxlan", "geneve")


@resource
class RegisteredChassis(Resource):
    """A hypervisor: its name (the switch's chassis name) and tunnel endpoint."""

    KIND: ClassVar[str] = "chassis"
    COLLECTION: ClassVar[str] = "chassis"
    ADMIN_ONLY: ClassVar[bool] = True

    SCHEMA_RULES: ClassVar[list[dict]] = [together("tunnel_type", "tunnel_ip")]

    name: str = attr(check_name, required=True, default="")
    tunnel_type: str | None = attr(nullable(one_of(*TUNNEL_TYPES)), default=None)
    tunnel_ip: str | None = attr(nullable(check_ipv4), default=None)


def prepare_chassis(model: "Model", ch: RegisteredChassis, old: RegisteredChassis | None, ctx: Context):
    if (ch.tunnel_type is None) != (ch.tunnel_ip is None):
        raise BadRequest("tunnel_type and tunnel_ip go together")
    for other in model.list("chassis"):
        if other.id == ch.id:
            continue
        if other.name == ch.name:
            raise Conflict(f"Chassis {ch.name} already exists ({other.id})", "ChassisExists")
        if ch.tunnel_ip is not None and other.tunnel_ip == ch.tunnel_ip:
            raise Conflict(f"Tunnel IP {ch.tunnel_ip} is chassis {other.name}'s", "TunnelIpInUse")
    if old is not None and ch.name != old.name and model.list("port", {"binding:host_id": [old.name]}):
        raise Conflict(f"Ports are bound to chassis {old.name}; rebind them before renaming it", "ChassisInUse")
    return ch, []


def deleting_chassis(model: "Model", ch: RegisteredChassis, ctx: Context) -> list[Change]:
    return [Change("chassis", ch, None)]


RULES = [Rules(RegisteredChassis, prepare_chassis, deleting_chassis)]
