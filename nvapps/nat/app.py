"""The NAT os-ken app: `osken-manager nvapps.nat.app nvapps.l3.app nvapps.l2.app` connects tenant routers
to external networks through gateway uplinks (--nvapps-uplinks): SNAT, floating IPs, port forwarding."""
from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass

import netaddr
from os_ken.base import app_manager
from os_ken.lib import hub
from os_ken.lib.packet import arp, ethernet, icmpv6, ipv6, packet

from nvapps import config, pipeline
from nvapps.core import messages
from nvapps.core.app import SwitchError
from nvapps.core.events import EventEdgeSynced, EventPacketIn
from nvapps.core.nd import HOP_LIMIT, ICMPV6, IPV6, solicited_node
from nvapps.core.service import ServiceApp
from nvapps.core.topology import Chassis
from nvapps.l2.flows import ARP
from nvapps.model.base import Change
from nvapps.model.port_forwarding import PortForwarding
from nvapps.model.router import FloatingIP
from nvapps.nat import flows
from nvapps.nat.flows import PROTOCOLS

app_manager.require_app("nvapps.core.app")
app_manager.require_app("nvapps.rest.app")
app_manager.require_app("nvapps.l2.app")
app_manager.require_app("nvapps.l3.app")

LOG = logging.getLogger(__name__)

PUNT_RATE_PPS = 50      # next hops the controller resolves per second and switch, at most
# A floating IP's own flows, by table: the field that holds it (to it: rx, from it: tx).
DIRECTION = {pipeline.Table.NAT_UPLINK_IN: "ipv4_dst", pipeline.Table.NAT_EGRESS: "ipv4_src"}
FLUSH_AGAIN_AFTER = 0.5  # seconds: the datapath's cached flows are revalidated by then
BROADCAST = "ff:ff:ff:ff:ff:ff"


@dataclass(frozen=True)
class FloatingCounters:
    """A floating IP's traffic on its router's gateway chassis: packets and bytes to it from outside (rx)
    and from it to outside (tx)."""

    floating: flows.Floating
    chassis: str
    rx_packets: int
    rx_bytes: int
    tx_packets: int
    tx_bytes: int


@dataclass(frozen=True)
class Flush:
    """Conntrack entries to clear in a router's zone: connections to (and from) a floating address."""

    physnet: str | None
    zone: int
    address: str
    ip_proto: int = 0
    port: int | None = None


