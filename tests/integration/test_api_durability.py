"""Every acknowledged write survives kill -9; concurrent writers never corrupt state or half-make objects."""
from __future__ import annotations

import os
import signal
from concurrent.futures import ThreadPoolExecutor

import pytest

from nvapps.client import ApiError


def test_acknowledged_writes_survive_kill_9(controller):
    api = controller.client
    net = api.create("network", name="durable", project_id="tenant-a")
    api.create("subnet", network_id=net["id"], cidr="10.50.0.0/24", ip_version=4, project_id="tenant-a")
    ports = [api.create("port", network_id=net["id"], project_id="tenant-a")["id"] for _ in range(20)]
    os.kill(controller.proc.pid, signal.SIGKILL)
    controller.proc.wait()
    controller.proc = None
    controller.start()
    assert {p["id"] for p in api.list("port", network_id=net["id"])} == set(ports)
    assert api.get("network", net["id"])["subnets"]


def test_concurrent_writers_get_distinct_addresses_and_consistent_state(controller):
    api = controller.client
    net = api.create("network", name="busy", project_id="tenant-b")
    sub = api.create("subnet", network_id=net["id"], cidr="10.60.0.0/24", ip_version=4, project_id="tenant-b")

    def make_ports(_: int) -> list[str]:
        return [api.create("port", network_id=net["id"], project_id="tenant-b")["fixed_ips"][0]["ip_address"]
                for _ in range(10)]

    def churn_subnets(i: int) -> None:
        other = api.create("network", name=f"churn-{i}", project_id="tenant-b")
        s = api.create("subnet", network_id=other["id"], cidr=f"10.61.{i}.0/24", ip_version=4, project_id="tenant-b")
        api.delete("subnet", s["id"])
        api.delete("network", other["id"])

    with ThreadPoolExecutor(8) as pool:
        churn = [pool.submit(churn_subnets, i) for i in range(8)]
        addresses = [ip for batch in pool.map(make_ports, range(8)) for ip in batch]
        for f in churn:
            f.result()
    assert len(addresses) == len(set(addresses)) == 80
    ports = api.list("port", network_id=net["id"])
    assert len({p["mac_address"] for p in ports}) == 80
    assert all(p["fixed_ips"][0]["subnet_id"] == sub["id"] for p in ports)
    # no half-made objects: every subnet is listed by its network and no churn network survived
    networks = {n["id"]: n for n in api.list("network")}
    for s in api.list("subnet"):
        assert s["id"] in networks[s["network_id"]]["subnets"]
    assert not [n for n in networks.values() if n["name"].startswith("churn-")]


def test_a_refused_write_leaves_nothing_behind(controller):
    api = controller.client
    before = {k: api.list(k) for k in ("network", "subnet", "port", "router")}
    net = api.create("network", name="x", project_id="tenant-a")
    with pytest.raises(ApiError) as err:
        api.create("subnet", network_id=net["id"], cidr="10.70.0.0/24", ip_version=6, project_id="tenant-a")
    assert err.value.status == 400 and api.get("network", net["id"])["subnets"] == []
    api.delete("network", net["id"])
    assert {k: api.list(k) for k in ("network", "subnet", "port", "router")} == before


def race(attempt, n: int = 8) -> list:
    """`attempt(i)` from `n` threads at once: what each returned, or the ApiError it raised."""
    def run(i: int):
        try:
            return attempt(i)
        except ApiError as exc:
            return exc
    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(run, range(n)))


def winners(results: list) -> list:
    losers = [r for r in results if isinstance(r, ApiError)]
    assert all(r.status == 409 for r in losers), [(r.status, r.body) for r in losers]
    return [r for r in results if not isinstance(r, ApiError)]


def test_races_for_one_address_mac_subnet_or_floating_ip_have_exactly_one_winner(controller):
    api = controller.client
    net = api.create("network", name="race", project_id="tenant-a")
    sub = api.create("subnet", network_id=net["id"], cidr="10.80.0.0/24", ip_version=4, project_id="tenant-a")
    same_ip = winners(race(lambda i: api.create("port", network_id=net["id"], project_id="tenant-a",
                                                fixed_ips=[{"ip_address": "10.80.0.50"}])))
    same_mac = winners(race(lambda i: api.create("port", network_id=net["id"], project_id="tenant-a",
                                                 mac_address="fa:16:3e:80:80:80")))
    routers = [api.create("router", name=f"r{i}", project_id="tenant-a") for i in range(8)]
    same_subnet = winners(race(lambda i: api.action("router", routers[i]["id"], "add_router_interface",
                                                    subnet_id=sub["id"])))
    ext = api.create("network", name="race-ext", **{"router:external": True})
    api.create("subnet", network_id=ext["id"], cidr="172.25.0.0/24", ip_version=4)
    same_fip = winners(race(lambda i: api.create("floatingip", floating_network_id=ext["id"],
                                                 floating_ip_address="172.25.0.77", project_id="tenant-a")))
    assert [len(w) for w in (same_ip, same_mac, same_subnet, same_fip)] == [1, 1, 1, 1]
    ports = api.list("port", network_id=net["id"])
    assert sum(p["fixed_ips"][0]["ip_address"] == "10.80.0.50" for p in ports) == 1
    assert sum(p["mac_address"] == "fa:16:3e:80:80:80" for p in ports) == 1
    assert sum(p["device_owner"] == "network:router_interface" for p in ports) == 1
    assert len(api.list("floatingip", floating_ip_address="172.25.0.77")) == 1
