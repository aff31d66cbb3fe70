"""Chassis registrations and what the controller makes of them: tunnel endpoints, and ports that stay where
they were while their chassis is not connected."""
from __future__ import annotations

import pytest

from nvapps.core.topology import Chassis, Interface, Location, fabric, locate
from nvapps.model.chassis import RegisteredChassis
from nvapps.model.errors import BadRequest, Conflict
from tests.unit.modelkit import admin_for, network_with_subnet, new_model, refused, snapshot


@pytest.fixture
def model():
    return new_model()


def test_a_chassis_has_a_unique_name_and_tunnel_endpoint(model):
    hv1 = model.create("chassis", {"name": "hv1", "tunnel_type": "geneve", "tunnel_ip": "172.30.0.1"})
    assert (hv1.tunnel_type, hv1.tunnel_ip) == ("geneve", "172.30.0.1")
    before = snapshot(model)
    for bad, error in (({"name": "hv1"}, Conflict), ({"name": "hv2", "tunnel_type": "vxlan", "tunnel_ip": "172.30.0.1"},
                                                    Conflict),
                       ({"name": ""}, BadRequest), ({"name": "hv2", "tunnel_type": "gre", "tunnel_ip": "1.1.1.1"},
                                                    BadRequest),
                       ({"name": "hv2", "tunnel_ip": "172.30.0.2"}, BadRequest),
                       ({"name": "hv2", "tunnel_type": "vxlan", "tunnel_ip": "fd00::2"}, BadRequest)):
        with pytest.raises(error):
            model.create("chassis", bad)
    assert snapshot(model) == before
    model.update("chassis", hv1.id, {"tunnel_type": "vxlan"})
    assert model.get("chassis", hv1.id).tunnel_type == "vxlan"


def test_a_chassis_with_bound_ports_keeps_its_name(model):
    hv1 = model.create("chassis", {"name": "hv1"})
    net, _ = network_with_subnet(model, "p1")
    model.create("port", {"network_id": net.id, "binding:host_id": "hv1"}, admin_for("p1"))
    with pytest.raises(Conflict):
        model.update("chassis", hv1.id, {"name": "hv9"})


def test_ports_on_a_registered_chassis_that_is_not_connected_stay_where_they_were():
    hv1 = Chassis("hv1", 1, {"hv1-eth2": Interface("hv1-eth2", 2)})
    known = fabric({"hv1": hv1}, [RegisteredChassis(id="1", name="hv1", tunnel_type="vxlan", tunnel_ip="172.30.0.1"),
                                  RegisteredChassis(id="2", name="hv2", tunnel_type="geneve", tunnel_ip="172.30.0.2")])
    assert (known["hv1"].tunnel_ip, known["hv1"].connected, known["hv1"].dpid) == (0xAC1E0001, True, 1)
    assert (known["hv2"].tunnel_type, known["hv2"].connected) == ("geneve", False)
    assert hv1.tunnel_ip == 0                                    # the core's own record is not touched
    assert locate("hv2", "hv2-eth7", known) == Location("hv2", None)
    assert locate("hv1", "hv1-eth2", known) == Location("hv1", 2)
    assert locate("hv1", "hv1-eth9", known) is None              # connected, and the interface is not there
    assert locate("hv3", "hv3-eth2", known) is None              # unknown chassis


def test_a_deleted_chassis_is_gone_and_its_name_and_endpoint_free_again(model):
    hv1 = model.create("chassis", {"name": "hv1", "tunnel_type": "vxlan", "tunnel_ip": "172.30.0.1"})
    hv2 = model.create("chassis", {"name": "hv2", "tunnel_type": "vxlan", "tunnel_ip": "172.30.0.2"})
    model.delete("chassis", hv1.id)
    assert model.find("chassis", hv1.id) is None and model.list("chassis") == [hv2]
    assert model.create("chassis", {"name": "hv1", "tunnel_type": "vxlan", "tunnel_ip": "172.30.0.1"}).id != hv1.id


def test_chassis_refused_by_type_on_create_and_update_and_nothing_is_stored(model):
    hv1 = model.create("chassis", {"name": "hv1", "tunnel_type": "vxlan", "tunnel_ip": "172.30.0.1"})
    hv2 = model.create("chassis", {"name": "hv2", "tunnel_type": "vxlan", "tunnel_ip": "172.30.0.2"})
    refused(model, Conflict, "ChassisExists", model.create, "chassis", {"name": "hv2"})
    refused(model, Conflict, "ChassisExists", model.update, "chassis", hv1.id, {"name": "hv2"})   # (itself first)
    refused(model, Conflict, "TunnelIpInUse", model.update, "chassis", hv1.id, {"tunnel_ip": "172.30.0.2"})
    refused(model, Conflict, "HTTPBadRequest", model.update, "chassis", hv1.id, {"tunnel_type": None})  # (on update)
    net, _ = network_with_subnet(model, "p1")
    model.create("port", {"network_id": net.id, "binding:host_id": "hv1"}, admin_for("p1"))
    refused(model, Conflict, "ChassisInUse", model.update, "chassis", hv1.id, {"name": "hv9"})
    assert model.update("chassis", hv2.id, {"name": "hv9"}).name == "hv9"      # no port is bound there
