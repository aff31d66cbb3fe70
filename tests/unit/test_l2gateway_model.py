"""L2 gateways: a connection makes one port per gateway interface, on its VLAN, with a MAC of its own."""
from __future__ import annotations

import pytest

from nvapps.model import ipam
from nvapps.model.errors import Conflict
from nvapps.model.network import L2_GATEWAY
from tests.unit.modelkit import admin_for, network_with_subnet, new_model, snapshot

P = admin_for("p1")


@pytest.fixture
def model():
    return new_model()


def gateway(model, *interfaces: dict):
    return model.create("l2_gateway", {"name": "gw", "devices": [{"device_name": "hv9",
                                                                   "interfaces": list(interfaces)}]}, P)


def gateway_ports(model, conn_id: str) -> list:
    return [p for p in model.list("port", {"device_id": [conn_id]}) if p.device_owner == L2_GATEWAY]


def test_a_connection_makes_a_port_per_interface_on_its_vlan_with_a_mac_no_port_of_the_network_has(model, monkeypatch):
    net, _ = network_with_subnet(model, "p1")
    vm = model.create("port", {"network_id": net.id}, P)
    taken = int(vm.mac_address.replace(":", ""), 16) & 0xFFFFFF
    draws = iter([taken, 5, 5, 6])         # the VM's MAC, then one for eth1, it again, one for eth2
    monkeypatch.setattr(ipam.random, "getrandbits", lambda bits: next(draws))
    gw = gateway(model, {"name": "eth1", "segmentation_id": [100]}, {"name": "eth2", "segmentation_id": [200]})
    conn = model.create("l2_gateway_connection", {"l2_gateway_id": gw.id, "network_id": net.id}, P)
    ports = sorted(gateway_ports(model, conn.id), key=lambda p: p.profile["vlan"])
    assert [(p.host_id, p.profile["interface_name"], p.profile["vlan"], p.mac_address[-2:]) for p in ports] == [
        ("hv9", "eth1", 100, "05"), ("hv9", "eth2", 200, "06")]
    assert all(p.network_id == net.id and p.project_id == "p1" and not p.fixed_ips for p in ports)
    assert len({p.key for p in ports} | {vm.key}) == 3


def test_the_connections_vlan_overrides_the_interfaces_and_one_is_needed(model):
    net, _ = network_with_subnet(model, "p1")
    gw = gateway(model, {"name": "eth1", "segmentation_id": [100]}, {"name": "eth2"})
    before = snapshot(model)
    with pytest.raises(Conflict) as refused:        # eth2 has no VLAN of its own
        model.create("l2_gateway_connection", {"l2_gateway_id": gw.id, "network_id": net.id}, P)
    assert refused.value.type == "Conflict" and snapshot(model) == before
    conn = model.create("l2_gateway_connection", {"l2_gateway_id": gw.id, "network_id": net.id,
                                                  "segmentation_id": 300}, P)
    assert sorted(p.profile["vlan"] for p in gateway_ports(model, conn.id)) == [300, 300]


def test_a_provider_network_is_not_bridged(model):
    provider = model.create("network", {"name": "f", "provider:network_type": "flat",
                                        "provider:physical_network": "physnet1"}, P)
    gw = gateway(model, {"name": "eth1", "segmentation_id": [100]})
    before = snapshot(model)
    with pytest.raises(Conflict) as refused:
        model.create("l2_gateway_connection", {"l2_gateway_id": gw.id, "network_id": provider.id}, P)
    assert refused.value.type == "Conflict" and snapshot(model) == before


def test_a_gateway_with_connections_keeps_its_devices_and_stays_until_they_go_with_their_ports(model):
    net, _ = network_with_subnet(model, "p1")
    gw = gateway(model, {"name": "eth1", "segmentation_id": [100]})
    conn = model.create("l2_gateway_connection", {"l2_gateway_id": gw.id, "network_id": net.id}, P)
    for change in (lambda: model.delete("l2_gateway", gw.id, P),
                   lambda: model.update("l2_gateway", gw.id, {"devices": [{"device_name": "hv8",
                                                                          "interfaces": [{"name": "eth1"}]}]}, P)):
        with pytest.raises(Conflict) as refused:
            change()
        assert refused.value.type == "L2GatewayInUse"
    assert model.update("l2_gateway", gw.id, {"name": "renamed"}, P).name == "renamed"   # devices unchanged: fine
    model.delete("l2_gateway_connection", conn.id, P)
    assert gateway_ports(model, conn.id) == []
    model.delete("l2_gateway", gw.id, P)
    assert model.find("l2_gateway", gw.id) is None and model.list("port", {"network_id": [net.id]}) == []
