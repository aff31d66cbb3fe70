"""Networks, subnets and ports: their attributes and the rules that keep them consistent."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields, replace
from typing import TYPE_CHECKING, ClassVar

import netaddr

from nvapps import pipeline
from nvapps.model import ipam
from nvapps.model.base import Change, Resource, Rules, resource
from nvapps.model.context import Context
from nvapps.model.errors import BadRequest, Conflict, Forbidden
from nvapps.model.fields import (
    attr,
    check_bool,
    check_cidr,
    check_ip,
    check_ip_or_cidr,
    check_mac,
    check_name,
    check_optional_ip,
    check_profile,
    check_str,
    check_uuid,
    dict_with,
    given,
    list_of,
    nullable,
    one_of,
)

if TYPE_CHECKING:
    from nvapps.model.service import Model

ROUTER_INTERFACE = "network:router_interface"
ROUTER_GATEWAY = "network:router_gateway"
FLOATINGIP = "network:floatingip"
L2_GATEWAY = "network:l2_gateway"
LOADBALANCER_VIP = "Octavia"                  # a load balancer's VIP port (Octavia's device owner)
SERVICE_OWNED = (ROUTER_INTERFACE, ROUTER_GATEWAY, FLOATINGIP, L2_GATEWAY, LOADBALANCER_VIP)   # made and deleted with their service

FLAT = "flat"            # a provider network: a physical network reached through gateway uplinks
TENANT_TYPES = ("vlan", "vxlan", "geneve")   # vlan: the key is the VLAN id on the inter-chassis link
ENCAP_OVERHEAD = {"vlan": 0, "vxlan": 50, "geneve": 58}   # bytes a tunnel adds (IPv4 underlay)


@dataclass(frozen=True)
class TenantNetworks:
    """How tenant networks are carried between chassis (a deployment setting) and the underlay's MTU."""

    type: str = "vlan"
    underlay_mtu: int = 1500

    def mtu(self, network_type: str) -> int:
        """The MTU a network of `network_type` offers its ports: what fits in the underlay once encapsulated."""
        return self.underlay_mtu - ENCAP_OVERHEAD.get(network_type, 0)


@resource
class Network(Resource):
    """A tenant's L2 broadcast domain (or, with router:external, a provider network)."""

    KIND: ClassVar[str] = "network"
    COLLECTION: ClassVar[str] = "networks"
    SCHEMA_RULES: ClassVar[list[dict]] = [    # a flat network names its physical network; only a flat one does
        {"if": {"required": ["provider:network_type"], "properties": {"provider:network_type": {"const": FLAT}}},
         "then": given("provider:physical_network")},
        {"if": given("provider:physical_network"), "then": {"properties": {"provider:network_type": {"const": FLAT}}}},
    ]

    admin_state_up: bool = attr(check_bool, default=True)
    shared: bool = attr(check_bool, admin=True, default=False)
    external: bool = attr(check_bool, api="router:external", admin=True, default=False)
    mtu: int = attr(create=False, update=False, default=1500)
    status: str = attr(create=False, update=False, default="ACTIVE")
    subnets: list = attr(create=False, update=False, default_factory=list)
    network_type: str = attr(one_of(FLAT, *TENANT_TYPES), api="provider:network_type", admin=True, update=False,
                             default="")
    physical_network: str | None = attr(nullable(check_name), api="provider:physical_network", admin=True,
                                        update=False, default=None)
    segmentation_id: int = attr(api="provider:segmentation_id", create=False, update=False, default=0)

    def public(self) -> bool:
        return self.shared or self.external

    @property
    def key(self) -> int:
        """The network's key in the pipeline (metadata) and on the wire (VLAN id / VNI)."""
        return self.segmentation_id


