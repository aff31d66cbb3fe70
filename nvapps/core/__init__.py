"""The controller spine: flow specs, their wire encoding, reconciliation and the switch registry."""
