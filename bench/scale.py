"""The controller at scale on real bridges: C userspace bridges in this machine's ovs-vswitchd, each a chassis
connected to the controller (VXLAN ports with loopback endpoints, so nothing leaves the machine), and N ports
seeded into the database before the controller starts (bench.control_plane's cloud: 10 tenants, a router
each, a tenant's ports on its own C/10 chassis as VLANs of one internal port per bridge). Per size it prints:
first start (everything installed) and a restart (reconciled, flow mods), RSS, the CPU the rounds' ends take
until the controller is quiet, then POST -> port ACTIVE (its flows installed) median and p99, the controller's
CPU per port change (measured apart from the latency, whose 5 ms polls the controller answers too), REST create rate with 1 and 8 clients, a
security group rule on a group of N/10 ports -> its flows in every switch, a burst of 1,000 ports from 8 clients
while two ports of the burst's network ping each other every 10 ms (errors, all ACTIVE, pings lost, flow mods on
the chassis that hold none of them) and RSS after it, a bridge deleted and re-created ->
its pipeline back; beside the anchors: `ovs-ofctl dump-flows` and `ovs-ofctl --bundle add-flows` of that
bridge's flows.

    .venv/bin/python -m bench.scale [--ports 1000 3000 10000] [--chassis 50]

Run as root with OVS running (scripts/setup.sh); it makes bridges sc0.. and scanchor and removes them.
"""
from __future__ import annotations

import argparse
import itertools
import os
import re
import signal
import statistics
import subprocess
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

from bench.control_plane import TENANTS, cloud, tunnel_ip
from nvapps.lab.controller import Controller
from nvapps.lab.ovs import dump_flows, dump_groups, ensure_ovs
from nvapps.pipeline import COOKIE_LEARNED, Table
from nvapps.store.sqlite import SQLiteStore

PREFIX = "sc"
APPS = ("nvapps.overlay.app", "nvapps.acl.app", "nvapps.l3.app", "nvapps.dhcp.app", "nvapps.l2.app")
SAMPLES = 20
RULE_PORT = 2222


def vsctl(*args: str) -> str:
    return subprocess.run(["ovs-vsctl", "--timeout=60", *args], check=True, capture_output=True, text=True).stdout


def bridge_args(c: int, of_port: int) -> list[str]:
    """ovs-vsctl arguments that make chassis c's bridge: its VM interface and its VXLAN port."""
    name = f"{PREFIX}{c}"
    return ["--", "add-br", name, "--", "set", "bridge", name, "datapath_type=netdev", "fail_mode=secure",
            "protocols=OpenFlow13", f"other_config:datapath-id={c + 1:016x}",
            "--", "set-controller", name, f"tcp:127.0.0.1:{of_port}",
            "--", "add-port", name, f"{name}-vm", "--", "set", "interface", f"{name}-vm", "type=internal",
            "--", "add-port", name, f"{name}-vx", "--", "set", "interface", f"{name}-vx", "type=vxlan",
            "options:remote_ip=flow", "options:key=flow", f"options:local_ip={tunnel_ip(c)}"]


def ofctl(*args: str) -> str:
    done = subprocess.run(["ovs-ofctl", "-O", "OpenFlow13", *args], capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"ovs-ofctl {' '.join(args)}: {done.stderr.strip()}")
    return done.stdout


def static_flows(bridge: str) -> int:
    return sum(1 for f in dump_flows(bridge) if not f.cookie & COOKIE_LEARNED)


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> float:
    line = next(x for x in Path(f"/proc/{pid}/status").read_text().splitlines() if x.startswith("VmRSS"))
    return int(line.split()[1]) / 1024


def wait_synced(ctl: Controller, names: list[str], timeout: float) -> tuple[float, int]:
    """Seconds until every chassis is connected and synced by every app, and the flow mods of those syncs."""
    start = time.monotonic()
    ctl.wait_chassis(names, timeout=timeout)
    mods = sum(s["flow_mods"] for c in ctl.client.chassis() for s in c["last_sync"].values())
    return time.monotonic() - start, mods


