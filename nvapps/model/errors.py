"""Model errors: each carries the HTTP status and Neutron error type the REST layer returns."""
from __future__ import annotations


class ModelError(Exception):
    """A request the model refuses; nothing was stored."""

    status = 400
    type = "BadRequest"

    def __init__(self, message: str, type_: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if type_:
            self.type = type_


class BadRequest(ModelError):
    status, type = 400, "HTTPBadRequest"


class NotFound(ModelError):
    status, type = 404, "NotFound"


class Forbidden(ModelError):
    status, type = 403, "PolicyNotAuthorized"


class Conflict(ModelError):
    status, type = 409, "Conflict"
