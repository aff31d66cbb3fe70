"""Several controllers on etcd, in one run: REST write latency and throughput on etcd against SQLite (the anchor),
how soon a write on one controller is read on another, etcd's keys and bytes per 1,000 ports, and the takeover
after kill -9 of the master (median of 5; flow mods the new master sent).

    .venv/bin/python -m bench.ha [--writes 200] [--ports 1000] [--takeovers 5]

Three etcd members and three controllers on loopback (L2 and ACL apps), one SQLite controller beside them; one
bridge (ha0, removed after) connected to the three. Run as root with OVS running.
"""
from __future__ import annotations

import argparse
import base64
import json
import statistics
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bench.scale import vsctl
from nvapps.lab.controller import Controller, masters
from nvapps.lab.etcd import EtcdCluster
from nvapps.lab.ovs import ensure_ovs

APPS = ("nvapps.acl.app", "nvapps.l2.app")
BRIDGE = "ha0"


def write_latencies(ctl: Controller, n: int) -> list[float]:
    """Seconds each of `n` sequential network creates took."""
    client = ctl.member("tenant-a")
    out = []
    for i in range(n):
        start = time.perf_counter()
        client.create("network", name=f"w{i}")
        out.append(time.perf_counter() - start)
    return out


def throughput(ctls: list[Controller], n: int, clients: int = 8) -> float:
    """Creates per second with `clients` concurrent clients spread over `ctls`."""
    members = [c.member("tenant-a") for c in ctls]
    start = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(lambda i: members[i % len(members)].create("network", name=f"t{i}"), range(n)))
    return n / (time.perf_counter() - start)


def read_your_write(writer: Controller, reader: Controller, n: int) -> list[float]:
    """Seconds from a create acknowledged by `writer` until `reader` lists it."""
    w, r, out = writer.member("tenant-a"), reader.member("tenant-a"), []
    for i in range(n):
        made = w.create("network", name=f"r{i}")
        start = time.perf_counter()
        while not r.list("network", id=made["id"]):
            time.sleep(0.001)
        out.append(time.perf_counter() - start)
    return out


def etcd_size(endpoint: str) -> tuple[int, int]:
    """(keys, bytes of keys and values) under /nvapps/objects/."""
    body = {"key": base64.b64encode(b"/nvapps/objects/").decode(),
            "range_end": base64.b64encode(b"/nvapps/objects0").decode()}
    with urllib.request.urlopen(urllib.request.Request(f"http://{endpoint}/v3/kv/range", json.dumps(body).encode()),
                                timeout=30) as answer:
        kvs = json.loads(answer.read()).get("kvs", [])
    return len(kvs), sum(len(base64.b64decode(kv["key"])) + len(base64.b64decode(kv.get("value", ""))) for kv in kvs)


def master(ctls: list[Controller | None]) -> int | None:
    """The index of the controller that says it is the bridge's master."""
    return next(iter(masters(ctls, BRIDGE)), None)


def takeovers(ctls: list[Controller], rounds: int) -> list[tuple[float, int]]:
    """(seconds until a new master, flow mods it sent reconciling) after each kill -9 of the master."""
    out = []
    for _ in range(rounds):
        deadline = time.monotonic() + 30
        while (old := master(ctls)) is None:
            assert time.monotonic() < deadline, "no master"
            time.sleep(0.05)
        time.sleep(1.0)
        ctls[old].kill()
        killed = time.monotonic()
        while (new := master(ctls)) is None or new == old:
            time.sleep(0.02)
        took = time.monotonic() - killed
        time.sleep(1.0)
        status = next(s for s in ctls[new].client.chassis() if s["name"] == BRIDGE)
        out.append((took, sum(s["flow_mods"] for s in status["last_sync"].values())))
        ctls[old].start()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--writes", type=int, default=200)
    parser.add_argument("--ports", type=int, default=1000)
    parser.add_argument("--takeovers", type=int, default=5)
    args = parser.parse_args()
    ensure_ovs()
    with tempfile.TemporaryDirectory(prefix="nvha-") as tmp:
        work = Path(tmp)
        (work / "etcd").mkdir()
        etcd = EtcdCluster(work / "etcd", 3)
        ctls: list[Controller] = []
        try:
            etcd.start()
            for i in range(3):
                ctl = Controller(work / f"c{i}", apps=APPS)
                ctl.extra_args += ["--nvapps-store", etcd.url, "--nvapps-controller-name", f"c{i}"]
                ctl.start()
                ctls.append(ctl)
            anchor = Controller(work / "sqlite", apps=APPS)
            anchor.start()
            ctls_and_anchor = [*ctls, anchor]
            try:
                sqlite, on_etcd = write_latencies(anchor, args.writes), write_latencies(ctls[0], args.writes)
                rates = throughput([anchor], args.writes), throughput(ctls, args.writes)
                delays = read_your_write(ctls[1], ctls[2], 50)
                before = etcd_size(etcd.endpoints[0])
                net = ctls[0].member("tenant-a").create("network", name="ports")
                ctls[0].member("tenant-a").create("subnet", network_id=net["id"], cidr="10.64.0.0/16", ip_version=4)
                with ThreadPoolExecutor(8) as pool:
                    list(pool.map(lambda i: ctls[i % 3].member("tenant-a").create("port", network_id=net["id"]),
                                  range(args.ports)))
                after = etcd_size(etcd.endpoints[0])
                vsctl("add-br", BRIDGE, "--", "set", "bridge", BRIDGE, "datapath_type=netdev", "fail_mode=secure",
                      "protocols=OpenFlow13", "--", "set-controller", BRIDGE,
                      *(f"tcp:127.0.0.1:{c.of_port}" for c in ctls))
                taken = takeovers(ctls, args.takeovers)
            finally:
                vsctl("--if-exists", "del-br", BRIDGE)
                for c in ctls_and_anchor:
                    c.stop()
        finally:
            etcd.stop()

    def ms(values: list[float], q: float = 0.5) -> str:
        return f"{1000 * statistics.quantiles(values, n=100)[int(q * 100) - 1]:.1f}"

    print(f"{'REST network create':<34} {'SQLite (anchor)':>16} {'etcd, 3 members':>16} {'ratio':>7}")
    print(f"{'  median latency (ms)':<34} {ms(sqlite):>16} {ms(on_etcd):>16} "
          f"{statistics.median(on_etcd) / statistics.median(sqlite):>7.2f}")
    print(f"{'  p99 latency (ms)':<34} {ms(sqlite, 0.99):>16} {ms(on_etcd, 0.99):>16}")
    print(f"{'  creates/s, 8 clients':<34} {rates[0]:>16.0f} {rates[1]:>16.0f} {rates[1] / rates[0]:>7.2f}")
    print(f"read on c2 after an acknowledged write on c1: median {ms(delays)} ms, max {1000 * max(delays):.1f} ms")
    print(f"etcd per {args.ports} ports: {after[0] - before[0]} keys, {(after[1] - before[1]) / 1024:.0f} KiB")
    print(f"takeover after kill -9 of the master ({args.takeovers} rounds): median "
          f"{statistics.median(t for t, _ in taken):.2f} s (each: {', '.join(f'{t:.2f}' for t, _ in taken)}); "
          f"flow mods sent by the new master: {[m for _, m in taken]}")


if __name__ == "__main__":
    main()
