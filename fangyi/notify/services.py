"""Emitting notifications: the one function every app calls inside the transaction of its
event, and the one for messages to residents. Delivery of the outbox is `delivery.py`'s.

Why in the same transaction: an event rolled back (a refused step, a lost race) leaves no
notification, and a committed event always has its rows, so the worker can never miss one
(an `on_commit` hook would lose them when the process dies between commit and hook).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from typing import Any

from django.apps import apps
from django.conf import settings
from django.db import IntegrityError, models, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext, gettext_noop

from fangyi.core import access
from fangyi.core.models import User
from fangyi.core.validators import PHONE_MOBILE, fold_width

from .models import BlockedNumber, Channel, KindSetting, Message, Notification, Preference
from .registry import KINDS, Kind

DEFAULT_LANGUAGE = "zh-hans"


class TemplateError(ValueError):
    """A message whose text names a value it was not given: a bug of the emitting code,
    refused before anything is stored."""


def render(message: str, params: dict[str, Any], language: str | None = None) -> str:
    """The message in `language` (the active one when None), its values filled in."""
    if language:
        with translation.override(language):
            return render(message, params)
    try:
        return gettext(message) % params if params else gettext(message)
    except (KeyError, TypeError, ValueError) as exc:
        raise TemplateError(f"message {message!r} cannot be filled with {params!r}: {exc}") from exc


def config(kind: Kind) -> tuple[bool, tuple[str, ...], bool]:
    """(enabled, roles, urgent) of a kind: the administrator's setting, else the registry's."""
    row = KindSetting.objects.filter(key=kind.key).first()
    if row is None:
        return True, kind.roles, kind.urgent
    return row.enabled, tuple(row.roles) or kind.roles, row.urgent


def label_of(obj: models.Model) -> str:
    return obj._meta.label


def may_see(user: User, kind: Kind, object_label: str, object_id: int) -> bool:
    """May the user (still) see the record? His role's policy and his jurisdiction decide."""
    if not user.is_active or not access.can(user, kind.action):
        return False
    model = apps.get_model(object_label)
    manager = model._default_manager
    if not hasattr(manager, "visible_to"):
        return True
    return manager.visible_to(user).filter(pk=object_id).exists()


def preference(user: User) -> Preference:
    pref = getattr(user, "_notify_pref", None)
    if pref is None:
        pref = Preference.objects.filter(user=user).first() or Preference(user=user)
        user._notify_pref = pref  # type: ignore[attr-defined]
    return pref


def quiet_until(pref: Preference, now: dt.datetime) -> dt.datetime | None:
    """When the user's quiet hours end, if `now` falls in them (local time), else None."""
    if pref.quiet_from is None or pref.quiet_to is None or pref.quiet_from == pref.quiet_to:
        return None
    local = timezone.localtime(now)
    t = local.time()
    start, end = pref.quiet_from, pref.quiet_to
    inside = start <= t < end if start < end else (t >= start or t < end)
    if not inside:
        return None
    day = local.date()
    if start > end and t >= start:
        day += dt.timedelta(days=1)
    return timezone.make_aware(dt.datetime.combine(day, end))


def emit(
    kind_key: str,
    *,
    recipients: Iterable[User],
    obj: models.Model,
    message: str,
    params: dict[str, Any] | None = None,
    url: str,
    node_path: str = "",
    dedupe: str = "",
    now: dt.datetime | None = None,
) -> list[Notification]:
    """Notify each recipient who may see `obj`, of a registered kind: an inbox row each, and
    for an urgent kind an SMS to those who have a phone (and e-mail to those who chose it).
    Call it inside the event's transaction. `message` is the English source text (mark it
    with gettext_noop), `params` its values; `dedupe` names the event so that a retried
    request notifies once (default: kind, record and minute). Returns the new rows."""
    kind = KINDS[kind_key]
    params = dict(params or {})
    render(message, params, "en")  # a missing value is refused before anything is stored
    enabled, roles, urgent = config(kind)
    if not enabled:
        return []
    now = now or timezone.now()
    label = label_of(obj)
    dedupe = dedupe or f"{kind.key}:{label}:{obj.pk}:{now:%Y%m%d%H%M}"
    made: list[Notification] = []
    seen: set[int] = set()
    for user in recipients:
        if user is None or user.pk in seen:
            continue
        seen.add(user.pk)
        if user.role not in roles or not may_see(user, kind, label, obj.pk):
            continue
        try:
            with transaction.atomic():
                note = Notification.objects.create(
                    recipient=user,
                    kind=kind.key,
                    message=message,
                    params=params,
                    url=url,
                    object_label=label,
                    object_id=obj.pk,
                    node_path=node_path,
                    urgent=urgent,
                    created_at=now,
                    dedupe=dedupe[:120],
                )
        except IntegrityError:
            continue  # the same event notified this user already
        made.append(note)
        if urgent:
            _queue_for_user(note, user, kind, now)
    return made


