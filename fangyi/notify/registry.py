"""The kinds of notification, one registry every app adds to (issue 15).

An app registers its kinds at import of its services module:

    TIP_ASSIGNED = register(Kind("tip_assigned", gettext_lazy("A tip assigned to me"),
                                 action="tip.view", roles=FIELD, urgent=True))

and emits them with `fangyi.notify.services.emit(TIP_ASSIGNED.key, ...)`. The administrator
can switch a kind off, narrow its roles or change its urgency (KindSetting); the registry holds
the defaults. `action` is the POLICY action the recipient needs to see the record: a recipient
whose role lost it, or whose jurisdiction no longer holds the record, is neither shown nor sent
the notification.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from fangyi.core.models import Role


@dataclass(frozen=True)
class Kind:
    key: str
    label: object  # a lazy translation: what the kind is, for the settings page
    action: str  # the POLICY action needed to see the record
    roles: tuple[str, ...] = tuple(Role.values)
    urgent: bool = False
    # Roles that must get the urgent SMS whatever their preferences (the seed's officer got
    # these by phone within minutes).
    sms_required: tuple[str, ...] = field(default=())


KINDS: dict[str, Kind] = {}


def register(kind: Kind) -> Kind:
    """Add a kind (idempotent for the same definition; a second, different one is an error)."""
    known = KINDS.get(kind.key)
    if known is not None and known != kind:
        raise ValueError(f"notification kind {kind.key!r} registered twice, differently")
    KINDS[kind.key] = kind
    return kind


def get(key: str) -> Kind:
    return KINDS[key]
