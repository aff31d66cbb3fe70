"""GET /metrics: Prometheus's text format for admins only; the model's objects, the switches, what was sent
to them, their ports' counters labelled with the port's project, network and chassis, and REST requests."""
from __future__ import annotations

from types import SimpleNamespace

import webob
from prometheus_client.parser import text_string_to_metric_families

from nvapps.core import conntrack
from nvapps.core.app import PortCounters, SwitchStats
from nvapps.core.topology import Chassis, Interface
from nvapps.nat.app import FloatingCounters
from nvapps.nat.flows import Floating
from nvapps.rest.metrics import Metrics
from tests.unit.restkit import call, ok, token_api


def scrape(api, header: tuple[str, str] = ("X-Auth-Token", "adm")) -> dict[tuple, float]:
    """(sample name, labels...) -> value."""
    req = webob.Request.blank("/metrics")
    req.headers[header[0]] = header[1]
    resp = req.get_response(api)
    assert resp.status_int == 200 and resp.content_type == "text/plain", resp.body
    return {(s.name, *sorted(s.labels.items())): s.value
            for family in text_string_to_metric_families(resp.text) for s in family.samples}


def test_metrics_are_for_admins_with_a_token_or_a_bearer(tmp_path):
    api = token_api(tmp_path)
    assert call(api, "GET", "/metrics")[0] == 401
    assert call(api, "GET", "/metrics", "alice")[0] == 403
    assert scrape(api, ("Authorization", "Bearer adm"))


def test_the_model_switches_ports_and_requests_are_counted(tmp_path):
    api = token_api(tmp_path)
    hv1 = Chassis("hv1", 1, {"vm1": Interface("vm1", 5, True), "vm2": Interface("vm2", 6, True)}, frozenset(), {}, {})
    stats = SwitchStats(flow_mods=40, group_mods=2, packet_ins=3, packet_ins_by_app={3: 2, 8: 1},
                        ports={5: PortCounters(10, 20, 1000, 2000, 1, 0), 6: PortCounters(1, 1, 1, 1, 0, 0)},
                        app_flow_mods={"l2": 30, "l3": 10}, sync_seconds={"l2": 0.5, "l3": 0.25},
                        last_sync={"l2": {"flow_mods": 0, "seconds": 0.125}})
    core = SimpleNamespace(chassis={"hv1": hv1}, stats={1: stats}, conntrack={"hv1,hv2": {"port": 3, "router": 1}})
    api.metrics = Metrics(api.model, lambda: core)
    net = ok(api, "POST", "/v2.0/networks", "alice", {"network": {"name": "n"}})["network"]
    port = ok(api, "POST", "/v2.0/ports", "adm", {"port": {"network_id": net["id"], "project_id": "pa",
                                                         "binding:host_id": "hv1",
                                                         "binding:profile": {"interface_name": "vm1"}}})["port"]
    ok(api, "POST", "/v2.0/ports", "alice", {"port": {"network_id": net["id"]}})        # unbound: no counters
    ok(api, "POST", "/v2.0/ports", "adm", {"port": {"network_id": net["id"], "project_id": "pa",     # a VLAN of
                                                    "binding:host_id": "hv1",                    # vm2: none
                                                    "binding:profile": {"interface_name": "vm2", "vlan": 7}}})
    call(api, "GET", "/v2.0/nothing", "alice")
    got = scrape(api)
    assert got["nvapps_objects", ("kind", "port")] == 3 and got["nvapps_objects", ("kind", "network")] == 1
    assert got["nvapps_switches_connected",] == 1
    assert got["nvapps_flow_mods_total", ("chassis", "hv1")] == 40
    assert got["nvapps_packet_ins_total", ("app", "l3"), ("chassis", "hv1")] == 2
    assert got["nvapps_packet_ins_total", ("app", "dhcp"), ("chassis", "hv1")] == 1
    assert got["nvapps_app_flow_mods_total", ("app", "l3"), ("chassis", "hv1")] == 10
    assert got["nvapps_sync_seconds_total", ("app", "l2"), ("chassis", "hv1")] == 0.5
    assert got["nvapps_reconcile_seconds", ("app", "l2"), ("chassis", "hv1")] == 0.125
    assert got["nvapps_conntrack_entries", ("chassis", "hv1,hv2"), ("zone_kind", "port")] == 3
    assert got["nvapps_conntrack_entries", ("chassis", "hv1,hv2"), ("zone_kind", "router")] == 1
    labels = (("chassis", "hv1"), ("network", net["id"]), ("port", port["id"]), ("project", "pa"))
    assert got[("nvapps_port_rx_packets_total", *labels)] == 10
    assert got[("nvapps_port_tx_bytes_total", *labels)] == 2000
    assert len([k for k in got if k[0] == "nvapps_port_rx_packets_total"]) == 1
    assert got["nvapps_rest_requests_total", ("method", "GET"), ("status", "404")] == 1
    assert got["nvapps_rest_requests_total", ("method", "POST"), ("status", "201")] == 4
    assert got["nvapps_rest_request_duration_seconds_count", ("method", "POST")] == 4


def test_each_floating_ip_s_traffic_is_labelled_with_its_project_id_address_and_chassis(tmp_path):
    api = token_api(tmp_path)
    fip = Floating("172.16.0.105", "10.0.0.3", (), "f1", "pa")
    api.metrics = Metrics(api.model, lambda: SimpleNamespace(chassis={}, stats={}, conntrack={}),
                          lambda: [FloatingCounters(fip, "s2", 3, 294, 4, 392)])
    got = scrape(api)
    labels = (("address", "172.16.0.105"), ("chassis", "s2"), ("floatingip", "f1"), ("project", "pa"))
    assert [got[(f"nvapps_floatingip_{name}_total", *labels)] for name in ("rx_packets", "rx_bytes", "tx_packets",
                                                                          "tx_bytes")] == [3, 294, 4, 392]


def test_conntrack_entries_are_counted_by_the_kind_of_their_zone():
    dump = "\n".join([
        "tcp,orig=(src=10.0.1.11,dst=10.0.2.11,sport=4,dport=80),reply=(src=10.0.2.11,dst=10.0.1.11,sport=80,dport=4),"
        "zone=3,protoinfo=(state=ESTABLISHED)",
        "icmp,orig=(src=10.0.1.11,dst=10.0.1.12,id=1,type=8,code=0),reply=(src=10.0.1.12,dst=10.0.1.11,id=1,type=0,"
        "code=0),zone=4",
        f"tcp,orig=(src=203.0.113.10,dst=172.16.0.102,sport=5,dport=80),reply=(...),zone={0xC001}",
        f"tcp,orig=(src=10.0.1.11,dst=10.0.1.2,sport=6,dport=80),reply=(...),zone={0xE001},mark=0",
        f"tcp,orig=(src=10.0.1.11,dst=10.0.1.2,sport=7,dport=80),reply=(...),zone={0xD002}",
        f"udp,orig=(src=10.0.1.11,dst=10.0.1.2,sport=8,dport=53),reply=(...),zone={0xF001}",
        "udp,orig=(src=10.0.0.1,dst=10.0.0.2,sport=9,dport=53),reply=(src=10.0.0.2,dst=10.0.0.1,sport=53,dport=9)",
        ""])
    assert conntrack.count(dump) == {"port": 2, "router": 1, "lb": 1, "router_lb": 1, "hairpin": 1, "none": 1}
