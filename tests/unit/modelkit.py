"""Building blocks for model tests: a fresh model and admin contexts acting for a project."""
from __future__ import annotations

from nvapps.model.context import Context
from nvapps.model.service import Model
from nvapps.store.sqlite import SQLiteStore


def admin_for(project: str) -> Context:
    """An admin acting for `project` (binding and external attributes are admin-only)."""
    return Context(project, is_admin=True)


def new_model() -> Model:
    return Model(SQLiteStore(":memory:"))


def network_with_subnet(model: Model, project: str, cidr: str = "10.0.0.0/24", **net_attrs):
    ctx = admin_for(project)
    net = model.create("network", {"name": f"net-{cidr}", **net_attrs}, ctx)
    sub = model.create("subnet", {"network_id": net.id, "cidr": cidr, "ip_version": 4}, ctx)
    return net, sub


def snapshot(model: Model) -> dict:
    from nvapps.model.service import KINDS
    return {k: sorted((o.to_store() for o in model.list(k)), key=lambda d: d["id"]) for k in KINDS}
