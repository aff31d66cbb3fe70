"""Load balancing on the fake switch, with packets: a client's connection to a VIP goes to one member (DNAT
by the pool's select group or a hash), keeps it, and the member's reply comes back from the VIP; down, weight
0 and disabled members take nothing; hairpin, members behind a router, other listeners and chassis."""
from __future__ import annotations

from collections import Counter

import netaddr

from nvapps import pipeline
from nvapps.core import ofp
from nvapps.core.pieces import Pieces
from nvapps.core.stages import stage_defaults
from nvapps.core.topology import Uplink, fabric
from nvapps.lb import flows
from nvapps.logical.view import logical_view
from nvapps.nat.flows import chassis_nat, nat_view
from tests.unit.fakeswitch import FakeSwitch
from tests.unit.modelkit import admin_for, new_model
from tests.unit.pipelinekit import l2_of, l3_of
from tests.unit.test_incremental import switches

CTX = admin_for("t")
UPLINKS = [Uplink("hv1", "physnet1", "up1")]
UPLINK, CONTROLLER = 2, ofp.OFPP_CONTROLLER        # up1's ofport on hv1
IP, TCP, UDP = 0x0800, 6, 17


def n(address: str) -> int:
    return int(netaddr.EUI(address)) if ":" in address else int(netaddr.IPAddress(address))


class Cloud:
    """Tenant t's network 10.0.0.0/24 on hv1: a client (vm10) and members (vm11, vm12...) on one VIP."""

    def __init__(self, members: int = 2, algorithm: str = "ROUND_ROBIN", protocol: str = "TCP",
                 model=None, project: str = "t", first_vm: int = 10) -> None:
        self.model = model = model or new_model()
        self.ctx = ctx = admin_for(project)
        self.net = model.create("network", {"name": "n"}, ctx)
        self.sub = model.create("subnet", {"network_id": self.net.id, "cidr": "10.0.0.0/24", "ip_version": 4}, ctx)
        self.client = self.port(f"vm{first_vm}")
        self.members = [self.port(f"vm{first_vm + 1 + i}") for i in range(members)]
        self.lb = model.create("loadbalancer", {"vip_subnet_id": self.sub.id}, ctx)
        self.vip_mac = model.get("port", self.lb.vip_port_id).mac_address
        listener = model.create("listener", {"loadbalancer_id": self.lb.id, "protocol": protocol,
                                             "protocol_port": 80}, ctx)
        self.pool = model.create("pool", {"listener_id": listener.id, "protocol": protocol,
                                          "lb_algorithm": algorithm}, ctx)
        self.member_ids = [model.create("member", {"address": p.ip_addresses[0], "protocol_port": 8080}, ctx,
                                        parent_id=self.pool.id).id for p in self.members]

    def port(self, interface: str, network=None):
        return self.model.create("port", {"network_id": (network or self.net).id, "binding:host_id": "hv1",
                                          "binding:profile": {"interface_name": interface}}, self.ctx)

    def behind_router(self):
        """A second network, 10.0.1.0/24, joined to the VIP's by a router."""
        other = self.model.create("network", {"name": "other"}, self.ctx)
        sub = self.model.create("subnet", {"network_id": other.id, "cidr": "10.0.1.0/24", "ip_version": 4}, self.ctx)
        router = self.model.create("router", {"name": "r"}, self.ctx)
        for s in (self.sub, sub):
            self.model.action("router", router.id, "add_router_interface", {"subnet_id": s.id}, self.ctx)
        return other

    def interface(self, network):
        """The router's interface port on `network`."""
        return next(p for p in self.model.list("port")
                    if p.network_id == network.id and p.device_owner == "network:router_interface")

    def view(self):
        """The chassis (hv1 with an uplink) and the model's logical view on them."""
        chassis = switches()
        return chassis, logical_view(self.model, fabric(chassis, self.model.list("chassis")), UPLINKS)

    def switch(self, here: str = "hv1", down: frozenset[str] = frozenset()) -> FakeSwitch:
        chassis, view = self.view()
        lb = flows.chassis_lb(chassis[here], flows.read(self.model, view, None, down), Pieces(pipeline.AppId.LB))
        nat = chassis_nat(chassis[here], nat_view(self.model, view, None))
        l2, groups = l2_of(view, chassis[here])
        return FakeSwitch.of(l2 + l3_of(view, chassis[here]) + list(lb.flows.values()) + list(nat.flows.values()) +
                             list(stage_defaults().flows.values()), groups + list(lb.groups.values()))

    def ofport(self, port) -> int:
        return int(port.profile["interface_name"][2:])

    def connect(self, sw: FakeSwitch, sport: int, client=None, dport: int = 80, proto: int = TCP,
                dst: str | None = None, flags: int | None = 0x02) -> list[tuple[int, dict]]:
        """What a client's segment (or datagram) from port `sport` to the VIP (or `dst`) becomes."""
        client = client or self.client
        l4 = dict(tcp_src=sport, tcp_dst=dport) if proto == TCP else dict(udp_src=sport, udp_dst=dport)
        return sw.send(self.ofport(client), tcp_flags=flags if proto == TCP else None, eth_src=client.mac_address,
                       eth_dst=self.vip_mac, eth_type=IP, ipv4_src=client.ip_addresses[0],
                       ipv4_dst=dst or self.lb.vip_address, ip_proto=proto, ip_ttl=64, **l4)

    def chosen(self, out: list[tuple[int, dict]]) -> int:
        """The member (index) a translated packet was delivered to, checked to be whole."""
        [(ofport, wire)] = out
        i = next(i for i, m in enumerate(self.members) if self.ofport(m) == ofport)
        m = self.members[i]
        assert (wire["ipv4_dst"], wire["tcp_dst"] if "tcp_dst" in wire else wire["udp_dst"], wire["eth_dst"]) == \
            (n(m.ip_addresses[0]), 8080, n(m.mac_address))
        return i