class NatApp(ServiceApp):
    """The provider edge: each router meets its external network on one gateway chassis."""

    SERVICE = flows.SERVICE
    KINDS = frozenset({"network", "subnet", "port", "router", "floatingip", "port_forwarding"})
    _EVENTS = [EventEdgeSynced]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.name = "nvnat"
        self._owed: dict[str, list[Flush]] = defaultdict(list)     # conntrack flushes by chassis, until synced
        self._announced: dict[str, set[tuple[str, str, str]]] = defaultdict(set)
        self._counted: list[FloatingCounters] = []       # the floating IPs' traffic, as last polled

    def start(self):
        thread = super().start()
        self.threads.append(hub.spawn(self._poll_floating))
        return thread

    def setup(self, chassis: Chassis) -> None:
        self.core.ensure_meter(chassis, pipeline.app_meter(self.APP_ID), PUNT_RATE_PPS)
        self._announced.pop(chassis.name, None)      # a (re)connected chassis announces its addresses afresh

    def noticed(self, changes: list[Change]) -> None:
        """A floating IP that lost or changed its port, or a port forwarding that went or changed: the
        connections it allowed are cleared once its flows are gone."""
        fips_before = {c.old.id: c.old for c in changes if isinstance(c.old, FloatingIP)}
        for c in changes:
            old, new = c.old, c.new
            if isinstance(old, FloatingIP) and old.port_id and old.router_id and (
                    not isinstance(new, FloatingIP) or (new.port_id, new.fixed_ip_address) != (old.port_id, old.fixed_ip_address)):
                self._flush_for(old.floating_network_id, old.router_id, old.floating_ip_address)
            elif isinstance(old, PortForwarding) and new != old:
                fip: FloatingIP | None = fips_before.get(old.floatingip_id) or self.model.find("floatingip", old.floatingip_id)
                if fip is not None and fip.router_id:
                    self._flush_for(fip.floating_network_id, fip.router_id, fip.floating_ip_address,
                                    PROTOCOLS[old.protocol][0], old.external_port)

    def _flush_for(self, network_id: str, router_id: str, address: str, ip_proto: int = 0,
                   port: int | None = None) -> None:
        net, router = self.model.find("network", network_id), self.model.find("router", router_id)
        if net is not None and router is not None:
            flush = Flush(net.physical_network, pipeline.router_zone(router.key), address, ip_proto, port)
            for chassis in {u.chassis for u in self.core.uplinks if u.physnet == net.physical_network}:
                self._owed[chassis].append(flush)

    def synced(self, chassis: Chassis, snapshot: flows.NatView) -> None:
        """Clear the connections of removed floating addresses (again a moment later: until the datapath
        has revalidated its cached flows, a packet in flight may commit the old translation once more);
        announce addresses newly active here. Flushes owed to a chassis wait until it holds the flows."""
        flushes = self._owed.pop(chassis.name, [])
        if flushes:
            if not self._flush(chassis, flushes):
                self._owed[chassis.name][:0] = flushes       # the switch went away: when it is back
            hub.spawn_after(FLUSH_AGAIN_AFTER, self._flush, chassis, flushes)
        active = {}
        for r in snapshot.routers:
            gw = r.gateway
            if gw.chassis == chassis.name:
                for ip in [gw.ip] + [f.address for f in r.floating]:
                    active[r.view.router.id, ip, gw.port.mac_address] = (gw, ip)
        for key in active.keys() - self._announced[chassis.name]:
            gw, ip = active[key]
            ofport = chassis.uplink_ofport(gw.physnet)
            if ofport is not None:     # gratuitous ARP: the physical network learns where the address is now
                self.core.packet_out(chassis, ofport, arp_request(gw.port.mac_address, ip, ip))
        self._announced[chassis.name] = set(active)
        self.send_event_to_observers(EventEdgeSynced(chassis, snapshot))

    def _flush(self, chassis: Chassis, flushes: list[Flush]) -> bool:
        """Connections to each address, and from it (1:1 only), in its router's zone; whether it worked."""
        try:
            for f in flushes:
                self.core.ct_flush(chassis, f.zone, messages.CtTuple(dst=f.address, dst_port=f.port), ip_proto=f.ip_proto)
                if f.port is None:
                    self.core.ct_flush(chassis, f.zone, reply=messages.CtTuple(dst=f.address))
        except SwitchError as exc:
            LOG.warning("clearing connections on %s failed: %s", chassis.name, exc)
            return False
        return True

    def floating_counters(self) -> list[FloatingCounters]:
        """Each floating IP's traffic, as last polled (every --nvapps-stats-interval seconds)."""
        return self._counted

    def _poll_floating(self) -> None:
        while self.is_active:
            self._counted = self._read_floating()
            hub.sleep(config.settings().stats_interval)

    def _read_floating(self) -> list[FloatingCounters]:
        """Each floating IP's traffic, from the counters of its own flows (tables 40 and 44) on its router's
        gateway chassis (to its gateway MAC, and to its uplink's BGP speaker as next hop): one flow-stats request
        per gateway chassis."""
        by_chassis: dict[str, list[flows.NatRouter]] = defaultdict(list)
        for r in self.reading.routers if self.reading else ():
            if r.gateway.chassis is not None and r.floating:
                by_chassis[r.gateway.chassis].append(r)
        out = []
        for name, routers in by_chassis.items():
            chassis = self.core.chassis.get(name)
            try:
                entries = self.core.flows_of(chassis, self.APP_ID) if chassis is not None else []
            except SwitchError:
                continue
            counted: dict[tuple[str, str], tuple[int, int]] = {}
            for e in entries:
                if e.priority == pipeline.Priority.OVERRIDE and e.table_id in DIRECTION:
                    field = DIRECTION[e.table_id]
                    packets, octets = counted.get((e.match.get(field), field), (0, 0))
                    counted[e.match.get(field), field] = (packets + e.packet_count, octets + e.byte_count)
            for r in routers:
                for f in r.floating:
                    rx, tx = counted.get((f.address, "ipv4_dst"), (0, 0)), counted.get((f.address, "ipv4_src"), (0, 0))
                    out.append(FloatingCounters(f, name, *rx, *tx))
        return out

    def packet_in(self, ev: EventPacketIn) -> None:
        """A packet routed out to a next hop whose MAC is unknown: ask for it on the uplink (ARP, or a neighbour
        solicitation for IPv6; the answer teaches the binding; the packet itself is dropped)."""
        frame = packet.Packet(ev.data).get_protocol(ethernet.ethernet)
        hop, hop6 = ev.fields.get(pipeline.Reg.NEXT_HOP), next_hop6(ev.fields)
        if not (hop or hop6) or frame is None:
            return
        for r in self.reading.routers if self.reading else ():
            gw = r.gateway
            if gw.port.mac_address == frame.src and gw.chassis == ev.chassis.name:
                ofport = ev.chassis.uplink_ofport(gw.physnet)
                if ofport is None or (not hop and gw.ip6 is None):
                    return
                target = str(netaddr.IPAddress(hop, 4)) if hop else str(netaddr.IPAddress(hop6, 6))
                ask = arp_request(gw.port.mac_address, gw.ip, target) if hop else \
                    neighbor_solicitation(gw.port.mac_address, gw.ip6 or "", target)
                try:
                    self.core.packet_out(ev.chassis, ofport, ask)
                except SwitchError as exc:
                    LOG.warning("asking for %s on %s failed: %s", target, ev.chassis.name, exc)
                return


