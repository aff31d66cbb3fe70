"""Tenants on the `tenants` topology, created over REST the way a user would."""
from __future__ import annotations

import subprocess
import time
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from mininet.net import Mininet

from nvapps.client import Client
from nvapps.lab.controller import Controller
from nvapps.lab.etcd import EtcdCluster
from nvapps.lab.frr import Frr
from nvapps.lab.net import background, start_net
from nvapps.lab.ovs import ensure_ovs
from topologies.chassis import UNDERLAY_MTU, ChassisNode
from topologies.tenants import (
    EDGE_AS,
    EXTERNAL_CIDR,
    INTERNET_GATEWAY,
    INTERNET_HOST,
    PHYSNET,
    TenantsTopo,
    host_ip,
    host_mac,
    subnet_cidr,
    tunnel_ip,
)


@dataclass
class Tenant:
    """One tenant's networks and subnets (by subnet number), router (with several subnets) and ports by host."""

    name: str
    networks: dict[int, dict]
    subnets: dict[int, dict]
    ports: dict[str, dict]
    router: dict | None = None

    @property
    def network(self) -> dict:
        """The first network (the only one on a single-subnet topology)."""
        return next(iter(self.networks.values()))

    @property
    def subnet(self) -> dict:
        return next(iter(self.subnets.values()))


def binding(host: str, interface: str) -> dict[str, Any]:
    """A port's binding attributes: bound to `interface` on chassis `host`."""
    return {"binding:host_id": host, "binding:profile": {"interface_name": interface}}


def bind_host(client: Client, topo: TenantsTopo, network: dict, subnet: dict, host: str) -> dict:
    """Create the port of Mininet host `host` (its MAC and IP), bound to its switch interface."""
    att = topo.attachments[host]
    return client.create(
        "port", network_id=network["id"], project_id=network["project_id"], name=host,
        mac_address=host_mac(topo.tenants.index(att.tenant) + 1, att.n, att.subnet),
        fixed_ips=[{"subnet_id": subnet["id"], "ip_address": host_ip(att.n, att.subnet)}],
        **binding(att.switch, att.interface))


def create_tenants(client: Client, topo: TenantsTopo) -> dict[str, Tenant]:
    """Per tenant letter x of `topo`: project tenant-x, a network and subnet per subnet number, a port per
    host, and with several subnets a router joining them."""
    out = {}
    for tenant in topo.tenants:
        project = f"tenant-{tenant}"
        t = Tenant(project, {}, {}, {})
        for sub in topo.subnets:
            suffix = f"{tenant}{sub or ''}"
            net = t.networks[sub] = client.create("network", name=f"net-{suffix}", project_id=project)
            t.subnets[sub] = client.create("subnet", network_id=net["id"], project_id=project, ip_version=4,
                                           cidr=subnet_cidr(sub), name=f"subnet-{suffix}")
        if len(topo.subnets) > 1:
            t.router = client.create("router", name=f"router-{tenant}", project_id=project)
            for subnet in t.subnets.values():
                client.action("router", t.router["id"], "add_router_interface", subnet_id=subnet["id"])
        for host, att in sorted(topo.attachments.items()):
            if att.tenant == tenant:
                t.ports[host] = bind_host(client, topo, t.networks[att.subnet], t.subnets[att.subnet], host)
        out[tenant] = t
    return out


def create_external(client: Client) -> tuple[dict, dict]:
    """The admin's external network on the topology's physical network (172.16.0.0/24, inet as gateway)."""
    external: dict[str, Any] = {"router:external": True, "provider:physical_network": PHYSNET}
    net = client.create("network", name="public", **external)
    sub = client.create("subnet", network_id=net["id"], ip_version=4, cidr=EXTERNAL_CIDR, gateway_ip=INTERNET_GATEWAY,
                        allocation_pools=[{"start": "172.16.0.100", "end": "172.16.0.199"}], name="public-v4")
    return net, sub


def open_edge(client: Client, tenants: dict[str, Tenant]) -> tuple[dict, dict[str, str]]:
    """The external network, every tenant router's gateway on it, and each tenant's default group open to it
    and to the internet host beyond: the network and each tenant's gateway address."""
    ext, _ = create_external(client)
    gateways = {}
    for name, tenant in tenants.items():
        assert tenant.router is not None, f"tenant {name} has no router"
        router = client.update("router", tenant.router["id"], external_gateway_info={"network_id": ext["id"]})
        gateways[name] = router["external_gateway_info"]["external_fixed_ips"][0]["ip_address"]
        default = client.list("security_group", project_id=tenant.name, name="default")[0]
        for prefix in (EXTERNAL_CIDR, f"{INTERNET_HOST}/32"):
            client.create("security_group_rule", security_group_id=default["id"], direction="ingress",
                          ethertype="IPv4", remote_ip_prefix=prefix, project_id=tenant.name)
    return ext, gateways


