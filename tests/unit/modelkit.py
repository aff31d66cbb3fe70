"""Building blocks for model tests: a fresh model and admin contexts acting for a project."""
from __future__ import annotations

import pytest

from nvapps.model.context import Context
from nvapps.model.errors import ModelError
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


def attached(model: Model, ext_net, project: str = "p1", cidr: str = "10.0.0.0/24", **vm_attrs):
    """A router of `project` with its gateway on ext_net and an interface on a new network of `cidr`, where a VM
    port (with `vm_attrs`) is: (router, subnet, VM port)."""
    ctx = admin_for(project)
    net, sub = network_with_subnet(model, project, cidr)
    router = model.create("router", {"external_gateway_info": {"network_id": ext_net.id}}, ctx)
    model.action("router", router.id, "add_router_interface", {"subnet_id": sub.id}, ctx)
    return router, sub, model.create("port", {"network_id": net.id, **vm_attrs}, ctx)


def snapshot(model: Model) -> dict:
    from nvapps.model.service import KINDS
    return {k: sorted((o.to_store() for o in model.list(k)), key=lambda d: d["id"]) for k in KINDS}


def refused(model: Model, error: type[ModelError], type_: str, call, *args, **kwargs) -> ModelError:
    """`call` fails as `error` of Neutron type `type_`, with a message that says what (not empty), and stores
    nothing."""
    before = snapshot(model)
    with pytest.raises(error) as caught:
        call(*args, **kwargs)
    assert caught.value.type == type_, caught.value.message
    assert isinstance(caught.value.message, str) and len(caught.value.message) > 20, caught.value.message
    assert snapshot(model) == before
    return caught.value
