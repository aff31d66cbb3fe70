#!/usr/bin/env bash
# Set up, then run the controller with the demo cloud and show every service with real packets (OK/FAIL).
# --stay keeps the controller, REST API (127.0.0.1:9696) and topology running; --overlay vxlan|geneve uses three
# chassis joined by tunnels; --ha three controllers on a three-member etcd cluster (and kills the master).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
exec .venv/bin/python -m nvapps.lab.demo "$@"
