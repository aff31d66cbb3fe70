"""The ACL os-ken app: `osken-manager nvapps.acl.app nvapps.l2.app` adds port security, network ACLs and
stateful security groups to the pipeline's ACL stages."""
from __future__ import annotations

from os_ken.base import app_manager

from nvapps.acl import chassis
from nvapps.core.service import ServiceApp

app_manager.require_app("nvapps.core.app")
app_manager.require_app("nvapps.rest.app")


class AclApp(ServiceApp):
    """Security at the edge: each chassis filters what its VM ports send and receive."""

    SERVICE = chassis.SERVICE
    KINDS = frozenset({"network", "port", "security_group", "security_group_rule", "network_acl"})