@dataclass
class Lab:
    """A running controller, a started Mininet net on the tenants topology, and the tenants made over REST."""

    controller: Controller
    net: Mininet
    topo: TenantsTopo
    tenants: dict[str, Tenant]
    controllers: list[Controller] = field(default_factory=list)    # all of them, when several share etcd
    etcd: EtcdCluster | None = None                                 # the cluster they share
    upstreams: dict[str, Frr] = field(default_factory=dict)         # the upstream BGP routers, by host

    @property
    def api(self) -> Client:
        return self.controller.client

    def host(self, name: str):
        return self.net.get(name)

    def bridge(self, switch: str) -> str:
        """How ovs-ofctl reaches `switch`'s bridge (a chassis node's own OVS, or Mininet's)."""
        node = self.net.get(switch)
        return getattr(node, "bridge", node.name)

    @contextmanager
    def moved(self, host: str, switch: str, number: int = 8) -> Iterator[str]:
        """For the block, host `host` is unplugged and plugged into `switch` by a new NIC (the switch's
        interface `number`) and its port rebound there, as a VM that migrates; back as it was after. Yields
        the new switch interface's name."""
        att, node, sw = self.topo.attachments[host], self.host(host), self.net.get(switch)
        port = self.tenants[att.tenant].ports[host]
        old_nic = node.defaultIntf().name
        route = f"ip route replace default via 10.0.{att.subnet}.1 dev {{nic}}" if att.subnet else "true"
        link = self.net.addLink(node, sw, port2=number)
        nic, new_port = link.intf1.name, link.intf2.name
        sw.attach(link.intf2)
        node.cmd(f"ip link set {old_nic} down; ip link set {nic} address {port['mac_address']}; "
                 f"ip addr add {host_ip(att.n, att.subnet)}/24 dev {nic}; ip link set {nic} up; "
                 f"ethtool -K {nic} tx off >/dev/null 2>&1; {route.format(nic=nic)}")
        self.api.update("port", port["id"], **binding(switch, new_port))
        try:
            yield new_port
        finally:
            self.api.update("port", port["id"], **binding(att.switch, att.interface))
            node.cmd(f"ip link set {nic} down; ip link set {old_nic} up; {route.format(nic=old_nic)}")
            sw.detach(link.intf2)

    def restart_during_a_session(self, sender: str, receiver: str, address: str, port: int,
                                 received: Path) -> tuple[dict[str, dict], int, int]:
        """Restart the controller while host `sender` streams lines over TCP to `receiver` (reached at
        `address`:`port`, writing to file `received`): the chassis status once every app synced again, and
        the bytes received 1 s after that and 0.5 s later."""
        with background(self.host(receiver), f"nc -l {port} > {received}"):
            time.sleep(0.3)
            with background(self.host(sender), f"while true; do echo tick; sleep 0.05; done | nc {address} {port}"):
                time.sleep(0.5)
                self.controller.restart()
                status = self.controller.wait_chassis(self.topo.chassis)
                time.sleep(1.0)
                during = received.stat().st_size
                time.sleep(0.5)
                return status, during, received.stat().st_size


@contextmanager
def tenants_lab(topo: TenantsTopo, workdir: Path, of_port: int | None = None, rest_port: int | None = None,
                apps: tuple[str, ...] = ("nvapps.l2.app",), flags: tuple[str, ...] = (),
                controllers: int = 1) -> Iterator[Lab]:
    """Start OVS (if needed), the controller (with more command-line `flags`) and `topo`, create its tenants;
    stop exactly those on exit. With several `controllers`, they share a three-member etcd cluster started
    here, and every switch connects to each of them."""
    ensure_ovs()
    switches = topo.chassis
    common = list(flags) + topo.bgp_flags()
    if topo.overlay:
        rundirs = workdir / "chassis"
        for name in switches:
            topo.nodeInfo(name)["rundir"] = str(rundirs / name)
        common += ["--nvapps-tenant-network-type", topo.overlay, "--nvapps-underlay-mtu", str(UNDERLAY_MTU),
                   "--nvapps-ovs-appctl-target", ChassisNode.appctl_target(f"{rundirs}/{{chassis}}")]
    with ExitStack() as stack:
        etcd = None
        if controllers > 1:
            etcd = EtcdCluster(workdir / "etcd", size=3)
            (workdir / "etcd").mkdir(parents=True, exist_ok=True)
            stack.callback(etcd.stop)
            etcd.start()
            common += ["--nvapps-store", etcd.url]
        running = []
        for i in range(controllers):
            ctl = Controller(workdir / f"c{i}" if controllers > 1 else workdir, apps=apps, trunks=topo.trunks(),
                             uplinks=topo.uplinks(), of_port=of_port if i == 0 else None,
                             rest_port=rest_port if i == 0 else None)
            ctl.extra_args += common + (["--nvapps-controller-name", f"c{i}"] if controllers > 1 else [])
            stack.callback(ctl.stop)
            ctl.start()
            running.append(ctl)
        controller = running[0]
        if topo.overlay:
            for index, name in enumerate(switches, start=1):
                controller.client.create("chassis", name=name, tunnel_type=topo.overlay, tunnel_ip=tunnel_ip(index))
        net = start_net(topo, [c.of_port for c in running])
        stack.callback(net.stop)
        for host, netns in topo.speaker_namespaces().items():
            subprocess.run(["ip", "netns", "attach", netns, str(net.get(host).pid)], check=True)
            stack.callback(subprocess.run, ["ip", "netns", "delete", netns], check=False)
        speakers = dict.fromkeys(topo.speakers().values(), EDGE_AS)
        upstreams = {}
        for host, asn, address, default in topo.upstream_routers():
            upstreams[host] = Frr(net.get(host), asn, address, speakers, default)
            stack.callback(upstreams[host].stop)
            upstreams[host].start()
        tenants = create_tenants(controller.client, topo)
        controller.wait_chassis(switches)
        controller.wait_ports([p["id"] for t in tenants.values() for p in t.ports.values()])
        yield Lab(controller, net, topo, tenants, running, etcd, upstreams)
