"""nvctl's parsing and rendering, without a server."""
from __future__ import annotations

import pytest

from nvapps.cli import EXIT_UNREACHABLE, EXIT_USAGE, UsageError, bgp_table, main, parse_attrs, render


def test_attributes_take_json_values_when_they_parse():
    assert parse_attrs(["name=blue", "admin_state_up=false", "mtu=1400", 'fixed_ips=[{"ip_address": "10.0.0.5"}]',
                        "description=a=b"]) == {
        "name": "blue", "admin_state_up": False, "mtu": 1400, "fixed_ips": [{"ip_address": "10.0.0.5"}],
        "description": "a=b"}


@pytest.mark.parametrize("bad", ["name", "=blue"])
def test_malformed_attributes_are_usage_errors(bad):
    with pytest.raises(UsageError):
        parse_attrs([bad])


def test_tables_show_the_resources_key_columns():
    out = render([{"id": "1", "name": "blue", "cidr": "10.0.0.0/24", "network_id": "n", "gateway_ip": None}],
                 "subnet", as_json=False).splitlines()
    assert out[0].split() == ["id", "name", "network_id", "cidr", "gateway_ip"]
    assert out[1].split() == ["1", "blue", "n", "10.0.0.0/24", "-"]


def test_usage_errors_exit_2(capsys):
    assert main(["--url", "http://127.0.0.1:9", "router", "add-interface", "r1"]) == EXIT_USAGE
    assert "exactly one of --subnet or --port" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        main(["widget", "list"])
    assert exc.value.code == EXIT_USAGE


def test_port_forwardings_go_under_their_floating_ip_with_options_anywhere(capsys):
    from nvapps.cli import parser, run

    class Recorder:
        def create(self, kind, **attrs):
            self.call = ("create", kind, attrs)
            return attrs

    client = Recorder()
    opts = parser().parse_intermixed_args(["port-forwarding", "create", "--floatingip", "F", "protocol=tcp",
                                           "external_port=2222"])
    run(opts, client)
    assert client.call == ("create", "port_forwarding", {"parent_id": "F", "protocol": "tcp", "external_port": 2222})
    assert main(["--url", "http://127.0.0.1:9", "port-forwarding", "list"]) == EXIT_USAGE
    assert "--floatingip is required" in capsys.readouterr().err
    assert main(["--url", "http://127.0.0.1:9", "network", "list", "--floatingip", "F"]) == EXIT_USAGE


def test_trace_asks_the_api_for_a_ports_packet_or_one_from_outside_and_prints_its_lines(capsys, monkeypatch):
    from nvapps import cli
    asked = []

    def trace(self, flow, port_id=None, network_id=None):
        asked.append((flow, port_id, network_id, self.token))
        return {"text": "verdict: delivered", "hops": []}

    monkeypatch.setattr(cli.Client, "trace", trace)
    assert main(["--token", "t", "trace", "p1", "tcp,nw_dst=10.0.0.5,tp_dst=80"]) == 0
    assert main(["trace", "--from-network", "ext", "tcp,nw_dst=172.16.0.5", "--token", "u"]) == 0
    assert capsys.readouterr().out == "verdict: delivered\nverdict: delivered\n"
    assert asked == [("tcp,nw_dst=10.0.0.5,tp_dst=80", "p1", None, "t"), ("tcp,nw_dst=172.16.0.5", None, "ext", "u")]
    assert main(["trace", "tcp,nw_dst=10.0.0.5"]) == EXIT_USAGE        # no port, no network
    assert main(["trace", "--from-network", "ext", "p1", "tcp"]) == EXIT_USAGE
    assert "trace takes PORT FLOW" in capsys.readouterr().err


def test_bgp_status_shows_a_line_per_session_and_speakers_without_one():
    out = bgp_table([
        {"chassis": "gw1", "physical_network": "physnet1", "address": "172.16.0.2", "local_as": 65001, "running": True,
         "sessions": [{"peer": "172.16.0.1", "state": "Established", "uptime": 12.5, "prefixes_sent": 3,
                       "prefixes_received": 1}]},
        {"chassis": "gw2", "physical_network": "physnet1", "address": "172.16.0.3", "local_as": 65001,
         "running": False, "sessions": []}]).splitlines()
    assert out[1].split() == ["gw1", "physnet1", "172.16.0.2", "65001", "172.16.0.1", "Established", "12.5", "3", "1"]
    assert out[2].split()[4:7] == ["-", "not", "running"]


def test_bgp_status_is_a_command_of_its_own(capsys):
    assert main(["bgp", "status", "--url", "http://127.0.0.1:9"]) == EXIT_UNREACHABLE
    with pytest.raises(SystemExit) as refused:
        main(["bgp", "sessions"])
    assert refused.value.code == EXIT_USAGE
