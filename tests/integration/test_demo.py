"""The README's first command: the demo shows every service with real packets, a line each, and passes."""
from __future__ import annotations

import pytest

from nvapps.lab import demo
from nvapps.lab.controller import free_port


@pytest.mark.parametrize("options, lines", [((), 9), (("--overlay", "vxlan"), 9), (("--ha",), 10)],
                         ids=["two switches", "three chassis, VXLAN", "three controllers on etcd"])
def test_the_demo_shows_every_service_working(ovs, tmp_path, capsys, options, lines):
    code = demo.main(["--rest-port", str(free_port()), "--of-port", str(free_port()), "--run-dir", str(tmp_path),
                      *options])
    out = capsys.readouterr().out
    shown = [line for line in out.splitlines() if line.startswith(("OK  ", "FAIL"))]
    assert code == 0 and len(shown) == lines and all(line.startswith("OK  ") for line in shown), out
