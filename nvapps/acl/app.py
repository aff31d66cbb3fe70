"""The ACL os-ken app: `osken-manager nvapps.acl.app nvapps.l2.app` adds port security, network ACLs and
stateful security groups to the pipeline's ACL stages."""
from __future__ import annotations

from os_ken.base import app_manager

from nvapps import pipeline
from nvapps.acl.chassis import AclView, chassis_acl
from nvapps.core.reconcile import Desired
from nvapps.core.service import ServiceApp
from nvapps.core.topology import Chassis

app_manager.require_app("nvapps.core.app")
app_manager.require_app("nvapps.rest.app")

KINDS = {"network", "port", "security_group", "security_group_rule", "network_acl"}


class AclApp(ServiceApp):
    """Security at the edge: each chassis filters what its VM ports send and receive."""

    APP_ID = pipeline.AppId.ACL

    def snapshot(self) -> AclView:
        ports = self.model.ports()
        keys = {n.id: n.key for n in self.model.networks()}
        return AclView.build(self.view().bound, ports,
                             self.model.list("security_group"), self.model.list("security_group_rule"),
                             self.model.list("network_acl"), keys)

    def desired(self, chassis: Chassis, snapshot: AclView) -> Desired:
        return Desired.build(self.APP_ID, chassis_acl(chassis.name, snapshot))

    def relevant(self, changes: list) -> bool:
        return any(c.kind in KINDS for c in changes)
