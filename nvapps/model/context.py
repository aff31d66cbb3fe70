"""Who is asking: the project a request acts for and whether it is an admin."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Context:
    """A member sees and changes only its project's objects (and shared/external networks read-only)."""

    project_id: str
    is_admin: bool = False

    def can_see(self, obj) -> bool:
        return self.is_admin or obj.project_id == self.project_id or obj.public()

    def owns(self, obj) -> bool:
        return self.is_admin or obj.project_id == self.project_id


ADMIN = Context("admin", is_admin=True)
