"""os-ken app for bench.flow_rate: installs N flows through nvapps' core sending path and times each step.

Loaded with nvapps.core.app; NVBENCH_FLOWS sets N and NVBENCH_RESULT the JSON file it writes.
"""
from __future__ import annotations

import json
import os
import time

from os_ken.base import app_manager
from os_ken.controller.handler import set_ev_cls
from os_ken.lib import hub

from bench.flowset import bench_flows
from nvapps import pipeline
from nvapps.core.events import EventChassisUp
from nvapps.core.reconcile import Desired, diff
from nvapps.core.topology import Chassis

app_manager.require_app("nvapps.core.app")


class FlowRateBench(app_manager.OSKenApp):
    """On the first switch that connects: build, encode, send and commit N flows; then read them back."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.done = False

    @set_ev_cls(EventChassisUp)
    def _up(self, ev: EventChassisUp) -> None:
        if not self.done:
            self.done = True
            hub.spawn(self._run, ev.chassis)

    def _run(self, chassis: Chassis) -> None:
        core = app_manager.lookup_service_brick("nvcore")
        n = int(os.environ.get("NVBENCH_FLOWS", "100000"))
        app = pipeline.AppId.L2   # its flows (the L2 app is not loaded here: its cookie range is free)
        t0 = time.perf_counter()
        flows = bench_flows(n)
        t1 = time.perf_counter()
        desired = Desired.build(app, flows)
        t1b = time.perf_counter()
        installed = core.read_back(chassis, app)
        changes = diff(desired, installed)
        t2 = time.perf_counter()
        core.apply(chassis, changes)
        t3 = time.perf_counter()
        reread = core.read_back(chassis, app)
        again = diff(desired, reread)
        t4 = time.perf_counter()
        result = {"flows": n, "build_specs_s": t1 - t0, "digests_s": t1b - t1, "read_and_diff_s": t2 - t1b,
                  "encode_send_commit_s": t3 - t2, "reconcile_unchanged_s": t4 - t3,
                  "unchanged_diff_flow_mods": again.flow_mods, "switch_cookies": len(reread.cookies)}
        with open(os.environ["NVBENCH_RESULT"], "w") as out:
            json.dump(result, out)
