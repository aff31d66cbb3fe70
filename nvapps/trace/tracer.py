"""Packet traces in logical terms: `ofproto/trace` on the chassis where a packet enters, each flow it hits
named by its service, stage and the objects it was built for (each app's installed pieces say which piece
holds a cookie; flows carry their origin), and the packet followed to the next chassis it is sent to."""
from __future__ import annotations

import re
import subprocess
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any

import netaddr

from nvapps import config, pipeline
from nvapps.core import ofp
from nvapps.core.topology import Chassis, fabric, locate
from nvapps.logical.gateways import router_gateways
from nvapps.model.base import Resource
from nvapps.model.context import Context
from nvapps.model.errors import BadRequest, Conflict
from nvapps.model.network import Port
from nvapps.model.service import KINDS, Model
from nvapps.pipeline import Table
from nvapps.trace.ofproto import Output, Pass, flow_fields, parse

MAX_HOPS = 4                 # chassis a trace follows a packet through
TIMEOUT = 10.0               # seconds ovs-appctl may take
OUTSIDE_MAC = "00:00:5e:00:53:01"     # the sender of a packet from outside (RFC 7042's documentation MACs)
OUTSIDE_IP = "203.0.113.1"            # and its address (RFC 5737's TEST-NET-3)
_TOKEN = re.compile(r"^[a-z][a-z0-9_]*(=[0-9A-Za-z:./_|+-]+)?$")
PROTOCOLS = frozenset({"ip", "icmp", "tcp", "udp", "sctp", "arp", "ipv6", "icmp6", "tcp6", "udp6"})
# Fields a trace sets itself: where the packet enters, and the pipeline's own state
RESERVED = re.compile(r"^(in_port|recirc_id|metadata|reg\d+|xreg\d+|tun_\w+|ct_\w+|dp_hash|skb_\w+|pkt_mark)$")
# Fields of a flow that a packet carries on the wire to another chassis (the rest is the chassis's own state)
WIRE = re.compile(r"^(dl_\w+|vlan_tci|nw_\w+|tp_\w+|tcp_flags|arp_\w+|icmp_\w+|ipv6_\w+|nd_\w+)$")
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
KEYED = ("port", "router", "network", "subnet", "floatingip", "loadbalancer", "listener", "pool", "member",
         "security_group", "l2_gateway_connection")     # kinds whose ids key apps' pieces
ROLES = {"remote_group": "security_group", "next_hop": "port"}    # origin roles that name a model object
SG_TABLES = {Table.SG_FROM_VM_STATE: "reg14", Table.SG_FROM_VM_RULES: "reg14", Table.PORT_SECURITY: "reg14",
             Table.PORT_SECURITY_ND: "reg14",
             Table.SG_TO_VM_STATE: "reg15", Table.SG_TO_VM_RULES: "reg15"}

RunTrace = Callable[[Chassis, str], str]        # (chassis, flow) -> ofproto/trace output


def run_appctl(chassis: Chassis, flow: str) -> str:
    """`ofproto/trace` of `flow` on the chassis's bridge, following conntrack as new connections."""
    try:
        done = subprocess.run(["ovs-appctl", *config.appctl_target(chassis.name), "ofproto/trace",
                               chassis.bridge or chassis.name, flow], capture_output=True, text=True, timeout=TIMEOUT)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise Conflict(f"chassis {chassis.name} cannot be traced: {exc}", "TraceUnavailable") from None
    if done.returncode != 0:
        message = (done.stderr or done.stdout).strip().splitlines()
        text = message[0] if message else f"ovs-appctl exited with {done.returncode}"
        if "cannot" in text.lower() and "connect" in text.lower():
            raise Conflict(f"chassis {chassis.name} cannot be traced: {text}", "TraceUnavailable")
        raise BadRequest(f"OVS refused the flow {flow!r}: {text}")
    return done.stdout


@dataclass
class Hop:
    """A packet's pass through one chassis: its flow, the steps explained, and what became of it."""

    chassis: str
    flow: str
    steps: list[dict] = field(default_factory=list)
    verdicts: list[dict] = field(default_factory=list)
    next: tuple[Chassis, str] | None = None        # the chassis and flow it arrives as, when sent to one

    def to_api(self) -> dict:
        return {"chassis": self.chassis, "flow": self.flow, "steps": self.steps, "verdicts": self.verdicts}


