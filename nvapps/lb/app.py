"""The load balancer os-ken app: `osken-manager nvapps.lb.app nvapps.l2.app` balances TCP/UDP connections to
VIPs on the clients' chassis (nvapps.lb.flows) and checks the members' health (nvapps.lb.health): probes go
out by packet-out on each member's chassis, answers come back by metered packet-in, and a member that fails
its checks leaves its pool's buckets until it passes them again."""
from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from typing import Any

from os_ken.base import app_manager
from os_ken.lib import hub

from nvapps import pipeline
from nvapps.core import ofp
from nvapps.core.app import SwitchError
from nvapps.core.events import EventPacketIn
from nvapps.core.service import ServiceApp
from nvapps.core.topology import Chassis
from nvapps.lb import flows, probes
from nvapps.lb.health import Checker, Send
from nvapps.model.loadbalancer import HealthMonitor, Listener, LoadBalancer, Member, Pool, no_stats
from nvapps.pipeline import Reg, Table

app_manager.require_app("nvapps.core.app")
app_manager.require_app("nvapps.rest.app")
app_manager.require_app("nvapps.l2.app")

LOG = logging.getLogger(__name__)

ANSWER_RATE_PPS = 1000  # probe answers the controller takes per second and switch, at most
IDLE_TICK = 1.0         # seconds the health timer sleeps when no check is due sooner


class LoadBalancerApp(ServiceApp):
    """Load balancers: VIP translation to pool members at the client's edge, and back for replies; members'
    health checks."""

    SERVICE = flows.SERVICE

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.name = "nvlb"
        self.health = Checker()
        self._timer = hub.Event()

    def start(self):
        thread = super().start()
        self.threads.append(hub.spawn(self._health_loop))
        return thread

    def snapshot(self) -> Any:
        """The reading, without the members that failed their checks; the checker follows its targets."""
        self.reading = flows.read(self.model, self.view(), self.reading, self.health.down())
        if self.health.watch(self.reading.targets, time.monotonic()):
            self._wake.set()
        self._timer.set()
        return self.reading

    def setup(self, chassis: Chassis) -> None:
        self.core.ensure_meter(chassis, pipeline.app_meter(self.APP_ID), ANSWER_RATE_PPS)

    def packet_in(self, ev: EventPacketIn) -> None:
        answer = probes.parse(ev.data)
        if answer is not None:
            self._after(*self.health.answer(answer, time.monotonic()))

    def operating_status(self, obj: Any) -> str | None:
        """Octavia's operating status of a monitored object: members ONLINE or ERROR; a pool ERROR when all
        its monitored members are, DEGRADED when some are; a listener as its pool; a load balancer ERROR when
        all its pools are, DEGRADED when any is not ONLINE (None: nothing monitored)."""
        if isinstance(obj, Member):
            return self.health.status(obj.id)
        if isinstance(obj, Pool):
            return _overall(self.health.status(m.id) for m in self.model.list("member", {"pool_id": [obj.id]}))
        if isinstance(obj, Listener):
            pool = self.model.find("pool", obj.default_pool_id or "")
            return self.operating_status(pool) if pool is not None else None
        if isinstance(obj, LoadBalancer):
            return _overall(self.operating_status(p) for p in self.model.list("pool", {"loadbalancer_id": [obj.id]}))
        if isinstance(obj, HealthMonitor):
            return "ONLINE"
        return None

    def statistics(self, obj: LoadBalancer | Listener) -> dict[str, int]:
        """Octavia's statistics of a load balancer or listener, summed over every connected chassis from its
        flows' counters: bytes from clients to the VIP (table 16), from the VIP back to them (table 51), new
        connections (table 17). Active connections are not counted (conntrack is not read over OpenFlow)."""
        totals = no_stats()
        lb = obj if isinstance(obj, LoadBalancer) else self.model.find("loadbalancer", obj.loadbalancer_id)
        reading: flows.LbView | None = self.reading
        if lb is None or reading is None:
            return totals
        port, vip = obj.protocol_port if isinstance(obj, Listener) else None, lb.vip_address
        network = self.model.find("network", lb.vip_network_id or "")
        clients = {k for b in reading.balancers if network is not None and (b.vip_key, b.vip) == (
            network.key, lb.vip_address) for k, _ in b.clients}
        for chassis in list(self.core.chassis.values()):
            try:
                entries = self.core.flows_of(chassis, self.APP_ID)
            except SwitchError:
                continue
            for entry in entries:
                fields = dict(entry.match.items())
                if fields.get("metadata") not in clients or (port is not None and port not in (
                        fields.get("tcp_dst"), fields.get("udp_dst"), fields.get("tcp_src"), fields.get("udp_src"))):
                    continue
                table = entry.table_id
                if table == Table.LB_FROM_VM and fields.get("ipv4_dst") == vip and ("tcp_dst" in fields or "udp_dst" in fields):
                    totals["bytes_in"] += entry.byte_count
                elif table == Table.LB_SELECT and fields.get("ipv4_dst") == vip and "ct_state" in fields:
                    totals["total_connections"] += entry.packet_count
                elif table == Table.LB_UNNAT and fields.get("ipv4_src") == vip:
                    totals["bytes_out"] += entry.byte_count
        return totals

    def _health_loop(self) -> None:
        """Send the checks that are due, count the ones not answered in time (the master only)."""
        while self.is_active:
            if not self.core.master and (self.health.down() or self.health.next_time() is not None):
                self.health = Checker()     # a slave sends no probes: as master it starts with members up
            due = self.health.next_time() if self.core.master else None
            self._timer.wait(timeout=IDLE_TICK if due is None else max(0.0, min(IDLE_TICK, due - time.monotonic())))
            self._timer.clear()
            try:
                self._after(*self.health.tick(time.monotonic()))
            except Exception:
                LOG.exception("health checks failed")

    def _after(self, sends: list[Send], changed: bool) -> None:
        """Send probes (through the member's conntrack zone, so its answers are replies to the member's
        security groups); a member that went up or down changes its pool's flows."""
        for target, frame in sends:
            chassis = self.core.chassis.get(target.chassis or "")
            if chassis is None:
                continue
            actions = (ofp.Ct(zone=pipeline.port_zone(target.port_key), commit=True),
                       ofp.SetField(Reg.OUT_PORT, target.port_key), ofp.Resubmit(Table.EGRESS))
            try:
                self.core.inject(chassis, frame, actions)
            except SwitchError as exc:
                LOG.debug("health probe to %s not sent: %s", target.path.address, exc)
        if changed:
            self._wake.set()


def _overall(statuses: Iterable[str | None]) -> str | None:
    """The status of what holds monitored parts: ERROR when all are, ONLINE when all are, else DEGRADED
    (None: no part is monitored)."""
    found = {s for s in statuses if s is not None}
    if not found:
        return None
    return "ERROR" if found == {"ERROR"} else "ONLINE" if found == {"ONLINE"} else "DEGRADED"
