"""What every tenant object shares: common fields, body parsing under a Context, and the change record."""
from __future__ import annotations

import uuid
from dataclasses import dataclass, fields, replace
from typing import Any, Callable, ClassVar, TypeVar, dataclass_transform

from nvapps.model.context import Context
from nvapps.model.errors import BadRequest, Forbidden
from nvapps.model.fields import attr, check_str, check_uuid


def hash_once(obj: Any, identity: Callable[[], tuple]) -> int:
    """The hash of `obj`'s `identity`, computed on first use and kept on the (immutable) object: objects that
    key cached flows are hashed many times a round."""
    value = obj.__dict__.get("_hash")
    if value is None:
        value = obj.__dict__["_hash"] = hash(identity())
    return value


@dataclass
class Resource:
    """Fields every tenant object has."""

    KIND: ClassVar[str] = ""
    COLLECTION: ClassVar[str] = ""
    PARENT: ClassVar[tuple[str, str] | None] = None     # (parent kind, field holding its id): a sub-resource
    ADMIN_ONLY: ClassVar[bool] = False                  # only admins see or change these (403 for members)
    SCHEMA_RULES: ClassVar[list[dict]] = []             # what a POST body must satisfy across attributes

    id: str = attr(check_uuid, create=False, update=False, default="")
    project_id: str = attr(check_str, update=False, default="")
    name: str = attr(check_str, default="")
    description: str = attr(check_str, default="")
    revision_number: int = attr(create=False, update=False, default=0)    # +1 on every committed change

    def __hash__(self) -> int:
        """By kind, id and revision: equal objects hash alike, and a committed change (a new object, never
        one changed in place) hashes anew; so flows built from objects can be cached by them (computed once)."""
        return hash_once(self, lambda: (self.KIND, self.id, self.revision_number))

    def public(self) -> bool:
        """Whether every project may read this object (shared or external networks)."""
        return False

    def to_api(self) -> dict:
        """The object as Neutron shows it (internal fields left out)."""
        shown = {api_name(f): getattr(self, f.name) for f in fields(self) if not f.metadata.get("internal")}
        shown["tenant_id"] = self.project_id
        return shown

    def to_store(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_store(cls, data: dict):
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})

    @classmethod
    def from_body(cls, body: Any, ctx: Context):
        """A new object from a POST body: unknown or read-only attributes and bad values are refused."""
        values = parse_body(cls, body, "create", ctx)
        missing = [api_name(f) for f in api_fields(cls) if f.metadata.get("required") and f.name not in values]
        if missing:
            raise BadRequest(f"{', '.join(repr(m) for m in missing)} required to create a {cls.KIND}")
        tenant = values.pop("tenant_id", None)
        owner = values.get("project_id") or tenant or ctx.project_id
        if tenant and values.get("project_id") and tenant != values["project_id"]:
            raise BadRequest("project_id and tenant_id do not match")
        if owner != ctx.project_id and not ctx.is_admin:
            raise Forbidden(f"Policy doesn't allow create_{cls.KIND} for project {owner}")
        values["project_id"] = owner
        values.setdefault("id", str(uuid.uuid4()))
        return cls(**values)

    def updated(self, body: Any, ctx: Context):
        """A copy with a PUT body applied."""
        return replace(self, **parse_body(type(self), body, "update", ctx))


R = TypeVar("R")


@dataclass_transform(field_specifiers=(attr,))
def resource(cls: type[R]) -> type[R]:
    """A tenant object class: a dataclass, equal by value, hashed as Resource is (dataclass would unset it)."""
    cls = dataclass(cls)
    cls.__hash__ = Resource.__hash__  # type: ignore[assignment,method-assign]
    return cls


def api_name(f) -> str:
    return f.metadata.get("api") or f.name


def api_fields(cls) -> list:
    return [f for f in fields(cls) if not f.metadata.get("internal")]


def parse_body(cls, body: Any, action: str, ctx: Context) -> dict:
    """Checked attribute values (by Python field name) of a POST/PUT body for `cls`."""
    if not isinstance(body, dict):
        raise BadRequest(f"body must be a JSON object with a '{cls.KIND}' object")
    by_api = {api_name(f): f for f in api_fields(cls)}
    out = {}
    for key, value in body.items():
        if key == "tenant_id" and action == "create":
            out["tenant_id"] = check_str(value)
            continue
        f = by_api.get(key)
        if f is None:
            raise BadRequest(f"Unrecognized attribute(s) '{key}'")
        if not f.metadata.get(action):
            raise BadRequest(f"Attribute '{key}' not allowed in {'POST' if action == 'create' else 'PUT'}")
        if f.metadata.get("admin") and not ctx.is_admin:
            raise Forbidden(f"Policy doesn't allow {action}_{cls.KIND}:{key} to be performed.")
        check = f.metadata.get("check")
        out[f.name] = check(value) if check else value
    return out


@dataclass(frozen=True)
class Change:
    """One object created (old None), updated, or deleted (new None)."""

    kind: str
    old: Resource | None
    new: Resource | None

    @property
    def obj(self) -> Resource:
        """The object as the change leaves it, or as it was when deleted."""
        obj = self.new if self.new is not None else self.old
        assert obj is not None, "a change has an object"
        return obj


# Each kind's rules take its own class (a Network, a Port...): typed by position and result only.
Prepare = Callable[..., tuple[Any, list[Change]]]      # (model, new, old or None, context) -> (new, changes)
Deleting = Callable[..., list[Change]]                 # (model, object, context) -> what else changes


@dataclass(frozen=True)
class Rules:
    """How one kind is checked against the rest of the model on write, and what else changes with it."""

    cls: type[Resource]
    prepare: Prepare
    deleting: Deleting
    show: Callable[..., dict] = lambda model, obj: {}     # (model, object) -> what it derives from others
    cascade: Deleting | None = None     # DELETE ?cascade=true: what goes with the object (None: no cascade)
