"""The one way tenant objects change: validate against the whole model, store atomically, then notify."""
from __future__ import annotations

import logging
import random
import threading
from dataclasses import dataclass, replace
from itertools import pairwise
from typing import Callable, Iterable

import netaddr

from nvapps import pipeline
from nvapps.model.errors import BadRequest, Conflict, NotFound
from nvapps.model.objects import KINDS, Network, Port, Resource, Subnet
from nvapps.store.base import Store

LOG = logging.getLogger(__name__)

MAC_PREFIX = 0xFA163E000000   # Neutron's base MAC fa:16:3e


@dataclass(frozen=True)
class Change:
    """One object created (old None), updated, or deleted (new None)."""

    kind: str
    old: Resource | None
    new: Resource | None


Listener = Callable[[list[Change]], None]


def next_free(used: set[int], limit: int) -> int | None:
    """The lowest free key in 1..limit (the next after the highest when that is free)."""
    top = max(used, default=0) + 1
    if top <= limit:
        return top
    return next((k for k in range(1, limit + 1) if k not in used), None)


class Model:
    """Networks, subnets and ports: validated, stored, and announced to listeners after each commit."""

    def __init__(self, store: Store, default_project: str = "default") -> None:
        self.store = store
        self.default_project = default_project
        self._listeners: list[Listener] = []
        self._lock = threading.RLock()

    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    # ---- reads ----

    def get(self, kind: str, obj_id: str) -> Resource:
        cls = KINDS[kind]
        data = self.store.get(kind, obj_id)
        if data is None:
            raise NotFound(f"{cls.__name__} {obj_id} could not be found.", f"{cls.__name__}NotFound")
        return cls.from_store(data)

    def list(self, kind: str, filters: dict[str, list[str]] | None = None) -> list[Resource]:
        """Objects of `kind` whose API attributes equal one of the given values for every filter."""
        cls = KINDS[kind]
        objs = [cls.from_store(d) for d in self.store.list(kind)]
        for key, wanted in (filters or {}).items():
            objs = [o for o in objs if _as_text(o.to_api().get(key)) in wanted]
        return objs

    def networks(self) -> list[Network]:
        return self.list("network")  # type: ignore[return-value]

    def subnets(self) -> list[Subnet]:
        return self.list("subnet")  # type: ignore[return-value]

    def ports(self) -> list[Port]:
        return self.list("port")  # type: ignore[return-value]

    # ---- writes ----

    def create(self, kind: str, body: object, project_id: str | None = None) -> Resource:
        obj = KINDS[kind].from_body(body, project_id or self.default_project)
        with self._lock:
            if self.store.get(kind, obj.id) is not None:
                raise Conflict(f"{kind} {obj.id} already exists")
            obj, extra = getattr(self, f"_prepare_{kind}")(obj, None)
            return self._commit([Change(kind, None, obj), *extra])[0].new

    def update(self, kind: str, obj_id: str, body: object) -> Resource:
        with self._lock:
            old = self.get(kind, obj_id)
            obj, extra = getattr(self, f"_prepare_{kind}")(old.updated(body), old)
            return self._commit([Change(kind, old, obj), *extra])[0].new

    def delete(self, kind: str, obj_id: str) -> None:
        with self._lock:
            old = self.get(kind, obj_id)
            self._commit(getattr(self, f"_deleting_{kind}")(old))

    def _commit(self, changes: list[Change]) -> list[Change]:
        with self.store.transaction() as tx:
            for c in changes:
                if c.new is None:
                    tx.delete(c.kind, c.old.id)
                else:
                    tx.put(c.kind, c.new.id, c.new.to_store())
        for listener in self._listeners:
            try:
                listener(changes)
            except Exception:  # a listener's failure must not undo a committed write
                LOG.exception("model listener failed")
        return changes

    # ---- per-kind rules: each returns the object to store and other objects that change with it ----

    def _prepare_network(self, net: Network, old: Network | None) -> tuple[Network, list[Change]]:
        if old is None:
            key = next_free({n.segmentation_id for n in self.networks()}, pipeline.MAX_NETWORK_KEY)
            if key is None:
                raise Conflict("no free network segmentation id left", "NoNetworkAvailable")
            net = replace(net, segmentation_id=key, subnets=[])
        return net, []

    def _deleting_network(self, net: Network) -> list[Change]:
        in_use = [p.id for p in self.list("port", {"network_id": [net.id]})]
        if in_use:
            raise Conflict(f"Unable to complete operation on network {net.id}. There are one or more ports "
                           f"still in use on the network: {', '.join(in_use)}.", "NetworkInUse")
        subnets = self.list("subnet", {"network_id": [net.id]})
        return [Change("network", net, None)] + [Change("subnet", s, None) for s in subnets]

    def _prepare_subnet(self, sub: Subnet, old: Subnet | None) -> tuple[Subnet, list[Change]]:
        net = self._network(sub.network_id)
        if not sub.cidr:
            raise BadRequest("'cidr' is required to create a subnet")
        cidr = netaddr.IPNetwork(sub.cidr)
        if cidr.version != sub.ip_version:
            raise BadRequest(f"cidr {sub.cidr} does not match ip_version {sub.ip_version}")
        for other in self.list("subnet", {"network_id": [net.id]}):
            theirs = netaddr.IPNetwork(other.cidr)
            if other.id != sub.id and (cidr in theirs or theirs in cidr):
                raise BadRequest(f"Requested subnet with cidr: {sub.cidr} for network: {net.id} overlaps "
                                 f"with another subnet.")
        hosts = _host_range(cidr)
        if hosts is None:
            raise BadRequest(f"cidr {sub.cidr} has no room for hosts")
        if sub.gateway_ip == "":
            sub = replace(sub, gateway_ip=str(netaddr.IPAddress(hosts[0])))
        if sub.gateway_ip is not None and not hosts[0] <= int(netaddr.IPAddress(sub.gateway_ip)) <= hosts[1]:
            raise BadRequest(f"Gateway IP {sub.gateway_ip} is not a valid host address of subnet {sub.cidr}")
        if not sub.allocation_pools:
            sub = replace(sub, allocation_pools=_default_pools(hosts, sub.gateway_ip))
        _check_pools(sub, hosts)
        if old is not None:
            return sub, []
        updated_net = replace(net, subnets=[*net.subnets, sub.id])
        return sub, [Change("network", net, updated_net)]

    def _deleting_subnet(self, sub: Subnet) -> list[Change]:
        users = [p.id for p in self.ports() if any(ip.get("subnet_id") == sub.id for ip in p.fixed_ips or [])]
        if users:
            raise Conflict(f"Unable to complete operation on subnet {sub.id}: One or more ports have an IP "
                           f"allocation from this subnet.", "SubnetInUse")
        changes = [Change("subnet", sub, None)]
        net = self.store.get("network", sub.network_id)
        if net is not None:
            net = Network.from_store(net)
            changes.append(Change("network", net, replace(net, subnets=[s for s in net.subnets if s != sub.id])))
        return changes

    def _prepare_port(self, port: Port, old: Port | None) -> tuple[Port, list[Change]]:
        net = self._network(port.network_id)
        others = [p for p in self.list("port", {"network_id": [net.id]}) if p.id != port.id]
        if not port.mac_address:
            port = replace(port, mac_address=_new_mac({p.mac_address for p in others}))
        elif port.mac_address in {p.mac_address for p in others}:
            raise Conflict(f"Unable to complete operation for network {net.id}. The mac address "
                           f"{port.mac_address} is in use.", "MacAddressInUse")
        if port.host_id and port.interface_name:
            holder = next((p.id for p in self.ports() if p.id != port.id and p.host_id == port.host_id
                           and p.interface_name == port.interface_name), None)
            if holder is not None:
                raise Conflict(f"Interface {port.interface_name} on {port.host_id} is already bound to port "
                               f"{holder}.", "PortBindingConflict")
        subnets = {s.id: s for s in self.list("subnet", {"network_id": [net.id]})}
        used = {(ip["subnet_id"], ip["ip_address"]) for p in others for ip in p.fixed_ips or []}
        if port.fixed_ips is None:
            port = replace(port, fixed_ips=_auto_ips(subnets.values(), used))
        elif old is None or port.fixed_ips != old.fixed_ips:
            port = replace(port, fixed_ips=_resolve_ips(port.fixed_ips, subnets, used, net.id))
        if old is None:
            key = next_free({p.key for p in self.ports()}, pipeline.MAX_PORT_KEY)
            if key is None:
                raise Conflict("no free port key left")
            port = replace(port, key=key)
        return port, []

    def _deleting_port(self, port: Port) -> list[Change]:
        return [Change("port", port, None)]

    def _network(self, network_id: str) -> Network:
        if not network_id:
            raise BadRequest("'network_id' is required")
        data = self.store.get("network", network_id)
        if data is None:
            raise NotFound(f"Network {network_id} could not be found.", "NetworkNotFound")
        return Network.from_store(data)


