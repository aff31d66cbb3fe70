"""Prometheus metrics (GET /metrics, admins only): the switches and what the controller sent them, each port's
counters labelled with its tenant objects, the model's objects and the REST API's requests. A registry of
nvapps's own, rendered from what the controller already holds when scraped (port counters are polled by the
core every --nvapps-stats-interval seconds, one request per switch); names are listed in docs/metrics.md."""
from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from nvapps.model.service import Model
from nvapps.pipeline import AppId
from nvapps.rest.counters import polled_ports

CONTENT_TYPE = CONTENT_TYPE_LATEST
COUNTED = ("network", "subnet", "port", "router", "floatingip", "security_group", "loadbalancer")
PORT_COUNTERS = (("rx_packets", "packets the switch received from the port (its host sent)"),
                 ("tx_packets", "packets the switch sent to the port"),
                 ("rx_bytes", "bytes the switch received from the port"),
                 ("tx_bytes", "bytes the switch sent to the port"),
                 ("rx_dropped", "packets from the port the switch dropped at its interface"),
                 ("tx_dropped", "packets to the port the switch dropped at its interface"))
PORT_LABELS = ["project", "network", "port", "chassis"]
FLOATING_COUNTERS = (("rx_packets", "packets from outside to the floating IP"),
                     ("rx_bytes", "bytes from outside to the floating IP"),
                     ("tx_packets", "packets from the floating IP to outside"),
                     ("tx_bytes", "bytes from the floating IP to outside"))
FLOATING_LABELS = ["project", "floatingip", "address", "chassis"]


class Metrics:
    """The controller's metrics: REST requests are counted as they are answered, the rest read at scrape."""

    def __init__(self, model: Model, core: Callable[[], Any], floating: Callable[[], list] = list) -> None:
        self.registry = CollectorRegistry(auto_describe=False)
        self._requests = Counter("nvapps_rest_requests", "REST requests answered, by method and status",
                                 ["method", "status"], registry=self.registry)
        self._latency = Histogram("nvapps_rest_request_duration_seconds", "Time to answer a REST request",
                                  ["method"], registry=self.registry)
        self.registry.register(_Controller(model, core, floating))

    def observe(self, method: str, status: int, seconds: float) -> None:
        """One REST request answered."""
        self._requests.labels(method, str(status)).inc()
        self._latency.labels(method).observe(seconds)

    def render(self) -> bytes:
        """The text exposition format."""
        return generate_latest(self.registry)


class _Controller:
    """Model, switches and ports, read when scraped."""

    def __init__(self, model: Model, core: Callable[[], Any], floating: Callable[[], list]) -> None:
        self.model, self.core, self.floating = model, core, floating

    def collect(self) -> Iterator[Metric]:
        objects = GaugeMetricFamily("nvapps_objects", "Tenant objects in the model, by kind", labels=["kind"])
        for kind in COUNTED:
            objects.add_metric([kind], len(self.model.list(kind)))
        yield objects
        core = self.core()
        if core is None:
            return
        yield GaugeMetricFamily("nvapps_switches_connected", "Switches connected to the controller",
                                value=len(core.chassis))
        yield from _switch_counters(core)
        entries = GaugeMetricFamily("nvapps_conntrack_entries", "Conntrack entries by zone kind (as last polled), "
                                    "by datapath: its chassis, comma-separated when they share one ovs-vswitchd",
                                    labels=["chassis", "zone_kind"])
        for chassis, kinds in sorted(core.conntrack.items()):
            for kind, n in kinds.items():
                entries.add_metric([chassis, kind], n)
        yield entries
        yield from _port_counters(core, self.model)
        yield from _floating_counters(self.floating())


def _switch_counters(core: Any) -> Iterator[Metric]:
    """What the controller sent to and got from each connected switch since it connected."""
    sent = {name: CounterMetricFamily(f"nvapps_{name}", text, labels=["chassis"]) for name, text in (
        ("flow_mods", "Flow mods sent to the switch"), ("group_mods", "Group mods sent to the switch"),
        ("switch_errors", "OpenFlow errors the switch answered"))}
    by_app = {name: CounterMetricFamily(f"nvapps_{name}", text, labels=["chassis", "app"]) for name, text in (
        ("app_flow_mods", "Flow mods an app sent to the switch"),
        ("sync_seconds", "Seconds an app spent diffing its flows with the switch's and sending the difference"))}
    reconcile = GaugeMetricFamily("nvapps_reconcile_seconds", "How long an app's last reconciliation with the "
                                  "switch took (reading its flows back, diffing, sending)", labels=["chassis", "app"])
    dropped = CounterMetricFamily("nvapps_dropped_packets", "Packets the switch dropped, by reason (as last "
                                  "polled)", labels=["chassis", "reason"])
    punted = CounterMetricFamily("nvapps_packet_ins", "Packets the switch sent to the controller, by app",
                                 labels=["chassis", "app"])
    for chassis in list(core.chassis.values()):
        stats = core.stats.get(chassis.dpid)
        if stats is None:
            continue
        for name, family in sent.items():
            family.add_metric([chassis.name], getattr(stats, name.removeprefix("switch_")))
        for app, count in sorted(stats.packet_ins_by_app.items()):
            punted.add_metric([chassis.name, _app_name(app)], count)
        for reason, count in stats.drops.items():
            dropped.add_metric([chassis.name, reason], count)
        for name, family in by_app.items():
            for app, value in sorted(getattr(stats, name).items()):
                family.add_metric([chassis.name, app], value)
        for app, last in sorted(stats.last_sync.items()):
            reconcile.add_metric([chassis.name, app], last.get("seconds", 0.0))
    yield from sent.values()
    yield from by_app.values()
    yield reconcile
    yield punted
    yield dropped


def _port_counters(core: Any, model: Model) -> Iterator[Metric]:
    """Each bound port's counters on its chassis, as last polled (not a port bound to a VLAN of an interface:
    the interface's counters are all its VLANs')."""
    families = {name: CounterMetricFamily(f"nvapps_port_{name}", text, labels=PORT_LABELS)
                for name, text in PORT_COUNTERS}
    for port, chassis, counters in polled_ports(core, model.ports()):
        labels = [port.project_id, port.network_id, port.id, chassis]
        for name, family in families.items():
            family.add_metric(labels, getattr(counters, name))
    yield from families.values()


def _floating_counters(counters: list) -> Iterator[Metric]:
    """Each floating IP's traffic (nvapps.nat.app.FloatingCounters), as last polled by the NAT app."""
    families = {name: CounterMetricFamily(f"nvapps_floatingip_{name}", text, labels=FLOATING_LABELS)
                for name, text in FLOATING_COUNTERS}
    for c in counters:
        labels = [c.floating.project, c.floating.fip_id, c.floating.address, c.chassis]
        for name, family in families.items():
            family.add_metric(labels, getattr(c, name))
    yield from families.values()


def _app_name(app: int) -> str:
    try:
        return AppId(app).name.lower()
    except ValueError:
        return str(app)
