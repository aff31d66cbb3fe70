"""IP address management: host ranges, allocation pools, fixed-IP allocation, MAC generation."""
from __future__ import annotations

import random
from itertools import pairwise
from typing import TYPE_CHECKING, Iterable

import netaddr

from nvapps.model.errors import BadRequest, Conflict

if TYPE_CHECKING:
    from nvapps.model.network import Subnet

MAC_RETRIES = 16               # random MACs tried before giving up (Neutron: mac_generation_retries)
MAC_PREFIX = 0xFA163E000000   # Neutron's base MAC fa:16:3e
IPV6_MODES = ("slaac", "dhcpv6-stateful", "dhcpv6-stateless")
AUTO_ADDRESS_MODES = ("slaac", "dhcpv6-stateless")     # a port's address is formed from its MAC (EUI-64)


def auto_address(sub: "Subnet") -> bool:
    """Whether ports' addresses on `sub` are formed from their MACs (SLAAC), not allocated: either mode says
    so (Neutron's is_auto_address_subnet)."""
    return sub.ipv6_address_mode in AUTO_ADDRESS_MODES or sub.ipv6_ra_mode in AUTO_ADDRESS_MODES


def eui64(cidr: str, mac: str) -> str:
    """The modified EUI-64 address of `mac` in /64 `cidr`, as SLAAC forms it."""
    return str(netaddr.EUI(mac).ipv6(netaddr.IPNetwork(cidr).first))


def link_local(mac: str) -> str:
    """The link-local address an interface with `mac` forms (fe80::/64 + modified EUI-64)."""
    return str(netaddr.EUI(mac).ipv6_link_local())


def formed(sub: "Subnet", mac: str) -> dict:
    """The fixed IP a port with `mac` holds on auto-address subnet `sub`."""
    return {"subnet_id": sub.id, "ip_address": eui64(sub.cidr, mac)}


def host_range(cidr: netaddr.IPNetwork) -> tuple[int, int] | None:
    """First and last assignable addresses (IPv4 leaves out network and broadcast; IPv6 the subnet-router)."""
    first, last = int(cidr.first) + 1, int(cidr.last) - (1 if cidr.version == 4 else 0)
    if cidr.version == 4 and cidr.prefixlen >= 31:
        first, last = int(cidr.first), int(cidr.last)
    return (first, last) if first <= last else None


def default_pools(hosts: tuple[int, int], gateway: str | None, version: int) -> list[dict]:
    """The hosts of a subnet of IP `version` around its gateway, as allocation pools."""
    ranges = [hosts]
    if gateway is not None:
        gw = int(netaddr.IPAddress(gateway))
        ranges = [r for r in ((hosts[0], gw - 1), (gw + 1, hosts[1])) if r[0] <= r[1]]
    return [{"start": str(netaddr.IPAddress(a, version)), "end": str(netaddr.IPAddress(b, version))} for a, b in ranges]


def check_pools(sub: "Subnet", hosts: tuple[int, int]) -> None:
    spans = []
    version = netaddr.IPNetwork(sub.cidr).version
    for pool in sub.allocation_pools:
        first, last = netaddr.IPAddress(pool["start"]), netaddr.IPAddress(pool["end"])
        if first.version != version or last.version != version:
            raise BadRequest(f"The allocation pool {pool['start']}-{pool['end']} is not of the IP version of "
                             f"subnet {sub.cidr}.")
        start, end = int(first), int(last)
        if not hosts[0] <= start <= end <= hosts[1]:
            raise BadRequest(f"The allocation pool {pool['start']}-{pool['end']} spans beyond the subnet "
                             f"cidr {sub.cidr} or is reversed.", "OutOfBoundsAllocationPool")
        spans.append((start, end))
    spans.sort()
    for (_, end_a), (start_b, _) in pairwise(spans):
        if start_b <= end_a:
            raise BadRequest("Found overlapping allocation pools", "OverlappingAllocationPools")
    if sub.gateway_ip is not None:
        gw = int(netaddr.IPAddress(sub.gateway_ip))
        if any(a <= gw <= b for a, b in spans):
            raise Conflict(f"Gateway ip {sub.gateway_ip} conflicts with allocation pool",
                           "GatewayConflictWithAllocationPools")


def _pool_addresses(sub: "Subnet") -> Iterable[str]:
    for pool in sub.allocation_pools:
        for ip in netaddr.iter_iprange(pool["start"], pool["end"]):
            yield str(ip)


def allocate(sub: "Subnet", used: set[tuple[str, str]]) -> str | None:
    """The first free address of `sub`'s pools."""
    return next((ip for ip in _pool_addresses(sub) if (sub.id, ip) not in used), None)


