"""The model on etcd (three members on loopback), as several controllers share it: each model here is one
controller's, applying the others' writes from its watch. A write on one is read on the others within a second;
racing writes keep the model's rules (one owner per address, distinct keys and MACs), the loser validated again
against the winner's write; with one member down everything works, without quorum a write is refused (and
never half stored). A deployment moves from SQLite into etcd and back, ids and keys kept."""
from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from nvapps.lab import wait
from nvapps.lab.etcd import EtcdCluster
from nvapps.model.context import Context
from nvapps.model.errors import Conflict
from nvapps.model.service import Model
from nvapps.store.base import StoreUnavailable
from nvapps.store.etcd import EtcdStore
from nvapps.store.migrate import migrate
from nvapps.store.sqlite import SQLiteStore

PROJECT = Context("p1")
SEEN_WITHIN = 1.0


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    etcd = EtcdCluster(tmp_path_factory.mktemp("etcd"), size=3)
    etcd.start()
    try:
        yield etcd
    finally:
        etcd.stop()


@pytest.fixture
def models(cluster, request):
    """Three controllers' models on a prefix of this test's own, each watching the others' writes."""
    prefix = f"/{request.node.name}/"
    stores = [EtcdStore([cluster.endpoints[i], *cluster.endpoints[:i], *cluster.endpoints[i + 1:]], prefix)
              for i in range(3)]
    out = [Model(s) for s in stores]
    for store, model in zip(stores, out):
        threading.Thread(target=store.watch, args=(model.remote,), daemon=True).start()
    try:
        yield out
    finally:
        for s in stores:
            s.close()


def eventually(check, within: float = SEEN_WITHIN):
    return wait.eventually(check, within, 0.01)


def network_and_subnet(model: Model) -> tuple:
    net = model.create("network", {"name": "n"}, PROJECT)
    subnet = model.create("subnet", {"network_id": net.id, "cidr": "10.0.0.0/16", "ip_version": 4}, PROJECT)
    return net, subnet


def test_a_write_on_one_controller_is_read_on_the_others_within_a_second(models):
    a, b, c = models
    net, _ = network_and_subnet(a)
    start = time.monotonic()
    for other in (b, c):
        eventually(lambda: other.find("network", net.id) is not None)
    assert time.monotonic() - start < SEEN_WITHIN
    port = b.create("port", {"network_id": net.id}, PROJECT)          # on what b learnt from a
    eventually(lambda: a.find("port", port.id) is not None and c.find("port", port.id) is not None)
    c.delete("port", port.id, PROJECT)
    eventually(lambda: a.find("port", port.id) is None and b.find("port", port.id) is None)
    assert a.find("network", net.id).revision_number == b.find("network", net.id).revision_number


def test_racing_writers_keep_addresses_keys_and_macs_unique(models):
    a, _, _ = models
    net, subnet = network_and_subnet(a)
    for m in models:
        eventually(lambda: m.find("subnet", subnet.id) is not None)
    wanted = {"network_id": net.id, "fixed_ips": [{"subnet_id": subnet.id, "ip_address": "10.0.0.99"}]}

    def take(i: int):
        try:
            return models[i % 3].create("port", dict(wanted), PROJECT)
        except Conflict as exc:
            return exc.type

    with ThreadPoolExecutor(24) as pool:
        results = list(pool.map(take, range(24)))
    won = [r for r in results if not isinstance(r, str)]
    assert len(won) == 1 and set(results) - set(won) == {"IpAddressAlreadyAllocated"}, results
    with ThreadPoolExecutor(12) as pool:
        made = list(pool.map(lambda i: models[i % 3].create("port", {"network_id": net.id}, PROJECT), range(200)))
    for m in models:
        eventually(lambda: len(m.list("port", {"network_id": [net.id]})) == 201, within=5)
    ports = models[2].list("port", {"network_id": [net.id]})
    assert len({p.key for p in ports}) == len({p.mac_address for p in ports}) == 201
    assert len({p.ip_addresses[0] for p in ports}) == 201 and len(made) == 200


def test_one_member_down_is_no_matter_and_no_quorum_fails_writes_whole(cluster, models):
    a, b, _ = models
    cluster.stop_member(0)
    try:
        net, _ = network_and_subnet(a)              # a's first endpoint is down: the next one answers
        eventually(lambda: b.find("network", net.id) is not None, within=3)
        cluster.stop_member(1)
        try:
            with pytest.raises(StoreUnavailable):
                b.create("network", {"name": "lost"}, PROJECT)
            assert [n.name for n in b.list("network")] == ["n"]         # reads come from the cache
        finally:
            cluster.start_member(1)
    finally:
        cluster.start_member(0)
    made = b.create("network", {"name": "after"}, PROJECT)
    eventually(lambda: a.find("network", made.id) is not None, within=3)
    # the write refused for want of quorum was not acknowledged; etcd may still apply it once the quorum is
    # back (a proposal it had taken): then every controller applies it, whole
    names = sorted(n.name for n in a.list("network"))
    assert names in (["after", "n"], ["after", "lost", "n"])
    fresh = Model(EtcdStore(cluster.endpoints, models[0].store.prefix))
    assert sorted(n.name for n in fresh.list("network")) == names == sorted(n.name for n in b.list("network"))


def test_a_deployment_moves_from_sqlite_into_etcd_and_back_with_its_ids_and_keys(cluster, tmp_path):
    before = Model(SQLiteStore(str(tmp_path / "before.db")))
    net, subnet = network_and_subnet(before)
    ports = [before.create("port", {"network_id": net.id}, PROJECT) for _ in range(150)]     # > one batch
    etcd = EtcdStore(cluster.endpoints, "/moved/")
    assert migrate(before.store, etcd) == {"network": 1, "subnet": 1, "port": 150, "security_group": 1,
                                           "security_group_rule": 4}
    with pytest.raises(SystemExit):
        migrate(before.store, EtcdStore(cluster.endpoints, "/moved/"))      # not into a store that has objects
    moved = Model(EtcdStore(cluster.endpoints, "/moved/"))
    back = Model(SQLiteStore(str(tmp_path / "back.db")))
    migrate(moved.store, back.store)
    for model in (moved, Model(SQLiteStore(str(tmp_path / "back.db")))):
        assert [(p.id, p.key, p.mac_address, p.ip_addresses) for p in model.list("port")] == \
            [(p.id, p.key, p.mac_address, p.ip_addresses) for p in ports]
        assert model.find("network", net.id).key == net.key and model.find("subnet", subnet.id).cidr == subnet.cidr
