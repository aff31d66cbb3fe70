"""What the demo shows with real packets, a line each: every tenant reaches all its hosts (across subnets and
switches) and none of another's; DHCP; a security group that opens TCP 80 and not 81; SNAT to the internet
host; a floating IP inbound; a load balancer's VIP, from inside and through a floating IP; with BGP, a floating
IP the upstream router reaches by the route a gateway's speaker announced."""
from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from nvapps.lab.balancing import TOOLS, spread, wait_active
from nvapps.lab.controller import masters
from nvapps.lab.net import background, capture, dhcp_lease, listen, send, tcp_reaches, wait_listening, wait_ping
from nvapps.lab.reach import reach_matrix, tenant_hosts
from nvapps.lab.scenarios import Lab, open_edge
from nvapps.lab.wait import eventually
from topologies.tenants import INTERNET_GATEWAY, INTERNET_HOST, host_ip

PINGS = 3
SETTLE = 0.5            # seconds for a change to reach the switches
NAME_PORT = 8080        # the members' name servers
CONNECTIONS = 30
ROUTED_FIPS = "198.51.100.0/24"     # floating IPs on no wire: reached by the routes BGP announces


@dataclass(frozen=True)
class Shown:
    """One thing shown: whether it worked, and what it was."""

    ok: bool
    what: str

    def line(self) -> str:
        return f"{'OK  ' if self.ok else 'FAIL'} {self.what}"


def everything(lab: Lab, workdir: Path) -> Iterator[Shown]:
    """Each check in turn (a check that raises is shown failed, and the next one runs)."""
    for tenant in lab.topo.tenants:
        yield _checked(f"tenant {tenant}", partial(_reach, lab, tenant))
    client, server = _hosts(lab, "a")
    yield _checked("DHCP", lambda: _dhcp(lab, client, workdir))
    try:
        yield from _web(lab, client, server)
    except Exception as exc:        # a demo shows what failed and goes on
        yield Shown(False, f"security group: {type(exc).__name__}: {exc}")
    ext, gateways = open_edge(lab.api, lab.tenants)
    time.sleep(SETTLE)
    wait_ping(lab.host(client), INTERNET_GATEWAY, timeout=10)
    yield _checked("SNAT", lambda: _snat(lab, client, gateways["a"]))
    yield _checked("floating IP", lambda: _floating(lab, ext, server))
    yield _checked("load balancer", lambda: _balanced(lab, ext, client))
    if lab.upstreams:
        yield _checked("eBGP", lambda: _bgp(lab, ext, client))


def _checked(what: str, check: Callable[[], Shown]) -> Shown:
    try:
        return check()
    except Exception as exc:        # a demo shows what failed and goes on
        return Shown(False, f"{what}: {type(exc).__name__}: {exc}")


def _hosts(lab: Lab, tenant: str) -> tuple[str, str]:
    """A client on the tenant's first subnet and a server on another (so that reaching it is routed)."""
    att = lab.topo.attachments
    hosts = tenant_hosts(lab, tenant)
    client = next(h for h in hosts if att[h].subnet == lab.topo.subnets[0])
    return client, next(h for h in hosts if att[h].subnet != att[client].subnet)


def _ip(lab: Lab, host: str) -> str:
    att = lab.topo.attachments[host]
    return host_ip(att.n, att.subnet)


def _reach(lab: Lab, tenant: str) -> Shown:
    pairs = reach_matrix(lab, tenant, PINGS)
    good = [p for p in pairs if p.ok and p.replies == PINGS]
    switches = {lab.topo.attachments[h].switch for h in tenant_hosts(lab, tenant)}
    return Shown(len(good) == len(pairs), f"tenant {tenant}: {len(good)}/{len(pairs)} pairs of its hosts reach each "
                 f"other by ping and TCP ({sum(p.routed for p in pairs)} routed, over {len(switches)} switches); "
                 f"other tenants saw {sum(p.leaked for p in pairs)} of their packets")


def _dhcp(lab: Lab, host: str, workdir: Path) -> Shown:
    lease = dhcp_lease(lab.host(host), workdir / f"lease-{host}")
    want = _ip(lab, host)
    return Shown(lease.get("ip") == want, f"DHCP: {host} leased {lease.get('ip')}/{lease.get('mask')} "
                                          f"(router {lease.get('router')}, MTU {lease.get('mtu')})")


