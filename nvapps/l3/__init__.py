"""L3 service: a VRF per tenant router, distributed routing, ICMP answered in flows or by the controller."""
