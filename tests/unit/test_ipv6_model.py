"""IPv6 subnets in Neutron's shapes: ipv6_ra_mode and ipv6_address_mode checked as Neutron does, and ports'
addresses on SLAAC (and DHCPv6-stateless) subnets formed from their MACs (EUI-64): on creation, when the MAC
changes, for the ports already there when such a subnet is added, and gone with the subnet."""
from __future__ import annotations

import pytest

from nvapps.model.context import Context
from nvapps.model.errors import ModelError
from tests.unit.modelkit import new_model

ALICE = Context("pa")
MAC, OTHER_MAC = "02:00:00:00:00:01", "02:00:00:00:00:02"
FORMED, OTHER_FORMED = "2001:db8:0:1:0:ff:fe00:1", "2001:db8:0:1:0:ff:fe00:2"   # EUI-64 of MAC, OTHER_MAC


def subnet(model, net, cidr="2001:db8:0:1::/64", version=6, **modes):
    return model.create("subnet", {"network_id": net.id, "cidr": cidr, "ip_version": version, **modes}, ALICE)


def dual_stack(model):
    net = model.create("network", {"name": "n"}, ALICE)
    v4 = subnet(model, net, "10.0.0.0/24", 4)
    v6 = subnet(model, net, ipv6_ra_mode="slaac", ipv6_address_mode="slaac")
    return net, v4, v6


@pytest.mark.parametrize("cidr, version, modes, words", [
    ("10.0.0.0/24", 4, {"ipv6_address_mode": "slaac"}, "IPv6 subnets only"),
    ("2001:db8::/64", 6, {"ipv6_ra_mode": "slaac", "ipv6_address_mode": "dhcpv6-stateful"}, "must be the same"),
    ("2001:db8::/80", 6, {"ipv6_address_mode": "slaac"}, "requires the prefix to be /64"),
    ("2001:db8::/80", 6, {"ipv6_address_mode": "dhcpv6-stateless"}, "requires the prefix to be /64"),
    ("2001:db8::/64", 6, {"ipv6_address_mode": "slaac", "enable_dhcp": False}, "Cannot disable enable_dhcp"),
    ("2001:db8::/64", 6, {"ipv6_address_mode": "eui64"}, "'eui64' is not one of"),
])
def test_bad_ipv6_modes_are_refused_and_store_nothing(cidr, version, modes, words):
    model = new_model()
    net = model.create("network", {"name": "n"}, ALICE)
    with pytest.raises(ModelError) as refused:
        subnet(model, net, cidr, version, **modes)
    assert (refused.value.status, refused.value.type) == (400, "HTTPBadRequest" if "eui64" in str(modes) else "InvalidInput")
    assert words in refused.value.message and model.list("subnet") == []


def test_a_stateful_subnet_may_be_any_prefix_and_allocates_from_its_pool():
    model = new_model()
    net = model.create("network", {"name": "n"}, ALICE)
    sub = subnet(model, net, "2001:db8::/80", ipv6_ra_mode="dhcpv6-stateful", ipv6_address_mode="dhcpv6-stateful")
    port = model.create("port", {"network_id": net.id, "mac_address": MAC}, ALICE)
    assert port.fixed_ips == [{"subnet_id": sub.id, "ip_address": "2001:db8::2"}]


def test_a_port_gets_an_ipv4_address_and_its_slaac_address_formed_from_its_mac():
    model = new_model()
    net, v4, v6 = dual_stack(model)
    port = model.create("port", {"network_id": net.id, "mac_address": MAC}, ALICE)
    assert port.fixed_ips == [{"subnet_id": v4.id, "ip_address": "10.0.0.2"}, {"subnet_id": v6.id, "ip_address": FORMED}]
    named = model.create("port", {"network_id": net.id, "mac_address": OTHER_MAC,
                                  "fixed_ips": [{"ip_address": "10.0.0.9"}]}, ALICE)
    assert named.fixed_ips == [{"subnet_id": v4.id, "ip_address": "10.0.0.9"},
                               {"subnet_id": v6.id, "ip_address": OTHER_FORMED}]


def test_a_slaac_subnet_gives_the_formed_address_by_subnet_and_refuses_any_other():
    model = new_model()
    net, _, v6 = dual_stack(model)
    port = model.create("port", {"network_id": net.id, "mac_address": MAC, "fixed_ips": [{"subnet_id": v6.id}]}, ALICE)
    assert port.fixed_ips == [{"subnet_id": v6.id, "ip_address": FORMED}]
    with pytest.raises(ModelError) as refused:
        model.create("port", {"network_id": net.id, "mac_address": OTHER_MAC,
                              "fixed_ips": [{"ip_address": "2001:db8:0:1::99"}]}, ALICE)
    assert refused.value.status == 400 and "automatic addresses" in refused.value.message
    assert len(model.list("port")) == 1


def test_the_formed_address_follows_a_new_mac():
    model = new_model()
    net, v4, v6 = dual_stack(model)
    port = model.create("port", {"network_id": net.id, "mac_address": MAC}, ALICE)
    moved = model.update("port", port.id, {"mac_address": OTHER_MAC}, ALICE)
    assert moved.fixed_ips == [{"subnet_id": v4.id, "ip_address": "10.0.0.2"},
                               {"subnet_id": v6.id, "ip_address": OTHER_FORMED}]


def test_ports_already_there_form_an_address_on_a_new_slaac_subnet_and_lose_it_with_the_subnet():
    model = new_model()
    net = model.create("network", {"name": "n"}, ALICE)
    v4 = subnet(model, net, "10.0.0.0/24", 4)
    port = model.create("port", {"network_id": net.id, "mac_address": MAC}, ALICE)
    elsewhere = model.create("network", {"name": "m"}, ALICE)
    subnet(model, elsewhere, "10.0.1.0/24", 4)
    apart = model.create("port", {"network_id": elsewhere.id, "mac_address": OTHER_MAC}, ALICE)
    v6 = subnet(model, net, ipv6_address_mode="slaac")
    formed = model.get("port", port.id, ALICE)
    assert formed.fixed_ips[-1] == {"subnet_id": v6.id, "ip_address": FORMED}
    assert formed.revision_number == port.revision_number + 1
    assert model.get("port", apart.id, ALICE) == apart                  # another network's port: as it was
    model.delete("subnet", v6.id, ALICE)
    assert model.get("port", port.id, ALICE).fixed_ips == [{"subnet_id": v4.id, "ip_address": "10.0.0.2"}]


def test_a_router_interface_holds_its_slaac_subnet():
    model = new_model()
    net, _, v6 = dual_stack(model)
    router = model.create("router", {"name": "r"}, ALICE)
    model.action("router", router.id, "add_router_interface", {"subnet_id": v6.id}, ALICE)
    interface = next(p for p in model.list("port") if p.device_id == router.id)
    assert interface.fixed_ips == [{"subnet_id": v6.id, "ip_address": v6.gateway_ip}]
    with pytest.raises(ModelError) as refused:
        model.delete("subnet", v6.id, ALICE)
    assert refused.value.type == "SubnetInUse"