class Tracer:
    """Traces from a port or from outside (an external network), as a caller (`ctx`) may see them."""

    def __init__(self, model: Model, core: Any, run: RunTrace = run_appctl) -> None:
        self.model, self.core, self.run = model, core, run

    def trace(self, ctx: Context, spec: str, port_id: str | None = None, network_id: str | None = None) -> dict:
        """The trace of the packet `spec` (ovs-ofctl flow syntax: fields the entry point does not give)
        sent by port `port_id`, or arriving from outside on external network `network_id`."""
        if (port_id is None) == (network_id is None):
            raise BadRequest("Give exactly one of port_id (a packet a port sends) and network_id (a packet that "
                             "arrives from an external network)")
        fields = packet_fields(spec)
        chassis: Chassis | None
        if port_id is not None:
            chassis, flow = self._from_port(ctx, port_id, fields)
        else:
            chassis, flow = self._from_outside(ctx, network_id or "", fields)
        explain = _Explainer(self.model, self.core, ctx)
        hops: list[Hop] = []
        start = flow
        while chassis is not None and len(hops) < MAX_HOPS:
            try:
                output = self.run(chassis, flow)
            except (BadRequest, Conflict) as exc:
                if not hops:
                    raise           # the packet as given: the caller's to mend
                hops[-1].verdicts.append({"result": "unknown", "chassis": chassis.name,
                                          "text": f"not followed on chassis {chassis.name}: {exc.message}"})
                break
            hop = explain.hop(chassis, flow, parse(output))
            hops.append(hop)
            chassis, flow = hop.next if hop.next is not None else (None, "")
        verdicts = [v for hop in hops for v in hop.verdicts if v["result"] != "sent"] or hops[-1].verdicts
        return {"flow": start, "port_id": port_id, "network_id": network_id, "hops": [h.to_api() for h in hops],
                "verdicts": verdicts, "text": _text(hops, verdicts)}

    def _from_port(self, ctx: Context, port_id: str, fields: dict[str, str]) -> tuple[Chassis, str]:
        port: Port = self.model.get("port", port_id, ctx)
        loc = locate(port.host_id, port.interface_name, self.core.chassis)
        if loc is None or loc.ofport is None:
            raise Conflict(f"Port {port_id} is not bound to an interface of a connected chassis", "PortNotBound")
        ipv4 = next((ip for ip in port.ip_addresses if ":" not in ip), None)
        fields.setdefault("dl_src", port.mac_address)
        if "arp" in fields:
            fields.setdefault("arp_op", "1")
            fields.setdefault("arp_sha", port.mac_address)
            if ipv4:
                fields.setdefault("arp_spa", ipv4)
            fields.setdefault("dl_dst", "ff:ff:ff:ff:ff:ff")
        elif "nw_dst" in fields:
            if ipv4:
                fields.setdefault("nw_src", ipv4)
            fields.setdefault("nw_ttl", "64")
            fields.setdefault("dl_dst", self._next_mac(port, fields["nw_dst"]))
        if port.vlan:
            fields.setdefault("dl_vlan", str(port.vlan))
        return self.core.chassis[loc.chassis], _flow(loc.ofport, fields)

    def _next_mac(self, port: Port, address: str) -> str:
        """The MAC a port sends a packet for `address` to: the owner's on its subnet, else its router's."""
        try:
            ip = netaddr.IPAddress(address)
        except (netaddr.AddrFormatError, ValueError):
            raise BadRequest(f"nw_dst {address!r} is not an IPv4 address") from None
        subnets = [self.model.find("subnet", f["subnet_id"]) for f in port.fixed_ips or []]
        subnets = [s for s in subnets if s is not None and s.ip_version == 4]
        for subnet in subnets:
            if ip in netaddr.IPNetwork(subnet.cidr):
                return self._mac_of(port.network_id, address) or "ff:ff:ff:ff:ff:ff"
        gateway = next((s.gateway_ip for s in subnets if s.gateway_ip), None)
        return (self._mac_of(port.network_id, gateway) if gateway else None) or "ff:ff:ff:ff:ff:ff"

    def _mac_of(self, network_id: str, address: str) -> str | None:
        return next((p.mac_address for p in self.model.list("port", {"network_id": [network_id]})
                     if address in p.ip_addresses), None)

    def _from_outside(self, ctx: Context, network_id: str, fields: dict[str, str]) -> tuple[Chassis, str]:
        net = self.model.get("network", network_id, ctx)
        if not net.external:
            raise Conflict(f"Network {network_id} is not external: trace a packet from one of its ports",
                           "NetworkNotExternal")
        address = fields.get("nw_dst")
        if not address or "arp" in fields:
            raise BadRequest("A packet from outside needs nw_dst: a router gateway's or floating IP's address")
        m = self.model
        gateways = router_gateways(m.list("router"), m.networks(), m.ports(), m.subnets(), self.core.uplinks,
                                   self.core.chassis)
        fip = next((f for f in m.list("floatingip", {"floating_ip_address": [address]})
                    if f.floating_network_id == net.id and f.router_id), None)
        router = fip.router_id if fip is not None else next(
            (r for r, g in gateways.items() if g.ip == address and g.port.network_id == net.id), None)
        gateway = gateways.get(router or "")
        if gateway is None or gateway.chassis is None:
            raise Conflict(f"No router's gateway on network {network_id} answers for {address} now",
                           "NoGatewayForAddress")
        chassis = self.core.chassis.get(gateway.chassis)
        ofport = chassis.uplink_ofport(net.physical_network) if chassis is not None else None
        if chassis is None or ofport is None:
            raise Conflict(f"The gateway chassis {gateway.chassis} has no uplink up to {net.physical_network}",
                           "NoGatewayForAddress")
        fields.setdefault("dl_src", OUTSIDE_MAC)
        fields.setdefault("dl_dst", gateway.port.mac_address)
        fields.setdefault("nw_src", OUTSIDE_IP)
        fields.setdefault("nw_ttl", "64")
        return chassis, _flow(ofport, fields)


