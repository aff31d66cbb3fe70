"""Pure functions: the tunnel flows of one chassis.

Receiving: a tunnel port and the tunnel id (the network's key, its VNI) classify a packet into its network,
as coming from another chassis. Sending: L2 (or L3, towards a gateway chassis) has put the destination
chassis's underlay IPv4 in reg12; one flow per other chassis copies the network key into the tunnel id,
sets the tunnel destination and outputs to the tunnel port of that chassis's type. So tunnel flows grow
with networks and chassis, never with ports.
"""
from __future__ import annotations

from nvapps import pipeline
from nvapps.core import ofp
from nvapps.core.ofp import Flow, match
from nvapps.core.topology import Chassis
from nvapps.model.chassis import TUNNEL_TYPES
from nvapps.pipeline import Priority, Reg, Table


def chassis_overlay(here: Chassis, networks: set[int], others: list[Chassis]) -> list[Flow]:
    """Tunnel classification for the networks present `here`, and one egress flow per other chassis with
    a tunnel endpoint whose tunnel type `here` has a port for."""
    flows = []
    for kind in TUNNEL_TYPES:
        port = here.tunnel_ofport(kind)
        if port is None:
            continue
        flows += [Flow(Table.CLASSIFY, Priority.SPECIFIC, match(in_port=port, tunnel_id=key),
                       actions=(ofp.SetField(Reg.IN_PORT, pipeline.REMOTE_PORT_KEY),),
                       write_metadata=(key, pipeline.METADATA_MASK), goto=pipeline.AFTER_CLASSIFY)
                  for key in sorted(networks)]
    for other in others:
        port = here.tunnel_ofport(other.tunnel_type)
        if other.name == here.name or not other.tunnel_ip or port is None:
            continue
        flows.append(Flow(Table.EGRESS_REMOTE, Priority.SPECIFIC, match(**{Reg.REMOTE_CHASSIS: other.tunnel_ip}),
                          actions=(ofp.Move("metadata", "tunnel_id"), ofp.SetField("tun_ipv4_dst", other.tunnel_ip),
                                   ofp.Output(port))))
    return flows
