"""The one error shape that services raise and both the UI and the API render."""

from __future__ import annotations

from collections.abc import Callable
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


class FieldErrors:
    """Collects every field error of one submission, so the user fixes them all at once, then
    raises them as one DomainError. Every service that validates a form or a payload uses this
    one collector, so a message, its field and its order read the same from each app."""

    def __init__(self) -> None:
        self.errors: dict[str, list[str]] = {}
        self.status = 400

    def add(self, field_name: str, message: str) -> None:
        self.errors.setdefault(field_name, []).append(str(message))

    def not_yours(self, field_name: str) -> None:
        """A node outside the user's jurisdiction: answered as 404, like one that is not there."""
        self.add(field_name, _("This jurisdiction is not one of yours."))
        self.status = 404

    def run(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Call a validator; its DomainError's field errors join these, and None is returned."""
        try:
            return fn(*args, **kwargs)
        except DomainError as exc:
            for f, msgs in exc.errors.items():
                self.errors.setdefault(f, []).extend(msgs)
            return None

    def merge(self, exc: DomainError, prefix: str) -> None:
        """A nested record's errors under `prefix` (`prefix.field`, or `prefix` for __all__)."""
        for f, msgs in exc.errors.items():
            name = prefix if f == "__all__" else f"{prefix}.{f}"
            self.errors.setdefault(name, []).extend(msgs)

    def raise_if_any(self) -> None:
        if self.errors:
            first = next(iter(self.errors.values()))[0]
            raise DomainError(first, errors=self.errors, status=self.status)
