"""Metrics with a real Prometheus (Debian's) scraping GET /metrics every second: a ping's rate shows in its
ports' counters and its connection in conntrack's port zones, and packets a security group refuses are counted
as its drops.

Tenant a's hosts a1 (s1, 10.0.0.11) and a2 (s2, 10.0.0.12) start in their project's default group.
"""
from __future__ import annotations

import json
import subprocess
import time
import urllib.parse
import urllib.request

import pytest

from nvapps.lab.controller import ADMIN_TOKEN, free_port
from nvapps.lab.net import background, ping, wait_ping
from topologies.tenants import host_ip

HOSTS_PER_SWITCH = 1
APPS = ("nvapps.acl.app", "nvapps.l2.app")
FLAGS = ("--nvapps-stats-interval", "0.5")
PING_RATE = 10          # echo requests per second
WINDOW = 20             # seconds PromQL's rate() looks back (a counter polled twice a second: +-0.5/WINDOW)


@pytest.fixture(scope="module")
def prometheus(lab, tmp_path_factory):
    """A Prometheus on loopback scraping the controller every second (stopped by PID after); yields a
    function that runs an instant PromQL query and returns its samples' values."""
    workdir = tmp_path_factory.mktemp("prometheus")
    config = workdir / "prometheus.yml"         # YAML reads JSON
    config.write_text(json.dumps({"global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
                                  "scrape_configs": [{
                                      "job_name": "nvapps", "metrics_path": "/metrics",
                                      "authorization": {"type": "Bearer", "credentials": ADMIN_TOKEN},
                                      "static_configs": [{"targets": [f"127.0.0.1:{lab.controller.rest_port}"]}]}]}))
    url = f"http://127.0.0.1:{free_port()}"
    with open(workdir / "prometheus.log", "w") as log:
        proc = subprocess.Popen(["prometheus", f"--config.file={config}", f"--storage.tsdb.path={workdir / 'data'}",
                                 f"--web.listen-address={url.removeprefix('http://')}"],
                                stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 30
            while not _ready(url):
                assert time.monotonic() < deadline and proc.poll() is None, (workdir / "prometheus.log").read_text()
                time.sleep(0.2)

            def query(promql: str) -> list[float]:
                with urllib.request.urlopen(f"{url}/api/v1/query?" + urllib.parse.urlencode({"query": promql})) as r:
                    return [float(s["value"][1]) for s in json.load(r)["data"]["result"]]
            yield query
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/-/ready", timeout=1) as r:
            return r.status == 200
    except OSError:
        return False


def eventually(query, promql: str, want, within: float = 20.0) -> list[float]:
    """The query's values once `want(values)` holds (AssertionError with the last values after `within` s)."""
    deadline = time.monotonic() + within
    while not want(values := query(promql)):
        assert time.monotonic() < deadline, (promql, values)
        time.sleep(0.5)
    return values


def packets(host) -> dict[str, int]:
    """The host's interface counters, as the switch names them: rx what the host sent, tx what it got."""
    line = next(x for x in host.cmd("cat /proc/net/dev").splitlines() if f"{host.defaultIntf().name}:" in x)
    fields = line.split(":", 1)[1].split()
    return {"rx": int(fields[9]), "tx": int(fields[1])}


def test_a_ping_s_rate_shows_in_its_ports_counters(lab, prometheus):
    a1, port = lab.host("a1"), lab.tenants["a"].ports["a1"]["id"]
    wait_ping(a1, host_ip(2))
    with background(a1, f"ping -n -q -i {1 / PING_RATE} {host_ip(2)}"):
        series = {c: f'nvapps_port_{c}_packets_total{{port="{port}"}}[{WINDOW}s]' for c in ("rx", "tx")}
        eventually(prometheus, f"count_over_time({series['rx']})", lambda v: v and v[0] >= WINDOW - 1, WINDOW + 15)
        before, start = packets(a1), time.monotonic()
        time.sleep(WINDOW)
        after, seconds = packets(a1), time.monotonic() - start
        for counter, promql in series.items():      # the host's ping, as its own interface counted it
            rate, = prometheus(f"rate({promql})")
            real = (after[counter] - before[counter]) / seconds
            assert real > 0.8 * PING_RATE and abs(rate - real) <= 0.1 * real, (counter, rate, real)
        # the ping is a connection in each port's zone (both switches are bridges of one ovs-vswitchd)
        eventually(prometheus, 'nvapps_conntrack_entries{chassis="s1,s2",zone_kind="port"}', lambda v: v and v[0] >= 2)
    assert eventually(prometheus, "nvapps_switches_connected", lambda v: v == [2.0])


def test_packets_a_security_group_refuses_are_counted_as_its_drops(lab, prometheus):
    api, a2 = lab.api, lab.tenants["a"].ports["a2"]
    dropped = 'sum(nvapps_dropped_packets_total{reason="security_group"})'
    before, = eventually(prometheus, dropped, lambda v: len(v) == 1)
    closed = api.create("security_group", name="closed", project_id="tenant-a")     # egress only
    api.update("port", a2["id"], security_groups=[closed["id"]])
    try:
        time.sleep(0.5)
        assert ping(lab.host("a1"), host_ip(2), count=5) == 0
        eventually(prometheus, dropped, lambda v: v and v[0] >= before + 5)
    finally:
        api.update("port", a2["id"], security_groups=a2["security_groups"])