def test_new_connections_spread_over_the_members_and_each_keeps_its_member():
    cloud = Cloud(3)
    sw = cloud.switch()
    picked = {sport: cloud.chosen(cloud.connect(sw, sport)) for sport in range(40000, 40060)}
    assert set(Counter(picked.values())) == {0, 1, 2}
    for sport, member in picked.items():
        assert cloud.chosen(cloud.connect(sw, sport, flags=0x10)) == member        # the same connection


def test_a_members_reply_comes_back_from_the_vip():
    cloud = Cloud(1)
    sw = cloud.switch()
    cloud.chosen(cloud.connect(sw, 40000))
    m = cloud.members[0]
    [(port, wire)] = sw.send(cloud.ofport(m), tcp_flags=0x12, eth_src=m.mac_address, eth_dst=cloud.client.mac_address,
                             eth_type=IP, ipv4_src=m.ip_addresses[0], ipv4_dst=cloud.client.ip_addresses[0],
                             ip_proto=TCP, ip_ttl=64, tcp_src=8080, tcp_dst=40000)
    assert port == cloud.ofport(cloud.client)
    assert (wire["ipv4_src"], wire["tcp_src"], wire["eth_src"]) == (n(cloud.lb.vip_address), 80, n(cloud.vip_mac))
    [(port, wire)] = sw.send(cloud.ofport(m), tcp_flags=0x02, eth_src=m.mac_address, eth_dst=cloud.client.mac_address,
                             eth_type=IP, ipv4_src=m.ip_addresses[0], ipv4_dst=cloud.client.ip_addresses[0],
                             ip_proto=TCP, ip_ttl=64, tcp_src=8080, tcp_dst=40001)
    assert wire["ipv4_src"] == n(m.ip_addresses[0])             # not a reply: its own address


def test_the_vip_answers_arp_and_takes_nothing_but_its_listeners():
    cloud = Cloud(1)
    sw = cloud.switch()
    c = cloud.client
    [(port, wire)] = sw.send(cloud.ofport(c), eth_src=c.mac_address, eth_dst="ff:ff:ff:ff:ff:ff", eth_type=0x0806,
                             arp_op=1, arp_spa=c.ip_addresses[0], arp_sha=c.mac_address, arp_tpa=cloud.lb.vip_address)
    assert port == cloud.ofport(c) and (wire["arp_op"], wire["arp_sha"], wire["arp_spa"]) == \
        (2, n(cloud.vip_mac), n(cloud.lb.vip_address))
    assert cloud.connect(sw, 40000, dport=81) == []
    assert cloud.connect(sw, 40000, proto=UDP) == []