@resource
class Subnet(Resource):
    """An IP range on a network."""

    KIND: ClassVar[str] = "subnet"
    COLLECTION: ClassVar[str] = "subnets"
    SCHEMA_RULES: ClassVar[list[dict]] = [    # the IPv6 modes: IPv6 with DHCP only, equal when both given, /64 to form
        {"if": {"not": {"required": ["ip_version"], "properties": {"ip_version": {"const": 6}}}},
         "then": {"properties": {"ipv6_ra_mode": {"const": None}, "ipv6_address_mode": {"const": None}}}},
        {"if": {"required": ["enable_dhcp"], "properties": {"enable_dhcp": {"const": False}}},
         "then": {"properties": {"ipv6_ra_mode": {"const": None}, "ipv6_address_mode": {"const": None}}}},
        *({"if": {"required": ["ipv6_ra_mode"], "properties": {"ipv6_ra_mode": {"const": mode}}},
           "then": {"properties": {"ipv6_address_mode": {"enum": [mode, None]}}}} for mode in ipam.IPV6_MODES),
        *({"if": {"required": [mode], "properties": {mode: {"enum": ipam.AUTO_ADDRESS_MODES}}},
           "then": {"properties": {"cidr": {"pattern": "/64$"}}}} for mode in ("ipv6_ra_mode", "ipv6_address_mode")),
    ]

    network_id: str = attr(check_uuid, update=False, required=True, default="")
    ip_version: int = attr(one_of(4, 6), update=False, default=4)
    cidr: str = attr(check_cidr, update=False, required=True, default="")
    gateway_ip: str | None = attr(check_optional_ip, default="")
    allocation_pools: list = attr(list_of(dict_with({"start": check_ip, "end": check_ip}, ("start", "end"))),
                                  default_factory=list)
    enable_dhcp: bool = attr(check_bool, default=True)
    dns_nameservers: list = attr(list_of(check_ip), default_factory=list)
    host_routes: list = attr(list_of(dict_with({"destination": check_cidr, "nexthop": check_ip},
                                               ("destination", "nexthop"))), default_factory=list)
    ipv6_ra_mode: str | None = attr(nullable(one_of(*ipam.IPV6_MODES)), update=False, default=None)
    ipv6_address_mode: str | None = attr(nullable(one_of(*ipam.IPV6_MODES)), update=False, default=None)
    shared: bool = attr(create=False, update=False, internal=True, default=False)   # its network's, kept in step

    def public(self) -> bool:
        """Every project reads the subnets of a shared network (Neutron's get_subnet: owner or shared)."""
        return self.shared


@resource
class Port(Resource):
    """A tenant's attachment point on a network: a MAC, fixed IPs and where it is bound."""

    KIND: ClassVar[str] = "port"
    COLLECTION: ClassVar[str] = "ports"
    SCHEMA_RULES: ClassVar[list[dict]] = [    # security groups need port security
        {"if": {"required": ["port_security_enabled"], "properties": {"port_security_enabled": {"const": False}}},
         "then": {"properties": {"security_groups": {"maxItems": 0}}}},
    ]

    network_id: str = attr(check_uuid, update=False, required=True, default="")
    mac_address: str = attr(check_mac, default="")
    fixed_ips: list | None = attr(list_of(dict_with({"subnet_id": check_uuid, "ip_address": check_ip},
                                                    any_of=("subnet_id", "ip_address"))),
                                  default=None)
    admin_state_up: bool = attr(check_bool, default=True)
    device_id: str = attr(check_str, default="")
    device_owner: str = attr(check_str, default="")
    status: str = attr(create=False, update=False, default="DOWN")
    host_id: str = attr(check_str, api="binding:host_id", admin=True, default="")
    profile: dict = attr(check_profile, api="binding:profile", admin=True, default_factory=dict)
    vif_type: str = attr(api="binding:vif_type", create=False, update=False, default="ovs")
    port_security_enabled: bool = attr(check_bool, default=True)
    security_groups: list | None = attr(list_of(check_uuid), default=None)
    allowed_address_pairs: list = attr(list_of(dict_with({"ip_address": check_ip_or_cidr, "mac_address": check_mac},
                                                         ("ip_address",))), default_factory=list)
    key: int = attr(create=False, update=False, internal=True, default=0)

    @property
    def interface_name(self) -> str | None:
        """The switch interface this port is bound to (binding:profile.interface_name)."""
        return self.profile.get("interface_name")

    @property
    def vlan(self) -> int | None:
        """The VLAN the port is on its interface (binding:profile.vlan), or None: untagged."""
        return self.profile.get("vlan")

    @property
    def ip_addresses(self) -> list[str]:
        """The port's fixed IPs (not kept on the port: a field added after the fact costs ~770 bytes a port)."""
        return [ip["ip_address"] for ip in self.fixed_ips or []]


