"""A stand-in for the core app where only its chassis and what each app installed are read (traces)."""
from __future__ import annotations

from dataclasses import dataclass, field

from nvapps.core.ofp import Flow
from nvapps.core.topology import Chassis


@dataclass
class FakeSync:
    """What one app installed: flows by cookie (with their piece keys)."""

    flows: dict[int, tuple[object, Flow]] = field(default_factory=dict)

    def held(self, dpid: int, cookies: set[int]) -> dict:
        return {c: self.flows[c] for c in cookies if c in self.flows}


@dataclass
class FakeCore:
    """Connected chassis by name, each app's FlowSync by app id, the configured uplinks."""

    chassis: dict[str, Chassis]
    syncs: dict
    uplinks: list = field(default_factory=list)