def test_members_that_are_down_disabled_or_of_weight_0_take_nothing():
    cloud = Cloud(3)
    cloud.model.update("member", cloud.member_ids[1], {"admin_state_up": False}, CTX)
    cloud.model.update("member", cloud.member_ids[2], {"weight": 0}, CTX)
    sw = cloud.switch()
    assert {cloud.chosen(cloud.connect(sw, sport)) for sport in range(40000, 40030)} == {0}
    cloud.model.update("member", cloud.member_ids[2], {"weight": 1}, CTX)
    sw = cloud.switch(down=frozenset(cloud.member_ids[:1]))          # member 0 failed its health checks
    assert {cloud.chosen(cloud.connect(sw, sport)) for sport in range(40000, 40030)} == {2}
    cloud.model.update("pool", cloud.pool.id, {"admin_state_up": False}, CTX)
    assert cloud.connect(cloud.switch(), 40000) == []


def test_weights_share_the_connections():
    cloud = Cloud(2)
    cloud.model.update("member", cloud.member_ids[0], {"weight": 4}, CTX)
    sw = cloud.switch()
    counts = Counter(cloud.chosen(cloud.connect(sw, sport)) for sport in range(40000, 40400))
    assert counts[0] > 2.5 * counts[1] > 0


def test_a_source_ip_pool_sends_each_client_to_one_member():
    cloud = Cloud(3, algorithm="SOURCE_IP")
    clients = [cloud.client] + [cloud.port(f"vm{20 + i}") for i in range(11)]
    sw = cloud.switch()
    per_client = {c.id: {cloud.chosen(cloud.connect(sw, sport, client=c)) for sport in range(40000, 40008)}
                  for c in clients}
    assert all(len(members) == 1 for members in per_client.values())
    assert len(set().union(*per_client.values())) > 1


def test_udp_is_balanced_by_its_ports_too():
    cloud = Cloud(3, protocol="UDP")
    sw = cloud.switch()
    picked = {cloud.chosen(cloud.connect(sw, sport, proto=UDP)) for sport in range(40000, 40040)}   # one client
    assert picked == {0, 1, 2}


def test_a_member_reaching_the_vip_reaches_itself_from_the_vip():
    cloud = Cloud(1)
    sw = cloud.switch()
    m = cloud.members[0]
    [(port, wire)] = cloud.connect(sw, 40000, client=m)
    assert port == cloud.ofport(m)
    assert (wire["ipv4_src"], wire["ipv4_dst"], wire["tcp_dst"]) == (n(cloud.lb.vip_address), n(m.ip_addresses[0]),
                                                                    8080)


def test_a_chassis_without_a_client_network_holds_none_of_it():
    cloud = Cloud(2)
    chassis, view = cloud.view()
    reading = flows.read(cloud.model, view, None)
    assert flows.chassis_lb(chassis["hv2"], reading).flows == {}
    assert flows.chassis_lb(chassis["hv1"], reading).flows


def test_a_client_behind_the_router_reaches_a_member_routed_and_hears_back_from_the_vip():
    cloud = Cloud(1)
    other = cloud.behind_router()
    client = cloud.port("vm20", other)
    gateway_mac = cloud.interface(other).mac_address
    sw = cloud.switch()
    [(port, wire)] = sw.send(cloud.ofport(client), tcp_flags=0x02, eth_src=client.mac_address, eth_dst=gateway_mac,
                             eth_type=IP, ipv4_src=client.ip_addresses[0], ipv4_dst=cloud.lb.vip_address,
                             ip_proto=TCP, ip_ttl=64, tcp_src=40000, tcp_dst=80)
    m = cloud.members[0]
    assert port == cloud.ofport(m)
    assert (wire["ipv4_dst"], wire["tcp_dst"], wire["eth_dst"], wire["ip_ttl"]) == \
        (n(m.ip_addresses[0]), 8080, n(m.mac_address), 63)
    [(port, wire)] = sw.send(cloud.ofport(m), tcp_flags=0x12, eth_src=m.mac_address,
                             eth_dst=cloud.interface(cloud.net).mac_address,
                             eth_type=IP, ipv4_src=m.ip_addresses[0], ipv4_dst=client.ip_addresses[0],
                             ip_proto=TCP, ip_ttl=64, tcp_src=8080, tcp_dst=40000)
    assert port == cloud.ofport(client)
    assert (wire["ipv4_src"], wire["tcp_src"], wire["eth_src"]) == (n(cloud.lb.vip_address), 80, n(gateway_mac))


