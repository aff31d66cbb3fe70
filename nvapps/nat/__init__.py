"""NAT service: the provider edge. Router gateways on uplinks, SNAT, floating IPs and port forwarding with
conntrack, ARP for external addresses in flows, gateway failover between uplinks."""
