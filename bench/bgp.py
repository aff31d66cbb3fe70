"""eBGP at the provider edge, in one run: how fast a burst of floating IPs reaches a real peer (FRR) as
announced /32s, against how fast the REST API creates them; and how long a floating IP is unreachable from
outside when its gateway's uplink fails (median of several), against FRR's hold time with the speakers.

    .venv/bin/python -m bench.bgp [--fips 1000] [--failures 5]

Two switches with an uplink and a BGP speaker each (topologies.tenants, bgp=True), FRR in inet; tenant a's
router has its gateway on one of them; the floating IPs come from 198.18.0.0/21, on no wire.
"""
from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import netaddr

from nvapps.lab.frr import HOLD_TIME, Frr
from nvapps.lab.net import background, ping, wait_ping
from nvapps.lab.scenarios import open_edge, tenants_lab
from nvapps.lab.wait import eventually
from topologies.tenants import INTERNET_GATEWAY, TenantsTopo

APPS = ("nvapps.bgp.app", "nvapps.nat.app", "nvapps.acl.app", "nvapps.l3.app", "nvapps.l2.app")
FIP_CIDR = "198.18.0.0/21"
PORTS_CIDR = "10.50.0.0/20"     # the ports that get the burst's floating IPs, on tenant a's router
CLIENTS = 8


def announced(upstream: Frr) -> int:
    """How many floating IP /32s the peer has learned."""
    return sum(1 for prefix, hops in upstream.routes().items()
               if hops and netaddr.IPNetwork(prefix) in netaddr.IPNetwork(FIP_CIDR))


def burst(lab, upstream: Frr, ext: dict, fips: dict, count: int) -> tuple[float, float]:
    """(seconds until the REST API created `count` floating IPs, each on a port of its own (on a network of
    tenant a's router), by CLIENTS clients; seconds until the peer learned them all), from the first request."""
    net = lab.api.create("network", name="many", project_id="tenant-a")
    sub = lab.api.create("subnet", network_id=net["id"], ip_version=4, cidr=PORTS_CIDR, project_id="tenant-a")
    lab.api.action("router", lab.tenants["a"].router["id"], "add_router_interface", subnet_id=sub["id"])
    ports = [lab.api.create("port", network_id=net["id"], project_id="tenant-a")["id"] for _ in range(count)]
    start = time.monotonic()
    with ThreadPoolExecutor(CLIENTS) as pool:
        list(pool.map(lambda p: lab.api.create("floatingip", floating_network_id=ext["id"], subnet_id=fips["id"],
                                               port_id=p, project_id="tenant-a"), ports))
    created = time.monotonic() - start
    eventually(lambda: announced(upstream) >= count, timeout=600, interval=0.2, what="not all announced")
    return created, time.monotonic() - start


def outage(lab, upstream: Frr, ext: dict, fips: dict, port_id: str, hops: dict[str, str]) -> float:
    """Seconds without an answer to a 50 pps ping from inet to a floating IP when its gateway's uplink goes
    down (the longest gap between two answers); the uplink comes back after."""
    fip = lab.api.create("floatingip", floating_network_id=ext["id"], subnet_id=fips["id"], port_id=port_id,
                         project_id="tenant-a")
    address, inet = fip["floating_ip_address"], lab.host("inet")
    eventually(lambda: upstream.routes().get(f"{address}/32"), timeout=30)
    eventually(lambda: ping(inet, address), timeout=30)
    home = hops[upstream.routes()[f"{address}/32"][0]]
    try:
        with background(inet, f"ping -n -D -i 0.02 -w 15 {address}") as pinging:
            time.sleep(1.0)
            down = time.time()
            subprocess.run(["ip", "link", "set", f"{home}-eth99", "down"], check=True)
            out = pinging.communicate(timeout=30)[0].decode()
    finally:
        subprocess.run(["ip", "link", "set", f"{home}-eth99", "up"], check=True)
        lab.api.delete("floatingip", fip["id"])
    answers = [float(t) for t in re.findall(r"^\[(\d+\.\d+)\].*bytes from", out, re.M)]
    assert answers and answers[-1] > down, "the floating IP was not reached again"
    eventually(lambda: set(upstream.sessions().values()) == {"Established"}, timeout=60)
    sent, got = (int(x) for x in re.search(r"(\d+) packets transmitted, (\d+) received", out).groups())
    print(f"  {home}'s uplink down: {sent - got} of {sent} pings lost, longest gap "
          f"{max(b - a for a, b in zip(answers, answers[1:], strict=False)):.2f} s")
    return max(b - a for a, b in zip(answers, answers[1:], strict=False))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--fips", type=int, default=1000)
    p.add_argument("--failures", type=int, default=5)
    args = p.parse_args()
    topo = TenantsTopo(switches=2, hosts=1, tenants="ab", subnets=2, internet=True, bgp=True)
    with tenants_lab(topo, Path(tempfile.mkdtemp(prefix="nvbench-")), apps=APPS) as lab:
        hops = {address: sw for sw, address in topo.speakers().items()}
        upstream = lab.upstreams["inet"]
        ext, _ = open_edge(lab.api, lab.tenants)
        wait_ping(lab.host("a11"), INTERNET_GATEWAY)
        net = netaddr.IPNetwork(FIP_CIDR)
        fips = lab.api.create("subnet", network_id=ext["id"], ip_version=4, cidr=FIP_CIDR, gateway_ip=None,
                              allocation_pools=[{"start": str(net[10]), "end": str(net[-2])}])
        eventually(lambda: set(upstream.sessions().values()) == {"Established"}, timeout=60)
        gaps = [outage(lab, upstream, ext, fips, lab.tenants["a"].ports["a21"]["id"], hops)
                for _ in range(args.failures)]
        created, learned = burst(lab, upstream, ext, fips, args.fips)
    print(f"{args.fips:,} floating IPs ({CLIENTS} REST clients): created in {created:.2f} s "
          f"({args.fips / created:,.0f}/s), all learned by the peer after {learned:.2f} s "
          f"({args.fips / learned:,.0f} prefixes/s)  ratio {learned / created:.3f}")
    print(f"uplink down: floating IP unreachable from outside for median {statistics.median(gaps):.2f} s of "
          f"{len(gaps)} ({', '.join(f'{g:.2f}' for g in gaps)}); hold time {HOLD_TIME} s + 2 s = {HOLD_TIME + 2} s, "
          f"ratio {statistics.median(gaps) / (HOLD_TIME + 2):.3f}")


if __name__ == "__main__":
    main()
