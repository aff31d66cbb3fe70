"""The one way tenant objects change: validate against the whole model, store atomically, then notify."""
from __future__ import annotations

import builtins
import itertools
import logging
import random
import threading
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import replace
from typing import Any, Callable, TypeVar

from nvapps.model import chassis, l2gateway, loadbalancer, network, port_forwarding, router, security
from nvapps.model.base import Change, Resource, Rules, api_fields, api_name
from nvapps.model.context import ADMIN, Context
from nvapps.model.errors import BadRequest, Conflict, Forbidden, NotFound
from nvapps.store.base import StaleRead, Store

LOG = logging.getLogger(__name__)

RULES: dict[str, Rules] = {r.cls.KIND: r for r in (*network.RULES, *router.RULES, *port_forwarding.RULES,
                                                   *security.RULES, *chassis.RULES, *l2gateway.RULES,
                                                   *loadbalancer.RULES)}
KINDS: dict[str, type[Resource]] = {kind: r.cls for kind, r in RULES.items()}
ACTIONS = router.ACTIONS
_FIELD_OF = {cls: {**{api_name(f): f.name for f in api_fields(cls)}, "tenant_id": "project_id"}
             for cls in KINDS.values()}

# attributes the model keeps an index of (lists filtered by one of them read only its objects)
INDEXED: dict[str, tuple[str, ...]] = {"port": ("network_id", "binding:host_id", "device_id"),
                                       "subnet": ("network_id",), "listener": ("loadbalancer_id",),
                                       "pool": ("loadbalancer_id",), "member": ("pool_id",)}

KEY_FIELDS: dict[str, str] = {"port": "key", "router": "key", "security_group": "key", "pool": "key",
                              "network": "segmentation_id"}     # each kind's numeric key, handed out by next_key

Listener = Callable[[list[Change]], None]
T = TypeVar("T")
WRITE_WINDOW = 5.0      # seconds a write that keeps losing races to other controllers is tried, before a 409

__all__ = ["Model", "Change", "KINDS", "ACTIONS", "next_free"]


def next_free(used: set[int], limit: int) -> int | None:
    """The lowest free key in 1..limit (the next after the highest when that is free)."""
    top = max(used, default=0) + 1
    if top <= limit:
        return top
    return next((k for k in range(1, limit + 1) if k not in used), None)


class KeysInUse:
    """One kind's keys in use, counted (kept in step with the model's cache), and the highest of them."""

    def __init__(self, values: Iterable[int | None]) -> None:
        self.count: Counter[int] = Counter(v for v in values if v is not None)
        self._top: int | None = None        # None: to be found again

    def add(self, value: int | None) -> None:
        if value is not None:
            self.count[value] += 1
            if self._top is not None and value > self._top:
                self._top = value

    def remove(self, value: int | None) -> None:
        if value is not None:
            left = self.count[value] - 1
            if left > 0:
                self.count[value] = left
            else:
                del self.count[value]
                if value == self._top:
                    self._top = None

    def free(self, limit: int, taken: Iterable[int]) -> int | None:
        """The next key after the highest in use or `taken`, else (all up to `limit` handed out once) the lowest
        free one: next_free's answer, without a pass over every key while there is room at the top."""
        taken = set(taken)
        if self._top is None:
            self._top = max(self.count, default=0)
        top = max(self._top, *taken, 0) + 1
        return top if top <= limit else next_free(self.count.keys() | taken, limit)


