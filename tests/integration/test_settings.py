"""Bad settings stop osken-manager with a one-line message naming the setting, never a traceback."""
from __future__ import annotations

import socket

import pytest

from nvapps.lab.controller import Controller


def start_fails(controller: Controller) -> str:
    with pytest.raises(RuntimeError, match="controller exited"):
        controller.start(timeout=20)
    return controller.log_path.read_text()


def test_a_malformed_chassis_name_mapping_is_reported(tmp_path):
    controller = Controller(tmp_path)
    controller.extra_args = ["--nvapps-chassis", "hv1"]
    log = start_fails(controller)
    assert "nvapps: --nvapps-chassis entry 'hv1' is not DPID=NAME" in log
    assert "Traceback" not in log


def test_a_malformed_uplink_is_reported(tmp_path):
    controller = Controller(tmp_path, uplinks=["s1:s1-eth99"])
    log = start_fails(controller)
    assert "nvapps: --nvapps-uplinks entry 's1:s1-eth99' is not CHASSIS:PHYSNET:INTERFACE" in log
    assert "Traceback" not in log


def test_an_unusable_database_path_is_reported(tmp_path):
    (tmp_path / "file").write_text("not a directory")
    controller = Controller(tmp_path)
    controller.db_path = tmp_path / "file" / "nvapps.db"
    log = start_fails(controller)
    assert f"nvapps: cannot open database {controller.db_path}" in log
    assert "Traceback" not in log


def test_a_busy_rest_port_is_reported(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        controller = Controller(tmp_path, rest_port=busy.getsockname()[1])
        log = start_fails(controller)
    assert "nvapps: cannot serve the REST API on 127.0.0.1" in log
    assert "Traceback" not in log


def test_a_bad_bgp_peer_is_reported(tmp_path):
    controller = Controller(tmp_path, uplinks=["s1:physnet1:s1-eth99"])
    controller.extra_args = ["--nvapps-bgp-as", "65001", "--nvapps-bgp-speakers", "s1:physnet1:s1-eth98:ns:172.16.0.2/24",
                             "--nvapps-bgp-peers", "s1:physnet1:2001:db8::1:65000"]
    log = start_fails(controller)
    assert "nvapps: --nvapps-bgp-peers entry 's1:physnet1:2001:db8::1:65000': peer address family IPv6 is not " \
           "supported" in log
    assert "Traceback" not in log