def quiet(pid: int, timeout: float = 30.0) -> tuple[float, float]:
    """Seconds until the process used < 2% CPU over a second, and the CPU seconds it used until then."""
    start, first = time.monotonic(), cpu_seconds(pid)
    last = first
    while time.monotonic() - start < timeout:
        time.sleep(1.0)
        now = cpu_seconds(pid)
        if now - last < 0.02:
            return time.monotonic() - start - 1.0, last - first
        last = now
    return timeout, last - first


def until(predicate, timeout: float = 120.0, interval: float = 0.005) -> float:
    start = time.monotonic()
    while not predicate():
        if time.monotonic() - start > timeout:
            raise TimeoutError("timed out")
        time.sleep(interval)
    return time.monotonic() - start


class Step:
    """One size: seeded database, bridges, controller; each measure prints a row."""

    def __init__(self, ports: int, chassis: int, workdir: Path) -> None:
        self.n, self.chassis = ports, chassis
        self.names = [f"{PREFIX}{c}" for c in range(chassis)]
        self.ctl = Controller(workdir, apps=APPS)
        self.ctl.extra_args += ["--nvapps-tenant-network-type", "vxlan", "--nvapps-tunnel-ports", "vxlan:{chassis}-vx"]
        store = SQLiteStore(str(self.ctl.db_path))
        model, _, self.ports = cloud(ports, chassis, prefix=PREFIX, store=store)
        self.network = next(p.network_id for p in self.ports if p.project_id == "t0")   # where new ports go
        store.close()
        self.vlans = itertools.count(4000, -1)       # free VLANs on sc0-vm for new ports (next() is atomic)

    def row(self, what: str, ours: str, anchor: str = "") -> None:
        print(f"{self.n:6d}  {what:<44} {ours:<34} {anchor}", flush=True)

    def run(self) -> None:
        vsctl(*[a for c in range(self.chassis) for a in bridge_args(c, self.ctl.of_port)])
        self.ctl.start()
        took, mods = wait_synced(self.ctl, self.names, timeout=900)
        flows = [c["flows"] for c in self.ctl.client.chassis() if c["name"] in self.names]
        per_chassis = statistics.mean(sum(f.values()) for f in flows)
        self.row("first start: all chassis synced", f"{took:.1f} s, {mods} flow mods", f"{per_chassis:.0f} flows/chassis")
        self.ctl.stop()
        self.ctl.start()
        took, mods = wait_synced(self.ctl, self.names, timeout=900)
        self.row("restart: all chassis reconciled", f"{took:.1f} s, {mods} flow mods", f"RSS {rss_mb(self.ctl.proc.pid):.0f} MB")
        quiet_s, tail_cpu = quiet(self.ctl.proc.pid)
        self.row("  then the controller quiet (< 2% CPU for 1 s)", f"{quiet_s:.1f} s later, {tail_cpu:.2f} s CPU",
                 "the rounds' ends: collections, heap frozen")
        self.post_to_active()
        self.create_rate()
        self.rule_to_flows()
        self.burst()
        self.bridge_recreated()

    def new_port(self, client, network_id: str | None = None) -> dict:
        """A new port of t0 on sc0 (a VLAN of sc0-vm), on `network_id` or t0's first network."""
        return client.create("port", network_id=network_id or self.network, project_id="t0", **{
            "binding:host_id": f"{PREFIX}0",
            "binding:profile": {"interface_name": f"{PREFIX}0-vm", "vlan": next(self.vlans)}})

    def post_to_active(self) -> None:
        client, pid = self.ctl.client, self.ctl.proc.pid
        times, cpu = [], cpu_seconds(pid)
        for _ in range(SAMPLES):
            start = time.monotonic()
            port = self.new_port(client)
            until(lambda p=port: client.get("port", p["id"])["status"] == "ACTIVE")
            times.append(time.monotonic() - start)
        cpu = (cpu_seconds(pid) - cpu) / SAMPLES
        times.sort()
        self.row("POST port -> ACTIVE (flows in): median, p99", f"{1000 * statistics.median(times):.0f} ms, "
                 f"{1000 * times[int(0.99 * (len(times) - 1))]:.0f} ms", f"CPU {1000 * cpu:.0f} ms per port "
                 "(with the GETs polling every 5 ms)")
        cpu = cpu_seconds(pid)
        for _ in range(SAMPLES):
            port = self.new_port(client)
            until(lambda p=port: client.get("port", p["id"])["status"] == "ACTIVE", interval=0.1)
        self.row("controller CPU per port change", f"{1000 * (cpu_seconds(pid) - cpu) / SAMPLES:.0f} ms",
                 f"{SAMPLES} POSTs, each awaited polling every 100 ms")

    def create_rate(self, count: int = 100) -> None:
        for clients in (1, 8):
            start = time.monotonic()
            with ThreadPoolExecutor(clients) as pool:
                list(pool.map(lambda _: self.new_port(self.ctl.client), range(count)))
            self.row(f"REST create rate, {clients} client(s)", f"{count / (time.monotonic() - start):.0f} ports/s")

    def rule_to_flows(self) -> None:
        group = next(g for g in self.ctl.client.list("security_group") if g["project_id"] == "t0")
        members = [p for p in self.ctl.client.list("port") if p["project_id"] == "t0" and not p["device_owner"]]
        bridges = sorted({p["binding:host_id"] for p in members})

        def installed() -> bool:        # only the rule's flows are read back: a whole dump costs a poll ~0.1 s
            return sum(len(dump_flows(b, f"table={Table.SG_TO_VM_RULES},tcp,tp_dst={RULE_PORT}"))
                       for b in bridges) >= len(members)
        start = time.monotonic()
        self.ctl.client.create("security_group_rule", security_group_id=group["id"], direction="ingress",
                               ethertype="IPv4", protocol="tcp", port_range_min=RULE_PORT, port_range_max=RULE_PORT)
        until(installed, interval=0.05)
        self.row(f"SG rule on a {len(members)}-port group -> flows on {len(bridges)} switches",
                 f"{time.monotonic() - start:.2f} s")

    def burst(self, count: int = 1000, clients: int = 8) -> None:
        """`count` ports created at once by `clients` clients on a new network of t0 on sc0 while two of its
        ports ping each other: REST errors, all ACTIVE, pings lost, and the flow mods it cost the chassis where
        t0 has no port (there should be none)."""
        client = self.ctl.client
        net = client.create("network", name="burst", project_id="t0")
        client.create("subnet", network_id=net["id"], project_id="t0", ip_version=4, cidr="10.250.0.0/21")
        hosting = {p["binding:host_id"] for p in client.list("port") if p["project_id"] == "t0" and p["binding:host_id"]}
        errors = []

        def one(_: int) -> str | None:
            try:
                return self.new_port(client, net["id"])["id"]
            except Exception as exc:            # counted, and shown
                errors.append(repr(exc))
                return None
        with pinging(self, net["id"]) as lost:
            before = {c["name"]: c["flow_mods"] for c in client.chassis()}
            start = time.monotonic()
            with ThreadPoolExecutor(clients) as pool:
                ids = [i for i in pool.map(one, range(count)) if i]
            self.ctl.wait_ports(ids, timeout=600)
            took = time.monotonic() - start
            after = {c["name"]: c["flow_mods"] for c in client.chassis()}
        churn = sum(after[n] - before.get(n, 0) for n in after if n not in hosting)
        self.row(f"burst: {count} ports by {clients} clients -> all ACTIVE", f"{took:.1f} s, {len(errors)} errors, "
                 f"pings lost {lost[0]}/{lost[1]}", f"flow mods on the {len(after) - len(hosting)} chassis without t0: {churn}")
        self.row("  RSS after it", f"{rss_mb(self.ctl.proc.pid):.0f} MB")

    def bridge_recreated(self) -> None:
        bridge = f"{PREFIX}1"
        before = static_flows(bridge)
        start = time.monotonic()
        out = ofctl("dump-flows", "--no-stats", bridge)
        dump_s = time.monotonic() - start
        flowfile, groupfile = Path(self.ctl.workdir) / "flows.txt", Path(self.ctl.workdir) / "groups.txt"
        flowfile.write_text(out)
        groupfile.write_text("\n".join(dump_groups(bridge)) + "\n")
        vsctl("--", "add-br", "scanchor", "--", "set", "bridge", "scanchor", "datapath_type=netdev",
              "fail_mode=secure", "protocols=OpenFlow13")
        try:
            for meter in sorted({m for m in re.findall(r"meter:(\d+)", out)}):
                ofctl("add-meter", "scanchor", f"meter={meter},pktps,band=type=drop,rate=50")
            ofctl("add-groups", "scanchor", str(groupfile))
            start = time.monotonic()
            ofctl("--bundle", "add-flows", "scanchor", str(flowfile))
            add_s = time.monotonic() - start
        finally:
            vsctl("--if-exists", "del-br", "scanchor")
        vsctl("del-br", bridge)
        start = time.monotonic()
        vsctl(*bridge_args(1, self.ctl.of_port))
        until(lambda: static_flows(bridge) >= before, interval=0.1)
        self.row(f"bridge re-created -> its {before} flows back", f"{time.monotonic() - start:.2f} s",
                 f"anchors: dump-flows {dump_s:.2f} s, --bundle add-flows {add_s:.2f} s")

    def close(self) -> None:
        self.ctl.stop()
        vsctl(*[a for c in range(self.chassis) for a in ("--", "--if-exists", "del-br", f"{PREFIX}{c}")])


