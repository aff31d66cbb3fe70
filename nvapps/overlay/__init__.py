"""Overlay service: chassis joined by VXLAN/Geneve tunnels (the tunnel-egress table group), and L2 gateways
to VLANs."""