def packet_fields(spec: str) -> dict[str, str]:
    """The packet fields a caller gives (ovs-ofctl syntax); 400 for anything else."""
    if len(spec) > 1000:
        raise BadRequest("A packet's fields take at most 1000 characters")
    fields: dict[str, str] = {}
    for token in (t.strip() for t in spec.split(",")):
        if not token:
            continue
        name, _, value = token.partition("=")
        if not _TOKEN.match(token) or (not value and name not in PROTOCOLS):
            raise BadRequest(f"{token!r} is not a field=value of a packet (e.g. tcp,nw_dst=10.0.0.5,tp_dst=80)")
        if RESERVED.match(name):
            raise BadRequest(f"{name} is set by the trace itself (where the packet enters), not by the caller")
        fields[name] = value
    if not fields:
        raise BadRequest("Give the packet, e.g. tcp,nw_dst=10.0.0.5,tp_dst=80")
    if "nw_dst" in fields and not any(name in PROTOCOLS for name in fields):
        fields = {"ip": "", **fields}
    return fields


def _flow(ofport: int, fields: dict[str, str]) -> str:
    """The flow ofproto/trace takes: the protocol first, then the entry port, then the other fields."""
    protocols = [name for name in fields if name in PROTOCOLS]
    rest = [f"{name}={value}" for name, value in fields.items() if name not in PROTOCOLS]
    return ",".join([*protocols, f"in_port={ofport}", *rest])


def _arriving(final: str, ofport: int, extra: dict[str, str]) -> str:
    """The packet of a pass's final flow as it arrives on another chassis's port `ofport`."""
    kept = {name: value for name, value in flow_fields(final).items()
            if WIRE.match(name) or name in PROTOCOLS and not value}
    protocols = [name for name, value in kept.items() if not value]
    rest = [f"{name}={value}" for name, value in kept.items() if value]
    return ",".join([*protocols, f"in_port={ofport}", *(f"{k}={v}" for k, v in extra.items()), *rest])


