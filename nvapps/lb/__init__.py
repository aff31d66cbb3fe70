"""The load balancer service: Octavia-shaped load balancers, balanced on each client's chassis."""
