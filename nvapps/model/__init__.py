"""Tenant objects (Neutron v2.0 shapes), their validation, and the service that changes them."""
