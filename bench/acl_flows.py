"""Flows one chassis needs for N ports in one security group whose rules name the group itself (Neutron's
default group: ingress from members, all egress), against N x N for per-pair flows.

    .venv/bin/python -m bench.acl_flows [--ports 10 100 1000]
"""
from __future__ import annotations

import argparse
import time

from nvapps.acl.chassis import AclView, chassis_acl
from nvapps.core.topology import Chassis, Location
from nvapps.logical.ports import BoundPort
from nvapps.model.network import Port
from nvapps.model.security import SecurityGroup, SecurityGroupRule

GROUP = SecurityGroup(id="g", project_id="t", key=1)
RULES = [SecurityGroupRule(id=f"{d}{e}", security_group_id="g", direction=d, ethertype=e,
                           remote_group_id="g" if d == "ingress" else None)
         for d in ("ingress", "egress") for e in ("IPv4", "IPv6")]


def ports(n: int) -> list[Port]:
    return [Port(id=f"p{k}", project_id="t", network_id="n", key=k, mac_address=f"02:00:00:00:{k >> 8:02x}:{k & 255:02x}",
                 fixed_ips=[{"subnet_id": "s", "ip_address": f"10.{k >> 16}.{(k >> 8) & 255}.{k & 255}"}],
                 security_groups=["g"]) for k in range(1, n + 1)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ports", type=int, nargs="+", default=[10, 100, 1000])
    args = parser.parse_args()
    for n in args.ports:
        members = ports(n)
        view = AclView.build([BoundPort(p, 1, Location("s1", p.key)) for p in members], members, [GROUP], RULES,
                             [], {"n": 1})
        start = time.perf_counter()
        flows = chassis_acl(Chassis("s1", 1), view).flows
        took = time.perf_counter() - start
        print(f"{n:5d} ports: {len(flows):6d} ACL flows ({len(flows) / n:.1f} per port; per-pair rules would need "
              f"{n * n:8d} for the remote group alone), computed in {took * 1000:.0f} ms")


if __name__ == "__main__":
    main()