def test_a_vip_with_security_groups_takes_connections_only_from_the_sources_they_admit():
    cloud = Cloud(1)
    stranger = cloud.port("vm20")
    lb = vip_group(cloud, dict(port_range_min=80, port_range_max=80,
                               remote_ip_prefix=f"{cloud.client.ip_addresses[0]}/32"))
    sw = cloud.switch()
    cloud.chosen(cloud.connect(sw, 40000, dst=lb.vip_address))
    assert cloud.connect(sw, 40000, client=stranger, dst=lb.vip_address) == []
    cloud.chosen(cloud.connect(sw, 40000, client=stranger))          # the first VIP has no groups: open


PEER_MAC = "02:00:00:ff:00:01"


def floating_vip(cloud: Cloud):
    """An external network on physnet1 (hv1's uplink), a router from the cloud's subnet to it and a floating IP
    on the VIP: (the floating IP, the router's gateway port, the router)."""
    admin = admin_for("admin")
    ext = cloud.model.create("network", {"name": "ext", "router:external": True,
                                         "provider:physical_network": "physnet1"}, admin)
    cloud.model.create("subnet", {"network_id": ext.id, "cidr": "172.16.0.0/24", "ip_version": 4,
                                  "gateway_ip": "172.16.0.1"}, admin)
    router = cloud.model.create("router", {"name": "r", "external_gateway_info": {"network_id": ext.id}}, CTX)
    cloud.model.action("router", router.id, "add_router_interface", {"subnet_id": cloud.sub.id}, CTX)
    fip = cloud.model.create("floatingip", {"floating_network_id": ext.id, "port_id": cloud.lb.vip_port_id}, CTX)
    gateway = next(p for p in cloud.model.list("port") if p.device_owner == "network:router_gateway")
    return fip, gateway, router


def from_outside(sw: FakeSwitch, gateway, fip, sport: int, dport: int = 80) -> list[tuple[int, dict]]:
    """A SYN from the internet (203.0.113.10, by the peer at 172.16.0.1) to the floating IP."""
    sw.send(UPLINK, eth_src=PEER_MAC, eth_dst=gateway.mac_address, eth_type=0x0806, arp_op=2, arp_spa="172.16.0.1",
            arp_sha=PEER_MAC, arp_tpa=gateway.ip_addresses[0], arp_tha=gateway.mac_address)
    return sw.send(UPLINK, tcp_flags=0x02, eth_src=PEER_MAC, eth_dst=gateway.mac_address, eth_type=IP,
                   ipv4_src="203.0.113.10", ipv4_dst=fip.floating_ip_address, ip_proto=TCP, ip_ttl=64,
                   tcp_src=sport, tcp_dst=dport)


def test_a_floating_ip_on_the_vip_brings_outside_connections_to_a_member_and_their_replies_back():
    cloud = Cloud(2)
    fip, gateway, _ = floating_vip(cloud)
    member_side_mac = cloud.interface(cloud.net).mac_address
    sw = cloud.switch()
    chosen = set()
    for sport in range(5000, 5030):
        [(port, wire)] = from_outside(sw, gateway, fip, sport)
        chosen.add(i := cloud.chosen([(port, wire)]))
        assert wire["ipv4_src"] == n("203.0.113.10")
        m = cloud.members[i]
        [(port, wire)] = sw.send(cloud.ofport(m), tcp_flags=0x12, eth_src=m.mac_address, eth_dst=member_side_mac,
                                 eth_type=IP, ipv4_src=m.ip_addresses[0], ipv4_dst="203.0.113.10", ip_proto=TCP,
                                 ip_ttl=64, tcp_src=8080, tcp_dst=sport)
        assert (port, wire["ipv4_src"], wire["tcp_src"], wire["eth_dst"]) == \
            (UPLINK, n(fip.floating_ip_address), 80, n(PEER_MAC))
    assert chosen == {0, 1}
    assert from_outside(sw, gateway, fip, 5000, dport=81) == []          # not a listener