def next_hop6(fields: dict[str, int]) -> int:
    """The IPv6 next hop a packet-in carries in xxreg1 (the switch reports it as reg4..reg7)."""
    return sum(fields.get(f"reg{4 + i}", 0) << (96 - 32 * i) for i in range(4))


def arp_request(mac: str, ip: str, target: str) -> bytes:
    """An ARP request from `mac`/`ip` for `target` (gratuitous when `target` is `ip`), broadcast."""
    pkt = packet.Packet()
    pkt.add_protocol(ethernet.ethernet(dst=BROADCAST, src=mac, ethertype=ARP))
    pkt.add_protocol(arp.arp(opcode=arp.ARP_REQUEST, src_mac=mac, src_ip=ip, dst_mac="00:00:00:00:00:00",
                             dst_ip=target))
    pkt.serialize()
    return bytes(pkt.data)


def neighbor_solicitation(mac: str, ip: str, target: str) -> bytes:
    """A neighbour solicitation from `mac`/`ip` for `target`, to its solicited-node multicast address."""
    group, group_mac = solicited_node(target)
    pkt = packet.Packet()
    pkt.add_protocol(ethernet.ethernet(dst=group_mac, src=mac, ethertype=IPV6))
    pkt.add_protocol(ipv6.ipv6(src=ip, dst=group, nxt=ICMPV6, hop_limit=HOP_LIMIT))
    pkt.add_protocol(icmpv6.icmpv6(type_=icmpv6.ND_NEIGHBOR_SOLICIT, data=icmpv6.nd_neighbor(
        dst=target, option=icmpv6.nd_option_sla(hw_src=mac))))
    pkt.serialize()
    return bytes(pkt.data)
