"""Flow programming rate: N flows through nvapps' core (bundle) vs. `ovs-ofctl --bundle add-flows`, one bridge.

    .venv/bin/python -m bench.flow_rate [--flows 100000]

Uses a scratch userspace bridge (nvbench0) that it creates and deletes.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.flowset import ofctl_lines
from nvapps.lab.controller import free_port
from nvapps.lab.ovs import ensure_ovs

BRIDGE = "nvbench0"
REPO = Path(__file__).resolve().parents[1]


def flow_count(bridge: str) -> int:
    out = subprocess.run(["ovs-ofctl", "-O", "OpenFlow13", "dump-aggregate", bridge], check=True,
                         capture_output=True, text=True).stdout
    return int(out.split("flow_count=")[1].split()[0])


def ofctl_rate(n: int, workdir: Path) -> float:
    path = workdir / "flows.txt"
    path.write_text("\n".join(ofctl_lines(n, 0x7700000000000000)) + "\n")
    subprocess.run(["ovs-ofctl", "-O", "OpenFlow13", "del-flows", BRIDGE], check=True)
    t0 = time.perf_counter()
    subprocess.run(["ovs-ofctl", "-O", "OpenFlow13", "--bundle", "add-flows", BRIDGE, str(path)], check=True)
    elapsed = time.perf_counter() - t0
    assert flow_count(BRIDGE) == n
    return elapsed


def nvapps_rate(n: int, workdir: Path) -> dict:
    port, result = free_port(), workdir / "result.json"
    env = dict(os.environ, NVBENCH_FLOWS=str(n), NVBENCH_RESULT=str(result), PYTHONPATH=str(REPO))
    manager = str(Path(sys.executable).with_name("osken-manager"))
    subprocess.run(["ovs-ofctl", "-O", "OpenFlow13", "del-flows", BRIDGE], check=True)
    with open(workdir / "controller.log", "w") as log:
        proc = subprocess.Popen([manager, "--ofp-tcp-listen-port", str(port), "bench.flowrate_app"],
                                stdout=log, stderr=subprocess.STDOUT, env=env, cwd=workdir)
    try:
        subprocess.run(["ovs-vsctl", "set-controller", BRIDGE, f"tcp:127.0.0.1:{port}"], check=True)
        deadline = time.monotonic() + 300
        while not result.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        out = json.loads(result.read_text())
        out["switch_flow_count"] = flow_count(BRIDGE)
        return out
    finally:
        subprocess.run(["ovs-vsctl", "del-controller", BRIDGE], check=True)
        proc.terminate()
        proc.wait(timeout=15)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--flows", type=int, default=100_000)
    args = parser.parse_args()
    ensure_ovs()
    workdir = Path(tempfile.mkdtemp(prefix="nvbench-"))
    subprocess.run(["ovs-vsctl", "--may-exist", "add-br", BRIDGE, "--", "set", "bridge", BRIDGE,
                    "datapath_type=netdev", "fail_mode=secure", "protocols=OpenFlow13"], check=True)
    try:
        ofctl_s = ofctl_rate(args.flows, workdir)
        nv = nvapps_rate(args.flows, workdir)
    finally:
        subprocess.run(["ovs-vsctl", "--if-exists", "del-br", BRIDGE], check=True)
    n = args.flows
    install = nv["read_and_diff_s"] + nv["encode_send_commit_s"]
    total = nv["build_specs_s"] + nv["digests_s"] + install
    print(f"ovs-ofctl --bundle add-flows (parse text, encode, bundle, commit): {n} flows in {ofctl_s:.2f}s = "
          f"{n / ofctl_s:,.0f} flows/s")
    print(f"nvapps install (read cookies, diff, flow mods, bundle, commit, barrier): {n} flows in {install:.2f}s = "
          f"{n / install:,.0f} flows/s: {ofctl_s / install:.2f} of ovs-ofctl's rate (switch holds "
          f"{nv['switch_flow_count']})")
    print(f"nvapps end to end (+ building the flow specs {nv['build_specs_s']:.2f}s and their wire encoding and "
          f"cookies {nv['digests_s']:.2f}s, which the apps keep per flow): {total:.2f}s = {ofctl_s / total:.2f} of "
          f"ovs-ofctl's rate")
    print(f"reconcile with nothing changed (read {nv['switch_cookies']} cookies back, diff): "
          f"{nv['reconcile_unchanged_s']:.2f}s, {nv['unchanged_diff_flow_mods']} flow mods")

if __name__ == "__main__":
    main()
