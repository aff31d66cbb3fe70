"""The two ACL stages, from the VM (egress) and to the VM (ingress), as data: same flows, other tables."""
from __future__ import annotations

from dataclasses import dataclass

from nvapps.pipeline import Reg, Table, next_stage


@dataclass(frozen=True)
class Direction:
    """One ACL stage: its tables, the register holding the VM's port, and where accepted packets go."""

    name: str             # as in rules: "egress" (from the VM) or "ingress" (to the VM)
    port_reg: str         # the VM's logical port: the ingress port from it, the egress port to it
    entry: Table
    nacl: Table
    ct: Table
    state: Table
    rules: Table
    commit: Table
    accept: Table         # the next stage
    remote_is_source: bool  # whether a rule's remote address is the packet's source

    @property
    def bit(self) -> int:
        return int(self.name == "ingress")


FROM_VM = Direction("egress", Reg.IN_PORT, Table.ACL_FROM_VM, Table.NACL_FROM_VM, Table.SG_FROM_VM_CT,
                    Table.SG_FROM_VM_STATE, Table.SG_FROM_VM_RULES, Table.SG_FROM_VM_COMMIT, next_stage("acl_from_vm"),
                    remote_is_source=False)
TO_VM = Direction("ingress", Reg.OUT_PORT, Table.ACL_TO_VM, Table.NACL_TO_VM, Table.SG_TO_VM_CT,
                  Table.SG_TO_VM_STATE, Table.SG_TO_VM_RULES, Table.SG_TO_VM_COMMIT, next_stage("acl_to_vm"),
                  remote_is_source=True)
DIRECTIONS = (FROM_VM, TO_VM)
