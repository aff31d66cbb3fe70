"""nvapps settings: one [nvapps] section of the os-ken config (or CLI flags via --user-flags)."""
from __future__ import annotations

import os
import socket

import netaddr
from os_ken import cfg as osken_cfg
from oslo_config import cfg

from nvapps.core.topology import BgpPeer, Speaker, Uplink
from nvapps.model.chassis import TUNNEL_TYPES
from nvapps.store import parse_url

GROUP = "nvapps"

OPTS = [
    cfg.StrOpt("db-path", default="nvapps.db", help="SQLite database holding the tenant objects"),
    cfg.StrOpt("store", default="",
               help="where the tenant objects live: sqlite:///PATH (the default: --nvapps-db-path) or "
                    "etcd://HOST:PORT,HOST:PORT,... (an etcd 3.4 cluster several controllers share)"),
    cfg.HostAddressOpt("rest-host", default="127.0.0.1", help="address the REST API listens on"),
    cfg.PortOpt("rest-port", default=9696, help="port the REST API listens on (Neutron's by default)"),
    cfg.ListOpt("chassis", default=[],
                help="chassis names by datapath id, e.g. 0x1=hv1,0x2=hv2 (default: the bridge name)"),
    cfg.ListOpt("trunk-interfaces", default=[],
                help="switch interfaces that form the inter-chassis link, e.g. s1-eth3,s2-eth3"),
    cfg.ListOpt("uplinks", default=[],
                help="gateway uplinks to physical networks, CHASSIS:PHYSNET:INTERFACE, e.g. "
                     "gw1:physnet1:eth1,gw2:physnet1:eth1 (for each physnet, the order ranks the gateways)"),
    cfg.IntOpt("bgp-as", default=0, min=0, max=4294967295,
               help="the provider edge's own AS number for eBGP on gateway uplinks (0: no BGP)"),
    cfg.ListOpt("bgp-speakers", default=[],
                help="a BGP speaker per gateway uplink, CHASSIS:PHYSNET:INTERFACE:NETNS:ADDRESS/PREFIXLEN: the "
                     "chassis's switch interface INTERFACE leads to network namespace NETNS, where the speaker "
                     "runs with ADDRESS (the uplink's own, on the physical network), e.g. "
                     "gw1:physnet1:bgp1:nvbgp-gw1:172.16.0.2/24"),
    cfg.ListOpt("bgp-peers", default=[],
                help="eBGP peers of the speakers, CHASSIS:PHYSNET:ADDRESS:REMOTE_AS, e.g. gw1:physnet1:172.16.0.1:65000"),
    cfg.ListOpt("tunnel-ports", default=["vxlan:vxlan0", "geneve:geneve0"],
                help="the tunnel ports every chassis's bridge has, TYPE:INTERFACE (types vxlan, geneve), created "
                     "with options:remote_ip=flow options:key=flow"),
    cfg.StrOpt("tenant-network-type", default="vlan", choices=["vlan", "vxlan", "geneve"],
               help="how tenant networks cross between chassis: vlan (the inter-chassis link) or a tunnel type"),
    cfg.IntOpt("underlay-mtu", default=1500, min=1280, max=9216,
               help="the MTU of the network between chassis; tenant networks get it minus the tunnel overhead"),
    cfg.FloatOpt("stats-interval", default=10.0, min=0.2,
                 help="seconds between two polls of every switch's port counters (for GET /metrics)"),
    cfg.FloatOpt("ra-interval", default=30.0, min=0.5,
                 help="seconds between two router advertisements to each port on an IPv6 subnet with ipv6_ra_mode"),
    cfg.StrOpt("ovs-appctl-target", default="",
               help="where `ovs-appctl -t` reaches a chassis's ovs-vswitchd for packet traces ({chassis} stands for "
                    "the chassis name, e.g. /run/ovs-{chassis}/ovs-vswitchd.ctl); empty: the local default one"),
    cfg.StrOpt("controller-name", default="",
               help="this controller's name among several sharing an etcd store (default: host:pid)"),
    cfg.StrOpt("default-project", default="default",
               help="project_id given to objects created without one"),
    cfg.StrOpt("auth-file", default=None,
               help='tokens file: {"tokens": [{"token": T, "project_id": P, "role": "admin"|"member"}]}'),
    cfg.BoolOpt("no-auth", default=False,
                help="development only: no tokens, every request is admin (X-Project-Id picks the project)"),
]

