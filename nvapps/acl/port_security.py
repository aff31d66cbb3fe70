"""Pure functions: anti-spoofing flows of a port. It sends only from its MAC and addresses (and its allowed
address pairs), ARP only for them, and never as a DHCP server."""
from __future__ import annotations

from nvapps.acl.matches import address_match
from nvapps.core.ofp import Flow, match
from nvapps.model.ipam import link_local
from nvapps.model.network import Port
from nvapps.pipeline import Priority, Reg, Table, next_stage

# (ethertype, server port, client port) of DHCPv4 and DHCPv6 answers, which no port may send
DHCP_SERVER_PORTS = ((0x0800, 67, 68), (0x86DD, 547, 546))


def allowed_pairs(port: Port) -> list[tuple[str, str]]:
    """(MAC, address or prefix) pairs the port may send from: its fixed IPs, then its allowed address pairs."""
    pairs = [(port.mac_address, ip) for ip in port.ip_addresses]
    pairs += [(p.get("mac_address") or port.mac_address, p["ip_address"]) for p in port.allowed_address_pairs]
    return list(dict.fromkeys(pairs))


def port_security_flows(port: Port) -> list[Flow]:
    """Table PORT_SECURITY for a port with port security: allowed sources continue, everything else drops."""
    if not port.port_security_enabled:
        return []
    me = {Reg.IN_PORT: port.key}
    passes = [
        # DHCP before the port has an address
        match(**me, eth_src=port.mac_address, eth_type=0x0800, ipv4_src="0.0.0.0", ipv4_dst="255.255.255.255",
              ip_proto=17, udp_src=68, udp_dst=67),
        # IPv6 link-local from the port's MAC, and duplicate address detection / MLD from ::
        match(**me, eth_src=port.mac_address, eth_type=0x86DD, ipv6_src=link_local(port.mac_address)),
        match(**me, eth_src=port.mac_address, eth_type=0x86DD, ipv6_src="::", ip_proto=58),
    ]
    for mac, address in allowed_pairs(port):
        value = address_match(address)
        if ":" in address:
            passes.append(match(**me, eth_src=mac, eth_type=0x86DD, ipv6_src=value))
        else:
            passes.append(match(**me, eth_src=mac, eth_type=0x0800, ipv4_src=value))
            passes.append(match(**me, eth_src=mac, eth_type=0x0806, arp_spa=value, arp_sha=mac))
    flows = [Flow(Table.PORT_SECURITY, Priority.SPECIFIC, m, goto=next_stage("port_security")) for m in dict.fromkeys(passes)]
    flows.append(Flow(Table.PORT_SECURITY, Priority.FALLBACK, match(**me)))       # anything else: drop
    for eth_type, server, client in DHCP_SERVER_PORTS:
        flows.append(Flow(Table.PORT_SECURITY, Priority.OVERRIDE,
                          match(**me, eth_type=eth_type, ip_proto=17, udp_src=server, udp_dst=client)))
    return flows
