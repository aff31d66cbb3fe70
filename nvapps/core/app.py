"""The core os-ken app ("nvcore"): knows the switches, talks to them, and keeps the pipeline's spine.

It registers each switch as a chassis, tracks its interfaces, matches replies to requests by xid,
sends batches of flow/group mods as one atomic bundle, counts what it sends and receives, and installs
the stage pass-through flows so a stage whose service is not loaded is transparent.
Service apps never speak OpenFlow themselves: they hand desired state to nvapps.core.sync.
"""
from __future__ import annotations

import itertools
import logging
import struct
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from os_ken.base import app_manager
from os_ken.controller import ofp_event
from os_ken.controller.controller import Datapath
from os_ken.controller.handler import CONFIG_DISPATCHER, DEAD_DISPATCHER, MAIN_DISPATCHER, set_ev_cls
from os_ken.lib import hub
from os_ken.ofproto import ofproto_v1_3, ofproto_v1_3_parser

from nvapps import config, pipeline
from nvapps.core import conntrack, heap, lazystats, messages, ofp
from nvapps.core.election import Election
from nvapps.core.events import (
    EventChassisDown,
    EventChassisUp,
    EventInterfacesChanged,
    EventPacketIn,
    EventRoleChanged,
)
from nvapps.core.reconcile import Changes, Held
from nvapps.core.stages import stage_defaults
from nvapps.core.sync import FlowSync
from nvapps.core.topology import Chassis, Interface
from nvapps.store.etcd import EtcdClient

LOG = logging.getLogger(__name__)

ELECTION_KEY = "/nvapps/leader"         # outside the model's keys (the store watches objects/ and seq)

REPLY_TIMEOUT = 30.0
METER_EXISTS = (12, 1)          # OFPET_METER_MOD_FAILED, OFPMMFC_METER_EXISTS
OFPP_MAX = 0xFFFFFF00

lazystats.install()


class SwitchError(Exception):
    """A switch refused or did not answer a request."""


@dataclass
class SwitchStats:
    """What the controller sent to and got from one switch since it connected."""

    flow_mods: int = 0
    group_mods: int = 0
    packet_ins: int = 0
    errors: int = 0
    last_sync: dict = field(default_factory=dict)   # last reconcile per app: flow/group mods sent
    generation: dict = field(default_factory=dict)  # per app: (model, topology) generations its flows are from
    interfaces_at: int = 0                          # the topology generation when the interfaces last changed
    flows: dict = field(default_factory=dict)       # static flows each app holds on the switch now
    packet_ins_by_app: dict = field(default_factory=dict)   # packet-ins by the app id of their flow's cookie
    ports: dict = field(default_factory=dict)       # OpenFlow port -> PortCounters, as last polled
    drops: dict = field(default_factory=dict)       # packets dropped by reason (pipeline.drop_reason), polled
    app_flow_mods: dict = field(default_factory=dict)   # flow mods sent, by app
    sync_seconds: dict = field(default_factory=dict)    # seconds spent diffing and sending, by app


@dataclass(frozen=True)
class PortCounters:
    """One switch port's counters, as the switch sees them (rx: what the port's host sent)."""

    rx_packets: int
    tx_packets: int
    rx_bytes: int
    tx_bytes: int
    rx_dropped: int
    tx_dropped: int


class _Pending:
    """Replies to one xid, and whether the last one arrived."""

    def __init__(self, dpid: int) -> None:
        self.dpid = dpid
        self.replies: list[bytes] = []
        self.errors: list[bytes] = []
        self.done = hub.Event()