# ---- rules ----

def owned_network(model: "Model", network_id: str, ctx: Context) -> Network:
    """The network `network_id` if `ctx` may build on it (404 if it cannot see it, 403 if only read it)."""
    net = model.get("network", network_id, ctx)
    if not ctx.owns(net) and not net.shared:
        raise Forbidden(f"Network {network_id} belongs to another project")
    return net


def prepare_network(model: "Model", net: Network, old: Network | None, ctx: Context):
    if old is None:
        net = _provider(model, net)
        key = model.next_key("network", pipeline.MAX_NETWORK_KEY)
        if key is None:
            raise Conflict("no free network segmentation id left", "NoNetworkAvailable")
        net = replace(net, segmentation_id=key, subnets=[])
        return net, []
    _check_still_valid(model, net, old)
    return net, [Change("subnet", s, replace(s, shared=net.shared))
                 for s in model.list("subnet", {"network_id": [net.id]}) if s.shared != net.shared]


def _check_still_valid(model: "Model", net: Network, old: Network) -> None:
    """An admin may not unmake an external network that gateways or floating IPs use, nor unshare a
    network other projects have ports on (409, as Neutron)."""
    if old.external and not net.external and (
            any((r.external_gateway_info or {}).get("network_id") == net.id for r in model.list("router"))
            or model.list("floatingip", {"floating_network_id": [net.id]})):
        raise Conflict(f"External network {net.id} cannot be updated to be non-external: router gateways or "
                       f"floating IPs use it.", "ExternalNetworkInUse")
    if old.shared and not net.shared and any(
            p.project_id not in ("", net.project_id) for p in model.list("port", {"network_id": [net.id]})):
        raise Conflict(f"Unable to reconfigure sharing settings for network {net.id}. Multiple tenants are "
                       f"using it.", "InvalidSharedSetting")


def _provider(model: "Model", net: Network) -> Network:
    """A flat network names its physical network, and is the only one on it; other networks are tenant ones."""
    tenant = model.tenant_networks
    kind = net.network_type or (FLAT if net.physical_network else tenant.type)
    if kind not in (FLAT, tenant.type):
        raise BadRequest(f"tenant networks here are {tenant.type} networks, not {kind}", "InvalidInput")
    if kind == FLAT and not net.physical_network:
        raise BadRequest("provider:physical_network is required for a flat network", "InvalidInput")
    if kind != FLAT and net.physical_network:
        raise BadRequest(f"provider:physical_network needs provider:network_type {FLAT}", "InvalidInput")
    if kind == FLAT:
        holder = next((n.id for n in model.list("network", {"provider:physical_network": [net.physical_network or ""]})), None)
        if holder is not None:
            raise Conflict(f"Unable to create the flat network. Physical network {net.physical_network} is in "
                           f"use by network {holder}.", "FlatNetworkInUse")
    return replace(net, network_type=kind, mtu=tenant.mtu(kind))


def deleting_network(model: "Model", net: Network, ctx: Context) -> list[Change]:
    if model.list("port", {"network_id": [net.id]}):
        raise Conflict(f"Unable to complete operation on network {net.id}. There are one or more ports "
                       f"still in use on the network.", "NetworkInUse")
    subnets = model.list("subnet", {"network_id": [net.id]})
    acls = model.list("network_acl", {"network_id": [net.id]})
    return [Change("network", net, None)] + [Change("subnet", s, None) for s in subnets] + \
        [Change("network_acl", a, None) for a in acls]


