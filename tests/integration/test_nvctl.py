"""nvctl against a live controller: every resource through the console script, with reliable exit codes."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from nvapps.cli import EXIT_API, EXIT_UNREACHABLE
from nvapps.lab.controller import ADMIN_TOKEN, MEMBER_TOKENS

NVCTL = str(Path(sys.executable).with_name("nvctl"))


def nvctl(controller, *args: str, token: str = ADMIN_TOKEN) -> subprocess.CompletedProcess:
    return subprocess.run([NVCTL, "--url", controller.url, "--token", token, *args], capture_output=True,
                          text=True, timeout=30)


def created(controller, *args: str, token: str = ADMIN_TOKEN) -> dict:
    run = nvctl(controller, "--json", *args, token=token)
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)


def test_network_subnet_port_router_lifecycle(controller):
    alice = MEMBER_TOKENS["tenant-a"]
    net = created(controller, "network", "create", "name=cli-net", token=alice)
    sub = created(controller, "subnet", "create", f"network_id={net['id']}", "cidr=10.90.0.0/24", "ip_version=4",
                  token=alice)
    port = created(controller, "port", "create", f"network_id={net['id']}", 'fixed_ips=[{"ip_address": "10.90.0.9"}]',
                   token=alice)
    listed = nvctl(controller, "port", "list", "--filter", f"network_id={net['id']}", token=alice)
    assert listed.returncode == 0 and "10.90.0.9" in listed.stdout and listed.stdout.startswith("id")
    router = created(controller, "router", "create", "name=cli-r", token=alice)
    info = created(controller, "router", "add-interface", router["id"], "--subnet", sub["id"], token=alice)
    assert info["subnet_id"] == sub["id"]
    assert nvctl(controller, "router", "remove-interface", router["id"], "--subnet", sub["id"],
                 token=alice).returncode == 0
    shown = nvctl(controller, "port", "show", port["id"], token=alice)
    assert shown.returncode == 0 and "mac_address" in shown.stdout
    assert created(controller, "port", "update", port["id"], "admin_state_up=false",
                   token=alice)["admin_state_up"] is False
    for kind, obj in (("port", port), ("router", router), ("network", net)):
        run = nvctl(controller, kind, "delete", obj["id"], token=alice)
        assert run.returncode == 0 and run.stdout == ""


def test_security_groups_acls_floating_ips_and_chassis(controller):
    group = created(controller, "security-group", "create", "name=cli-web", "project_id=tenant-b")
    rule = created(controller, "security-group-rule", "create", f"security_group_id={group['id']}",
                   "direction=ingress", "protocol=tcp", "port_range_min=80", "port_range_max=80")
    assert rule["protocol"] == "tcp"
    net = created(controller, "network", "create", "name=cli-acl", "project_id=tenant-b")
    acl = created(controller, "network-acl", "create", f"network_id={net['id']}", "action=deny",
                  "direction=ingress", "protocol=icmp")
    assert acl["position"] == 10
    ext = created(controller, "network", "create", "name=cli-ext", "router:external=true")
    created(controller, "subnet", "create", f"network_id={ext['id']}", "cidr=203.0.113.0/24", "ip_version=4")
    fip = created(controller, "floatingip", "create", f"floating_network_id={ext['id']}")
    assert fip["floating_ip_address"].startswith("203.0.113.")
    assert nvctl(controller, "chassis", "list").returncode == 0


def test_exit_codes_are_reliable(controller):
    missing = nvctl(controller, "network", "show", "5b1c0d2e-0000-4000-8000-00000000abcd")
    assert missing.returncode == EXIT_API and "HTTP 404 NetworkNotFound" in missing.stderr
    bad = nvctl(controller, "subnet", "create", "cidr=10.0.0.0/33")
    assert bad.returncode == EXIT_API and "HTTP 400" in bad.stderr
    assert nvctl(controller, "network", "list", token="forged").returncode == EXIT_API
    unreachable = subprocess.run([NVCTL, "--url", "http://127.0.0.1:9", "network", "list"], capture_output=True,
                                 text=True, timeout=30)
    assert unreachable.returncode == EXIT_UNREACHABLE and "cannot reach" in unreachable.stderr