CONF = osken_cfg.CONF   # os-ken parses its own ConfigOpts, not oslo's global one


def register(cli: bool = False) -> None:
    """Register the options (as CLI flags too when `cli`); a second registration is a no-op."""
    if cli:
        CONF.register_cli_opts(OPTS, group=GROUP)
    else:
        CONF.register_opts(OPTS, group=GROUP)


def settings():
    """The [nvapps] option group, registered on first use."""
    register()
    return CONF.nvapps


class ConfigError(SystemExit):
    """A setting nvapps cannot run with: osken-manager stops with this one-line message."""

    def __init__(self, message: str) -> None:
        super().__init__(f"nvapps: {message}")


def chassis_names() -> dict[int, str]:
    """Configured chassis names by datapath id."""
    out = {}
    for entry in settings().chassis:
        dpid, _, name = entry.partition("=")
        try:
            key = int(dpid, 0)
        except ValueError:
            key = None
        if key is None or not name:
            raise ConfigError(f"--nvapps-chassis entry {entry!r} is not DPID=NAME (e.g. 0x1=hv1)")
        out[key] = name
    return out


def uplinks() -> list[Uplink]:
    """Configured gateway uplinks, in configured order."""
    out = [Uplink(*_fields("uplinks", entry, "CHASSIS:PHYSNET:INTERFACE", "gw1:physnet1:eth1"))
           for entry in settings().uplinks]
    if len({(u.chassis, u.physnet) for u in out}) != len(out):
        raise ConfigError("--nvapps-uplinks names one chassis twice for the same physical network")
    return out


def bgp_speakers(configured: list[Uplink]) -> list[Speaker]:
    """The configured BGP speakers with their peers, checked against the uplinks `configured`."""
    peers: dict[tuple[str, str], list[BgpPeer]] = {}
    for entry in settings().bgp_peers:
        key, peer = _bgp_peer(entry)
        if any(p.address == peer.address for p in peers.get(key, [])):
            raise ConfigError(f"--nvapps-bgp-peers names peer {peer.address} twice for {key[0]}:{key[1]}")
        peers.setdefault(key, []).append(peer)
    local_as = settings().bgp_as
    out = []
    for entry in settings().bgp_speakers:
        chassis, physnet, interface, netns, cidr = _fields("bgp-speakers", entry, "CHASSIS:PHYSNET:INTERFACE:NETNS:"
                                                           "ADDRESS/PREFIXLEN", "gw1:physnet1:bgp1:nvbgp-gw1:172.16.0.2/24")
        try:
            net = netaddr.IPNetwork(cidr, version=4)
        except (netaddr.AddrFormatError, ValueError):
            raise ConfigError(f"--nvapps-bgp-speakers entry {entry!r}: {cidr!r} is not an IPv4 ADDRESS/PREFIXLEN") from None
        if "/" not in cidr or net.prefixlen > 30 or net.ip in (net.network, net.broadcast):
            raise ConfigError(f"--nvapps-bgp-speakers entry {entry!r}: {cidr!r} is not a host address with its "
                              f"subnet's prefix length (at most /30)")
        if (chassis, physnet) not in {(u.chassis, u.physnet) for u in configured}:
            raise ConfigError(f"--nvapps-bgp-speakers entry {entry!r}: {chassis} has no uplink to {physnet} "
                              f"in --nvapps-uplinks")
        if not local_as:
            raise ConfigError("--nvapps-bgp-speakers needs the provider edge's AS number: --nvapps-bgp-as (1 to 4294967295)")
        mine = tuple(peers.pop((chassis, physnet), []))
        for p in mine:
            if netaddr.IPAddress(p.address) not in net or p.address == str(net.ip):
                raise ConfigError(f"--nvapps-bgp-peers: peer {p.address} of {chassis}:{physnet} is not a neighbour "
                                  f"on the speaker's subnet {net.cidr}")
            if p.remote_as == local_as:
                raise ConfigError(f"--nvapps-bgp-peers: peer {p.address} has the edge's own AS {local_as}: "
                                  f"only eBGP peers are supported")
        out.append(Speaker(chassis, physnet, interface, netns, str(net.ip), net.prefixlen, local_as, mine))
    if len({(s.chassis, s.physnet) for s in out}) != len(out):
        raise ConfigError("--nvapps-bgp-speakers names one uplink twice")
    if len({s.address for s in out}) != len(out):
        raise ConfigError("--nvapps-bgp-speakers gives one address to two speakers")
    if peers:
        chassis, physnet = next(iter(peers))
        raise ConfigError(f"--nvapps-bgp-peers names {chassis}:{physnet}, which has no speaker in --nvapps-bgp-speakers")
    return out


