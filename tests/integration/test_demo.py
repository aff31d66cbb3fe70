"""The README's first command: the demo shows every service with real packets, a line each, and passes."""
from __future__ import annotations

import pytest

from nvapps.lab import demo
from nvapps.lab.controller import free_port


@pytest.mark.parametrize("overlay", [(), ("--overlay", "vxlan")], ids=["two switches", "three chassis, VXLAN"])
def test_the_demo_shows_every_service_working(ovs, tmp_path, capsys, overlay):
    code = demo.main(["--rest-port", str(free_port()), "--of-port", str(free_port()), "--run-dir", str(tmp_path),
                      *overlay])
    out = capsys.readouterr().out
    shown = [line for line in out.splitlines() if line.startswith(("OK  ", "FAIL"))]
    assert code == 0 and len(shown) == 8 and all(line.startswith("OK  ") for line in shown), out
