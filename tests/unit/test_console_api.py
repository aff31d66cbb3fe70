"""What the web console needs from the REST app: its files under /ui/ (public, nothing else served from
there), and the caller's counters as JSON (a member's own project only)."""
from __future__ import annotations

from nvapps.core.topology import Chassis, Interface
from nvapps.rest.counters import counters
from tests.unit.fakecore import FakeCore
from tests.unit.restkit import call, token_api


def test_the_console_is_served_under_ui_and_nothing_else_is(tmp_path):
    api = token_api(tmp_path)
    status, page = call(api, "GET", "/ui/")
    assert status == 200 and "<title>nvapps console</title>" in page
    assert call(api, "GET", "/ui/console.js")[0] == 200 and call(api, "GET", "/ui/cytoscape.min.js")[0] == 200
    assert call(api, "GET", "/ui")[0] == 301
    for path in ("/ui/../wsgi.py", "/ui/%2e%2e%2fwsgi.py", "/ui/nothing.js", "/ui/VENDORED", "/ui/.hidden.js",
                 "/ui/__init__.py"):
        assert call(api, "GET", path)[0] == 404, path
    assert call(api, "POST", "/ui/console.js")[0] == 405


class Counters:
    def __init__(self, **values):
        self.__dict__.update(values)


def test_counters_are_the_callers_ports_summed_per_project(tmp_path):
    api = token_api(tmp_path)
    ports = {}
    for project, token in (("pa", "alice"), ("pb", "bob")):
        net = call(api, "POST", "/v2.0/networks", token, {"network": {"name": "n"}})[1]["network"]
        for n in (1, 2):
            ports[project, n] = call(api, "POST", "/v2.0/ports", "adm", {"port": {
                "network_id": net["id"], "project_id": project, "binding:host_id": "hv1",
                "binding:profile": {"interface_name": f"{project}-{n}"}}})[1]["port"]
    ofports = {f"{p}-{n}": 10 * (p == "pb") + n for p, n in ports}
    hv1 = Chassis("hv1", 1, {name: Interface(name, of) for name, of in ofports.items()})
    stats = Counters(ports={of: Counters(rx_packets=of, tx_packets=2 * of, rx_bytes=100 * of, tx_bytes=200 * of,
                                         rx_dropped=0, tx_dropped=1) for of in ofports.values()})
    core = FakeCore({"hv1": hv1}, {})
    core.stats = {1: stats}
    api.counting = lambda ctx, project: counters(api.model, core, list, ctx, project)
    mine = call(api, "GET", "/v2.0/counters", "alice")[1]["counters"]
    assert sorted(p["port_id"] for p in mine["ports"]) == sorted(ports["pa", n]["id"] for n in (1, 2))
    assert mine["projects"] == [{"project_id": "pa", "bytes_in": 600, "bytes_out": 300, "packets_in": 6,
                                 "packets_out": 3}]
    assert {p["chassis"] for p in mine["ports"]} == {"hv1"}
    assert call(api, "GET", "/v2.0/counters?project_id=pb", "alice")[0] == 403
    assert call(api, "GET", "/v2.0/counters?colour=red", "alice")[0] == 400
    assert call(api, "GET", "/v2.0/counters", None)[0] == 401
    everyone = call(api, "GET", "/v2.0/counters", "adm")[1]["counters"]
    assert [p["project_id"] for p in everyone["projects"]] == ["pa", "pb"]
    theirs = call(api, "GET", "/v2.0/counters?project_id=pb", "adm")[1]["counters"]
    assert [p["bytes_out"] for p in theirs["projects"]] == [100 * 11 + 100 * 12]