@contextmanager
def _web_group(lab: Lab, server: str) -> Iterator[dict]:
    """The server in a new group web (only TCP 80 in) for the block, in its groups as before after."""
    api, project = lab.api, lab.tenants["a"].name
    web = api.create("security_group", name="web", project_id=project)
    api.create("security_group_rule", security_group_id=web["id"], direction="ingress", ethertype="IPv4",
               protocol="tcp", port_range_min=80, port_range_max=80, project_id=project)
    port = lab.tenants["a"].ports[server]
    api.update("port", port["id"], security_groups=[web["id"]])
    try:
        time.sleep(SETTLE)
        yield web
    finally:
        api.update("port", port["id"], security_groups=port["security_groups"])
        api.delete("security_group", web["id"])


def _web(lab: Lab, client: str, server: str) -> list[Shown]:
    """TCP 80 reaches the server and 81 does not; a trace of 81 names the group that drops it."""
    with _web_group(lab, server) as web:
        src, dst, ip = lab.host(client), lab.host(server), _ip(lab, server)
        allowed, refused = tcp_reaches(src, dst, ip, 80), not tcp_reaches(src, dst, ip, 81)
        trace = lab.api.trace(f"tcp,nw_dst={ip},tp_dst=81", port_id=lab.tenants["a"].ports[client]["id"])
    verdicts: list[dict] = trace["verdicts"]
    verdict: dict = verdicts[0] if len(verdicts) == 1 else {"result": "several", "text": "several verdicts"}
    named = verdict["result"] == "dropped" and any(o.get("id") == web["id"] for o in verdict["by"]["objects"])
    return [Shown(allowed and refused, f"security group web on {server} (only TCP 80 in): from {client}, port 80 "
                                       f"{'reached' if allowed else 'NOT reached'}, 81 "
                                       f"{'refused' if refused else 'NOT refused'}"),
            Shown(named, f"trace of {client} -> {server}:81 over {len(trace['hops'])} chassis: "
                         f"{verdict['text'].split(': ')[0]}{', which names security group web' if named else ''}")]


def _snat(lab: Lab, client: str, gateway: str) -> Shown:
    inet = lab.host("inet")
    with capture(inet, "tcp dst port 7000 and tcp[tcpflags] & tcp-syn != 0") as seen, listen(inet, 7000) as got:
        send(lab.host(client), INTERNET_HOST, 7000, "outbound")
    sources = {m.group(1) for line in seen.lines if (m := re.search(r"(\d+\.\d+\.\d+\.\d+)\.\d+ > ", line))}
    return Shown("outbound" in got.text and sources == {gateway},
                 f"SNAT: {client} reached the internet host {INTERNET_HOST}, which saw it come from "
                 f"{', '.join(sorted(sources)) or 'nothing'} (the router's gateway {gateway})")


def _floating(lab: Lab, ext: dict, server: str) -> Shown:
    port = lab.tenants["a"].ports[server]
    fip = lab.api.create("floatingip", floating_network_id=ext["id"], port_id=port["id"],
                         project_id=lab.tenants["a"].name)["floating_ip_address"]
    time.sleep(SETTLE)
    with listen(lab.host(server), 7100) as got:
        send(lab.host("inet"), fip, 7100, "inbound")
    return Shown("inbound" in got.text, f"floating IP {fip} -> {server} ({_ip(lab, server)}): the internet host's "
                                        f"connection {'arrived' if 'inbound' in got.text else 'did NOT arrive'}")


def _bgp(lab: Lab, ext: dict, host: str) -> Shown:
    """A floating IP from a subnet on no wire: the upstream router learns it from the speaker of its router's
    gateway uplink and routes the internet host's connection by it."""
    upstream, inet = lab.upstreams["inet"], lab.host("inet")
    sub = lab.api.create("subnet", network_id=ext["id"], ip_version=4, cidr=ROUTED_FIPS, gateway_ip=None,
                         name="routed-fips")
    fip = lab.api.create("floatingip", floating_network_id=ext["id"], subnet_id=sub["id"],
                         port_id=lab.tenants["a"].ports[host]["id"], project_id=lab.tenants["a"].name)
    address = fip["floating_ip_address"]
    hops = eventually(lambda: upstream.routes().get(f"{address}/32", []), timeout=20, what=f"{address} not learned")
    speakers = {address: sw for sw, address in lab.topo.speakers().items()}
    eventually(lambda: f"{address} " in inet.cmd(f"ip route show {address}"), timeout=10, what="not in inet's routes")
    with listen(lab.host(host), 7200) as got:
        send(inet, address, 7200, "routed")
    return Shown("routed" in got.text and hops[0] in speakers,
                 f"eBGP: the upstream router (FRR) learned {address}/32 via {hops[0]} ({speakers.get(hops[0])}'s "
                 f"uplink speaker) among {len(upstream.routes())} routes; the internet host's connection to it "
                 f"{'arrived' if 'routed' in got.text else 'did NOT arrive'}")