class Model:
    """Tenant objects: validated, stored, scoped to the asking project, announced to listeners after each commit.

    Calls without a Context act as admin (the apps' own reads).
    """

    def __init__(self, store: Store, default_project: str = "default",
                 tenant_networks: network.TenantNetworks = network.TenantNetworks()) -> None:
        self.store = store
        self.default_project = default_project
        self.tenant_networks = tenant_networks
        self._listeners: list[Listener] = []
        self._lock = threading.RLock()
        self._objects: dict[str, dict[str, Resource]] = {}   # write-through cache of the store, by kind and id
        self._order: dict[str, dict[str, int]] = {}          # each object's place in creation order, by kind
        self._places = itertools.count()
        self._index: dict[tuple[str, str], dict[str, dict[str, Resource]]] = {}   # (kind, attribute): text -> objects
        self._keys: dict[str, KeysInUse] = {}                  # kind -> its keys in use (KEY_FIELDS)
        self.generation = 0     # +1 on every commit: what views of the model are cached by

    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    # ---- reads ----

    def _all(self, kind: str) -> dict[str, Resource]:
        """Every object of `kind` by id, in creation order (read from the store once, then kept in step)."""
        objs = self._objects.get(kind)
        if objs is None:
            objs = self._objects[kind] = {d["id"]: KINDS[kind].from_store(d) for d in self.store.list(kind)}
            self._order[kind] = {obj_id: next(self._places) for obj_id in objs}
            if kind in KEY_FIELDS:
                self._keys[kind] = KeysInUse(getattr(obj, KEY_FIELDS[kind]) for obj in objs.values())
            for key in INDEXED.get(kind, ()):
                index = self._index[kind, key] = {}
                for obj in objs.values():
                    index.setdefault(_as_text(_attribute(obj, key)), {})[obj.id] = obj
        return objs

    def _cached(self, kind: str, old: Resource | None, new: Resource | None) -> None:
        """The cache (objects, their order and the indexes) after a committed change."""
        objs, order = self._all(kind), self._order[kind]
        if new is None:
            assert old is not None, "a change has an object"
            objs.pop(old.id, None)
            order.pop(old.id, None)
        else:
            objs[new.id] = new
            if new.id not in order:
                order[new.id] = next(self._places)
        if kind in KEY_FIELDS:
            keys, name = self._keys[kind], KEY_FIELDS[kind]
            if old is not None:
                keys.remove(getattr(old, name))
            if new is not None:
                keys.add(getattr(new, name))
        for key in INDEXED.get(kind, ()):
            index = self._index[kind, key]
            if old is not None:
                index.get(_as_text(_attribute(old, key)), {}).pop(old.id, None)
            if new is not None:
                index.setdefault(_as_text(_attribute(new, key)), {})[new.id] = new

    def find(self, kind: str, obj_id: str) -> Any:
        """The object (of `kind`'s class), whoever owns it, or None. Objects are shared: change them only
        through the model."""
        return self._all(kind).get(obj_id)

    def place(self, kind: str, obj_id: str) -> int:
        """An existing object's place in its kind's creation order (the order reads list them in)."""
        self._all(kind)
        return self._order[kind][obj_id]

    def get(self, kind: str, obj_id: str, ctx: Context = ADMIN) -> Any:
        """The object if `ctx` may see it; NotFound otherwise (another project's objects do not exist for it)."""
        obj = self.find(kind, obj_id)
        if obj is None or not ctx.can_see(obj):
            name = KINDS[kind].__name__
            raise NotFound(f"{name} {obj_id} could not be found.", f"{name}NotFound")
        return obj

    def list(self, kind: str, filters: dict[str, list[str]] | None = None, ctx: Context = ADMIN) -> list:
        """Objects of `kind` `ctx` may see whose API attributes equal one of the given values for every filter."""
        everything = self._all(kind)
        filters = dict(filters or {})
        indexed = next((key for key in INDEXED.get(kind, ()) if key in filters), None)
        if indexed is not None:         # the index's few objects, in creation order
            order = self._order[kind]
            index = self._index[kind, indexed]
            found = [o for text in set(filters.pop(indexed)) for o in index.get(text, {}).values()]
            candidates: Iterable[Resource] = sorted(found, key=lambda o: order[o.id])
        else:
            candidates = everything.values()
        objs = list(candidates) if ctx.is_admin else [o for o in candidates if ctx.can_see(o)]
        for key, wanted in filters.items():
            objs = [o for o in objs if _as_text(_attribute(o, key)) in wanted]
        return objs

    def show(self, obj: Resource, ctx: Context = ADMIN) -> dict:
        """The object as the API shows it to `ctx`, with what it derives from related objects (members do
        not see binding:* and provider:* attributes, as in Neutron)."""
        shown = {**obj.to_api(), **RULES[obj.KIND].show(self, obj)}
        return shown if ctx.is_admin else {k: v for k, v in shown.items() if not k.startswith(ADMIN_READ)}

    def ensure_defaults(self, ctx: Context) -> None:
        """Create the project's default security group the first time the project looks for groups."""
        if not ctx.is_admin:
            def write() -> None:
                _, changes = security.default_group(self, ctx.project_id)
                if changes:
                    self._commit(changes)
            self._retried(write)

    # ---- writes ----

    def create(self, kind: str, body: Any, ctx: Context = ADMIN, parent_id: str | None = None) -> Resource:
        """A new object; a sub-resource (its class names a PARENT) belongs to parent `parent_id` and its project."""
        if ctx is ADMIN and isinstance(body, dict) and not body.get("project_id") and not body.get("tenant_id"):
            ctx = Context(self.default_project, is_admin=True)
        cls = KINDS[kind]

        def write() -> Resource:
            if cls.PARENT is not None:     # what the caller cannot see is not there, whatever the body says
                parent_kind, parent_field = cls.PARENT
                parent = self._owned(parent_kind, parent_id or "", ctx)
                obj = replace(cls.from_body(body, ctx), **{parent_field: parent.id}, project_id=parent.project_id)
            else:
                obj = cls.from_body(body, ctx)
            obj, extra = RULES[kind].prepare(self, obj, None, ctx)
            return self._commit([Change(kind, None, obj), *extra])[0].obj
        return self._retried(write)

    def update(self, kind: str, obj_id: str, body: Any, ctx: Context = ADMIN) -> Resource:
        """The object with a PUT body applied. A body whose every value is valid but that, with what the
        object already has, breaks a rule conflicts with the object's state: 409, not 400."""
        def write() -> Resource:
            old = self._owned(kind, obj_id, ctx)
            new = old.updated(body, ctx)
            try:
                obj, extra = RULES[kind].prepare(self, new, old, ctx)
            except BadRequest as exc:
                raise Conflict(exc.message, exc.type) from None
            return self._commit([Change(kind, old, obj), *extra])[0].obj
        return self._retried(write)

    def delete(self, kind: str, obj_id: str, ctx: Context = ADMIN, cascade: bool = False) -> None:
        """Delete the object; `cascade` (kinds that have it): with everything that belongs to it."""
        rules = RULES[kind]
        if cascade and rules.cascade is None:
            raise BadRequest(f"a {kind} is not deleted with cascade")
        def write() -> None:
            old = self._owned(kind, obj_id, ctx)
            self._commit((rules.cascade if cascade and rules.cascade else rules.deleting)(self, old, ctx))
        self._retried(write)

    def action(self, kind: str, obj_id: str, name: str, body: Any, ctx: Context = ADMIN) -> dict:
        """A member action such as PUT /routers/{id}/add_router_interface; returns its result body."""
        handler = ACTIONS.get((kind, name))
        if handler is None:
            raise NotFound(f"{kind} has no action {name}")
        def write() -> dict:
            obj = self._owned(kind, obj_id, ctx)
            changes, result = handler(self, obj, body, ctx)
            self._commit(changes)
            return result
        return self._retried(write)

    def _retried(self, write: Callable[[], T]) -> T:
        """A write (validated and committed under the lock), done again once this model has applied what
        another controller wrote first (the store's StaleRead), for WRITE_WINDOW seconds; then 409."""
        deadline = time.monotonic() + WRITE_WINDOW
        for attempt in itertools.count(1):
            try:
                with self._lock:
                    return write()
            except StaleRead as stale:
                self.store.catch_up(stale.revision)     # not under the lock: the watch applies under it
            if time.monotonic() > deadline:
                break
            time.sleep(random.uniform(0, min(0.05, 0.002 * attempt)))    # apart from the other losers
        raise Conflict("Other controllers kept changing the model under this request; send it again",
                       "ConcurrentWrites")

    def next_key(self, kind: str, limit: int, taken: Iterable[int] = ()) -> int | None:
        """A key (KEY_FIELDS) no object of `kind` has, nor one of `taken`, up to `limit` (None: none left)."""
        self._all(kind)
        return self._keys[kind].free(limit, taken)

    def owned(self, kind: str, obj_id: str, ctx: Context) -> Any:
        """The object a request names, if `ctx` may build on it: 404 if it cannot see it, 403 if it only may
        read it (another project's shared object)."""
        return self._owned(kind, obj_id, ctx)

    def _owned(self, kind: str, obj_id: str, ctx: Context) -> Resource:
        obj = self.get(kind, obj_id, ctx)
        if not ctx.owns(obj):
            raise Forbidden(f"{KINDS[kind].__name__} {obj_id} belongs to another project")
        return obj

    def _commit(self, changes: builtins.list[Change]) -> builtins.list[Change]:
        changes = [c if c.new is None else replace(c, new=replace(c.new, revision_number=revision(c.old) + 1))
                   for c in changes]
        with self.store.transaction() as tx:
            for c in changes:
                if c.new is None:
                    tx.delete(c.kind, c.obj.id)
                else:
                    tx.put(c.kind, c.new.id, c.new.to_store())
        self._applied(changes)
        return changes

    def remote(self, revision: int, writes: builtins.list[tuple[str, str, dict | None]]) -> None:
        """What another controller committed at the store's `revision` (its watch), applied as this model's
        changes (each revision once, in order)."""
        with self._lock:
            if not self.store.claim(revision):
                return
            changes = []
            for kind, obj_id, body in writes:
                if kind not in KINDS:
                    continue
                old = self._all(kind).get(obj_id)
                new = KINDS[kind].from_store(body) if body is not None else None
                if old is not None or new is not None:
                    changes.append(Change(kind, old, new))
            if changes:
                self._applied(changes)

    def _applied(self, changes: builtins.list[Change]) -> None:
        """Committed changes: the cache follows, then the listeners hear of them."""
        for c in changes:
            self._cached(c.kind, c.old, c.new)
        self.generation += 1
        for listener in self._listeners:
            try:
                listener(changes)
            except Exception:  # a listener's failure must not undo a committed write
                LOG.exception("model listener failed")

    # ---- typed reads for the apps ----

    def networks(self) -> builtins.list[network.Network]:
        return self.list("network")

    def subnets(self) -> builtins.list[network.Subnet]:
        return self.list("subnet")

    def ports(self) -> builtins.list[network.Port]:
        return self.list("port")


def revision(obj: Resource | None) -> int:
    """The revision of an object (0: none yet)."""
    return obj.revision_number if obj is not None else 0


ADMIN_READ = ("binding:", "provider:")         # attribute prefixes only admins read


def _attribute(obj: Resource, api_key: str) -> object:
    """An object's API attribute, read from its field when it has one (cheaper than rendering it)."""
    name = _FIELD_OF[type(obj)].get(api_key)
    return getattr(obj, name) if name else obj.to_api().get(api_key)


def _as_text(value: object) -> str:
    if isinstance(value, bool):
        return str(value)   # "True"/"False", as Neutron compares booleans in filters
    return "" if value is None else str(value)


def check_filters(kind: str, filters: dict[str, list[str]]) -> None:
    """Refuse filters on attributes `kind` does not have."""
    known = {api_name(f) for f in api_fields(KINDS[kind])} | {"tenant_id"}
    unknown = sorted(set(filters) - known)
    if unknown:
        raise BadRequest(f"[{', '.join(unknown)}] is invalid attribute for filtering", "HTTPBadRequest")