def prepare_subnet(model: "Model", sub: Subnet, old: Subnet | None, ctx: Context):
    net = model.get("network", sub.network_id, ctx)
    if not ctx.owns(net):            # not only shared with it: a subnet is its network's owner's
        raise Forbidden(f"Network {net.id} belongs to another project")
    cidr = netaddr.IPNetwork(sub.cidr)
    if cidr.version != sub.ip_version:
        raise BadRequest(f"cidr {sub.cidr} does not match ip_version {sub.ip_version}")
    _check_usable(sub, cidr)
    _check_ipv6_modes(sub, cidr)
    for other in model.list("subnet", {"network_id": [net.id]}):
        theirs = netaddr.IPNetwork(other.cidr)
        if other.id != sub.id and (cidr in theirs or theirs in cidr):
            raise Conflict(f"Requested subnet with cidr: {sub.cidr} for network: {net.id} overlaps "
                             f"with another subnet.")
    hosts = ipam.host_range(cidr)
    if hosts is None:
        raise BadRequest(f"cidr {sub.cidr} has no room for hosts")
    if sub.gateway_ip == "":
        sub = replace(sub, gateway_ip=str(netaddr.IPAddress(hosts[0], cidr.version)))
    if sub.gateway_ip is not None:
        gw = netaddr.IPAddress(sub.gateway_ip)
        if gw.version != cidr.version or not hosts[0] <= int(gw) <= hosts[1]:
            raise BadRequest(f"Gateway IP {sub.gateway_ip} is not a valid host address of subnet {sub.cidr}")
    if not sub.allocation_pools:
        sub = replace(sub, allocation_pools=ipam.default_pools(hosts, sub.gateway_ip, cidr.version))
    ipam.check_pools(sub, hosts)
    if old is not None:
        if sub.gateway_ip != old.gateway_ip and any(
                p.device_owner == ROUTER_INTERFACE and any(ip["subnet_id"] == sub.id for ip in p.fixed_ips or [])
                for p in model.list("port", {"network_id": [net.id]})):
            raise Conflict(f"Gateway {old.gateway_ip} in subnet {sub.id} is used by a router interface.",
                           "GatewayIpInUse")
        return sub, []
    slaac = [Change("port", p, replace(p, fixed_ips=[*(p.fixed_ips or []), ipam.formed(sub, p.mac_address)]))
             for p in model.list("port", {"network_id": [net.id]})
             if ipam.auto_address(sub) and p.device_owner not in SERVICE_OWNED]      # existing ports form theirs
    return replace(sub, shared=net.shared), [Change("network", net, replace(net, subnets=[*net.subnets, sub.id])),
                                             *slaac]


def _check_ipv6_modes(sub: Subnet, cidr: netaddr.IPNetwork) -> None:
    """Neutron's rules for ipv6_ra_mode and ipv6_address_mode: IPv6 only, the same when both are given, DHCP
    enabled, and a /64 where addresses are formed from MACs (EUI-64)."""
    modes = [m for m in (sub.ipv6_ra_mode, sub.ipv6_address_mode) if m is not None]
    if not modes:
        return
    if sub.ip_version != 6:
        raise BadRequest("ipv6_ra_mode and ipv6_address_mode are for IPv6 subnets only (ip_version 6)", "InvalidInput")
    if len(set(modes)) > 1:
        raise BadRequest(f"ipv6_ra_mode set to '{sub.ipv6_ra_mode}' with ipv6_address_mode set to "
                         f"'{sub.ipv6_address_mode}' is not valid. If both attributes are set, they must be the same "
                         f"value", "InvalidInput")
    if not sub.enable_dhcp:
        raise BadRequest("Cannot disable enable_dhcp with ipv6 attributes set", "InvalidInput")
    if ipam.auto_address(sub) and cidr.prefixlen != 64:
        raise BadRequest(f"Invalid CIDR {sub.cidr} for IPv6 address mode. OpenStack uses the EUI-64 address format, "
                         f"which requires the prefix to be /64", "InvalidInput")