class CoreApp(app_manager.OSKenApp):
    """Switch registry, request/reply plumbing and the sending path for every nvapps service app."""

    OFP_VERSIONS = [ofproto_v1_3.OFP_VERSION]
    _EVENTS = [EventChassisUp, EventChassisDown, EventInterfacesChanged, EventPacketIn, EventRoleChanged]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.name = "nvcore"
        self.started = time.monotonic()
        heap.pin_mmap_threshold()
        self.chassis: dict[str, Chassis] = {}
        self.generation = 0     # +1 whenever a chassis or one of its interfaces comes, goes or changes
        self.datapaths: dict[int, Datapath] = {}
        self.stats: dict[int, SwitchStats] = {}
        self.services: set[str] = set()     # the service apps loaded (names as in SwitchStats)
        self.syncs: dict[pipeline.AppId, FlowSync] = {}     # each service app's FlowSync (what it installed where)
        self.conntrack: dict[str, dict[str, int]] = {}  # conntrack entries by zone kind, by datapath (polled)
        self._names = config.chassis_names()
        self._trunks = frozenset(config.settings().trunk_interfaces)
        self.uplinks = config.uplinks()
        self.speakers = config.bgp_speakers(self.uplinks)
        self._learned: dict[str, dict[str, tuple[tuple[str, str], ...]]] = {}    # by chassis, by physnet
        self._tunnel_ports = config.tunnel_ports()
        self._xids = itertools.count(0x10000000)
        self._bundle_ids = itertools.count(1)
        self._pending: dict[int, _Pending] = {}
        self._port_desc: dict[int, list] = {}
        self._stage_defaults = FlowSync(pipeline.AppId.CORE, self)
        store, endpoints = config.store_url()
        self._election = Election(EtcdClient(endpoints), ELECTION_KEY, config.controller_name(),
                                  self._role_changed) if store == "etcd" else None
        self.master = self._election is None    # alone, a controller is every switch's master

    def start(self):
        thread = super().start()
        self.threads.append(hub.spawn(self._poll_counters))
        if self._election is not None:
            self.threads.append(hub.spawn(self._election.run))
        return thread

    # ---- several controllers: roles ----

    def _role_changed(self, generation: int | None) -> None:
        """Became master (with `generation`) or stopped being it: tell every switch, then (as master) bring
        each up again: the services reconcile it by reading it back (no flow mods when nothing changed)."""
        self.master = generation is not None
        for dp in list(self.datapaths.values()):
            self._send_role(dp)
        for chassis in list(self.chassis.values()):
            if self.master:
                hub.spawn(self._bring_up, chassis)
            else:
                self._stage_defaults.forget(chassis.dpid)
        self.send_event_to_observers(EventRoleChanged(self.master))

    def _send_role(self, dp: Datapath) -> None:
        """This controller's role to switch `dp` (only with other controllers: alone it stays equal)."""
        if self._election is not None:
            ofproto = dp.ofproto
            role = ofproto.OFPCR_ROLE_MASTER if self.master else ofproto.OFPCR_ROLE_SLAVE
            dp.send_msg(dp.ofproto_parser.OFPRoleRequest(dp, role, self._election.leader_generation))

    # ---- switch life cycle ----

    @set_ev_cls(ofp_event.EventOFPStateChange, [MAIN_DISPATCHER, DEAD_DISPATCHER])
    def _state_change(self, ev) -> None:
        dp = ev.datapath
        if ev.state == MAIN_DISPATCHER:
            self.datapaths[dp.id] = dp
            self.stats[dp.id] = SwitchStats()
            self._port_desc[dp.id] = []
            dp.send_msg(dp.ofproto_parser.OFPPortDescStatsRequest(dp, 0))
        elif (dpid := dp.id) is not None and self.datapaths.get(dpid) is dp:
            del self.datapaths[dpid]
            chassis = self.chassis_of(dpid)
            for pending in self._pending.values():
                if pending.dpid == dpid:
                    pending.done.set()
            if chassis:
                del self.chassis[chassis.name]
                self.generation += 1
                self._stage_defaults.forget(dpid)
                LOG.info("chassis %s (dpid %#x) disconnected", chassis.name, dpid)
                self.send_event_to_observers(EventChassisDown(chassis))

    @set_ev_cls(ofp_event.EventOFPPortDescStatsReply, MAIN_DISPATCHER)
    def _port_desc_reply(self, ev) -> None:
        dp = ev.msg.datapath
        parts = self._port_desc.setdefault(dp.id, [])
        parts.extend(ev.msg.body)
        if ev.msg.flags & messages.OFPMPF_REPLY_MORE:
            return
        ports = self._port_desc.pop(dp.id)
        bridge = next((p.name.decode() for p in ports if p.port_no == ofp.OFPP_LOCAL), f"dp{dp.id:x}")
        name = self._names.get(dp.id, bridge)
        chassis = Chassis(name, dp.id, {}, self._trunks,
                          {u.physnet: u.interface for u in self.uplinks if u.chassis == name},
                          {kind: port.replace("{chassis}", name) for kind, port in self._tunnel_ports.items()},
                          bridge=bridge, speakers={s.physnet: s for s in self.speakers if s.chassis == name},
                          learned=self._learned.get(name, {}))
        for p in ports:
            if p.port_no < OFPP_MAX:
                chassis.interfaces[p.name.decode()] = _interface(p)
        self.chassis[name] = chassis
        self.generation += 1
        self.stats[dp.id].interfaces_at = self.generation
        LOG.info("chassis %s (dpid %#x) connected with %d interfaces", name, dp.id, len(chassis.interfaces))
        hub.spawn(self._bring_up, chassis)

    def _bring_up(self, chassis: Chassis) -> None:
        dp = self.datapaths.get(chassis.dpid)
        if dp is not None:
            self._send_role(dp)
        if self.master:
            self._stage_defaults.reconcile(chassis, stage_defaults())
        self.send_event_to_observers(EventChassisUp(chassis))

    @set_ev_cls(ofp_event.EventOFPPortStatus, MAIN_DISPATCHER)
    def _port_status(self, ev) -> None:
        msg = ev.msg
        chassis = self.chassis_of(msg.datapath.id)
        if chassis is None or msg.desc.port_no >= OFPP_MAX:
            return
        name = msg.desc.name.decode()
        if msg.reason == msg.datapath.ofproto.OFPPR_DELETE:
            chassis.interfaces.pop(name, None)
        else:
            chassis.interfaces[name] = _interface(msg.desc)
        self.generation += 1
        self.stats[chassis.dpid].interfaces_at = self.generation
        LOG.info("chassis %s: interface %s %s", chassis.name, name,
                 "deleted" if msg.reason == msg.datapath.ofproto.OFPPR_DELETE else "added/changed")
        self.send_event_to_observers(EventInterfacesChanged(chassis))

    def set_learned(self, chassis: str, physnet: str, routes: tuple[tuple[str, str], ...]) -> None:
        """The routes (prefix, next hop) that chassis `chassis`'s uplink to `physnet` learned from its peers now:
        the routers whose gateway is there route by them (services are woken when they change)."""
        learned = {**self._learned.get(chassis, {}), physnet: routes}
        if learned == self._learned.get(chassis, {}):
            return
        self._learned[chassis] = learned
        ch = self.chassis.get(chassis)
        if ch is not None:
            ch.learned = learned        # a new dict: views built on the old one keep it
            self.generation += 1
            self.send_event_to_observers(EventInterfacesChanged(ch))

    def chassis_of(self, dpid: int) -> Chassis | None:
        return next((c for c in self.chassis.values() if c.dpid == dpid), None)

    # ---- replies, matched to requests by xid ----

    @set_ev_cls([ofp_event.EventOFPFlowStatsReply, ofp_event.EventOFPGroupDescStatsReply],
                MAIN_DISPATCHER)
    def _multipart_reply(self, ev) -> None:
        pending = self._pending.get(ev.msg.xid)
        if pending is not None:
            pending.replies.append(bytes(ev.msg.buf))
            if not ev.msg.flags & messages.OFPMPF_REPLY_MORE:
                pending.done.set()

    @set_ev_cls(ofp_event.EventOFPPortStatsReply, MAIN_DISPATCHER)
    def _port_stats_reply(self, ev) -> None:
        stats = self.stats.get(ev.msg.datapath.id)
        if stats is not None:
            stats.ports.update({p.port_no: PortCounters(p.rx_packets, p.tx_packets, p.rx_bytes, p.tx_bytes,
                                                        p.rx_dropped, p.tx_dropped)
                                for p in ev.msg.body if p.port_no < OFPP_MAX})

    def _poll_counters(self) -> None:
        """Every --nvapps-stats-interval seconds, every switch's port counters (one request per switch),
        dropped packets by reason (one flow-stats request per app that drops, read from the reply's bytes) and
        conntrack entries by zone kind (one dump per ovs-vswitchd)."""
        while self.is_active:
            for dp in list(self.datapaths.values()):
                dp.send_msg(dp.ofproto_parser.OFPPortStatsRequest(dp, 0, dp.ofproto.OFPP_ANY))
            for chassis in list(self.chassis.values()):
                try:
                    self.stats[chassis.dpid].drops = self._drops(chassis)
                except (SwitchError, KeyError) as exc:
                    LOG.debug("counting drops on %s failed: %s", chassis.name, exc)
            self.conntrack = conntrack.read(list(self.chassis))
            hub.sleep(config.settings().stats_interval)

    def _drops(self, chassis: Chassis) -> dict[str, int]:
        """Packets the switch dropped, by reason."""
        dp, drops = self._datapath(chassis), dict.fromkeys(sorted(set(pipeline.DROP_REASONS.values()) | {"no_route"}), 0)
        for app, table in pipeline.DROPPING:
            xid = next(self._xids)
            request = messages.flow_stats_request(xid, pipeline.app_cookie(app) | pipeline.COOKIE_DROP,
                                                  pipeline.COOKIE_STATIC_MASK | pipeline.COOKIE_DROP,
                                                  messages.OFPTT_ALL if table is None else table)
            for buf in self._await(dp, xid, request).replies:
                for table_id, priority, packets in messages.flow_stats_counts(messages.multipart_body(buf)[2]):
                    reason = pipeline.drop_reason(table_id, priority)
                    if reason is not None:
                        drops[reason] += packets
        return drops

    @set_ev_cls(ofp_event.EventOFPBarrierReply, MAIN_DISPATCHER)
    def _barrier_reply(self, ev) -> None:
        pending = self._pending.get(ev.msg.xid)
        if pending is not None:
            pending.done.set()

    @set_ev_cls(ofp_event.EventOFPErrorMsg, [CONFIG_DISPATCHER, MAIN_DISPATCHER])
    def _error(self, ev) -> None:
        msg = ev.msg
        if msg.datapath.id in self.stats:
            self.stats[msg.datapath.id].errors += 1
        pending = self._pending.get(msg.xid)
        if pending is not None:      # the requester reports it
            pending.errors.append(bytes(msg.buf))
            return
        err_type, code, cookie = messages.error_details(bytes(msg.buf))
        LOG.error("switch %#x error type=%d code=%d xid=%#x cookie=%s", msg.datapath.id, err_type, code,
                  msg.xid, hex(cookie) if cookie is not None else "-")

    @set_ev_cls(ofp_event.EventOFPPacketIn, MAIN_DISPATCHER)
    def _packet_in(self, ev) -> None:
        msg = ev.msg
        stats = self.stats.get(msg.datapath.id)
        chassis = self.chassis_of(msg.datapath.id)
        if stats is None or chassis is None:
            return
        stats.packet_ins += 1
        app = msg.cookie >> pipeline.COOKIE_APP_SHIFT
        stats.packet_ins_by_app[app] = stats.packet_ins_by_app.get(app, 0) + 1
        self.send_event_to_observers(EventPacketIn(
            chassis, app, msg.cookie, msg.match.get("in_port", 0),
            bytes(msg.data), dict(msg.match.items())))

    def _await(self, dp: Datapath, xid: int, payload: bytes) -> _Pending:
        pending = self._pending[xid] = _Pending(dp.id)
        try:
            if not dp.send(payload):
                raise SwitchError(f"switch {dp.id:#x} is disconnecting")
            if not pending.done.wait(timeout=REPLY_TIMEOUT) or self.datapaths.get(dp.id) is not dp:
                raise SwitchError(f"switch {dp.id:#x} did not answer xid {xid:#x}")
            return pending
        finally:
            del self._pending[xid]

    # ---- what service apps use ----

    def read_back(self, chassis: Chassis, app: pipeline.AppId) -> Held:
        """The cookies of `app`'s static flows and `app`'s groups, as the switch holds them now."""
        dp = self._datapath(chassis)
        xid = next(self._xids)
        prefix = pipeline.app_cookie(app)
        pending = self._await(dp, xid, messages.flow_stats_request(xid, prefix, pipeline.COOKIE_STATIC_MASK))
        cookies = frozenset(c for buf in pending.replies
                            for c, _ in messages.flow_stats_cookies(messages.multipart_body(buf)[2]))
        xid = next(self._xids)
        pending = self._await(dp, xid, messages.group_desc_request(xid))
        groups = {gid: entry for buf in pending.replies
                  for gid, entry in messages.group_desc_entries(messages.multipart_body(buf)[2]).items()
                  if pipeline.app_of_group(gid) == app}
        return Held(cookies, groups)

    def flows_of(self, chassis: Chassis, app: pipeline.AppId) -> list[Any]:
        """`app`'s static flows on the switch now, as os-ken parses them (table_id, priority, match,
        packet_count, byte_count): for readings of counters, not for reconciliation."""
        dp = self._datapath(chassis)
        xid = next(self._xids)
        prefix = pipeline.app_cookie(app)
        pending = self._await(dp, xid, messages.flow_stats_request(xid, prefix, pipeline.COOKIE_STATIC_MASK))
        out = []
        for buf in pending.replies:
            body, offset = messages.multipart_body(buf)[2], 0
            while offset + 56 <= len(body):
                out.append(ofproto_v1_3_parser.OFPFlowStats.parser(body, offset))
                offset += struct.unpack_from("!H", body, offset)[0]
        return out

    def apply(self, chassis: Chassis, changes: Changes) -> None:
        """Send `changes` to the switch as one atomic, ordered bundle and wait until it is in."""
        if not changes:
            return
        self.send_bundle(chassis, changes.messages())
        stats = self.stats[chassis.dpid]
        stats.flow_mods += changes.flow_mods
        stats.group_mods += changes.group_mods

    def send_bundle(self, chassis: Chassis, mods: list[bytes]) -> None:
        """Commit `mods` (flow/group mods) in one bundle; raise SwitchError if the switch refuses."""
        bundle = next(self._bundle_ids)
        errors = self._request(chassis, lambda xid: b"".join(messages.bundle_add(bundle, messages.with_xid(m, xid))
                                                             for m in mods) + messages.bundle_commit(bundle, xid))
        if errors:
            raise SwitchError(f"switch {chassis.name} refused a bundle: {_describe(errors)}")

    def ensure_meter(self, chassis: Chassis, meter_id: int, rate_pps: int) -> None:
        """Make sure `meter_id` exists on the switch (an existing one is kept as it is)."""
        errors = self._request(chassis, lambda xid: messages.meter_add(meter_id, rate_pps, xid=xid))
        refused = [messages.error_details(e) for e in errors]
        if any(err[:2] != METER_EXISTS for err in refused):
            raise SwitchError(f"switch {chassis.name} refused meter {meter_id}: {refused}")

    def packet_out(self, chassis: Chassis, port: int, data: bytes) -> None:
        """Send `data` out of OpenFlow port `port` of the switch."""
        self.inject(chassis, data, (ofp.Output(port),))

    def inject(self, chassis: Chassis, data: bytes, actions: tuple[ofp.Action, ...]) -> None:
        """Run `data` through `actions` on the switch (from the controller; only its master may)."""
        if self.master:
            self._datapath(chassis).send(messages.packet_out(data, actions, xid=next(self._xids)))

    def ct_flush(self, chassis: Chassis, zone: int, orig: messages.CtTuple | None = None,
                 reply: messages.CtTuple | None = None, ip_proto: int = 0) -> None:
        """Drop the switch's conntrack entries of `zone` that match the given tuples (and wait until done)."""
        errors = self._request(chassis, lambda xid: messages.ct_flush(zone, orig, reply, ip_proto, xid=xid))
        if errors:
            raise SwitchError(f"switch {chassis.name} refused a conntrack flush: {_describe(errors)}")

    def _request(self, chassis: Chassis, build: Callable[[int], bytes]) -> list[bytes]:
        """Send the messages `build` makes with one xid, then a barrier; the errors the switch answered."""
        dp = self._datapath(chassis)
        xid, barrier_xid = next(self._xids), next(self._xids)
        errors = self._pending[xid] = _Pending(dp.id)
        try:
            self._await(dp, barrier_xid, build(xid) + messages.barrier(barrier_xid))
        finally:
            del self._pending[xid]
        return errors.errors

    def _datapath(self, chassis: Chassis) -> Datapath:
        dp = self.datapaths.get(chassis.dpid)
        if dp is None:
            raise SwitchError(f"chassis {chassis.name} is not connected")
        return dp


def _describe(errors: list[bytes]) -> str:
    return "; ".join("type=%d code=%d cookie=%s" % messages.error_details(e) for e in errors)


def _interface(port) -> Interface:
    down = bool(port.config & ofproto_v1_3.OFPPC_PORT_DOWN) or bool(port.state & ofproto_v1_3.OFPPS_LINK_DOWN)
    return Interface(port.name.decode(), port.port_no, not down)