def _fields(option: str, entry: str, shape: str, example: str) -> list[str]:
    """An --nvapps-`option` entry's colon-separated fields, as many as `shape` has and none empty."""
    parts = entry.split(":")
    if len(parts) != shape.count(":") + 1 or not all(parts):
        raise ConfigError(f"--nvapps-{option} entry {entry!r} is not {shape} (e.g. {example})")
    return parts


def _bgp_peer(entry: str) -> tuple[tuple[str, str], BgpPeer]:
    """One --nvapps-bgp-peers entry: (chassis, physnet) and the peer."""
    parts = entry.split(":")
    usage = f"--nvapps-bgp-peers entry {entry!r} is not CHASSIS:PHYSNET:ADDRESS:REMOTE_AS (e.g. gw1:physnet1:172.16.0.1:65000)"
    if len(parts) < 4 or not all(parts[:2]):
        raise ConfigError(usage)
    address, remote_as = ":".join(parts[2:-1]), parts[-1]
    try:
        ip = netaddr.IPAddress(address)
    except (netaddr.AddrFormatError, ValueError):
        raise ConfigError(usage) from None
    if ip.version != 4:
        raise ConfigError(f"--nvapps-bgp-peers entry {entry!r}: peer address family IPv{ip.version} is not "
                          f"supported (IPv4 peers only)")
    if not remote_as.isdigit() or not 1 <= int(remote_as) <= 4294967295:
        raise ConfigError(f"--nvapps-bgp-peers entry {entry!r}: REMOTE_AS {remote_as!r} is not an AS number "
                          f"(1 to 4294967295)")
    return (parts[0], parts[1]), BgpPeer(str(ip), int(remote_as))


def tunnel_ports() -> dict[str, str]:
    """Configured tunnel port names by tunnel type."""
    out = {}
    for entry in settings().tunnel_ports:
        kind, _, name = entry.partition(":")
        if kind not in TUNNEL_TYPES or not name:
            raise ConfigError(f"--nvapps-tunnel-ports entry {entry!r} is not TYPE:INTERFACE with TYPE vxlan or geneve")
        out[kind] = name
    return out


def appctl_target(chassis: str) -> list[str]:
    """The `ovs-appctl` arguments that reach chassis `chassis`'s ovs-vswitchd."""
    target = settings().ovs_appctl_target
    return ["-t", target.replace("{chassis}", chassis)] if target else []


def store_url() -> tuple[str, list[str]]:
    """The configured store: ("sqlite", [path]) or ("etcd", [host:port, ...])."""
    url = settings().store or f"sqlite://{settings().db_path}"
    parsed = parse_url(url)
    if parsed is None:
        raise ConfigError(f"--nvapps-store {url!r} is not sqlite:///PATH or etcd://HOST:PORT[,HOST:PORT...]")
    return parsed


def controller_name() -> str:
    """This controller's name among several (the leader key holds the master's)."""
    return settings().controller_name or f"{socket.gethostname()}:{os.getpid()}"