def _check_usable(sub: Subnet, cidr: netaddr.IPNetwork) -> None:
    """Neutron's refusals: no subnet of everything; no multicast or loopback subnet with DHCP."""
    if cidr.prefixlen == 0:
        raise BadRequest(f"{sub.cidr} is not allowed as a subnet", "InvalidInput")
    for kind, test in (("Multicast", cidr.ip.is_multicast), ("Loopback", cidr.ip.is_loopback)):
        if test() and sub.enable_dhcp:
            raise BadRequest(f"{kind} IP subnet is not supported if enable_dhcp is True.", "InvalidInput")


def deleting_subnet(model: "Model", sub: Subnet, ctx: Context) -> list[Change]:
    """A subnet goes once no port holds an address on it, but the addresses formed from MACs on an
    auto-address subnet (those go with it, as in Neutron); a router's interface always holds it."""
    users = [p for p in model.list("port", {"network_id": [sub.network_id]})
             if any(ip.get("subnet_id") == sub.id for ip in p.fixed_ips or [])]
    if any(p.device_owner in SERVICE_OWNED or not ipam.auto_address(sub) for p in users):
        raise Conflict(f"Unable to complete operation on subnet {sub.id}: One or more ports have an IP "
                       f"allocation from this subnet.", "SubnetInUse")
    changes = [Change("port", p, replace(p, fixed_ips=[ip for ip in p.fixed_ips or [] if ip["subnet_id"] != sub.id]))
               for p in users]
    changes.append(Change("subnet", sub, None))
    net = model.find("network", sub.network_id)
    if net is not None:
        changes.append(Change("network", net, replace(net, subnets=[s for s in net.subnets if s != sub.id])))
    return changes


def prepare_port(model: "Model", port: Port, old: Port | None, ctx: Context):
    net = model.get("network", port.network_id, ctx) if old else owned_network(model, port.network_id, ctx)
    if _check_device(port, old, ctx):
        return port, []         # a service's port: only its name and description changed
    if net.external and not net.shared and not ctx.is_admin:
        raise Forbidden(f"Only admins create or change ports on external network {net.id}")
    others = [p for p in model.list("port", {"network_id": [net.id]}) if p.id != port.id]
    if not port.mac_address:
        port = replace(port, mac_address=ipam.new_mac({p.mac_address for p in others}))
    elif port.mac_address in {p.mac_address for p in others}:
        raise Conflict(f"Unable to complete operation for network {net.id}. The mac address "
                       f"{port.mac_address} is in use.", "MacAddressInUse")
    check_binding_free(model, port.host_id, port.interface_name, port.vlan, port.id)
    subnets = {s.id: s for s in model.list("subnet", {"network_id": [net.id]})}
    used = {(ip["subnet_id"], ip["ip_address"]) for p in others for ip in p.fixed_ips or []}
    if port.fixed_ips is None:
        port = replace(port, fixed_ips=ipam.auto_ips(subnets.values(), used, port.mac_address))
    elif old is None or port.fixed_ips != old.fixed_ips:
        port = replace(port, fixed_ips=ipam.resolve_ips(port.fixed_ips, subnets, used, net.id,
                                                        may_use_gateway=ctx.is_admin or ctx.owns(net),
                                                        mac=port.mac_address))
        if old is None and port.device_owner not in SERVICE_OWNED:      # auto-address subnets not named too
            port = replace(port, fixed_ips=ipam.with_formed(port.fixed_ips or [], subnets.values(), port.mac_address))
    elif port.mac_address != old.mac_address:        # addresses formed from the old MAC follow the new one
        port = replace(port, fixed_ips=ipam.follow_mac(port.fixed_ips or [], subnets, port.mac_address))
    port, extra = _security_groups(model, port, old, ctx)
    if old is None:
        port = replace(port, key=new_port_key(model))
    return port, extra


SERVICE_FIELDS = ("name", "description")     # what PUT may change on a service's port


