"""Port forwardings (Neutron's floatingip port_forwardings): a floating IP's TCP/UDP port forwarded to a
port's fixed IP and port, through the router that joins the port's subnet to the floating IP's network."""
from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, ClassVar

import netaddr

from nvapps.model.base import Change, Resource, Rules, resource
from nvapps.model.context import Context
from nvapps.model.errors import Conflict, NotFound
from nvapps.model.fields import attr, check_ip, check_l4_port, check_uuid, one_of
from nvapps.model.router import FloatingIP, router_for

if TYPE_CHECKING:
    from nvapps.model.service import Model


@resource
class PortForwarding(Resource):
    """External port `external_port` of a floating IP -> `internal_ip_address`:`internal_port` of a port."""

    KIND: ClassVar[str] = "port_forwarding"
    COLLECTION: ClassVar[str] = "port_forwardings"
    PARENT: ClassVar[tuple[str, str] | None] = ("floatingip", "floatingip_id")

    floatingip_id: str = attr(create=False, update=False, default="")
    protocol: str = attr(one_of("tcp", "udp"), required=True, default="")
    internal_port_id: str = attr(check_uuid, required=True, default="")
    internal_ip_address: str = attr(check_ip, required=True, default="")
    internal_port: int = attr(check_l4_port, required=True, default=0)
    external_port: int = attr(check_l4_port, required=True, default=0)


def forwardings_of(model: "Model", fip_id: str) -> list[PortForwarding]:
    return model.list("port_forwarding", {"floatingip_id": [fip_id]})


def prepare_port_forwarding(model: "Model", pf: PortForwarding, old: PortForwarding | None, ctx: Context):
    fip: FloatingIP = model.get("floatingip", pf.floatingip_id)
    if fip.port_id is not None:
        raise Conflict(f"Floating IP {fip.id} is associated with port {fip.port_id}; a floating IP with a port "
                       f"cannot have port forwardings.", "FloatingIPPortAlreadyAssociated")
    port = model.get("port", pf.internal_port_id, ctx)
    if port.device_owner.startswith("network:"):
        raise Conflict(f"Port {port.id} is a {port.device_owner} port and cannot be forwarded to")
    entry = next((ip for ip in port.fixed_ips or [] if ip["ip_address"] == pf.internal_ip_address
                  and netaddr.IPAddress(ip["ip_address"]).version == 4), None)
    if entry is None:
        raise Conflict(f"Port {port.id} does not have fixed IPv4 address {pf.internal_ip_address}")
    router = router_for(model, entry["subnet_id"], fip.floating_network_id)
    if router is None:
        raise NotFound(f"External network {fip.floating_network_id} is not reachable from subnet "
                       f"{entry['subnet_id']}.", "ExternalGatewayForFloatingIPNotFound")
    siblings = [p for p in forwardings_of(model, fip.id) if p.id != pf.id]
    if fip.router_id and siblings and fip.router_id != router.id:
        raise Conflict(f"Floating IP {fip.id} already forwards through router {fip.router_id}")
    for other in siblings:
        if (other.protocol, other.external_port) == (pf.protocol, pf.external_port):
            raise Conflict(f"Floating IP {fip.floating_ip_address} already forwards {pf.protocol} port "
                           f"{pf.external_port} (port forwarding {other.id}).", "PortForwardingAlreadyExists")
    for other in model.list("port_forwarding", {"internal_port_id": [port.id]}):
        if other.id != pf.id and (other.protocol, other.internal_ip_address, other.internal_port) == \
                (pf.protocol, pf.internal_ip_address, pf.internal_port):
            raise Conflict(f"{pf.protocol} {pf.internal_ip_address}:{pf.internal_port} already has port "
                           f"forwarding {other.id}.", "PortForwardingAlreadyExists")
    extra = []
    if (fip.router_id, fip.status) != (router.id, "ACTIVE"):
        extra.append(Change("floatingip", fip, replace(fip, router_id=router.id, status="ACTIVE")))
    return pf, extra


def deleting_port_forwarding(model: "Model", pf: PortForwarding, ctx: Context) -> list[Change]:
    return released([pf], model)


def released(gone: list[PortForwarding], model: "Model") -> list[Change]:
    """Deleting port forwardings: a floating IP left with none (and no port) is no longer on a router."""
    changes = [Change("port_forwarding", pf, None) for pf in gone]
    ids = {pf.id for pf in gone}
    for fip_id in dict.fromkeys(pf.floatingip_id for pf in gone):
        fip = model.find("floatingip", fip_id)
        if fip is not None and fip.port_id is None and all(p.id in ids for p in forwardings_of(model, fip_id)):
            changes.append(Change("floatingip", fip, replace(fip, router_id=None, status="DOWN")))
    return changes


RULES = [Rules(PortForwarding, prepare_port_forwarding, deleting_port_forwarding)]
