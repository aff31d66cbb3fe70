"""Router gateways: each router's port on an external network, and the chassis whose uplink carries it now.

A router routes on every chassis where its networks have ports, but it meets the outside world on one
chassis only: the gateway chassis, chosen among those with an uplink to the external network's physical
network (nvapps.core.topology.place_gateway). Traffic for outside addresses goes there un-routed, through
the network it came from; the gateway chassis routes it, translates it (nvapps.nat) and sends it out of
its uplink. That chassis therefore knows the router's networks as well, even with no port of its own
(nvapps.logical.presence).
"""
from __future__ import annotations

from dataclasses import dataclass

from nvapps.core.topology import Chassis, Uplink, place_gateway
from nvapps.model.network import ROUTER_GATEWAY, Network, Port, Subnet
from nvapps.model.router import Router


@dataclass(frozen=True)
class Gateway:
    """A router's IPv4 address on an external network (and its IPv6 one, if the network has an IPv6 subnet the
    gateway port has an address on), and where it is active (None: no uplink is up)."""

    port: Port
    subnet: Subnet
    ip: str
    network_key: int
    physnet: str | None
    chassis: str | None
    enable_snat: bool
    chassis_ip: int = 0       # the gateway chassis's tunnel endpoint (0: none, or over the inter-chassis link)
    learned: tuple[tuple[str, str], ...] = ()     # (prefix, next hop) learned by BGP on its uplink there
    subnet6: Subnet | None = None
    ip6: str | None = None


def router_gateways(routers: list[Router], networks: list[Network], ports: list[Port], subnets: list[Subnet],
                    uplinks: list[Uplink], chassis: dict[str, Chassis]) -> dict[str, Gateway]:
    """The gateway of every administratively up router that has one, by router id."""
    nets = {n.id: n for n in networks if n.admin_state_up}
    v4 = {s.id: s for s in subnets if s.ip_version == 4}
    v6 = {s.id: s for s in subnets if s.ip_version == 6}
    gateway_ports = {p.device_id: p for p in ports if p.device_owner == ROUTER_GATEWAY}
    out = {}
    for router in routers:
        info = router.external_gateway_info or {}
        net, port = nets.get(info.get("network_id") or ""), gateway_ports.get(router.id)
        if not router.admin_state_up or net is None or port is None:
            continue
        entry = next((ip for ip in port.fixed_ips or [] if ip["subnet_id"] in v4), None)
        entry6 = next((ip for ip in port.fixed_ips or [] if ip["subnet_id"] in v6), None)
        if entry is not None:
            where = place_gateway(router.key, net.physical_network, uplinks, chassis)
            out[router.id] = Gateway(port, v4[entry["subnet_id"]], entry["ip_address"], net.key,
                                     net.physical_network, where, info.get("enable_snat", True),
                                     chassis[where].tunnel_ip if where else 0,
                                     chassis[where].learned.get(net.physical_network or "", ()) if where else (),
                                     v6[entry6["subnet_id"]] if entry6 else None,
                                     entry6["ip_address"] if entry6 else None)
    return out

