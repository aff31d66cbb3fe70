"""The pipeline declared once: table numbers, stages, registers, priorities, cookies and group ranges.

Nothing else in nvapps writes a table number, register or cookie literal; read docs/pipeline.md for the
packet's walk through these tables.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum


class Table(IntEnum):
    """OpenFlow table numbers, grouped by service with gaps to grow into."""

    CLASSIFY = 0          # in_port (or trunk VLAN / tunnel id) -> network key + logical in-port
    PORT_SECURITY = 5     # 5-9: anti-spoofing (acl service)
    PORT_SECURITY_ND = 6  # IPv6 from a secured port: neighbour discovery only for its own addresses, no RAs
    ACL_FROM_VM = 10      # 10-19: from the VM. Local VM ports enter the ACL stage, the rest skips it
    NACL_FROM_VM = 11     # network ACLs, egress (stateless, first match by position wins)
    SG_FROM_VM_CT = 12    # secured ports: into conntrack in the port's zone
    SG_FROM_VM_STATE = 13  # replies and related pass, invalid and blocked drop, the rest -> rules
    SG_FROM_VM_RULES = 14  # egress rules: allowed -> commit; else drop (established: marked blocked)
    SG_FROM_VM_COMMIT = 15  # new connections committed to conntrack
    LB_FROM_VM = 16       # 16-19: load balancers, from the VM: new connections to a VIP -> a member (before L2):
                          # ARP for VIPs answered; to a VIP:port -> ct(nat) in the client network's LB zone
    LB_SELECT = 17        # new connections -> the pool's select group (ct commit, nat to a member)
    LB_DELIVER = 18       # translated -> the member's MAC (or the router's), on to L2
    LB_SOURCE = 19        # SOURCE_IP pools: the link the source address hashed to -> ct commit, nat to its member
    L2_CONTROL = 20       # the edge control plane: ARP answered in flows, DHCP to the controller
    L2_LEARN = 21         # learn() unknown source MACs
    L2_LOOKUP = 22        # destination MAC -> logical out-port, or flood
    L2_LEARNED = 23       # flows written by learn(); resubmitted to
    L2_UNKNOWN = 24       # after the learned lookup: hit -> deliver, miss -> flood
    L2_ND_ADVERT = 25     # a neighbour advertisement built in L2_CONTROL (or NAT_UPLINK_IN) gets its target
                          # link-layer address (OVS lets a flow write nd_tll only where its match is an
                          # advertisement's)
    L3_INPUT = 30         # 30-39: routers (VRF per router): packets for the router itself, TTL checks
    L3_ROUTING = 31       # longest prefix match -> next hop (reg0), TTL decremented
    L3_NEIGHBOR = 32      # next hop -> MACs, destination network, back into L2 (or out by the gateway: NAT)
    NAT_UPLINK_IN = 40    # 40-49: from an uplink: ARP for external addresses answered; to a router's gateway
                          # MAC -> the router's conntrack zone, existing translations undone (ct nat)
    NAT_DNAT = 41         # new connections to floating IPs / forwarded ports get the internal address -> L3
    NAT_SNAT = 42         # routed out by the gateway: existing translations applied (ct nat)
    NAT_SNAT_COMMIT = 43  # new connections leave from the floating IP, or masqueraded as the router's address
    NAT_EGRESS = 44       # gateway MAC as source, the next hop's MAC from the bindings
    NAT_MAC_BINDING = 45  # flows written by learn() from ARP on the uplink: (external network, IP) -> MAC
    NAT_TO_UPLINK = 46    # next hop unresolved -> controller (ARP request); else out of the uplink
    LB_TO_VM = 50         # 50-59: load balancers, to the VM: a member's replies get the VIP back (before the
                          # to-VM ACL, which then sees the connection the VM opened): ct(nat) in the LB zone
    LB_UNNAT = 51         # replies from a VIP get the VIP's MAC (or the router's) as source
    ACL_TO_VM = 60        # 60-69: to the VM (mirror of 10-15): local VM ports enter, the rest skips
    NACL_TO_VM = 61       # network ACLs, ingress
    SG_TO_VM_CT = 62
    SG_TO_VM_STATE = 63
    SG_TO_VM_RULES = 64   # ingress rules
    SG_TO_VM_COMMIT = 65
    EGRESS = 70           # logical out-port -> local port, or towards another chassis
    EGRESS_REMOTE = 71    # network key -> the link/tunnel that reaches other chassis


@dataclass(frozen=True)
class Stage:
    """A service stage: where packets enter it and where they go when no service flow claims them."""

    name: str
    entry: Table
    next: Table | None    # None: a miss drops


# The stages a packet walks in order. The core installs each stage's pass-through (entry -> next) at
# Priority.STAGE_DEFAULT, so a stage whose service is not loaded is transparent.
STAGES: tuple[Stage, ...] = (
    Stage("classify", Table.CLASSIFY, None),
    Stage("port_security", Table.PORT_SECURITY, Table.ACL_FROM_VM),
    Stage("acl_from_vm", Table.ACL_FROM_VM, Table.LB_FROM_VM),
    Stage("lb_from_vm", Table.LB_FROM_VM, Table.L2_CONTROL),
    Stage("l2", Table.L2_CONTROL, Table.L2_LEARN),
    Stage("lb_to_vm", Table.LB_TO_VM, Table.ACL_TO_VM),
    Stage("acl_to_vm", Table.ACL_TO_VM, Table.EGRESS),
    Stage("egress", Table.EGRESS, None),
)


def next_stage(name: str) -> Table:
    """Where a packet that stage `name` accepts goes: the entry of the stage after it (services never name
    the table of another service's stage)."""
    names = [stage.name for stage in STAGES]
    return STAGES[names.index(name) + 1].entry


# After classification a packet continues here (the first stage after classify).
AFTER_CLASSIFY = next_stage("classify")


class Reg:
    """Register roles (Nicira registers, as OXM field names of nvapps.core.ofp)."""

    NETWORK = "metadata"   # logical datapath key: network segmentation key (or router VRF key)
    NEXT_HOP = "reg0"      # L3: the next hop's IPv4 address
    NEXT_HOP6 = "xxreg1"   # L3: the next hop's IPv6 address (reg4..reg7)
    IN_PORT = "reg14"      # logical ingress port key
    OUT_PORT = "reg15"     # logical egress port key
    CT_ZONE = "reg13"      # conntrack zone (low 16 bits)
    LB_VIP = "reg10"       # LB: the VIP a connection was addressed to (a member that chose itself: hairpin)
    LB_LINK = "reg11"      # LB: the link a SOURCE_IP pool's hash of the source address chose
    REMOTE_CHASSIS = "reg12"  # towards another chassis: its tunnel endpoint (underlay IPv4; 0 over the trunk)


METADATA_MASK = 0xFFFFFFFF

# Logical port keys: ports get 1..MAX_PORT_KEY; the key below marks "another chassis" (the inter-chassis
# link now, tunnels later) both as ingress (packets that arrived from it) and as egress (learned MACs).
MAX_PORT_KEY = 0xBFFF
REMOTE_PORT_KEY = 0xFFFFFFFE
MAX_ROUTER_KEY = 0xFFF

# Conntrack zones are 16 bits: a port's zone is its key (security groups track each port's connections
# apart); routers get the zones above, for their NAT and for the load balancing of connections that reach a
# VIP through them (from a floating IP, on their gateway chassis), and then each network's load balancing
# (clients' connections to VIPs, translated on the client's chassis) and its hairpin (a member's connection
# to its own VIP that chose the member itself, its source translated to the VIP).
ROUTER_ZONE_BASE = 0xC000
ROUTER_LB_ZONE_BASE = 0xD000
LB_ZONE_BASE = 0xE000
HAIRPIN_ZONE_BASE = 0xF000


def port_zone(port_key: int) -> int:
    return port_key


def router_zone(router_key: int) -> int:
    return ROUTER_ZONE_BASE | router_key


def router_lb_zone(router_key: int) -> int:
    """The conntrack zone where connections that router `router_key` brought to a VIP (from a floating IP)
    are balanced, on its gateway chassis."""
    return ROUTER_LB_ZONE_BASE | router_key


def lb_zone(network_key: int) -> int:
    """The conntrack zone where clients on network `network_key` have their connections to VIPs."""
    return LB_ZONE_BASE | network_key


def hairpin_zone(network_key: int) -> int:
    """The conntrack zone where members on network `network_key` that reached themselves through a VIP get
    the VIP as their peer's address."""
    return HAIRPIN_ZONE_BASE | network_key

ZONE_KINDS = ((HAIRPIN_ZONE_BASE, "hairpin"), (LB_ZONE_BASE, "lb"), (ROUTER_LB_ZONE_BASE, "router_lb"),
              (ROUTER_ZONE_BASE, "router"), (1, "port"))


def zone_kind(zone: int) -> str:
    """What a conntrack zone holds: a port's connections (its security groups), a router's NAT, a router's or a
    network's load balancing, a network's hairpin; zone 0 is no zone of nvapps's."""
    return next((kind for base, kind in ZONE_KINDS if zone >= base), "none")

# Network keys are also the segmentation id on the wire: a VLAN id on the inter-chassis link now, the
# VNI on overlay tunnels later. 4094 is the link's limit until the overlay replaces it.
MAX_NETWORK_KEY = 4094

# A router's logical datapath key (metadata) sets this bit, so router and network keys never meet.
ROUTER_METADATA = 1 << 31


def router_metadata(router_key: int) -> int:
    return ROUTER_METADATA | router_key


class Priority(IntEnum):
    """Priority bands; a band's flows never overlap another band's in one table."""

    STAGE_DEFAULT = 0      # pass-through to the next stage, or drop (core)
    FALLBACK = 10          # a service table's catch-all (learn, look up learned MACs, deliver)
    CONJUNCTIVE = 50       # ACL: clauses of conjunctive matches (remote security groups)
    SPECIFIC = 100         # per-port and per-network flows; flows written by learn()
    OVERRIDE = 150         # exceptions to SPECIFIC flows (e.g. no ARP answer to the address's owner)
    REPLY = 155            # LB: a member's reply to a connection balanced on the way in (from a floating IP)
    CONTROL = 160          # what the controller takes before any exception (health probes' answers)
    BROADCAST = 200        # L2: multicast/broadcast -> the network's flood group
    ROUTE = 1000           # L3 routing: ROUTE + 2 x prefix length (+1 connected), longest prefix wins
    TTL_EXPIRED = 2000     # L3: TTL 0/1 -> drop / ICMP time exceeded
    ROUTER_SELF = 2001     # L3: other packets for the router's own addresses are dropped
    ROUTER_ECHO = 2002     # L3: ICMP echo to the router's addresses is answered in flows


# Where packets stop, by reason (GET /metrics counts them): the flows that end packets in these tables, and
# L3's "no route" flow (the packet goes to the controller for an ICMP error, and no further). Each is read
# with one flow-stats request per app (its table group), `DROPPING`.
DROP_REASONS: dict[int, str] = {
    Table.PORT_SECURITY: "port_security", Table.PORT_SECURITY_ND: "port_security",
    Table.NACL_FROM_VM: "network_acl", Table.NACL_TO_VM: "network_acl",
    **{t: "security_group" for t in (Table.SG_FROM_VM_STATE, Table.SG_FROM_VM_RULES, Table.SG_TO_VM_STATE,
                                     Table.SG_TO_VM_RULES)}}
NO_ROUTE = (Table.L3_ROUTING, Priority.ROUTE - 1)


def drop_reason(table: int, priority: int) -> str | None:
    """Why the packets of a flow whose cookie carries the drop bit were dropped (None: not a reason counted)."""
    if (table, priority) == NO_ROUTE:
        return "no_route"
    return DROP_REASONS.get(table)


# Network ACLs: position p (0 runs first) becomes priority NACL_BASE + MAX_ACL_POSITION - p.
MAX_ACL_POSITION = 60000
NACL_BASE = 200


def nacl_priority(position: int) -> int:
    return NACL_BASE + MAX_ACL_POSITION - position


class AppId(IntEnum):
    """Each app's id: the top byte of its cookies and of its group ids."""

    CORE = 0x01
    L2 = 0x02
    L3 = 0x03
    NAT = 0x04
    ACL = 0x05
    LB = 0x06
    OVERLAY = 0x07
    DHCP = 0x08


# The apps whose flows drop packets, and the one table each is read from (None: every table of its group).
DROPPING: tuple[tuple[AppId, Table | None], ...] = ((AppId.ACL, None), (AppId.L3, Table.L3_ROUTING))

# Cookie layout: [app id: 8 bits][learned: 1 bit][drop: 1 bit][content digest: 54 bits]. The drop bit marks
# the flows where packets stop (nvapps.core.reconcile.stops), so counting drops reads only those.
COOKIE_APP_SHIFT = 56
COOKIE_LEARNED = 1 << 55
COOKIE_DROP = 1 << 54
COOKIE_DIGEST_MASK = COOKIE_DROP - 1
COOKIE_STATIC_MASK = (0xFF << COOKIE_APP_SHIFT) | COOKIE_LEARNED

# Group ids: [app id: 8 bits][24 bits chosen by the app]
GROUP_APP_SHIFT = 24


def app_meter(app: AppId) -> int:
    """The meter that rate-limits an app's packet-ins (one per app, numbered by the app id)."""
    return int(app)


def app_cookie(app: AppId) -> int:
    """The cookie prefix shared by all of an app's flows."""
    return int(app) << COOKIE_APP_SHIFT


def learned_cookie(app: AppId) -> int:
    """The cookie an app gives the flows its learn() actions write (never reconciled)."""
    return app_cookie(app) | COOKIE_LEARNED


def group_id(app: AppId, local_id: int) -> int:
    """The OpenFlow group id of an app's group number `local_id`."""
    if not 0 < local_id < (1 << GROUP_APP_SHIFT):
        raise ValueError(f"group number {local_id} out of range")
    return (int(app) << GROUP_APP_SHIFT) | local_id


def app_of_group(gid: int) -> int:
    """The app id that owns OpenFlow group `gid`."""
    return gid >> GROUP_APP_SHIFT


@dataclass(frozen=True)
class TableSpec:
    """Who writes a table and where its flows may send packets next (goto, resubmit, ct(table=)); `learns`:
    the tables its flows' learn() actions write. Only the core writes stage pass-throughs, at STAGE_DEFAULT."""

    owners: frozenset[AppId]
    exits: frozenset[Table] = frozenset()
    learns: frozenset[Table] = frozenset()


def _spec(owners: set[AppId], exits: set[Table] | frozenset[Table] = frozenset(),
          learns: set[Table] | frozenset[Table] = frozenset()) -> TableSpec:
    return TableSpec(frozenset(owners), frozenset(exits), frozenset(learns))


def _acl(direction: str, entry: Table, nacl: Table, ct: Table, state: Table, rules: Table,
         commit: Table) -> dict[Table, TableSpec]:
    accept = next_stage(direction)
    return {entry: _spec({AppId.ACL}, {nacl, accept}), nacl: _spec({AppId.ACL}, {ct}),
            ct: _spec({AppId.ACL}, {state, accept}), state: _spec({AppId.ACL}, {rules, accept}),
            rules: _spec({AppId.ACL}, {commit}), commit: _spec({AppId.ACL}, {accept})}


# The contract every flow is checked against (nvapps.core.contract): table owners and the declared hand-offs.
# L3 and NAT are side pipelines: a router port's egress enters L3, L3 leaves by L2's lookup or NAT's SNAT,
# NAT's uplink classification enters L3 through DNAT.
TABLES: dict[Table, TableSpec] = {
    Table.CLASSIFY: _spec({AppId.L2, AppId.NAT, AppId.OVERLAY}, {AFTER_CLASSIFY, Table.NAT_UPLINK_IN},
                          learns={Table.NAT_MAC_BINDING}),
    Table.PORT_SECURITY: _spec({AppId.ACL}, {next_stage("port_security"), Table.PORT_SECURITY_ND}),
    Table.PORT_SECURITY_ND: _spec({AppId.ACL}, {next_stage("port_security")}),
    **_acl("acl_from_vm", Table.ACL_FROM_VM, Table.NACL_FROM_VM, Table.SG_FROM_VM_CT, Table.SG_FROM_VM_STATE,
           Table.SG_FROM_VM_RULES, Table.SG_FROM_VM_COMMIT),
    Table.LB_FROM_VM: _spec({AppId.LB}, {Table.LB_SELECT, next_stage("lb_from_vm"), Table.EGRESS}),
    Table.LB_SELECT: _spec({AppId.LB}, {Table.LB_DELIVER, Table.LB_SOURCE}),
    Table.LB_SOURCE: _spec({AppId.LB}, {Table.LB_DELIVER}),
    Table.LB_DELIVER: _spec({AppId.LB}, {next_stage("lb_from_vm")}),
    Table.L2_CONTROL: _spec({AppId.L2, AppId.DHCP}, {Table.L2_LEARN, Table.EGRESS, Table.L2_ND_ADVERT}),
    Table.L2_LEARN: _spec({AppId.L2}, {Table.L2_LOOKUP}, learns={Table.L2_LEARNED}),
    Table.L2_LOOKUP: _spec({AppId.L2}, {next_stage("l2"), Table.L2_UNKNOWN, Table.L2_LEARNED}),
    Table.L2_LEARNED: _spec({AppId.L2}),
    Table.L2_UNKNOWN: _spec({AppId.L2}, {next_stage("l2")}),
    Table.L2_ND_ADVERT: _spec({AppId.L2, AppId.NAT}, {Table.EGRESS}),
    Table.L3_INPUT: _spec({AppId.L3}, {Table.L3_ROUTING, Table.L2_LOOKUP}),
    Table.L3_ROUTING: _spec({AppId.L3}, {Table.L3_NEIGHBOR, Table.EGRESS}),
    Table.L3_NEIGHBOR: _spec({AppId.L3}, {Table.L2_LOOKUP, Table.NAT_SNAT, Table.LB_FROM_VM}),
    Table.NAT_UPLINK_IN: _spec({AppId.NAT}, {Table.NAT_DNAT, Table.L2_ND_ADVERT}),
    Table.NAT_DNAT: _spec({AppId.NAT}, {Table.L3_INPUT}),
    Table.NAT_SNAT: _spec({AppId.NAT}, {Table.NAT_SNAT_COMMIT}),
    Table.NAT_SNAT_COMMIT: _spec({AppId.NAT}, {Table.NAT_EGRESS}),
    Table.NAT_EGRESS: _spec({AppId.NAT}, {Table.NAT_TO_UPLINK, Table.NAT_MAC_BINDING}),
    Table.NAT_MAC_BINDING: _spec({AppId.NAT}),
    Table.NAT_TO_UPLINK: _spec({AppId.NAT}),
    Table.LB_TO_VM: _spec({AppId.LB}, {Table.LB_UNNAT, next_stage("lb_to_vm")}),
    Table.LB_UNNAT: _spec({AppId.LB}, {next_stage("lb_to_vm")}),
    **_acl("acl_to_vm", Table.ACL_TO_VM, Table.NACL_TO_VM, Table.SG_TO_VM_CT, Table.SG_TO_VM_STATE,
           Table.SG_TO_VM_RULES, Table.SG_TO_VM_COMMIT),
    Table.EGRESS: _spec({AppId.L2, AppId.L3}, {Table.EGRESS_REMOTE, Table.L3_INPUT}),
    Table.EGRESS_REMOTE: _spec({AppId.L2, AppId.OVERLAY}),
}