def test_a_vip_with_a_floating_ip_still_answers_its_own_network_from_the_vip():
    cloud = Cloud(1)
    fip, gateway, _ = floating_vip(cloud)
    cloud.model.create("member", {"address": "10.0.0.99", "protocol_port": 8080, "weight": 0}, CTX,
                       parent_id=cloud.pool.id)                                  # served, but on no port
    sw = cloud.switch()
    [(port, there)] = cloud.connect(sw, 40000)
    assert cloud.chosen([(port, there)]) == 0
    [(port, back)] = reply(sw, cloud, cloud.members[0], there)
    assert (port, back["ipv4_src"], back["tcp_src"]) == (cloud.ofport(cloud.client), n(cloud.lb.vip_address), 80)
    assert cloud.chosen(from_outside(sw, gateway, fip, 5000)) == 0


def test_a_members_reply_to_its_own_connection_through_the_vip_comes_from_the_vip():
    cloud = Cloud(1)
    sw = cloud.switch()
    m = cloud.members[0]
    [(_, there)] = cloud.connect(sw, 40000, client=m)
    [(port, wire)] = sw.send(cloud.ofport(m), tcp_flags=0x12, eth_src=m.mac_address, eth_dst=cloud.vip_mac,
                             eth_type=IP, ipv4_src=m.ip_addresses[0], ipv4_dst=there["ipv4_src"], ip_proto=TCP,
                             ip_ttl=64, tcp_src=8080, tcp_dst=there["tcp_src"])
    assert port == cloud.ofport(m)
    assert (wire["ipv4_src"], wire["tcp_src"], wire["ipv4_dst"], wire["tcp_dst"]) == \
        (n(cloud.lb.vip_address), 80, n(m.ip_addresses[0]), 40000)


def monitored(cloud: Cloud, kind: str) -> None:
    cloud.model.create("healthmonitor", {"pool_id": cloud.pool.id, "type": kind, "delay": 2, "timeout": 1,
                                         "max_retries": 2}, CTX)


def test_answers_to_health_probes_go_to_the_controller_and_nothing_else_does():
    for kind, protocol, answer in (("TCP", "TCP", dict(ip_proto=TCP, tcp_src=8080, tcp_dst=65300, tcp_flags=0x12)),
                                   ("HTTP", "TCP", dict(ip_proto=TCP, tcp_src=8080, tcp_dst=65300, tcp_flags=0x12)),
                                   ("PING", "TCP", dict(ip_proto=1, icmpv4_type=0, icmpv4_code=0)),
                                   ("UDP-CONNECT", "UDP", dict(ip_proto=1, icmpv4_type=3, icmpv4_code=3))):
        cloud = Cloud(1, protocol=protocol)
        monitored(cloud, kind)
        sw = cloud.switch()
        m = cloud.members[0]
        frame = dict(eth_src=m.mac_address, eth_dst=cloud.vip_mac, eth_type=IP, ipv4_src=m.ip_addresses[0],
                     ipv4_dst=cloud.lb.vip_address, ip_ttl=64, **answer)

        def punted(**change) -> bool:
            return CONTROLLER in [p for p, _ in sw.send(cloud.ofport(m), **{**frame, **change})]
        assert [p for p, _ in sw.send(cloud.ofport(m), **frame)] == [CONTROLLER], kind
        assert not punted(ipv4_dst=cloud.client.ip_addresses[0])
        if kind in ("TCP", "HTTP"):
            assert not punted(tcp_dst=40000) and not punted(tcp_src=22)
        else:
            assert not punted(icmpv4_type=8 if kind == "PING" else 11)


def test_members_behind_the_router_are_probed_from_its_interface_those_beside_the_vip_from_the_vip():
    cloud = Cloud(1)
    other = cloud.behind_router()
    far = cloud.port("vm20", other)
    far_id = cloud.model.create("member", {"address": far.ip_addresses[0], "protocol_port": 8080}, CTX,
                                parent_id=cloud.pool.id).id
    monitored(cloud, "HTTP")
    reading = flows.read(cloud.model, cloud.view()[1], None)
    near, behind = reading.targets[cloud.member_ids[0]], reading.targets[far_id]
    interface = cloud.interface(other)
    assert (near.path.source, near.path.source_mac) == (cloud.lb.vip_address, cloud.vip_mac)
    assert (behind.path.source, behind.path.source_mac) == (interface.ip_addresses[0], interface.mac_address)
    assert (behind.path.mac, behind.path.address, behind.path.port, behind.kind) == \
        (far.mac_address, far.ip_addresses[0], 8080, "HTTP")
    assert (behind.chassis, behind.port_key, behind.delay, behind.timeout) == ("hv1", far.key, 2, 1)


