"""nvapps: os-ken applications that turn Open vSwitch bridges into a multi-tenant virtual network."""
