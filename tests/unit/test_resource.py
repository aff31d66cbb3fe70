"""Request bodies made into objects: whose project an object is, which attributes a POST or a PUT may set and
who may, each refusal a 4xx that says what was wrong."""
from __future__ import annotations

import pytest

from nvapps.model.context import Context
from nvapps.model.errors import BadRequest, Forbidden, ModelError
from nvapps.model.loadbalancer import Listener
from nvapps.model.network import Network

MEMBER, ADMIN = Context("p1"), Context("admin", is_admin=True)


def refusal(error: type[ModelError], call, *args) -> str:
    """The message of `call`'s refusal as `error` (it says something)."""
    with pytest.raises(error) as refused:
        call(*args)
    assert len(refused.value.message) > 15, refused.value.message
    return refused.value.message


def test_an_object_is_the_caller_s_unless_an_admin_names_another_project():
    assert Network.from_body({"name": "n"}, MEMBER).project_id == "p1"
    assert Network.from_body({"tenant_id": "p1", "name": "n"}, MEMBER).name == "n"       # tenant_id, then more
    assert Network.from_body({"project_id": "p1", "tenant_id": "p1"}, MEMBER).project_id == "p1"
    assert Network.from_body({"tenant_id": "p2"}, ADMIN).project_id == "p2"
    assert Network.from_body({"project_id": "p3"}, ADMIN).project_id == "p3"
    assert "do not match" in refusal(BadRequest, Network.from_body, {"project_id": "p2", "tenant_id": "p3"}, ADMIN)
    assert "create_network for project p2" in refusal(Forbidden, Network.from_body, {"tenant_id": "p2"}, MEMBER)
    made = [Network.from_body({}, MEMBER) for _ in range(2)]
    assert made[0].id != made[1].id and all(len(n.id) == 36 for n in made)


def test_a_post_names_every_required_attribute_it_lacks():
    message = refusal(BadRequest, Listener.from_body, {"protocol": "TCP"}, MEMBER)
    assert "'loadbalancer_id', 'protocol_port' required to create a listener" in message


def test_attributes_a_request_may_not_set_are_refused_by_name():
    assert "'listener' object" in refusal(BadRequest, Listener.from_body, ["protocol"], MEMBER)
    assert "'colour'" in refusal(BadRequest, Network.from_body, {"colour": "red"}, MEMBER)
    assert "'id' not allowed in POST" in refusal(BadRequest, Network.from_body, {"id": "x"}, ADMIN)
    net = Network.from_body({"name": "n"}, ADMIN)
    assert "'provider:network_type' not allowed in PUT" in refusal(
        BadRequest, net.updated, {"provider:network_type": "vlan"}, ADMIN)
    assert "create_network:shared" in refusal(Forbidden, Network.from_body, {"shared": True}, MEMBER)
    assert "update_network:shared" in refusal(Forbidden, net.updated, {"shared": True}, MEMBER)
    assert net.updated({"name": "m", "shared": "true"}, ADMIN).shared is True
