"""Pure functions: the tunnel flows of one chassis.

Receiving: a tunnel port and the tunnel id (the network's key, its VNI) classify a packet into its network,
as coming from another chassis. Sending: L2 (or L3, towards a gateway chassis) has put the destination
chassis's underlay IPv4 in reg12; one flow per other chassis copies the network key into the tunnel id,
sets the tunnel destination and outputs to the tunnel port of that chassis's type. So tunnel flows grow
with networks and chassis, never with ports.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from nvapps import pipeline
from nvapps.core import ofp
from nvapps.core.ofp import Flow, match
from nvapps.core.pieces import Pieces, Service, the_view
from nvapps.core.reconcile import Desired
from nvapps.core.topology import Chassis
from nvapps.model.chassis import TUNNEL_TYPES
from nvapps.pipeline import Priority, Reg, Table

if TYPE_CHECKING:
    from nvapps.logical.view import LogicalView


def chassis_overlay(here: Chassis, view: "LogicalView", pieces: Pieces | None = None) -> Desired:
    """Tunnel classification for the networks present `here`, and one egress flow per other chassis with
    a tunnel endpoint whose tunnel type `here` has a port for (two pieces, rebuilt when those change)."""
    pieces = pieces or Pieces(pipeline.AppId.OVERLAY)
    ports = tuple((kind, here.tunnel_ofport(kind)) for kind in TUNNEL_TYPES)
    networks = view.presence.networks_on(here.name)
    others = pieces.value(("others", here.name, view.fabric),
                          lambda: tuple(t for t in view.fabric.tunnels if t[0] != here.name))
    return Desired({
        "classify": pieces.get(("classify", ports, networks), lambda: classify_flows(ports, networks)),
        "egress": pieces.get(("egress", ports, others), lambda: egress_flows(dict(ports), others)),
    })


def classify_flows(ports: tuple[tuple[str, int | None], ...], networks: frozenset[int]) -> list[Flow]:
    """What arrives on a tunnel port (of each type) with a present network's key is in that network."""
    return [Flow(Table.CLASSIFY, Priority.SPECIFIC, match(in_port=port, tunnel_id=key),
                 actions=(ofp.SetField(Reg.IN_PORT, pipeline.REMOTE_PORT_KEY),),
                 write_metadata=(key, pipeline.METADATA_MASK), goto=pipeline.AFTER_CLASSIFY)
            for _, port in ports if port is not None for key in sorted(networks)]


def egress_flows(ports: dict[str, int | None], others: tuple[tuple[str, str | None, int], ...]) -> list[Flow]:
    """Towards each other chassis (name, tunnel type, tunnel IP): its endpoint, on the port of its type."""
    flows = []
    for name, kind, ip in others:
        port = ports.get(kind) if kind else None
        if ip and port is not None:
            flows.append(Flow(Table.EGRESS_REMOTE, Priority.SPECIFIC, match(**{Reg.REMOTE_CHASSIS: ip}),
                              actions=(ofp.Move("metadata", "tunnel_id"), ofp.SetField("tun_ipv4_dst", ip),
                                       ofp.Output(port)), origin=(("chassis", name), ("tunnel", kind or ""))))
    return flows


SERVICE = Service(pipeline.AppId.OVERLAY, the_view, chassis_overlay)