def _as_text(value: object) -> str:
    if isinstance(value, bool):
        return str(value)   # "True"/"False", as Neutron compares booleans in filters
    return "" if value is None else str(value)


def _host_range(cidr: netaddr.IPNetwork) -> tuple[int, int] | None:
    """First and last assignable addresses (IPv4 leaves out network and broadcast; IPv6 the subnet-router)."""
    first, last = int(cidr.first) + 1, int(cidr.last) - (1 if cidr.version == 4 else 0)
    if cidr.version == 4 and cidr.prefixlen >= 31:
        first, last = int(cidr.first), int(cidr.last)
    return (first, last) if first <= last else None


def _default_pools(hosts: tuple[int, int], gateway: str | None) -> list[dict]:
    ranges = [hosts]
    if gateway is not None:
        gw = int(netaddr.IPAddress(gateway))
        ranges = [r for r in ((hosts[0], gw - 1), (gw + 1, hosts[1])) if r[0] <= r[1]]
    return [{"start": str(netaddr.IPAddress(a)), "end": str(netaddr.IPAddress(b))} for a, b in ranges]


def _check_pools(sub: Subnet, hosts: tuple[int, int]) -> None:
    spans = []
    for pool in sub.allocation_pools:
        start, end = int(netaddr.IPAddress(pool["start"])), int(netaddr.IPAddress(pool["end"]))
        if not hosts[0] <= start <= end <= hosts[1]:
            raise BadRequest(f"The allocation pool {pool['start']}-{pool['end']} spans beyond the subnet "
                             f"cidr {sub.cidr} or is reversed.")
        spans.append((start, end))
    spans.sort()
    for (_, end_a), (start_b, _) in pairwise(spans):
        if start_b <= end_a:
            raise BadRequest("Found overlapping allocation pools")
    if sub.gateway_ip is not None:
        gw = int(netaddr.IPAddress(sub.gateway_ip))
        if any(a <= gw <= b for a, b in spans):
            raise Conflict(f"Gateway ip {sub.gateway_ip} conflicts with allocation pool",
                           "GatewayConflictWithAllocationPools")


