"""The load balancer on the overlay: three chassis joined by Geneve tunnels, a client on hv1, members on hv2
(the VIP's subnet) and hv3 (behind the router); connections are balanced on the client's chassis and cross
the tunnels to their members, replies come back from the VIP; health probes leave from each member's own
chassis, and a member whose server dies there stops getting connections.

Tenant a has subnets 10.0.1.0/24 and 10.0.2.0/24 on its router; host a<s><n> is on subnet s, chassis hv<n>.
"""
from __future__ import annotations

from contextlib import ExitStack

from nvapps.lab.net import background, wait_listening
from tests.integration.lbkit import HERE, PORT, spread, statuses, wait_active, wait_statuses
from topologies.tenants import host_ip

SWITCHES = 3
HOSTS_PER_SWITCH = 1
SUBNETS = 2
OVERLAY = "geneve"
APPS = ("nvapps.lb.app", "nvapps.overlay.app", "nvapps.acl.app", "nvapps.l3.app", "nvapps.l2.app")
MEMBERS = {host_ip(2, 1): "a12", host_ip(3, 2): "a23"}
CHECK = dict(type="TCP", delay=1, timeout=1, max_retries=2, max_retries_down=2)


def test_clients_reach_members_on_other_chassis_through_tunnels_and_a_dead_one_is_left_out(lab):
    api, project = lab.api, "tenant-a"
    with ExitStack() as stack:
        servers = {}
        for name in MEMBERS.values():
            servers[name] = stack.enter_context(ExitStack())
            servers[name].enter_context(background(lab.host(name), f"/usr/bin/python3 {HERE / 'name_server.py'} "
                                                                   f"{name} {PORT}"))
            wait_listening(lab.host(name), PORT)
        lb = api.create("loadbalancer", vip_subnet_id=lab.tenants["a"].subnets[1]["id"], project_id=project)
        listener = api.create("listener", loadbalancer_id=lb["id"], protocol="TCP", protocol_port=80,
                              project_id=project)
        pool = api.create("pool", listener_id=listener["id"], protocol="TCP", lb_algorithm="ROUND_ROBIN",
                          project_id=project)
        for address in MEMBERS:
            api.create("member", parent_id=pool["id"], address=address, protocol_port=PORT, project_id=project)
        api.create("healthmonitor", pool_id=pool["id"], project_id=project, **CHECK)
        lb = wait_active(api, lb["id"])
        for client in ("a11", "a21"):               # hv1: the VIP's subnet, and behind the router
            seen = spread(lab, client, lb["vip_address"], count=40)
            assert set(seen) == {"a12", "a23"}, (client, seen)
        assert statuses(api, lb, MEMBERS) == {"a12": "ONLINE", "a23": "ONLINE", "lb": "ONLINE", "pool": "ONLINE"}
        servers["a23"].close()
        wait_statuses(api, lb, MEMBERS, {"a23": "ERROR", "lb": "DEGRADED"},
                      within=CHECK["delay"] * (CHECK["max_retries_down"] + 1) + 1)
        assert spread(lab, "a11", lb["vip_address"], count=20) == {"a12": 20}
        api.delete("loadbalancer", lb["id"], cascade=True)
