"""The one error shape that services raise and both the UI and the API render."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _


class DomainError(Exception):
    """A rule refused the action. `errors` maps a field name (or "__all__") to messages."""

    status = 400

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        errors: dict[str, list[str]] | None = None,
        status: int | None = None,
        details: dict[str, Any] | None = None,
    ):
        super().__init__(message)
        self.message = str(message)
        self.errors = errors or {(field or "__all__"): [self.message]}
        self.details = details or {}
        if status is not None:
            self.status = status

    def as_dict(self) -> dict[str, Any]:
        return {
            "detail": self.message,
            "errors": [
                {"field": field, "message": str(msg)}
                for field, msgs in self.errors.items()
                for msg in msgs
            ],
            **({"details": self.details} if self.details else {}),
        }


class NotFound(DomainError):
    """Missing, or outside the user's jurisdiction: the two look the same on purpose."""

    status = 404


class Forbidden(DomainError):
    """The role may not do this at all (inside its jurisdiction it would still be refused)."""

    status = 403


class Conflict(DomainError):
    status = 409


def client_id_taken() -> Conflict:
    """A retry's client id that names another record (another person's, or one outside the
    caller's jurisdiction): refused, and nothing about that record told."""
    return Conflict(_("This submission id was already used for another record."), field="client_id")