def _pool_addresses(sub: Subnet) -> Iterable[str]:
    for pool in sub.allocation_pools:
        for ip in netaddr.iter_iprange(pool["start"], pool["end"]):
            yield str(ip)


def _allocate(sub: Subnet, used: set[tuple[str, str]]) -> str | None:
    return next((ip for ip in _pool_addresses(sub) if (sub.id, ip) not in used), None)


def _auto_ips(subnets: Iterable[Subnet], used: set[tuple[str, str]]) -> list[dict]:
    """One address from the first IPv4 subnet (then IPv6) of the network that has one free."""
    for sub in sorted(subnets, key=lambda s: s.ip_version):
        ip = _allocate(sub, used)
        if ip is not None:
            return [{"subnet_id": sub.id, "ip_address": ip}]
    if subnets:
        raise Conflict("No more IP addresses available on the network.", "IpAddressGenerationFailure")
    return []


def _resolve_ips(requested: list[dict], subnets: dict[str, Subnet], used: set[tuple[str, str]],
                 network_id: str) -> list[dict]:
    """Each requested fixed IP checked against its subnet (found by address when not named) and allocated."""
    out: list[dict] = []
    for entry in requested:
        ip, sub_id = entry.get("ip_address"), entry.get("subnet_id")
        if sub_id is None and ip is None:
            raise BadRequest("a fixed_ips entry needs a subnet_id or an ip_address")
        if sub_id is None:
            sub_id = next((s.id for s in subnets.values() if netaddr.IPAddress(ip) in netaddr.IPNetwork(s.cidr)),
                          None)
            if sub_id is None:
                raise BadRequest(f"IP address {ip} is not a valid IP for any subnet on network {network_id}.",
                                 "InvalidIpForNetwork")
        sub = subnets.get(sub_id)
        if sub is None:
            raise BadRequest(f"Subnet {sub_id} is not on network {network_id}.", "InvalidInput")
        taken = used | {(o["subnet_id"], o["ip_address"]) for o in out}
        if ip is None:
            ip = _allocate(sub, taken)
            if ip is None:
                raise Conflict(f"No more IP addresses available for subnet {sub.id}.", "IpAddressGenerationFailure")
        hosts = _host_range(netaddr.IPNetwork(sub.cidr))
        addr = int(netaddr.IPAddress(ip))
        if netaddr.IPAddress(ip).version != sub.ip_version or not hosts[0] <= addr <= hosts[1] \
                or ip == sub.gateway_ip:
            raise BadRequest(f"IP address {ip} is not a valid IP for the specified subnet.", "InvalidIpForSubnet")
        if (sub.id, ip) in taken:
            raise Conflict(f"IP address {ip} already allocated in subnet {sub.id}", "IpAddressAlreadyAllocated")
        out.append({"subnet_id": sub.id, "ip_address": ip})
    return out


def _new_mac(used: set[str]) -> str:
    while True:
        mac = str(netaddr.EUI(MAC_PREFIX | random.getrandbits(24), dialect=netaddr.mac_unix_expanded))
        if mac not in used:
            return mac
