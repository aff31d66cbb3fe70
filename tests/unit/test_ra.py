"""Router advertisements for IPv6 subnets with ipv6_ra_mode: what a port's routers advertise (prefix flags per
mode), the frame as a host reads it (link-local source, hop limit 255, source link-layer address, prefix
information), solicitations recognised, and which ports' solicitations are punted."""
from __future__ import annotations

from os_ken.lib.packet import ethernet, icmpv6, ipv6, packet

from nvapps.core import ofp
from nvapps.core.nd import ALL_NODES
from nvapps.core.topology import Chassis, Interface
from nvapps.dhcp.flows import DhcpView, chassis_dhcp
from nvapps.dhcp.ra import Advert, advert_for, router_advertisement, router_interfaces, solicitation
from nvapps.logical.ports import bound_ports
from nvapps.model.network import ROUTER_INTERFACE, Network, Port, Subnet

ROUTER_MAC, VM_MAC = "fa:16:3e:00:00:01", "02:00:00:00:00:07"
V4 = Subnet(id="v4", network_id="n", cidr="10.0.0.0/24", gateway_ip="10.0.0.1")


def v6(mode: str | None, cidr: str = "2001:db8:0:1::/64", sid: str = "v6") -> Subnet:
    return Subnet(id=sid, network_id="n", cidr=cidr, ip_version=6, gateway_ip=cidr.replace("::/64", "::1"),
                  ipv6_ra_mode=mode, ipv6_address_mode=mode)


def vm(*subnets: Subnet) -> Port:
    return Port(id="vm", project_id="p", network_id="n", mac_address=VM_MAC, key=3, host_id="hv1",
                profile={"interface_name": "hv1-eth2"},
                fixed_ips=[{"subnet_id": s.id, "ip_address": s.gateway_ip.replace("1", "7", 1)} for s in subnets])


def router_on(*subnets: Subnet) -> list[Port]:
    return [Port(id=f"ri-{s.id}", project_id="p", network_id="n", mac_address=ROUTER_MAC, key=9,
                 device_owner=ROUTER_INTERFACE, device_id="r", fixed_ips=[{"subnet_id": s.id, "ip_address": s.gateway_ip}])
            for s in subnets]


def read(frame: bytes):
    pkt = packet.Packet(frame)
    return pkt.get_protocol(ethernet.ethernet), pkt.get_protocol(ipv6.ipv6), pkt.get_protocol(icmpv6.icmpv6)


def options(frame: bytes) -> dict[int, bytes]:
    """The RA's options by type, read from the bytes as a host does (os-ken's parser runs the first
    link-layer option over the rest)."""
    out, offset = {}, 14 + 40 + 16          # Ethernet, IPv6, the RA's fixed part
    while offset < len(frame):
        kind, length = frame[offset], frame[offset + 1] * 8
        out[kind] = frame[offset:offset + length]
        offset += length
    return out


def test_a_port_hears_the_router_of_its_advertised_subnets_only():
    slaac, quiet = v6("slaac"), v6(None, "2001:db8:0:2::/64", "q")
    subnets = {s.id: s for s in (V4, slaac, quiet)}
    port = vm(V4, slaac, quiet)
    assert advert_for(port, subnets, router_interfaces(router_on(V4, slaac, quiet))) == \
        Advert(ROUTER_MAC, (("2001:db8:0:1::/64", "slaac"),))
    assert advert_for(port, subnets, router_interfaces(router_on(V4))) is None           # no router on the IPv6 subnet
    assert advert_for(vm(V4), subnets, router_interfaces(router_on(V4, slaac))) is None  # no address there


def test_the_advertisement_is_what_a_host_takes_from_its_router():
    frame = router_advertisement(Advert(ROUTER_MAC, (("2001:db8:0:1::/64", "slaac"),)))
    eth, ip6, icmp = read(frame)
    assert (eth.src, eth.dst, ip6.src, ip6.dst, ip6.hop_limit) == (ROUTER_MAC, "33:33:00:00:00:01",
                                                                   "fe80::f816:3eff:fe00:1", ALL_NODES, 255)
    ra = icmp.data
    assert icmp.type_ == icmpv6.ND_ROUTER_ADVERT and ra.res == 0 and ra.rou_l > 0
    found = options(frame)
    assert found[1] == bytes([1, 1]) + bytes.fromhex("fa163e000001")                 # source link-layer address
    pi = found[3]
    assert (pi[2], pi[3], int.from_bytes(pi[4:8], "big") > 0, pi[16:]) == (
        64, 0b11000000, True, bytes.fromhex("20010db8000000010000000000000000"))      # on-link, autonomous
    assert 5 not in found                                                            # no MTU unless known
    mtu = options(router_advertisement(Advert(ROUTER_MAC, (("2001:db8:0:1::/64", "slaac"),), 1450)))[5]
    assert int.from_bytes(mtu[4:8], "big") == 1450                                   # the network's MTU


def test_dhcpv6_modes_set_the_managed_and_other_flags_and_stateful_prefixes_are_not_autonomous():
    stateful = router_advertisement(Advert(ROUTER_MAC, (("2001:db8:0:1::/64", "dhcpv6-stateful"),)))
    assert read(stateful)[2].data.res == 0b10 and options(stateful)[3][3] == 0b10000000          # M; on-link only
    stateless = router_advertisement(Advert(ROUTER_MAC, (("2001:db8:0:1::/64", "dhcpv6-stateless"),)))
    assert read(stateless)[2].data.res == 0b01 and options(stateless)[3][3] == 0b11000000        # O; autonomous


def test_solicitations_are_recognised_and_nothing_else():
    rs = packet.Packet()
    rs.add_protocol(ethernet.ethernet(dst="33:33:00:00:00:02", src=VM_MAC, ethertype=0x86DD))
    rs.add_protocol(ipv6.ipv6(src="fe80::7", dst="ff02::2", nxt=58, hop_limit=255))
    rs.add_protocol(icmpv6.icmpv6(type_=icmpv6.ND_ROUTER_SOLICIT, data=icmpv6.nd_router_solicit()))
    rs.serialize()
    assert solicitation(bytes(rs.data)) == (VM_MAC, "fe80::7")
    assert solicitation(router_advertisement(Advert(ROUTER_MAC, (("2001:db8:0:1::/64", "slaac"),)))) is None


def test_only_ports_on_advertised_subnets_send_their_solicitations_to_the_controller():
    net = Network(id="n", project_id="p", segmentation_id=5)
    slaac = v6("slaac")
    hv1 = Chassis("hv1", 1, {"hv1-eth2": Interface("hv1-eth2", 2)})

    def punted(port: Port) -> list[int]:
        subnets = {s.id: s for s in (V4, slaac)}
        view = DhcpView({"hv1": tuple(bound_ports([net], [port], {"hv1": hv1}))}, subnets)
        return sorted(dict((n, v) for n, v, _ in f.match).get("icmpv6_type", 0)
                      for f in chassis_dhcp(hv1, view).flows.values() if ofp.PUNT in f.actions)
    assert punted(vm(V4, slaac)) == [0, 133]        # DHCP requests and router solicitations
    assert punted(vm(V4)) == [0]