def test_two_tenants_with_the_same_addresses_and_vips_each_reach_their_own_members_only():
    t = Cloud(2)
    u = Cloud(2, model=t.model, project="u", first_vm=30)
    assert (t.lb.vip_address, [m.ip_addresses for m in t.members]) == (u.lb.vip_address, [m.ip_addresses for m in u.members])
    sw = t.switch()
    for cloud in (t, u):
        assert {cloud.chosen(cloud.connect(sw, sport)) for sport in range(40000, 40030)} == {0, 1}
        c = cloud.client
        [(port, wire)] = sw.send(cloud.ofport(c), eth_src=c.mac_address, eth_dst="ff:ff:ff:ff:ff:ff", eth_type=0x0806,
                                 arp_op=1, arp_spa=c.ip_addresses[0], arp_sha=c.mac_address,
                                 arp_tpa=cloud.lb.vip_address)
        assert (port, wire["arp_sha"]) == (cloud.ofport(c), n(cloud.vip_mac))
        m = cloud.members[0]
        hairpins = 0
        for sport in range(41000, 41020):                    # a member's own connections stay in its tenant
            [(port, wire)] = cloud.connect(sw, sport, client=m)
            assert port in {cloud.ofport(p) for p in cloud.members}
            if port == cloud.ofport(m):
                hairpins += 1
                assert wire["ipv4_src"] == n(cloud.lb.vip_address)
        assert hairpins


def test_disabled_load_balancers_and_listeners_balance_nothing():
    def untranslated(cloud: Cloud) -> bool:
        return all((wire["ipv4_dst"], wire["tcp_dst"]) == (n(cloud.lb.vip_address), 80)
                   for _, wire in cloud.connect(cloud.switch(), 40000))
    cloud = Cloud(1)
    cloud.model.update("loadbalancer", cloud.lb.id, {"admin_state_up": False}, CTX)
    assert untranslated(cloud)
    cloud = Cloud(1)
    [listener] = cloud.model.list("listener")
    cloud.model.update("listener", listener.id, {"admin_state_up": False}, CTX)
    assert untranslated(cloud)
    cloud.model.update("listener", listener.id, {"admin_state_up": True}, CTX)
    assert not untranslated(cloud)


def test_source_ip_listeners_of_one_vip_each_reach_their_own_pool():
    cloud = Cloud(2, algorithm="SOURCE_IP")
    other = cloud.model.create("listener", {"loadbalancer_id": cloud.lb.id, "protocol": "TCP", "protocol_port": 81},
                               CTX)
    pool = cloud.model.create("pool", {"listener_id": other.id, "protocol": "TCP", "lb_algorithm": "SOURCE_IP"}, CTX)
    cloud.model.create("member", {"address": cloud.members[1].ip_addresses[0], "protocol_port": 9090}, CTX,
                       parent_id=pool.id)
    sw = cloud.switch()
    cloud.chosen(cloud.connect(sw, 40000))
    [(port, wire)] = cloud.connect(sw, 40001, dport=81)
    assert (port, wire["tcp_dst"]) == (cloud.ofport(cloud.members[1]), 9090)


def second_vip(cloud: Cloud, members=None, **lb_attrs):
    """Another load balancer on the cloud's subnet (with `lb_attrs`), its TCP listener on 80 with a pool of
    `members` (the cloud's, by default) on 8080."""
    lb = cloud.model.create("loadbalancer", {"vip_subnet_id": cloud.sub.id, **lb_attrs}, CTX)
    listener = cloud.model.create("listener", {"loadbalancer_id": lb.id, "protocol": "TCP", "protocol_port": 80}, CTX)
    pool = cloud.model.create("pool", {"listener_id": listener.id, "protocol": "TCP", "lb_algorithm": "ROUND_ROBIN"},
                              CTX)
    for m in cloud.members if members is None else members:
        cloud.model.create("member", {"address": m.ip_addresses[0], "protocol_port": 8080}, CTX, parent_id=pool.id)
    return lb


