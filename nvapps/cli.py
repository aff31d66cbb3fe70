"""nvctl: the nvapps REST API from the shell.

    nvctl network list [--filter name=blue]        nvctl network create name=blue
    nvctl port show ID --json                       nvctl port update ID admin_state_up=false
    nvctl router add-interface ID --subnet SUBNET   nvctl chassis list
    nvctl port-forwarding create --floatingip FIP protocol=tcp internal_port_id=PORT internal_ip_address=IP \
          internal_port=22 external_port=2222
    nvctl trace PORT 'tcp,nw_dst=10.0.2.10,tp_dst=80'      (a packet the port sends, in logical terms)
    nvctl trace --from-network EXTNET 'tcp,nw_dst=172.16.0.5,tp_dst=22'   (arriving from outside)
    nvctl bgp status                                (the gateway uplinks' BGP sessions)

Attributes are KEY=VALUE; a VALUE that parses as JSON is taken as JSON (false, 42, '[...]', '{...}').
Settings: --url (or NVAPPS_URL, default http://127.0.0.1:9696) and --token (or NVAPPS_TOKEN / OS_TOKEN).
Exit codes: 0 done, 1 the API refused (its message on stderr), 2 bad usage, 3 API unreachable.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from typing import Any

from nvapps.client import COLLECTIONS, PARENTS, ApiError, Client

EXIT_API, EXIT_USAGE, EXIT_UNREACHABLE = 1, 2, 3

RESOURCES = {kind.replace("_", "-"): kind for kind in COLLECTIONS}
ROUTER_ACTIONS = {"add-interface": "add_router_interface", "remove-interface": "remove_router_interface"}

# Columns of the table view, per resource (JSON output shows everything).
COLUMNS = {
    "network": ("id", "name", "project_id", "provider:segmentation_id", "subnets", "router:external"),
    "subnet": ("id", "name", "network_id", "cidr", "gateway_ip"),
    "port": ("id", "name", "network_id", "mac_address", "fixed_ips", "status", "binding:host_id"),
    "router": ("id", "name", "project_id", "external_gateway_info", "routes"),
    "floatingip": ("id", "floating_ip_address", "fixed_ip_address", "port_id", "router_id"),
    "security_group": ("id", "name", "project_id", "description"),
    "security_group_rule": ("id", "security_group_id", "direction", "ethertype", "protocol",
                            "port_range_min", "port_range_max", "remote_ip_prefix", "remote_group_id"),
    "network_acl": ("id", "network_id", "position", "direction", "action", "protocol",
                    "source_ip_prefix", "destination_ip_prefix"),
    "port_forwarding": ("id", "protocol", "external_port", "internal_ip_address", "internal_port",
                        "internal_port_id"),
    "chassis": ("name", "tunnel_type", "tunnel_ip", "connected", "datapath_id", "flow_mods", "packet_ins"),
    "l2_gateway": ("id", "name", "devices"),
    "l2_gateway_connection": ("id", "l2_gateway_id", "network_id", "segmentation_id"),
}


class UsageError(Exception):
    """The command line is not one nvctl understands."""


def parse_attrs(pairs: list[str]) -> dict[str, Any]:
    """KEY=VALUE pairs as a dict; values that parse as JSON are JSON."""
    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise UsageError(f"expected KEY=VALUE, got {pair!r}")
        try:
            out[key] = json.loads(value)
        except ValueError:
            out[key] = value
    return out


def _common(p: argparse.ArgumentParser, json_help: str) -> argparse.ArgumentParser:
    """The options every nvctl command takes: where the API is, the token, JSON output."""
    p.add_argument("--url", default=os.environ.get("NVAPPS_URL", "http://127.0.0.1:9696"))
    p.add_argument("--token", default=os.environ.get("NVAPPS_TOKEN") or os.environ.get("OS_TOKEN"))
    p.add_argument("--json", action="store_true", help=json_help)
    return p


def parser() -> argparse.ArgumentParser:
    p = _common(argparse.ArgumentParser(prog="nvctl", description=__doc__,
                                        formatter_class=argparse.RawDescriptionHelpFormatter),
                "print JSON instead of a table")
    p.add_argument("resource", choices=list(RESOURCES))
    p.add_argument("action", choices=["list", "show", "create", "update", "delete", *ROUTER_ACTIONS])
    p.add_argument("args", nargs="*", help="ID and/or KEY=VALUE attributes")
    p.add_argument("--filter", action="append", default=[], metavar="KEY=VALUE", help="list filters")
    p.add_argument("--subnet", help="add-/remove-interface by subnet")
    p.add_argument("--port", help="add-/remove-interface by port")
    p.add_argument("--floatingip", help="the floating IP a port forwarding belongs to")
    return p


def trace_parser() -> argparse.ArgumentParser:
    p = _common(argparse.ArgumentParser(prog="nvctl trace", description="Trace a packet through the pipeline: each "
                                        "chassis, table, service and object it meets, and where it ends."),
                "print the trace as JSON")
    p.add_argument("--from-network", metavar="NETWORK", help="the packet arrives from this external network")
    p.add_argument("args", nargs="+", metavar="[PORT] FLOW", help="the sending port (unless --from-network) and "
                   "the packet in ovs-ofctl syntax, e.g. tcp,nw_dst=10.0.2.10,tp_dst=80")
    return p


def _command(argv: list[str]) -> str | None:
    """The command line's first word, options and their values aside."""
    words = iter(argv)
    for word in words:
        if word in ("--url", "--token", "--filter", "--subnet", "--port", "--floatingip", "--from-network"):
            next(words, None)
        elif not word.startswith("-"):
            return word
    return None


