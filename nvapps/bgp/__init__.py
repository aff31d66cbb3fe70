"""eBGP at the provider edge: a speaker per gateway uplink announces the addresses behind it."""
