"""Traffic counters as JSON for a project (GET /v2.0/counters, the console's live view): each of its bound
ports' counters as the core last polled them, each floating IP's (its own flows on the gateway chassis), and
per project the bytes and packets in (to its ports) and out (from them)."""
from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import asdict
from typing import Any

from nvapps.core.topology import locate
from nvapps.model.context import Context
from nvapps.model.network import Port
from nvapps.model.service import Model

PORT_FIELDS = ("rx_packets", "tx_packets", "rx_bytes", "tx_bytes", "rx_dropped", "tx_dropped")


def polled_ports(core: Any, ports: list[Port]) -> Iterator[tuple[Port, str, Any]]:
    """(port, chassis, PortCounters) of each of `ports` bound to an interface whose counters the core has
    polled (not a port bound to a VLAN of an interface: the interface's counters are all its VLANs')."""
    for port in ports:
        if port.vlan is not None:
            continue
        loc = locate(port.host_id, port.interface_name, core.chassis)
        if loc is None or loc.ofport is None:
            continue
        stats = core.stats.get(core.chassis[loc.chassis].dpid)
        counters = stats.ports.get(loc.ofport) if stats is not None else None
        if counters is not None:
            yield port, loc.chassis, counters


def counters(model: Model, core: Any, floating: Callable[[], list], ctx: Context, project: str | None) -> dict:
    """The counters of the ports and floating IPs `ctx` sees (of `project` only, if given), and their sums
    per project: in is what the switches sent to the ports (tx), out what they received from them (rx)."""
    filters = {"project_id": [project]} if project else None
    ports = model.list("port", filters, ctx)
    out_ports: list[dict] = []
    projects: dict[str, dict[str, int]] = {}
    for port, chassis, c in polled_ports(core, ports) if core is not None else ():
        out_ports.append({"port_id": port.id, "project_id": port.project_id, "network_id": port.network_id,
                          "chassis": chassis, **{name: getattr(c, name) for name in PORT_FIELDS}})
        total = projects.setdefault(port.project_id, dict.fromkeys(
            ("bytes_in", "bytes_out", "packets_in", "packets_out"), 0))
        total["bytes_in"] += c.tx_bytes
        total["bytes_out"] += c.rx_bytes
        total["packets_in"] += c.tx_packets
        total["packets_out"] += c.rx_packets
    visible = {f.id for f in model.list("floatingip", filters, ctx)}
    fips = [{"floatingip_id": f.floating.fip_id, "project_id": f.floating.project,
             "floating_ip_address": f.floating.address, "chassis": f.chassis,
             **{k: v for k, v in asdict(f).items() if k.startswith(("rx_", "tx_"))}}
            for f in floating() if f.floating.fip_id in visible]
    return {"ports": out_ports, "floatingips": fips,
            "projects": [{"project_id": p, **totals} for p, totals in sorted(projects.items())]}
