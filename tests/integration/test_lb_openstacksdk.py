"""Load balancers driven by an unmodified openstacksdk (`conn.load_balancer`): create, wait ACTIVE, update, list,
statistics,
cascade delete; bad input refused."""
from __future__ import annotations

import openstack
import pytest
from openstack import exceptions

from nvapps.lab.controller import MEMBER_TOKENS, Controller


@pytest.fixture(scope="module")
def alice(tmp_path_factory):
    ctl = Controller(tmp_path_factory.mktemp("lb_sdk"), apps=("nvapps.lb.app",))
    ctl.start()
    try:
        yield openstack.connect(auth_type="admin_token", auth={"endpoint": ctl.url, "token": MEMBER_TOKENS["tenant-a"]},
                                network_endpoint_override=ctl.url + "/",
                                load_balancer_endpoint_override=ctl.url + "/")
    finally:
        ctl.stop()


def test_the_whole_lifecycle(alice):
    net = alice.network.create_network(name="web")
    sub = alice.network.create_subnet(network_id=net.id, cidr="10.20.0.0/24", ip_version=4)
    lb = alice.load_balancer.create_load_balancer(name="front", vip_subnet_id=sub.id)
    lb = alice.load_balancer.wait_for_load_balancer(lb.id, wait=30, interval=0.2)
    assert (lb.provisioning_status, lb.operating_status) == ("ACTIVE", "ONLINE") and lb.vip_address == "10.20.0.2"
    listener = alice.load_balancer.create_listener(loadbalancer_id=lb.id, protocol="TCP", protocol_port=80)
    pool = alice.load_balancer.create_pool(listener_id=listener.id, protocol="TCP", lb_algorithm="ROUND_ROBIN")
    member = alice.load_balancer.create_member(pool, address="10.20.0.10", protocol_port=8080, weight=3)
    monitor = alice.load_balancer.create_health_monitor(pool_id=pool.id, type="HTTP", delay=3, timeout=2,
                                                        max_retries=2, url_path="/health", expected_codes="200-204")
    alice.load_balancer.wait_for_load_balancer(lb.id, wait=30, interval=0.2)
    assert alice.load_balancer.get_listener(listener.id).default_pool_id == pool.id
    assert [m.address for m in alice.load_balancer.members(pool)] == ["10.20.0.10"]
    alice.load_balancer.update_member(member, pool, weight=5)
    assert alice.load_balancer.get_member(member, pool).weight == 5
    assert alice.load_balancer.get_health_monitor(monitor.id).url_path == "/health"
    assert [x.name for x in alice.load_balancer.load_balancers()] == ["front"]
    stats = alice.load_balancer.get_load_balancer_statistics(lb.id)
    assert (stats.total_connections, stats.bytes_in, stats.bytes_out) == (0, 0, 0)     # no switch, no traffic
    assert alice.load_balancer.get_listener_statistics(listener.id).active_connections == 0
    with pytest.raises(exceptions.BadRequestException):
        alice.load_balancer.create_member(pool, address="192.168.1.1", protocol_port=8080)
    with pytest.raises(exceptions.ConflictException):
        alice.load_balancer.create_listener(loadbalancer_id=lb.id, protocol="TCP", protocol_port=80)
    alice.load_balancer.delete_load_balancer(lb.id, cascade=True)
    with pytest.raises(exceptions.NotFoundException):
        alice.load_balancer.get_load_balancer(lb.id)
    assert not list(alice.load_balancer.pools()) and not list(alice.load_balancer.health_monitors())
    assert [p.device_owner for p in alice.network.ports(network_id=net.id)] == []     # the VIP port went too