def reply(sw: FakeSwitch, cloud: Cloud, m, to: dict, flags: int = 0x12) -> list[tuple[int, dict]]:
    """Member `m`'s reply to the segment `to` it received."""
    return sw.send(cloud.ofport(m), tcp_flags=flags, eth_src=m.mac_address, eth_dst=n_mac(to["eth_src"]),
                   eth_type=IP, ipv4_src=m.ip_addresses[0], ipv4_dst=str(netaddr.IPAddress(to["ipv4_src"])),
                   ip_proto=TCP, ip_ttl=64, tcp_src=to["tcp_dst"], tcp_dst=to["tcp_src"])


def n_mac(value: int) -> str:
    return str(netaddr.EUI(value, dialect=netaddr.mac_unix_expanded))


def test_replies_from_two_vips_with_one_member_each_come_from_their_own_vip():
    cloud = Cloud(1)
    other = second_vip(cloud)
    vip_mac = {cloud.lb.vip_address: cloud.vip_mac, other.vip_address: cloud.model.get("port", other.vip_port_id).mac_address}
    sw = cloud.switch()
    for sport, vip in ((40000, cloud.lb.vip_address), (40001, other.vip_address)):
        [(_, there)] = cloud.connect(sw, sport, dst=vip)
        [(port, back)] = reply(sw, cloud, cloud.members[0], there)
        assert (port, back["ipv4_src"], back["tcp_src"], back["eth_src"]) == \
            (cloud.ofport(cloud.client), n(vip), 80, n(vip_mac[vip]))


def test_a_member_of_two_vips_reaches_itself_through_each_from_that_vip_and_hears_back():
    cloud = Cloud(1)
    other = second_vip(cloud)
    sw = cloud.switch()
    m = cloud.members[0]
    for sport, vip in ((40000, cloud.lb.vip_address), (40001, other.vip_address)):
        [(port, there)] = cloud.connect(sw, sport, client=m, dst=vip)
        assert (port, there["ipv4_src"]) == (cloud.ofport(m), n(vip))
        assert flows.HAIRPIN_PORTS[0] <= there["tcp_src"] <= flows.HAIRPIN_PORTS[1]
        [(port, back)] = reply(sw, cloud, m, there)
        assert (port, back["ipv4_src"], back["tcp_src"], back["ipv4_dst"], back["tcp_dst"]) == \
            (cloud.ofport(m), n(vip), 80, n(m.ip_addresses[0]), sport)


def test_a_member_reaching_another_through_the_vip_comes_from_its_own_address_and_hears_back_from_the_vip():
    cloud = Cloud(2)
    sw = cloud.switch()
    a, b = cloud.members
    for sport in range(40000, 40020):
        [(port, there)] = cloud.connect(sw, sport, client=a)
        if port == cloud.ofport(b):
            break
    assert port == cloud.ofport(b) and there["ipv4_src"] == n(a.ip_addresses[0])
    [(port, back)] = reply(sw, cloud, b, there)
    assert (port, back["ipv4_src"], back["tcp_src"]) == (cloud.ofport(a), n(cloud.lb.vip_address), 80)


def test_two_tenants_members_each_hear_back_from_their_own_vip_through_hairpin():
    t = Cloud(1)
    u = Cloud(1, model=t.model, project="u", first_vm=30)
    sw = t.switch()
    for cloud in (t, u):
        m = cloud.members[0]
        [(port, there)] = cloud.connect(sw, 40000, client=m)
        [(port, back)] = reply(sw, cloud, m, there)
        assert (port, back["ipv4_src"], back["tcp_dst"]) == (cloud.ofport(m), n(cloud.lb.vip_address), 40000)


