"""L2 gateways (networking-l2gw shapes): a tenant network bridged to a VLAN on a gateway chassis's interface.

An `l2_gateway` names devices (chassis) and their interfaces into legacy VLAN segments; an
`l2_gateway_connection` joins a network to one VLAN of a gateway. Each connection makes, per interface,
a port of the network bound to (chassis, interface, VLAN): L2 then treats the VLAN like any port of the
network (flooding, learning of the hosts behind it), tagging and untagging at that interface.
"""
from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, ClassVar

from nvapps.model import ipam
from nvapps.model.base import Change, Resource, Rules, resource
from nvapps.model.context import Context
from nvapps.model.errors import Conflict
from nvapps.model.fields import attr, check_name, check_uuid, dict_with, int_range, list_of, nullable
from nvapps.model.network import L2_GATEWAY, Port, check_binding_free, new_port_key, owned_network

if TYPE_CHECKING:
    from nvapps.model.service import Model

check_vlan = int_range(1, 4094)
check_devices = list_of(dict_with({
    "device_name": check_name,
    "interfaces": list_of(dict_with({"name": check_name, "segmentation_id": list_of(check_vlan)}, ("name",)), 1),
}, ("device_name", "interfaces")), 1)


@resource
class L2Gateway(Resource):
    """Chassis interfaces that lead into legacy VLAN segments."""

    KIND: ClassVar[str] = "l2_gateway"
    COLLECTION: ClassVar[str] = "l2-gateways"
    ADMIN_ONLY: ClassVar[bool] = True

    devices: list = attr(check_devices, required=True, default_factory=list)


@resource
class L2GatewayConnection(Resource):
    """A network bridged to VLAN `segmentation_id` (or each interface's own) of a gateway's interfaces."""

    KIND: ClassVar[str] = "l2_gateway_connection"
    COLLECTION: ClassVar[str] = "l2-gateway-connections"
    ADMIN_ONLY: ClassVar[bool] = True

    l2_gateway_id: str = attr(check_uuid, update=False, required=True, default="")
    network_id: str = attr(check_uuid, update=False, required=True, default="")
    segmentation_id: int | None = attr(nullable(check_vlan), update=False, default=None)


def connections_of(model: "Model", gateway_id: str) -> list[L2GatewayConnection]:
    return model.list("l2_gateway_connection", {"l2_gateway_id": [gateway_id]})


def prepare_gateway(model: "Model", gw: L2Gateway, old: L2Gateway | None, ctx: Context):
    if old is not None and gw.devices != old.devices and connections_of(model, gw.id):
        raise Conflict(f"L2 gateway {gw.id} has connections; its devices cannot change", "L2GatewayInUse")
    return gw, []


def deleting_gateway(model: "Model", gw: L2Gateway, ctx: Context) -> list[Change]:
    if connections_of(model, gw.id):
        raise Conflict(f"L2 gateway {gw.id} has connections", "L2GatewayInUse")
    return [Change("l2_gateway", gw, None)]


def prepare_connection(model: "Model", conn: L2GatewayConnection, old: L2GatewayConnection | None, ctx: Context):
    if old is not None:
        return conn, []
    gw = model.get("l2_gateway", conn.l2_gateway_id, ctx)
    net = owned_network(model, conn.network_id, ctx)
    if net.physical_network:
        raise Conflict(f"Network {net.id} is a provider network; only tenant networks are bridged to VLANs")
    taken = {p.mac_address for p in model.list("port", {"network_id": [net.id]})}
    keys: set[int] = set()
    changes: list[Change] = []
    for device in gw.devices:
        for iface in device["interfaces"]:
            vlans = [conn.segmentation_id] if conn.segmentation_id else iface.get("segmentation_id", [])
            if len(vlans) != 1:
                raise Conflict(f"Interface {iface['name']} of {device['device_name']} needs one segmentation_id "
                                 f"(from the connection or the gateway)")
            check_binding_free(model, device["device_name"], iface["name"], vlans[0])
            port = Port(id=str(uuid.uuid4()), project_id=net.project_id, network_id=net.id, fixed_ips=[],
                        mac_address=ipam.new_mac(taken), device_owner=L2_GATEWAY, device_id=conn.id,
                        host_id=device["device_name"], profile={"interface_name": iface["name"], "vlan": vlans[0]},
                        security_groups=[], port_security_enabled=False, key=new_port_key(model, keys))
            taken.add(port.mac_address)
            keys.add(port.key)
            changes.append(Change("port", None, port))
    return conn, changes


def deleting_connection(model: "Model", conn: L2GatewayConnection, ctx: Context) -> list[Change]:
    ports = model.list("port", {"device_id": [conn.id]})
    return [Change("l2_gateway_connection", conn, None)] + [Change("port", p, None) for p in ports
                                                              if p.device_owner == L2_GATEWAY]


RULES = [Rules(L2Gateway, prepare_gateway, deleting_gateway),
         Rules(L2GatewayConnection, prepare_connection, deleting_connection)]