def auto_ips(subnets: Iterable["Subnet"], used: set[tuple[str, str]], mac: str = "") -> list[dict]:
    """One address from the first IPv4 subnet (then stateful IPv6) of the network that has one free, and the
    address formed from `mac` on every auto-address subnet (with `mac`)."""
    subnets = list(subnets)
    auto = [formed(s, mac) for s in subnets if mac and auto_address(s)]
    pooled = [s for s in subnets if not (mac and auto_address(s))]
    for sub in sorted(pooled, key=lambda s: s.ip_version):
        ip = allocate(sub, used)
        if ip is not None:
            return [{"subnet_id": sub.id, "ip_address": ip}, *auto]
    if pooled and not auto:
        raise Conflict("No more IP addresses available on the network.", "IpAddressGenerationFailure")
    return auto


def with_formed(fixed_ips: list[dict], subnets: Iterable["Subnet"], mac: str) -> list[dict]:
    """The addresses and, on each auto-address subnet they do not name, the one formed from `mac`."""
    named = {ip["subnet_id"] for ip in fixed_ips}
    return [*fixed_ips, *(formed(s, mac) for s in subnets if auto_address(s) and s.id not in named)]


def follow_mac(fixed_ips: list[dict], subnets: dict[str, "Subnet"], mac: str) -> list[dict]:
    """The addresses with those on auto-address subnets formed again from `mac`."""
    return [formed(subnets[ip["subnet_id"]], mac) if ip["subnet_id"] in subnets and auto_address(subnets[ip["subnet_id"]])
            else ip for ip in fixed_ips]


def resolve_ips(requested: list[dict], subnets: dict[str, "Subnet"], used: set[tuple[str, str]],
                network_id: str, *, may_use_gateway: bool, mac: str = "") -> list[dict]:
    """Each requested fixed IP (naming a subnet, an address or both: the fields check it) checked against its
    subnet (found by address when not named) and allocated; on an auto-address subnet, the address formed from
    `mac` (the only one a port may hold there, but the gateway's)."""
    out: list[dict] = []
    for entry in requested:
        ip, sub_id = entry.get("ip_address"), entry.get("subnet_id")
        if sub_id is None:
            sub_id = next((s.id for s in subnets.values() if netaddr.IPAddress(ip) in netaddr.IPNetwork(s.cidr)),
                          None)
            if sub_id is None:
                raise Conflict(f"IP address {ip} is not a valid IP for any subnet on network {network_id}.",
                                 "InvalidIpForNetwork")
        sub = subnets.get(sub_id)
        if sub is None:
            raise Conflict(f"Subnet {sub_id} is not on network {network_id}.", "InvalidInput")
        taken = used | {(o["subnet_id"], o["ip_address"]) for o in out}
        if auto_address(sub) and mac:
            own = eui64(sub.cidr, mac)
            if ip is not None and ip not in (own, sub.gateway_ip if may_use_gateway else own):
                raise BadRequest(f"IPv6 address {ip} cannot be directly assigned to a port on subnet {sub.id} since "
                                 f"the subnet is configured for automatic addresses", "InvalidInput")
            ip = ip or own
        if ip is None:
            ip = allocate(sub, taken)
            if ip is None:
                raise Conflict(f"No more IP addresses available for subnet {sub.id}.", "IpAddressGenerationFailure")
        hosts = host_range(netaddr.IPNetwork(sub.cidr))
        addr = netaddr.IPAddress(ip)
        if addr.version != sub.ip_version or hosts is None or not hosts[0] <= int(addr) <= hosts[1] \
                or (ip == sub.gateway_ip and not may_use_gateway):
            raise Conflict(f"IP address {ip} is not a valid IP for the specified subnet.", "InvalidIpForSubnet")
        if (sub.id, ip) in taken:
            raise Conflict(f"IP address {ip} already allocated in subnet {sub.id}", "IpAddressAlreadyAllocated")
        out.append({"subnet_id": sub.id, "ip_address": ip})
    return out


def new_mac(used: set[str]) -> str:
    """A random MAC of our prefix that `used` does not hold, in MAC_RETRIES tries (as Neutron's
    mac_generation_retries), else MacAddressGenerationFailure."""
    for _ in range(MAC_RETRIES):
        mac = str(netaddr.EUI(MAC_PREFIX | random.getrandbits(24), dialect=netaddr.mac_unix_expanded))
        if mac not in used:
            return mac
    raise Conflict("Unable to generate unique mac on network.", "MacAddressGenerationFailure")