@contextmanager
def pinging(step: Step, network_id: str) -> Iterator[list[int]]:
    """Two ports of `network_id` on sc0, each a veth into a namespace of its own, one pinging the other every
    10 ms while the body runs; then [pings lost, pings sent]."""
    names = [f"nvscale{i}" for i in range(2)]
    result = [0, 0]
    try:
        ports = []
        for name in names:
            subprocess.run(["ip", "netns", "add", name], check=True)
            subprocess.run(["ip", "link", "add", f"{name}-br", "type", "veth", "peer", "name", "eth0", "netns", name],
                           check=True)
            vsctl("add-port", f"{PREFIX}0", f"{name}-br")
            subprocess.run(["ip", "link", "set", f"{name}-br", "up"], check=True)
            port = step.ctl.client.create("port", network_id=network_id, project_id="t0", **{
                "binding:host_id": f"{PREFIX}0", "binding:profile": {"interface_name": f"{name}-br"}})
            ip = port["fixed_ips"][0]["ip_address"]
            for cmd in (["ip", "link", "set", "eth0", "address", port["mac_address"]],
                        ["ip", "addr", "add", f"{ip}/21", "dev", "eth0"], ["ip", "link", "set", "eth0", "up"]):
                subprocess.run(["ip", "netns", "exec", name, *cmd], check=True)
            ports.append(port)
        step.ctl.wait_ports([p["id"] for p in ports], timeout=60)
        target = ports[1]["fixed_ips"][0]["ip_address"]
        subprocess.run(["ip", "netns", "exec", names[0], "ping", "-c", "3", "-W", "2", target], check=True,
                       capture_output=True)
        ping = subprocess.Popen(["ip", "netns", "exec", names[0], "ping", "-q", "-i", "0.01", target],
                                stdout=subprocess.PIPE, text=True)
        try:
            yield result
        finally:
            ping.send_signal(signal.SIGINT)
            out, _ = ping.communicate(timeout=10)
            sent, received = (int(x) for x in re.search(r"(\d+) packets transmitted, (\d+) received", out).groups())
            result[:] = [sent - received, sent]
    finally:
        for name in names:
            subprocess.run(["ip", "netns", "delete", name], check=False)
            subprocess.run(["ip", "link", "delete", f"{name}-br"], check=False, capture_output=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ports", type=int, nargs="+", default=[1000, 3000, 10000])
    parser.add_argument("--chassis", type=int, default=50)
    args = parser.parse_args()
    ensure_ovs()
    print(f"{'ports':>6}  {'what':<44} {'nvapps':<34} anchor / notes ({args.chassis} chassis, {TENANTS} tenants)")
    for n in args.ports:
        with tempfile.TemporaryDirectory(prefix="nvscale-") as workdir:
            step = Step(n, args.chassis, Path(workdir))
            try:
                step.run()
            finally:
                step.close()


if __name__ == "__main__":
    main()