class _Explainer:
    """Names what a trace hit: service and stage of each flow, the objects it came from, the verdicts."""

    def __init__(self, model: Model, core: Any, ctx: Context) -> None:
        self.model, self.core, self.ctx = model, core, ctx
        self.ports = {p.key: p for p in model.ports()}
        self.chassis = fabric(core.chassis, model.list("chassis"))      # with their tunnel endpoints

    def hop(self, chassis: Chassis, flow: str, passes: list[Pass]) -> Hop:
        hop = Hop(chassis.name, flow)
        cookies = {s.cookie for p in passes for s in p.steps if s.cookie is not None}
        held: dict[int, tuple[Hashable, ofp.Flow]] = {}
        for sync in self.core.syncs.values():
            held.update(sync.held(chassis.dpid, cookies))
        outputs: list[tuple[Pass, Output]] = []
        for p in passes:
            fields = flow_fields(p.flow)
            for step, after in zip(p.steps, p.tracked()):
                explained = self._step(chassis, step, held.get(step.cookie or 0), fields)
                hop.steps.append(explained)
                fields = after
                if any(a.startswith(("controller", "CONTROLLER")) for a in step.actions):
                    hop.verdicts.append({"result": "controller", "chassis": chassis.name, "by": explained,
                                         "text": f"sent to the controller by {_named(explained)}"})
            outputs += [(p, o) for o in p.outputs()]
            if p.dropped and not p.outputs() and p is passes[-1] and p.steps and not hop.verdicts:
                last = hop.steps[-1]
                hop.verdicts.append({"result": "dropped", "chassis": chassis.name, "by": last,
                                     "text": f"dropped on chassis {chassis.name} by {_named(last)}"})
        for p, out in outputs:
            hop.verdicts.append(self._output(chassis, p, out, hop, single=len(outputs) == 1))
        if not hop.verdicts:
            hop.verdicts.append({"result": "unknown", "chassis": chassis.name,
                                 "text": f"no output and no drop on chassis {chassis.name}"})
        return hop

    def _step(self, chassis: Chassis, step: Any, held: tuple[Hashable, ofp.Flow] | None,
              fields: dict[str, str]) -> dict:
        app = pipeline.AppId(step.cookie >> pipeline.COOKIE_APP_SHIFT) if step.cookie and \
            step.cookie >> pipeline.COOKIE_APP_SHIFT in set(pipeline.AppId) else None
        try:
            stage = Table(step.table).name.lower()
        except ValueError:
            stage = f"table {step.table}"
        origin: tuple = ()
        if held is not None:
            origin = held[1].origin or self._key_origin(held[0])
        ends = not any(a.startswith(("goto_table", "resubmit", "output", "group", "ct(", "controller"))
                       for a in step.actions)
        if ends and step.table in SG_TABLES:
            origin = (*origin, *self._port_groups(fields.get(SG_TABLES[Table(step.table)])))
        return {"table": step.table, "stage": stage,
                "service": "core" if app == pipeline.AppId.CORE else app.name.lower() if app else None,
                "priority": step.priority, "cookie": f"{step.cookie:#x}" if step.cookie is not None else None,
                "match": step.match if step.cookie is not None else "no match (table miss)",
                "actions": step.actions, "objects": [self._object(kind, value) for kind, value in origin]}

    def _key_origin(self, key: Hashable) -> tuple[tuple[str, str], ...]:
        """The model objects whose ids a piece's key holds (a port's, a router's...)."""
        out = []
        for item in key if isinstance(key, tuple) else (key,):
            if isinstance(item, str) and _UUID.match(item):
                obj = next((o for kind in KEYED if (o := self.model.find(kind, item)) is not None), None)
                if obj is not None:
                    out.append((obj.KIND, obj.id))
        return tuple(out)

    def _port_groups(self, key: str | None) -> tuple[tuple[str, str], ...]:
        """The port whose key a register holds, and its security groups."""
        port = self.ports.get(_int(key)) if key else None
        if port is None:
            return ()
        return (("port", port.id), *(("security_group", g) for g in port.security_groups or []))

    def _object(self, kind: str, value: str) -> dict:
        """An origin entry as the caller may see it: a model object by kind, id and name, or a text."""
        model_kind = ROLES.get(kind, kind)
        if model_kind in KINDS and model_kind != "chassis":
            obj: Resource | None = self.model.find(model_kind, value)
            if obj is None or not self.ctx.can_see(obj):
                return {"kind": kind}
            return {"kind": kind, "id": obj.id, "name": obj.name}
        return {"kind": kind, "text": value}

    def _output(self, chassis: Chassis, p: Pass, out: Output, hop: Hop, single: bool) -> dict:
        """What an output did: delivered to a port, sent to another chassis (followed when `single`), or out
        by an uplink."""
        name = next((n for n, i in chassis.interfaces.items() if i.ofport == out.ofport), str(out.ofport))
        kinds = {v: k for k, v in chassis.tunnel_ports.items()}
        if name in kinds:
            ip = out.fields.get("tun_dst", "")
            remote = next((c for c in self.chassis.values() if ip and c.connected and c.tunnel_ip == _ip(ip)), None)
            to = remote.name if remote is not None else ip
            if remote is not None and single and (ofport := remote.tunnel_ofport(kinds[name])) is not None:
                hop.next = (remote, _arriving(p.final, ofport, {"tun_id": out.fields.get("tun_id", "0"),
                                                              "tun_src": _dotted(self.chassis[chassis.name].tunnel_ip),
                                                              "tun_dst": ip}))
            return {"result": "sent", "chassis": chassis.name, "to_chassis": to, "tunnel": kinds[name],
                    "text": f"sent to chassis {to} by {kinds[name]} tunnel (VNI {_int(out.fields.get('tun_id'))})"}
        if name in chassis.trunk_names:
            remote = self._trunk_peer(chassis, p.final)
            if remote is not None and single and remote.trunk_ofport is not None:
                hop.next = (remote, _arriving(p.final, remote.trunk_ofport, {}))
            to = remote.name if remote is not None else "the other chassis"
            return {"result": "sent", "chassis": chassis.name, "to_chassis": to, "tunnel": "vlan",
                    "text": f"sent to chassis {to} over the inter-chassis link"}
        physnet = next((net for net, iface in chassis.uplinks.items() if iface == name), None)
        if physnet is not None:
            return {"result": "uplink", "chassis": chassis.name, "physnet": physnet,
                    "text": f"sent out of uplink {name} of chassis {chassis.name} to physical network {physnet}"}
        port = next((q for q in self.model.ports() if q.host_id == chassis.name and q.interface_name == name), None)
        if port is not None and self.ctx.can_see(port):
            return {"result": "delivered", "chassis": chassis.name, "port_id": port.id, "interface": name,
                    "text": f"delivered to port {port.name or port.id} on chassis {chassis.name} ({name})"}
        return {"result": "delivered", "chassis": chassis.name, "interface": name,
                "text": f"sent out of interface {name} of chassis {chassis.name}"}

    def _trunk_peer(self, chassis: Chassis, final: str) -> Chassis | None:
        """The chassis over the inter-chassis link where the packet's destination MAC is bound."""
        mac = flow_fields(final).get("dl_dst", "")
        for port in self.model.ports():
            if port.mac_address == mac and port.host_id and port.host_id != chassis.name:
                return self.core.chassis.get(port.host_id)
        others = [c for c in self.core.chassis.values() if c.name != chassis.name and c.trunk_ofport is not None]
        return others[0] if len(others) == 1 else None