def _queue_for_user(note: Notification, user: User, kind: Kind, now: dt.datetime) -> None:
    pref = preference(user)
    required = user.role in kind.sms_required
    language = pref.language or DEFAULT_LANGUAGE
    text = render(note.message, note.params, language)
    if user.phone and (pref.sms or required):
        held = None if required else quiet_until(pref, now)
        Message.objects.create(
            channel=Channel.SMS,
            notification=note,
            recipient=user,
            to=user.phone,
            kind=note.kind,
            params=note.params,  # a gateway with registered templates fills them from these
            text=_sms_text(text, note.url, language),
            language=language,
            urgent=True,
            not_before=held or now,
            created_at=now,
        )
    if user.email and pref.email:
        Message.objects.create(
            channel=Channel.EMAIL,
            notification=note,
            recipient=user,
            to=user.email,
            kind=note.kind,
            params=note.params,  # a gateway with registered templates fills them from these
            subject=text[:200],
            text=_sms_text(text, note.url, language),
            language=language,
            urgent=True,
            not_before=quiet_until(pref, now) or now,
            created_at=now,
        )


def _sms_text(text: str, url: str, language: str) -> str:
    base = getattr(settings, "PUBLIC_URL", "") or ""
    sender = render(SENDER, {}, language)
    link = f" {base.rstrip('/')}{url}" if base and url.startswith("/") else ""
    return f"{sender}{text}{link}"[:500]


# Who a text message says it comes from (residents must know; staff see it too).
SENDER = gettext_noop("[Fangyi] ")

MOBILE = PHONE_MOBILE


def mainland_mobile(raw: str) -> str | None:
    """The 11 digits of a mainland mobile number, else None (landlines and foreign numbers
    get no SMS)."""
    value = re.sub(r"[\s()-]", "", fold_width(raw or ""))
    if value.startswith("+86"):
        value = value[3:]
    elif value.startswith("0086"):
        value = value[4:]
    return value if MOBILE.fullmatch(value) else None


def is_blocked(phone: str) -> bool:
    return BlockedNumber.objects.filter(phone=phone).exists()


def send_to_resident(
    kind_key: str,
    *,
    phone: str,
    message: str,
    params: dict[str, Any] | None = None,
    language: str = DEFAULT_LANGUAGE,
    not_before: dt.datetime | None = None,
    now: dt.datetime | None = None,
    node_path: str = "",
) -> Message | None:
    """Queue one SMS to a resident (no account). A number that is not a mainland mobile, or
    one that asked to stop, gets nothing (None). The text must carry no health data beyond
    what the linked page shows; it says who sends it and how to stop."""
    kind = KINDS[kind_key]
    enabled, _roles, _urgent = config(kind)
    number = mainland_mobile(phone)
    if not enabled or number is None or is_blocked(number):
        return None
    params = dict(params or {})
    text = render(message, params, language)  # a missing value raises before storing
    now = now or timezone.now()
    stop = render(STOP_HINT, {}, language)
    sender = render(SENDER, {}, language)
    return Message.objects.create(
        channel=Channel.SMS,
        to=number,
        kind=kind.key,
        text=f"{sender}{text} {stop}"[:500],
        language=language,
        urgent=False,
        not_before=not_before or now,
        created_at=now,
        node_path=node_path,
    )


STOP_HINT = gettext_noop("Reply TD to stop these messages.")
