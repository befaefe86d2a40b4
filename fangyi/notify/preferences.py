"""A user's notification preferences, and the administrator's configuration of the kinds.

Each user chooses his channels (SMS for urgent events, e-mail, a daily digest of the rest), quiet
hours (local time, Asia/Shanghai by default; a window may run past midnight) and the language of
his SMS and e-mail, within what his role requires: a kind that names his role in
`sms_required` sends him its SMS whatever he chose (and through his quiet hours), so he cannot
switch SMS off. The administrator switches a kind on or off, narrows its roles (among those whose
role may see its records) and sets its urgency; the registry holds the defaults.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from fangyi.core import access
from fangyi.core.audit import audit_record
from fangyi.core.errors import FieldErrors, NotFound
from fangyi.core.models import Role, User

from .models import KindSetting, Preference
from .registry import KINDS, Kind

FIELDS = ("sms", "email", "digest", "quiet_from", "quiet_to", "language")


def languages() -> list[tuple[str, str]]:
    return [(code, str(name)) for code, name in settings.LANGUAGES]


def sms_required_kinds(user: User) -> list[Kind]:
    """The kinds whose urgent SMS the user's role must get, whatever he chooses."""
    return [k for k in KINDS.values() if user.role in k.sms_required]


def preference_get(user: User) -> Preference:
    """The user's preferences; the defaults (unsaved) when he never set any."""
    return Preference.objects.filter(user=user).first() or Preference(user=user)


def _value(value: object) -> object:
    return value.strftime("%H:%M") if isinstance(value, dt.time) else value


@transaction.atomic
def preference_update(
    *,
    actor: User,
    sms: bool,
    email: bool,
    digest: bool,
    quiet_from: dt.time | None,
    quiet_to: dt.time | None,
    language: str,
) -> Preference:
    """Set the actor's own preferences (all of them), or refuse with every field's error and
    store nothing. A change is audited; the same values again change nothing."""
    errors = FieldErrors()
    required = sms_required_kinds(actor)
    if not sms and required:
        names = ", ".join(str(k.label) for k in required)
        errors.add(
            "sms",
            _(
                "Your role must get the SMS of urgent events (%(kinds)s): it cannot be switched "
                "off. Set quiet hours for the others instead."
            )
            % {"kinds": names},
        )
    if (quiet_from is None) != (quiet_to is None):
        missing = "quiet_to" if quiet_to is None else "quiet_from"
        errors.add(missing, _("Give both the start and the end of the quiet hours, or neither."))
    elif quiet_from is not None and quiet_from == quiet_to:
        errors.add("quiet_to", _("The quiet hours must end at another time than they start."))
    codes = [code for code, _name in languages()]
    if language not in codes:
        errors.add("language", _("Choose one of the languages offered."))
    errors.raise_if_any()

    pref = Preference.objects.select_for_update().filter(user=actor).first()
    pref = pref or Preference(user=actor)
    new = {
        "sms": sms,
        "email": email,
        "digest": digest,
        "quiet_from": quiet_from,
        "quiet_to": quiet_to,
        "language": language,
    }
    changes = {
        name: [_value(getattr(pref, name)), _value(value)]
        for name, value in new.items()
        if getattr(pref, name) != value or pref.pk is None
    }
    if pref.pk is not None and not changes:
        return pref
    for name, value in new.items():
        setattr(pref, name, value)
    pref.save()
    actor._notify_pref = pref  # type: ignore[attr-defined]  # services.preference's cache
    audit_record(actor, "fangyi.notification_preference.changed", pref, changes=changes)
    return pref


# --- the administrator's configuration of the kinds ------------------------------------------


@dataclass(frozen=True)
class KindConfig:
    kind: Kind
    enabled: bool
    roles: tuple[str, ...]
    urgent: bool
    configured: bool  # an administrator's setting, not the registry's default

    @property
    def key(self) -> str:
        return self.kind.key

    def sms_required_labels(self) -> list[str]:
        names = dict(Role.choices)
        return [str(names.get(r, r)) for r in self.kind.sms_required]

    def role_choices(self) -> list[tuple[str, str, bool]]:
        """(value, label, chosen) of the roles that may see this kind's records."""
        return [(value, str(label), value in self.roles) for value, label in eligible(self.kind)]


def eligible(kind: Kind) -> list[tuple[str, object]]:
    """The roles that may be notified of a kind: those whose role has its POLICY action."""
    allowed = access.POLICY.get(kind.action, set())
    return [(value, label) for value, label in Role.choices if value in allowed]


def kind_list(user: User) -> list[KindConfig]:
    """Every registered kind with its configuration (one query), for the administrator."""
    access.require(user, "notify.configure")
    rows = {row.key: row for row in KindSetting.objects.all()}
    out = []
    for key in sorted(KINDS):
        kind = KINDS[key]
        row = rows.get(key)
        if row is None:
            out.append(KindConfig(kind, True, kind.roles, kind.urgent, False))
        else:
            roles = tuple(row.roles) or kind.roles
            out.append(KindConfig(kind, row.enabled, roles, row.urgent, True))
    return out


@transaction.atomic
def kind_configure(
    *, actor: User, key: str, enabled: bool, roles: list[str], urgent: bool
) -> KindSetting:
    """Switch a kind on or off, set the roles it notifies and its urgency (audited)."""
    access.require(actor, "notify.configure")
    kind = KINDS.get(key)
    if kind is None:
        raise NotFound(_("No such kind of notification."), field="key")
    errors = FieldErrors()
    allowed = {value for value, _label in eligible(kind)}
    chosen = sorted(set(roles))
    if any(r not in allowed for r in chosen):
        errors.add("roles", _("Choose among the roles that may see these records."))
    elif not chosen and enabled:
        errors.add("roles", _("Choose at least one role, or switch the kind off."))
    errors.raise_if_any()
    row = KindSetting.objects.select_for_update().filter(key=key).first()
    before = (
        (row.enabled, sorted(row.roles) or sorted(kind.roles), row.urgent)
        if row is not None
        else (True, sorted(kind.roles), kind.urgent)
    )
    after = (enabled, chosen, urgent)
    if row is not None and before == after:
        return row
    row = row or KindSetting(key=key)
    row.enabled, row.roles, row.urgent = enabled, chosen, urgent
    row.save()
    changes = {
        name: [old, new]
        for name, old, new in zip(("enabled", "roles", "urgent"), before, after, strict=True)
        if old != new
    }
    audit_record(actor, "fangyi.notification_setting.configured", row, changes=changes)
    return row