def _named(step: dict) -> str:
    """A step in words: its stage, service and objects."""
    objects = ", ".join(_object_text(o) for o in step["objects"])
    return f"{step['stage']} ({step['service'] or 'no flow'})" + (f": {objects}" if objects else "")


def _object_text(obj: dict) -> str:
    if "text" in obj:
        return f"{obj['kind']} {obj['text']}"
    if "id" in obj:
        return f"{obj['kind']} {obj['name'] or obj['id']}" + (f" ({obj['id']})" if obj["name"] else "")
    return f"{obj['kind']} (not yours)"


def _text(hops: list[Hop], verdicts: list[dict]) -> str:
    """The trace as lines: each chassis, each step (table, stage, service, objects), then the verdicts."""
    lines = []
    for hop in hops:
        lines.append(f"chassis {hop.chassis}: {hop.flow}")
        lines += [f"  {s['table']:>2} {_named(s)}" for s in hop.steps]
        lines += [f"  -> {v['text']}" for v in hop.verdicts]
    lines += [f"verdict: {v['text']}" for v in verdicts]
    return "\n".join(lines)


def _int(value: str | None) -> int:
    try:
        return int(value or "0", 0)
    except ValueError:
        return 0


def _ip(value: str) -> int:
    try:
        return int(netaddr.IPAddress(value))
    except (netaddr.AddrFormatError, ValueError):
        return _int(value)


def _dotted(value: int) -> str:
    return str(netaddr.IPAddress(value))
