"""schemathesis generates requests from /openapi.json against the live API: no request may get a 5xx."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from nvapps.lab.controller import ADMIN_TOKEN


def test_no_generated_request_gets_a_server_error(controller, tmp_path):
    st = str(Path(sys.executable).with_name("schemathesis"))
    run = subprocess.run([st, "run", f"{controller.url}/openapi.json", "-H", f"X-Auth-Token: {ADMIN_TOKEN}",
                          "--checks", "not_a_server_error", "-n", "25", "--generation-deterministic",
                          "--report-dir", str(tmp_path)],
                         capture_output=True, text=True, timeout=600, cwd=tmp_path)
    summary = run.stdout[-3000:]
    assert run.returncode == 0, summary
    assert "generated" in summary and " failed" not in summary.split("Test cases:")[1], summary
    assert "Traceback" not in controller.log_path.read_text()