def _balanced(lab: Lab, ext: dict, client: str) -> Shown:
    api, tenant = lab.api, lab.tenants["a"]
    members = tenant_hosts(lab, "a")            # the client too: its own connections may come back to it
    lb = api.create("loadbalancer", vip_subnet_id=tenant.subnets[lab.topo.subnets[0]]["id"], project_id=tenant.name)
    listener = api.create("listener", loadbalancer_id=lb["id"], protocol="TCP", protocol_port=80,
                          project_id=tenant.name)
    pool = api.create("pool", listener_id=listener["id"], protocol="TCP", lb_algorithm="ROUND_ROBIN",
                      project_id=tenant.name)
    for host in members:
        api.create("member", parent_id=pool["id"], address=_ip(lab, host), protocol_port=NAME_PORT,
                   project_id=tenant.name)
    lb = wait_active(api, lb["id"])
    fip = api.create("floatingip", floating_network_id=ext["id"], port_id=lb["vip_port_id"],
                     project_id=tenant.name)["floating_ip_address"]
    with ExitStack() as stack:
        for host in members:
            stack.enter_context(background(lab.host(host), f"/usr/bin/python3 {TOOLS / 'name_server.py'} {host} "
                                                           f"{NAME_PORT}"))
            wait_listening(lab.host(host), NAME_PORT)
        time.sleep(SETTLE)
        inside, outside = (spread(lab.host(h), a, count=CONNECTIONS) for h, a in ((client, lb["vip_address"]),
                                                                                   ("inet", fip)))
    ok = all(set(counts) == set(members) for counts in (inside, outside))
    return Shown(ok, f"load balancer {lb['vip_address']}:80 over {', '.join(members)}: {CONNECTIONS} connections "
                     f"from {client} answered by {_counts(inside)}, {CONNECTIONS} from the internet through "
                     f"floating IP {fip} by {_counts(outside)}")


def _counts(counts: dict[str, int]) -> str:
    return " ".join(f"{name}:{n}" for name, n in sorted(counts.items()))


def failover(lab: Lab, pps: int = 50, seconds: float = 6.0) -> Shown:
    """Kill -9 the master controller during a ping from a client to a server on another switch: how soon another
    is master, how many pings were lost, how many flow mods its reconciliation sent; the killed one restarts."""
    client, server = _hosts(lab, "a")
    first = lab.topo.chassis[0]

    def master() -> int | None:
        return next(iter(masters(lab.controllers, first)), None)

    old, log = master(), lab.controller.workdir / "failover-ping.txt"
    if old is None:
        return Shown(False, "failover: no controller is master")
    count = int(pps * seconds)
    with background(lab.host(client), f"ping -n -q -i {1 / pps} -c {count} {_ip(lab, server)} > {log} 2>&1") as ping:
        time.sleep(1.5)
        lab.controllers[old].kill()
        killed = time.monotonic()
        while (new := master()) is None and time.monotonic() - killed < 10:
            time.sleep(0.02)
        took = time.monotonic() - killed
        ping.wait(timeout=seconds + 10)
    lab.controllers[old].start()
    m = re.search(r"(\d+) packets transmitted, (\d+) received", log.read_text())
    sent, got = (int(m[1]), int(m[2])) if m else (count, 0)
    mods = -1 if new is None else sum(s["flow_mods"] for ch in lab.controllers[new].client.chassis()
                                      if ch["connected"] for s in ch["last_sync"].values())
    return Shown(new is not None and took < 3.0 and got == sent == count and mods == 0,
                 f"failover: kill -9 of master c{old} during a {pps} pps ping {client} -> {server}: "
                 f"{f'c{new}' if new is not None else 'nobody'} master after {took:.2f} s, {sent - got} of {sent} "
                 f"pings lost, {mods} flow mods to reconcile; c{old} started again")
