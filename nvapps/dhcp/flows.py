"""Pure functions: which DHCP (v4 and v6) requests and router solicitations a chassis sends to the controller,
and each port's leases."""
from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING

import netaddr

from nvapps import pipeline
from nvapps.core import nd, ofp
from nvapps.core.nd import ICMPV6, IPV6
from nvapps.core.ofp import Flow, match
from nvapps.core.pieces import Pieces, Service
from nvapps.core.reconcile import Desired, Piece
from nvapps.core.topology import Chassis
from nvapps.dhcp.dhcpv6 import CLIENT_PORT, SERVER_PORT, Lease6
from nvapps.dhcp.server import Lease
from nvapps.logical.ports import BoundPort
from nvapps.model.network import ROUTER_INTERFACE, Network, Port, Subnet
from nvapps.model.service import Model
from nvapps.pipeline import Priority, Reg, Table

if TYPE_CHECKING:
    from nvapps.logical.view import LogicalView

DHCP_REQUEST = dict(eth_type=0x0800, ip_proto=17, udp_src=68, udp_dst=67)
DHCPV6_REQUEST = dict(eth_type=IPV6, ip_proto=17, udp_src=CLIENT_PORT, udp_dst=SERVER_PORT)
ROUTER_SOLICITATION = dict(eth_type=IPV6, ip_proto=ICMPV6, icmpv6_type=nd.ROUTER_SOLICITATION)
DHCPV6_MODES = ("dhcpv6-stateful", "dhcpv6-stateless")


def served_subnet(port: Port, subnets: dict[str, Subnet]) -> tuple[str, Subnet] | None:
    """The port's first IPv4 address on a subnet with DHCP enabled, and that subnet."""
    return _first_served(port, subnets, lambda sub: sub.ip_version == 4)


def served_subnet6(port: Port, subnets: dict[str, Subnet]) -> tuple[str, Subnet] | None:
    """The port's first address on an IPv6 subnet with DHCP enabled whose ipv6_address_mode is a DHCPv6 one,
    and that subnet."""
    return _first_served(port, subnets, lambda sub: sub.ip_version == 6 and sub.ipv6_address_mode in DHCPV6_MODES)


def _first_served(port: Port, subnets: dict[str, Subnet], served: Callable[[Subnet], bool]
                  ) -> tuple[str, Subnet] | None:
    """The port's first address on a subnet with DHCP enabled that `served` accepts, and that subnet."""
    for ip in port.fixed_ips or []:
        sub = subnets.get(ip["subnet_id"])
        if sub is not None and sub.enable_dhcp and served(sub):
            return ip["ip_address"], sub
    return None


@dataclass(frozen=True)
class DhcpView:
    """Bound ports by chassis and the subnets: what the flows and the leases are computed from."""

    local: dict[str, tuple[BoundPort, ...]]
    subnets: dict[str, Subnet]


def dhcp_view(model: Model, view: "LogicalView", previous: DhcpView | None) -> DhcpView:
    """The view's local ports, and the subnets (the previous dict while they are unchanged)."""
    subnets = {s.id: s for s in model.subnets()}
    return DhcpView(view.local, previous.subnets if previous is not None and previous.subnets == subnets else subnets)


def chassis_dhcp(here: Chassis, view: DhcpView, pieces: Pieces | None = None) -> Desired:
    """One flow per local port served by DHCP: its requests go to the controller, rate-limited (a piece per
    port, keyed by the port and its subnets)."""
    pieces = pieces or Pieces(pipeline.AppId.DHCP)
    local = view.local.get(here.name, ())

    def build() -> Desired:
        out: dict[Hashable, Piece] = {}
        for b in local:
            subnets = tuple(view.subnets.get(ip["subnet_id"]) for ip in b.port.fixed_ips or [])
            out[b.port.id] = pieces.get((b.port, subnets), partial(_request_flows, b.port, view.subnets))
        return Desired(out)
    return pieces.chassis(here.name, (local, view.subnets), build)


def _request_flows(port: Port, subnets: dict[str, Subnet]) -> list[Flow]:
    """The port's DHCP requests (it has an IPv4 address on a DHCP subnet), DHCPv6 requests (an address on a
    DHCPv6 subnet) and router solicitations (one on an IPv6 subnet with ipv6_ra_mode) go to the controller."""
    asks = [DHCP_REQUEST] if served_subnet(port, subnets) is not None else []
    if served_subnet6(port, subnets) is not None:
        asks.append(DHCPV6_REQUEST)
    if any((sub := subnets.get(ip["subnet_id"])) is not None and sub.ip_version == 6 and sub.ipv6_ra_mode
           for ip in port.fixed_ips or []):
        asks.append(ROUTER_SOLICITATION)
    return [Flow(Table.L2_CONTROL, Priority.SPECIFIC, match(**{Reg.IN_PORT: port.key}, **ask),
                 actions=(ofp.PUNT,), meter=pipeline.app_meter(pipeline.AppId.DHCP)) for ask in asks]


def lease_for(port: Port, network: Network, subnets: dict[str, Subnet], ports: list[Port]) -> Lease | None:
    """What DHCP tells `port`."""
    served = served_subnet(port, subnets)
    if served is None:
        return None
    ip, sub = served
    routes = tuple((r["destination"], r["nexthop"]) for r in sub.host_routes
                   if netaddr.IPNetwork(r["destination"]).version == 4)
    return Lease(port.mac_address, ip, sub.cidr, sub.gateway_ip, tuple(sub.dns_nameservers), routes, network.mtu,
                 _server_mac(network, sub, ports))


def lease6_for(port: Port, network: Network, subnets: dict[str, Subnet], ports: list[Port]) -> Lease6 | None:
    """What DHCPv6 tells `port`: its address on a stateful subnet, options only on a stateless one."""
    served = served_subnet6(port, subnets)
    if served is None:
        return None
    ip, sub = served
    return Lease6(port.mac_address, ip if sub.ipv6_address_mode == "dhcpv6-stateful" else None,
                  tuple(d for d in sub.dns_nameservers if ":" in d), _server_mac(network, sub, ports))


def _server_mac(network: Network, sub: Subnet, ports: list[Port]) -> str:
    """The MAC a subnet's DHCP server speaks with: its router interface's, or one made from the network key."""
    router_port = next((p for p in ports if p.device_owner == ROUTER_INTERFACE and p.network_id == network.id
                        and any(i["subnet_id"] == sub.id for i in p.fixed_ips or [])), None)
    key = network.key
    return router_port.mac_address if router_port else f"fa:16:3e:ff:{key >> 8 & 0xFF:02x}:{key & 0xFF:02x}"


SERVICE = Service(pipeline.AppId.DHCP, dhcp_view, chassis_dhcp)
