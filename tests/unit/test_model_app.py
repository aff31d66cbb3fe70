"""The nvmodel app: the configured store and settings, each commit announced with what it changed, the
generation of each port's and each load balancer tree's last change, and chassis registered as they connect."""
from __future__ import annotations

import logging

import pytest

from nvapps import config
from nvapps.core.events import EventChassisUp, EventModelChanged
from nvapps.core.topology import Chassis
from nvapps.logical.view import Views
from nvapps.model import app as model_app
from nvapps.model.app import ModelApp
from nvapps.store.etcd import EtcdStore


@pytest.fixture
def app(settings, tmp_path):
    """A ModelApp on a fresh SQLite file, its events kept in app.sent."""
    settings(store=f"sqlite://{tmp_path}/nv.db")
    made = []

    def open_app() -> ModelApp:
        new = ModelApp()
        new.sent = []
        new.send_event_to_observers = new.sent.append
        made.append(new)
        return new
    yield open_app
    for opened in made:
        opened.close()


def test_objects_survive_a_restart_in_the_configured_store_with_the_configured_settings(app, settings):
    settings(default_project="lab", tenant_network_type="vxlan", underlay_mtu=9000)
    first = app()
    assert first.name == "nvmodel" and first.threads == []           # SQLite: no watch of other controllers
    net = first.model.create("network", {"name": "n"})
    assert (net.project_id, net.network_type, net.mtu) == ("lab", "vxlan", 9000 - 50)
    first.close()
    again = app()
    assert [n.id for n in again.model.list("network")] == [net.id]
    assert isinstance(again.views, Views) and list(again.views.current({}, [], 0).keys) == [net.id]


def test_a_port_made_before_a_restart_is_announced_when_deleted_after_it(app):
    first = app()
    net = first.model.create("network", {"name": "n"})
    port = first.model.create("port", {"network_id": net.id})
    first.close()
    again = app()
    again.model.delete("port", port.id)
    (event,) = again.sent
    assert [(c.kind, c.obj.id) for c in event.changes] == [("port", port.id)] and again.port_changed == {}


class SnapshotOnly:
    """An etcd client that answers the store's first read with an empty model."""

    def post(self, path: str, body: dict) -> dict:
        assert path == "kv/range"
        return {"header": {"revision": "7"}}


def test_on_etcd_the_app_follows_the_other_controllers_writes(settings, monkeypatch):
    store = EtcdStore(["127.0.0.1:2379"], client=SnapshotOnly())
    monkeypatch.setattr(model_app, "_open_store", lambda: store)
    spawned = []
    monkeypatch.setattr(model_app.hub, "spawn", lambda *call: spawned.append(call) or call)
    nv = ModelApp()
    assert spawned == [(store.watch, nv.model.remote)] and nv.threads == spawned


def test_each_commit_is_announced_with_its_changes_and_marks_its_ports(app):
    nv = app()
    model = nv.model
    net = model.create("network", {"name": "n"})
    (event,) = nv.sent
    assert isinstance(event, EventModelChanged) and [(c.kind, c.old, c.new) for c in event.changes] == \
        [("network", None, net)]
    model.create("subnet", {"network_id": net.id, "cidr": "10.0.0.0/24", "ip_version": 4})
    port = model.create("port", {"network_id": net.id})
    other = model.create("port", {"network_id": net.id})
    assert nv.port_changed == {port.id: model.generation - 1, other.id: model.generation}
    model.update("port", port.id, {"name": "p"})
    assert nv.port_changed == {port.id: model.generation, other.id: model.generation - 1}
    model.delete("port", port.id)
    assert nv.port_changed == {other.id: model.generation - 2} and len(nv.sent) == model.generation


def test_a_change_anywhere_in_a_load_balancer_s_tree_marks_the_load_balancer(app):
    nv = app()
    model = nv.model
    net = model.create("network", {"name": "n"})
    sub = model.create("subnet", {"network_id": net.id, "cidr": "10.0.0.0/24", "ip_version": 4})
    lbs = [model.create("loadbalancer", {"vip_subnet_id": sub.id})]
    made = model.generation
    assert nv.lb_changed == {lbs[0].id: made}
    lbs.append(model.create("loadbalancer", {"vip_subnet_id": sub.id}))
    assert nv.lb_changed == {lbs[0].id: made, lbs[1].id: made + 1}
    li = model.create("listener", {"loadbalancer_id": lbs[0].id, "protocol": "TCP", "protocol_port": 80})
    assert nv.lb_changed[lbs[0].id] == model.generation
    pool = model.create("pool", {"listener_id": li.id, "protocol": "TCP", "lb_algorithm": "ROUND_ROBIN"})
    member = model.create("member", {"address": "10.0.0.9", "protocol_port": 80}, parent_id=pool.id)
    assert nv.lb_changed[lbs[0].id] == model.generation
    model.create("healthmonitor", {"pool_id": pool.id, "type": "TCP", "delay": 1, "timeout": 1, "max_retries": 1})
    assert nv.lb_changed == {lbs[0].id: model.generation, lbs[1].id: made + 1}
    model.update("member", member.id, {"weight": 5})
    assert nv.lb_changed[lbs[0].id] == model.generation
    before = dict(nv.lb_changed)
    model.delete("pool", pool.id)          # its members and monitor go first: nothing names the tree then
    assert nv.lb_changed == {**before, lbs[0].id: model.generation}
    model.delete("loadbalancer", lbs[1].id)
    assert nv.lb_changed[lbs[1].id] == model.generation


def test_a_connecting_switch_registers_its_chassis_once(app, caplog):
    nv = app()
    nv._chassis_up(EventChassisUp(Chassis("hv1", 1)))
    nv._chassis_up(EventChassisUp(Chassis("hv1", 1)))
    assert [c.name for c in nv.model.list("chassis")] == ["hv1"] and len(nv.sent) == 1
    with caplog.at_level(logging.ERROR):
        nv._chassis_up(EventChassisUp(Chassis("x" * 300, 2)))              # a name the model refuses: said
    assert "registering chassis" in caplog.text and [c.name for c in nv.model.list("chassis")] == ["hv1"]


def test_another_controller_registering_the_chassis_first_is_no_error(app, caplog, monkeypatch):
    nv = app()
    rival = app()
    list_ = nv.model.list
    monkeypatch.setattr(nv.model, "list", lambda kind, *a, **kw: [] if kind == "chassis" else list_(kind, *a, **kw))
    rival.model.create("chassis", {"name": "hv1"})
    with caplog.at_level(logging.ERROR):
        nv._chassis_up(EventChassisUp(Chassis("hv1", 1)))
    assert caplog.text == ""


def test_a_store_that_cannot_be_opened_is_a_config_error_that_says_why(settings, tmp_path):
    (tmp_path / "a-file").write_text("")
    for store, message in ((f"sqlite://{tmp_path}/a-file/nv.db", "cannot open database"),
                           ("etcd://127.0.0.1:1", "cannot read the model from etcd")):
        settings(store=store)
        with pytest.raises(config.ConfigError, match=message):
            ModelApp()
