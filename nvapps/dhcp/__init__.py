"""DHCP service: the controller answers DHCPv4 for bound ports from the model (fixed IP, gateway, DNS, MTU)."""