def test_only_arp_requests_for_the_vip_are_answered_with_its_mac():
    cloud = Cloud(1)
    sw = cloud.switch()
    c, m = cloud.client, cloud.members[0]
    arp = dict(eth_src=c.mac_address, eth_type=0x0806, arp_spa=c.ip_addresses[0], arp_sha=c.mac_address)
    for out in (sw.send(cloud.ofport(c), eth_dst="ff:ff:ff:ff:ff:ff", arp_op=1, arp_tpa=m.ip_addresses[0], **arp),
                sw.send(cloud.ofport(c), eth_dst=cloud.vip_mac, arp_op=2, arp_tpa=cloud.lb.vip_address,
                        arp_tha=cloud.vip_mac, **arp)):
        assert all(wire.get("arp_sha") != n(cloud.vip_mac) for _, wire in out)


def vip_group(cloud: Cloud, *rules: dict):
    """A load balancer on the cloud's subnet whose VIP port has a group with `rules`, its member the cloud's."""
    group = cloud.model.create("security_group", {"name": "vip"}, CTX)
    for rule in rules:
        cloud.model.create("security_group_rule", {"security_group_id": group.id, "direction": "ingress",
                                                   "protocol": "tcp", **rule}, CTX)
    return second_vip(cloud, cloud.members[:1], vip_sg_ids=[group.id])


def test_a_vip_rule_admits_a_listener_by_its_port_range_and_remote_only():
    cloud = Cloud(1)
    empty = cloud.model.create("security_group", {"name": "nobody"}, CTX)
    closed = vip_group(cloud, dict(port_range_min=22, port_range_max=22),
                       dict(port_range_min=80, port_range_max=80, remote_group_id=empty.id))
    sw = cloud.switch()
    assert cloud.connect(sw, 40000, dst=closed.vip_address) == []
    cloud = Cloud(1)
    dual = cloud.model.create("subnet", {"network_id": cloud.net.id, "cidr": "2001:db8::/64", "ip_version": 6}, CTX)
    clients = cloud.model.create("security_group", {"name": "clients"}, CTX)
    cloud.model.update("port", cloud.client.id, {"security_groups": [clients.id], "fixed_ips": [
        {"ip_address": cloud.client.ip_addresses[0]}, {"subnet_id": dual.id}]}, CTX)
    stranger = cloud.port("vm20")
    by_group = vip_group(cloud, dict(port_range_min=80, port_range_max=80, remote_group_id=clients.id))
    anyone = vip_group(cloud, dict())                      # any port, from anywhere
    sw = cloud.switch()
    cloud.chosen(cloud.connect(sw, 40000, dst=by_group.vip_address))
    assert cloud.connect(sw, 40000, client=stranger, dst=by_group.vip_address) == []
    cloud.chosen(cloud.connect(sw, 40001, client=stranger, dst=anyone.vip_address))


def test_a_monitored_member_is_checked_as_its_monitor_says_and_one_on_no_port_nowhere():
    cloud = Cloud(1)
    cloud.model.create("healthmonitor", {"pool_id": cloud.pool.id, "type": "HTTP", "delay": 3, "timeout": 2,
                                         "max_retries": 4, "max_retries_down": 5, "url_path": "/health",
                                         "expected_codes": "200-204"}, CTX)
    nowhere = cloud.model.create("member", {"address": "10.0.0.99", "protocol_port": 8080}, CTX,
                                 parent_id=cloud.pool.id).id
    targets = flows.read(cloud.model, cloud.view()[1], None).targets
    m, target = cloud.members[0], targets[cloud.member_ids[0]]
    assert (target.member_id, target.kind, target.delay, target.timeout, target.rise, target.fall, target.url_path,
            target.codes, target.chassis, target.port_key) == \
        (cloud.member_ids[0], "HTTP", 3, 2, 4, 5, "/health", "200-204", "hv1", m.key)
    assert (target.path.mac, target.path.address, target.path.port) == (m.mac_address, m.ip_addresses[0], 8080)
    lost = targets[nowhere]
    assert (lost.member_id, lost.chassis, lost.port_key, lost.path.mac, lost.path.address) == \
        (nowhere, None, 0, "00:00:00:00:00:00", "10.0.0.99")


def test_a_load_balancer_with_no_client_on_a_chassis_leaves_the_others_balanced_there():
    model = new_model()
    far = Cloud(1, model=model, project="far", first_vm=60)
    for p in [far.client, *far.members]:
        model.update("port", p.id, {"binding:host_id": "hv2"}, far.ctx)
    cloud = Cloud(1, model=model)
    sw = cloud.switch()
    cloud.chosen(cloud.connect(sw, 40000))
