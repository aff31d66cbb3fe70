"""schemathesis generates requests from /openapi.json against the live API, with every check (status codes,
response schemas, valid data accepted, invalid data refused, methods not served answered 405 with Allow)
and its stateful phase: no check may fail. tests/integration/schemathesis_hooks.py teaches it the
document's own formats and the rules across attributes that JSON Schema cannot state."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from nvapps.lab.controller import ADMIN_TOKEN

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES_PER_OPERATION = 50


def test_every_schemathesis_check_passes_on_every_operation(controller, tmp_path):
    st = str(Path(sys.executable).with_name("schemathesis"))
    env = {**os.environ, "SCHEMATHESIS_HOOKS": "tests.integration.schemathesis_hooks",
           "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    run = subprocess.run([st, "run", f"{controller.url}/openapi.json", "-H", f"X-Auth-Token: {ADMIN_TOKEN}",
                          "--checks", "all", "-n", str(EXAMPLES_PER_OPERATION), "--generation-deterministic",
                          "--report-dir", str(tmp_path)],
                         capture_output=True, text=True, timeout=900, cwd=tmp_path, env=env)
    summary = run.stdout[-4000:]
    assert run.returncode == 0, summary
    cases = summary.split("Test cases:")[1]
    assert "generated" in cases and " failed" not in cases and "error" not in cases.lower(), summary
    assert "✅ Stateful" in summary, summary
    assert "Traceback" not in controller.log_path.read_text()