def _check_device(port: Port, old: Port | None, ctx: Context) -> bool:
    """Ownership by construction: the ports of routers, floating IPs and L2 gateways come, change and go
    only with their service's operations, and only admins give or take any other network:* owner. True
    when `port` is a service's port (of which PUT changed only SERVICE_FIELDS)."""
    before = old.device_owner if old is not None else ""
    if old is not None and before in SERVICE_OWNED:
        changed = [f.name for f in fields(port)
                   if f.name not in SERVICE_FIELDS and getattr(port, f.name) != getattr(old, f.name)]
        if changed:
            raise Conflict(f"Port {port.id} belongs to its {before} {old.device_id}: it changes only with it "
                           f"(not {', '.join(changed)}).", "PortInUse")
        return True
    if port.device_owner in SERVICE_OWNED:
        raise BadRequest(f"Ports with device_owner {port.device_owner} are made by their service's operations "
                         f"(add_router_interface, external_gateway_info, floating IPs, L2 gateway connections, load "
                         f"balancers), "
                         f"not by POST or PUT /ports.")
    if port.device_owner != before and "network:" in (port.device_owner[:8], before[:8]) and not ctx.is_admin:
        raise Forbidden(f"Policy doesn't allow {'create' if old is None else 'update'}_port:device_owner to be "
                        f"performed.")
    return False


def check_binding_free(model: "Model", host_id: str, interface: str | None, vlan: int | None,
                       port_id: str = "") -> None:
    """409 if another port holds the interface: untagged, or in the same VLAN (an interface is either one
    untagged port or VLAN ports)."""
    if not host_id or not interface:
        return
    for p in model.list("port", {"binding:host_id": [host_id]}):
        if p.id != port_id and p.interface_name == interface and (vlan is None or p.vlan in (None, vlan)):
            raise Conflict(f"Interface {interface} on {host_id} is already bound to port {p.id}"
                           f"{f' (VLAN {p.vlan})' if p.vlan else ''}.", "PortBindingConflict")


def new_port_key(model: "Model", taken: Iterable[int] = ()) -> int:
    """A logical port key no port has, nor one of `taken` (409 when they are all taken)."""
    key = model.next_key("port", pipeline.MAX_PORT_KEY, taken)
    if key is None:
        raise Conflict("no free port key left")
    return key


def _security_groups(model: "Model", port: Port, old: Port | None, ctx: Context) -> tuple[Port, list[Change]]:
    """A new port with port security gets its project's default group unless it names groups."""
    from nvapps.model.security import default_group
    extra: list[Change] = []
    groups = port.security_groups
    if groups is None:
        if port.port_security_enabled and not port.device_owner.startswith("network:"):
            group, extra = default_group(model, port.project_id)
            groups = [group.id]
        else:
            groups = []
    if groups and not port.port_security_enabled:
        raise BadRequest("Port security must be enabled and port must have an IP address in order to use "
                         "security groups.", "PortSecurityAndIPRequiredForSecurityGroups")
    for gid in port.security_groups or []:
        group = model.get("security_group", gid, ctx)
        if group.project_id != port.project_id:
            raise Conflict(f"Security group {gid} belongs to another project than port {port.id}")
    return replace(port, security_groups=list(dict.fromkeys(groups))), extra


def deleting_port(model: "Model", port: Port, ctx: Context) -> list[Change]:
    if port.device_owner in SERVICE_OWNED:
        raise Conflict(f"Port {port.id} cannot be deleted directly via the port API: has device owner "
                       f"{port.device_owner}.", "L3PortInUse")
    from nvapps.model.port_forwarding import released
    forwardings = released(model.list("port_forwarding", {"internal_port_id": [port.id]}), model)
    return [*forwardings, Change("port", port, None), *disassociated(model, port)]


def disassociated(model: "Model", port: Port) -> list[Change]:
    """The floating IPs of a port being deleted, left without it."""
    return [Change("floatingip", f, replace(f, port_id=None, fixed_ip_address=None, router_id=None, status="DOWN"))
            for f in model.list("floatingip", {"port_id": [port.id]})]


RULES = [
    Rules(Network, prepare_network, deleting_network),
    Rules(Subnet, prepare_subnet, deleting_subnet),
    Rules(Port, prepare_port, deleting_port),
]
