"""Mininet node classes every nvapps topology uses: userspace OVS bridges, hosts with TX offload off."""
from __future__ import annotations

from functools import partial

from mininet.node import Host, OVSBridge, OVSSwitch


class TxOffHost(Host):
    """A host whose interfaces have TX checksum offload off: TCP through a userspace bridge needs it."""

    def config(self, **params):
        result = super().config(**params)
        for intf in self.intfList():
            if intf.name != "lo":
                self.cmd(f"ethtool -K {intf.name} tx off >/dev/null 2>&1")
        return result


# The userspace datapath (no kernel module here), OpenFlow 1.3 only, and no fallback to a learning
# switch while the controller is away.
UserspaceSwitch = partial(OVSSwitch, datapath="user", protocols="OpenFlow13", failMode="secure")

# A plain learning bridge that no controller drives: the physical network behind the gateways' uplinks.
PhysicalBridge = partial(OVSBridge, datapath="user")


class VlanBridge(OVSBridge):
    """A legacy learning switch with VLANs: `access` maps its interfaces to the VLAN they carry untagged;
    its other interfaces are trunks."""

    def __init__(self, name: str, access: dict[str, int] | None = None, **params) -> None:
        self.access = access or {}
        super().__init__(name, datapath="user", **params)

    def start(self, controllers) -> None:
        super().start(controllers)
        for intf, vlan in self.access.items():
            self.vsctl(f"-- set port {intf} tag={vlan}")      # queued after the bridge when starting in batch