def trace(argv: list[str]) -> int:
    """nvctl trace: print the trace's lines (or JSON)."""
    words = list(argv)
    words.remove("trace")
    opts = trace_parser().parse_args(words)
    if len(opts.args) != (1 if opts.from_network else 2):
        print("nvctl: trace takes PORT FLOW, or --from-network NETWORK FLOW", file=sys.stderr)
        return EXIT_USAGE
    port = None if opts.from_network else opts.args[0]
    return _answer(opts.url, lambda: Client(opts.url, opts.token).trace(opts.args[-1], port, opts.from_network),
                   lambda result: json.dumps(result, indent=2, sort_keys=True) if opts.json else result["text"])


def bgp_parser() -> argparse.ArgumentParser:
    p = _common(argparse.ArgumentParser(prog="nvctl bgp", description="The BGP sessions of the gateway uplinks' "
                                        "speakers."), "print the speakers as JSON")
    p.add_argument("what", choices=["status"])
    return p


def bgp(argv: list[str]) -> int:
    """nvctl bgp status: each speaker's sessions (from the chassis status)."""
    words = list(argv)
    words.remove("bgp")
    opts = bgp_parser().parse_args(words)

    def speakers() -> list[dict]:
        return [{"chassis": c["name"], **s} for c in Client(opts.url, opts.token).chassis() for s in c.get("bgp", [])]
    return _answer(opts.url, speakers,
                   lambda result: json.dumps(result, indent=2, sort_keys=True) if opts.json else bgp_table(result))


def bgp_table(speakers: list[dict]) -> str:
    """One line per session (a speaker without sessions: one line with its state)."""
    header = ["chassis", "physical_network", "address", "local_as", "peer", "state", "uptime", "sent", "received"]
    rows = []
    for s in speakers:
        mine = [s["chassis"], s["physical_network"], s["address"], str(s["local_as"])]
        for session in s["sessions"] or [{"peer": "-", "state": "running" if s["running"] else "not running"}]:
            rows.append(mine + [session["peer"], session["state"], str(session.get("uptime", "-")),
                                str(session.get("prefixes_sent", "-")), str(session.get("prefixes_received", "-"))])
    return _table([header] + rows)


def run(opts: argparse.Namespace, client: Client) -> Any:
    """Perform the command; the API's answer (objects, a list, or None)."""
    kind = RESOURCES[opts.resource]
    args = list(opts.args)
    if (kind in PARENTS) != bool(opts.floatingip):
        raise UsageError(f"--floatingip is {'required' if kind in PARENTS else 'only'} for port-forwarding")
    parent = {"parent_id": opts.floatingip} if opts.floatingip else {}
    if opts.action == "list":
        return client.list(kind, **parent, **parse_attrs(opts.filter))
    if opts.action == "create":
        return client.create(kind, **parent, **parse_attrs(args))
    if not args:
        raise UsageError(f"{opts.action} needs the {opts.resource}'s ID")
    obj_id, rest = args[0], args[1:]
    if opts.action == "show":
        return client.get(kind, obj_id, **parent)
    if opts.action == "update":
        return client.update(kind, obj_id, **parent, **parse_attrs(rest))
    if opts.action == "delete":
        client.delete(kind, obj_id, **parent)
        return None
    if kind != "router" or bool(opts.subnet) == bool(opts.port):
        raise UsageError(f"{opts.action} is for routers, with exactly one of --subnet or --port")
    body = {"subnet_id": opts.subnet} if opts.subnet else {"port_id": opts.port}
    return client.action("router", obj_id, ROUTER_ACTIONS[opts.action], **body)


def render(result: Any, kind: str, as_json: bool) -> str:
    if result is None:
        return ""
    if as_json:
        return json.dumps(result, indent=2, sort_keys=True)
    rows = result if isinstance(result, list) else [result]
    columns = COLUMNS.get(kind, ("id", "name"))
    if not isinstance(result, list):
        columns = tuple(result)        # one object: every attribute, one per line
        return "\n".join(f"{k:<28} {_cell(result[k])}" for k in sorted(columns))
    return _table([list(columns)] + [[_cell(r.get(c)) for c in columns] for r in rows])


def _table(table: list[list[str]]) -> str:
    """Rows of cells in aligned columns (the first row: the header)."""
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in table)


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    return value if isinstance(value, str) else json.dumps(value)


def main(argv: list[str] | None = None) -> int:
    words = sys.argv[1:] if argv is None else list(argv)
    command = _command(words)
    if command == "trace":
        return trace(words)
    if command == "bgp":
        return bgp(words)
    opts = parser().parse_intermixed_args(words)
    kind = RESOURCES[opts.resource]
    return _answer(opts.url, lambda: run(opts, Client(opts.url, opts.token)),
                   lambda result: render(result, kind, opts.json))


def _answer(url: str, call: Callable[[], Any], show: Callable[[Any], str]) -> int:
    """Make the API call and print what it answered (or why not); the exit code."""
    try:
        result = call()
    except UsageError as exc:
        print(f"nvctl: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except ApiError as exc:
        err = exc.body.get("NeutronError", {}) if isinstance(exc.body, dict) else {}
        print(f"nvctl: HTTP {exc.status} {err.get('type', '')}: {err.get('message', exc.body)}", file=sys.stderr)
        return EXIT_API
    except OSError as exc:
        print(f"nvctl: cannot reach {url}: {exc}", file=sys.stderr)
        return EXIT_UNREACHABLE
    out = show(result)
    if out:
        print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
