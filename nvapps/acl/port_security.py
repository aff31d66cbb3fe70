"""Pure functions: anti-spoofing flows of a port. It sends only from its MAC and addresses (and its allowed
address pairs), ARP only for them, and never as a DHCP server; over IPv6, neighbour discovery only for its own
addresses and MACs, and never as a router (no router advertisements or redirects)."""
from __future__ import annotations

from nvapps.acl.matches import address_match
from nvapps.core.nd import ADVERTISEMENT, ICMPV6, IPV6, REDIRECT, ROUTER_ADVERTISEMENT, SOLICITATION
from nvapps.core.ofp import Flow, match
from nvapps.model.ipam import link_local
from nvapps.model.network import Port
from nvapps.pipeline import Priority, Reg, Table, next_stage

# (ethertype, server port, client port) of DHCPv4 and DHCPv6 answers, which no port may send
DHCP_SERVER_PORTS = ((0x0800, 67, 68), (0x86DD, 547, 546))
ND = dict(eth_type=IPV6, ip_proto=ICMPV6, icmpv6_code=0)
ACCEPTED = next_stage("port_security")


def allowed_pairs(port: Port) -> list[tuple[str, str]]:
    """(MAC, address or prefix) pairs the port may send from: its fixed IPs, then its allowed address pairs."""
    pairs = [(port.mac_address, ip) for ip in port.ip_addresses]
    pairs += [(p.get("mac_address") or port.mac_address, p["ip_address"]) for p in port.allowed_address_pairs]
    return list(dict.fromkeys(pairs))


def port_security_flows(port: Port) -> list[Flow]:
    """Tables PORT_SECURITY and PORT_SECURITY_ND for a port with port security: allowed sources continue
    (IPv6 through the neighbour discovery checks), everything else drops."""
    if not port.port_security_enabled:
        return []
    me = {Reg.IN_PORT: port.key}
    passes = [
        # DHCP before the port has an address
        (match(**me, eth_src=port.mac_address, eth_type=0x0800, ipv4_src="0.0.0.0", ipv4_dst="255.255.255.255",
               ip_proto=17, udp_src=68, udp_dst=67), ACCEPTED),
        # IPv6 link-local from the port's MAC, and duplicate address detection / MLD from ::
        (match(**me, eth_src=port.mac_address, eth_type=IPV6, ipv6_src=link_local(port.mac_address)),
         Table.PORT_SECURITY_ND),
        (match(**me, eth_src=port.mac_address, eth_type=IPV6, ipv6_src="::", ip_proto=58), Table.PORT_SECURITY_ND),
    ]
    for mac, address in allowed_pairs(port):
        value = address_match(address)
        if ":" in address:
            passes.append((match(**me, eth_src=mac, eth_type=IPV6, ipv6_src=value), Table.PORT_SECURITY_ND))
        else:
            passes.append((match(**me, eth_src=mac, eth_type=0x0800, ipv4_src=value), ACCEPTED))
            passes.append((match(**me, eth_src=mac, eth_type=0x0806, arp_spa=value, arp_sha=mac), ACCEPTED))
    flows = [Flow(Table.PORT_SECURITY, Priority.SPECIFIC, m, goto=goto) for m, goto in dict.fromkeys(passes)]
    flows.append(Flow(Table.PORT_SECURITY, Priority.FALLBACK, match(**me)))       # anything else: drop
    for eth_type, server, client in DHCP_SERVER_PORTS:
        flows.append(Flow(Table.PORT_SECURITY, Priority.OVERRIDE,
                          match(**me, eth_type=eth_type, ip_proto=17, udp_src=server, udp_dst=client)))
    return flows + _neighbor_discovery(port)


def _neighbor_discovery(port: Port) -> list[Flow]:
    """The port's solicitations may carry only its MACs, its advertisements only its own addresses (its
    link-local one too) with their MACs (nd_stage_flows: or no link-layer option at all; the rest of ND from
    it drops)."""
    me = {Reg.IN_PORT: port.key}
    pairs = [(port.mac_address, link_local(port.mac_address))] + allowed_pairs(port)
    allowed = [match(**me, **ND, icmpv6_type=SOLICITATION, ipv6_nd_sll=mac) for mac in dict.fromkeys(m for m, _ in pairs)]
    allowed += [match(**me, **ND, icmpv6_type=ADVERTISEMENT, ipv6_nd_target=address_match(address), ipv6_nd_tll=mac)
                for mac, address in pairs if ":" in address]
    return [Flow(Table.PORT_SECURITY_ND, Priority.OVERRIDE, m, goto=ACCEPTED) for m in allowed]


def nd_stage_flows() -> list[Flow]:
    """Table PORT_SECURITY_ND, for every port (only secured ports' IPv6 enters it): solicitations and
    advertisements without a link-layer option (which claim no MAC: duplicate address detection, a unicast
    advertisement) continue; router advertisements, redirects, and solicitations and advertisements no
    port's flow allows drop; other IPv6 continues."""
    no_option = (match(**ND, icmpv6_type=SOLICITATION, ipv6_nd_sll=0), match(**ND, icmpv6_type=ADVERTISEMENT, ipv6_nd_tll=0))
    return [Flow(Table.PORT_SECURITY_ND, Priority.OVERRIDE, m, goto=ACCEPTED) for m in no_option] + \
        [Flow(Table.PORT_SECURITY_ND, Priority.SPECIFIC, match(eth_type=IPV6, ip_proto=ICMPV6, icmpv6_type=kind))
         for kind in (ROUTER_ADVERTISEMENT, SOLICITATION, ADVERTISEMENT, REDIRECT)] + \
        [Flow(Table.PORT_SECURITY_ND, Priority.FALLBACK, goto=ACCEPTED)]
