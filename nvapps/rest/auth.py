"""Who a request is: X-Auth-Token looked up in a tokens file, or everyone is admin in --no-auth mode."""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Protocol

from nvapps.model.context import Context


class Unauthorized(Exception):
    """No token, or one nobody issued."""


class Authenticator(Protocol):
    def context(self, token: str | None, project_hint: str | None) -> Context: ...


@dataclass(frozen=True)
class TokenFile:
    """Tokens from a JSON file: {"tokens": [{"token": T, "project_id": P, "role": "admin" | "member"}]}."""

    contexts: dict[str, Context]

    @classmethod
    def load(cls, path: str) -> "TokenFile":
        """Read and check the file; ValueError says what is wrong with it."""
        try:
            with open(path) as f:
                data = json.load(f)
        except (OSError, ValueError) as exc:
            raise ValueError(f"cannot read tokens file {path}: {exc}") from None
        entries = data.get("tokens") if isinstance(data, dict) else None
        if not isinstance(entries, list):
            raise ValueError(f"tokens file {path} must hold {{\"tokens\": [...]}}")
        contexts = {}
        for i, e in enumerate(entries):
            if not isinstance(e, dict) or not all(isinstance(e.get(k), str) and e.get(k) for k in ("token", "project_id")) \
                    or e.get("role", "member") not in ("admin", "member"):
                raise ValueError(f"tokens file {path}: entry {i} needs token, project_id and role admin|member")
            contexts[e["token"]] = Context(e["project_id"], e.get("role") == "admin")
        return cls(contexts)

    def context(self, token: str | None, project_hint: str | None) -> Context:
        ctx = self.contexts.get(token or "")
        if ctx is None:
            raise Unauthorized("Authentication required" if not token else "Invalid token")
        return ctx


@dataclass(frozen=True)
class NoAuth:
    """Development mode: every request is admin, acting for X-Project-Id or the default project."""

    default_project: str

    def context(self, token: str | None, project_hint: str | None) -> Context:
        return Context(project_hint or self.default_project, is_admin=True)
