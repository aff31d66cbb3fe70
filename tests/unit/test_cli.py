"""nvctl's parsing and rendering, without a server."""
from __future__ import annotations

import pytest

from nvapps.cli import EXIT_USAGE, UsageError, main, parse_attrs, render


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
