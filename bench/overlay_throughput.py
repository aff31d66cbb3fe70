"""iperf3 across chassis through the overlay vs. on one chassis, and vs. a hand-written minimal tunnel flow
set on the same chassis, in one run; then flows per chassis as chassis are added (3, 10, 30).

    .venv/bin/python -m bench.overlay_throughput [--seconds 5] [--runs 3]

Two chassis (each its own OVS in its own namespace, VXLAN over an underlay bridge, MTU 1600): a1, a3 on
hv1 and a2 on hv2. The minimal flow set is what bare encapsulation needs: on each chassis, the VM port's
packets go straight into the tunnel to the other chassis, and the tunnel's straight to the VM.
"""
from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

from bench.l2_throughput import iperf_options, median_runs
from nvapps.core.topology import Chassis, Interface, fabric
from nvapps.l2.flows import chassis_l2
from nvapps.lab.net import wait_ping
from nvapps.lab.scenarios import tenants_lab
from nvapps.logical.view import build_view
from nvapps.model.chassis import RegisteredChassis
from nvapps.model.network import Network, Port
from nvapps.overlay.flows import chassis_overlay
from topologies.tenants import TenantsTopo, host_ip, tunnel_ip

APPS = ("nvapps.overlay.app", "nvapps.l2.app")


def minimal_tunnels(lab, vm: dict[str, str]) -> None:
    """Replace each chassis's flows with: its VM port <-> the VXLAN tunnel to the other chassis (VNI 1)."""
    for here, there in (("hv1", 2), ("hv2", 1)):
        bridge = lab.host(here).bridge
        subprocess.run(["ovs-ofctl", "-O", "OpenFlow13", "del-flows", bridge], check=True)
        subprocess.run(["ovs-ofctl", "-O", "OpenFlow13", "del-groups", bridge], check=True)
        for flow in (f"in_port={vm[here]},actions=set_field:1->tun_id,set_field:{tunnel_ip(there)}->tun_dst,"
                     f"output:vxlan0", f"in_port=vxlan0,tun_id=1,actions=output:{vm[here]}"):
            subprocess.run(["ovs-ofctl", "-O", "OpenFlow13", "add-flow", bridge, flow], check=True)


def flows_per_chassis(chassis: int, ports_per_chassis: int = 20, networks: int = 10) -> tuple[int, int]:
    """(L2, overlay) flows on one chassis when `chassis` chassis each have `ports_per_chassis` ports spread
    over `networks` networks (computed by the flow builders from registered chassis)."""
    nets = [Network(id=f"n{k}", project_id="p", segmentation_id=k + 1) for k in range(networks)]
    ports, interfaces = [], {}
    for c in range(1, chassis + 1):
        for i in range(ports_per_chassis):
            name = f"hv{c}-vm{i}"
            ports.append(Port(id=name, project_id="p", network_id=f"n{i % networks}", key=c * 1000 + i,
                              mac_address=f"02:00:00:{c:02x}:00:{i:02x}", fixed_ips=[], host_id=f"hv{c}",
                              profile={"interface_name": name}))
            if c == 1:
                interfaces[name] = Interface(name, i + 3)
    here = Chassis("hv1", 1, {"vxlan0": Interface("vxlan0", 1), "geneve0": Interface("geneve0", 2), **interfaces},
                   tunnel_ports={"vxlan": "vxlan0", "geneve": "geneve0"})
    known = fabric({"hv1": here}, [RegisteredChassis(id=str(c), name=f"hv{c}", tunnel_type="vxlan",
                                                     tunnel_ip=f"172.30.{c >> 8}.{c & 255}") for c in range(1, chassis + 1)])
    view = build_view(nets, ports, [], [], known, [])
    return len(chassis_l2(known["hv1"], view).flows), len(chassis_overlay(known["hv1"], view).flows)


def main() -> None:
    args = iperf_options(__doc__)
    topo = TenantsTopo(switches=2, hosts=2, tenants="a", overlay="vxlan")
    with tenants_lab(topo, Path(tempfile.mkdtemp(prefix="nvbench-")), apps=APPS) as lab:
        a1, a2, a3 = lab.host("a1"), lab.host("a2"), lab.host("a3")
        wait_ping(a1, host_ip(2))
        wait_ping(a1, host_ip(3))
        across = median_runs(a1, a2, args.seconds, args.runs)
        one_chassis = median_runs(a1, a3, args.seconds, args.runs)
        lab.controller.stop()
        minimal_tunnels(lab, {"hv1": topo.attachments["a1"].interface, "hv2": topo.attachments["a2"].interface})
        wait_ping(a1, host_ip(2))
        bare = median_runs(a1, a2, args.seconds, args.runs)
    print(f"across chassis (VXLAN) {across:.2f} Gbit/s, on one chassis {one_chassis:.2f} Gbit/s, minimal tunnel "
          f"flows {bare:.2f} Gbit/s: across/one chassis {across / one_chassis:.3f}, across/minimal {across / bare:.3f}")
    print("flows on one chassis, 20 ports per chassis over 10 networks:")
    for chassis in (3, 10, 30):
        l2, overlay = flows_per_chassis(chassis)
        print(f"  {chassis:2d} chassis: overlay (tunnel) {overlay:4d}, L2 {l2:5d}")
    for ports in (20, 200):
        l2, overlay = flows_per_chassis(30, ports)
        print(f"  30 chassis x {ports:3d} ports: overlay (tunnel) {overlay:4d}, L2 {l2:5d}")


if __name__ == "__main__":
    main()
