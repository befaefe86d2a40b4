"""Reads of a user's inbox, scoped to what he may still see, and marking it read.

A notification is shown (and counted) only while its recipient may still see the record it is
about, the rule of `services.may_see`, but for the whole inbox in one query: his role must still
have the kind's POLICY action, and the record must still be in his jurisdiction, which is one
EXISTS subquery per kind of record against that model's `visible_to(user)` (a model without
`visible_to` is not scoped by jurisdiction). The kinds of record are read first from his own rows
(an index scan), so the query names only those he has; no unread row at all answers 0 with that
one query, the cheap case of the bell that every page polls.
"""

from __future__ import annotations

import datetime as dt
from functools import reduce
from operator import or_

from django.apps import apps
from django.db.models import Case, Exists, IntegerField, OuterRef, Q, QuerySet, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _

from fangyi.core import access
from fangyi.core.errors import NotFound
from fangyi.core.models import User

from .models import Notification
from .registry import KINDS

NEWEST = "newest"
UNREAD_FIRST = "unread"
ORDERS = (UNREAD_FIRST, NEWEST)


def _kinds_for(user: User) -> list[str]:
    """The registered kinds whose POLICY action the user's role (still) has."""
    return sorted(key for key, kind in KINDS.items() if access.can(user, kind.action))


def _record_q(user: User, label: str) -> Q:
    """Rows about a record of `label` that the user may still see: one EXISTS subquery."""
    try:
        model = apps.get_model(label)
    except (LookupError, ValueError):
        return Q(pk__in=[])  # a kind of record that is gone: nothing to open
    manager = model._default_manager
    if not hasattr(manager, "visible_to"):
        return Q(object_label=label)
    records = manager.visible_to(user).filter(pk=OuterRef("object_id"))
    return Q(object_label=label) & Q(Exists(records.values("pk")))


def _own(user: User) -> QuerySet[Notification]:
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return Notification.objects.none()
    return Notification.objects.filter(recipient=user, kind__in=_kinds_for(user))


def _visible(user: User, qs: QuerySet[Notification]) -> QuerySet[Notification]:
    labels = sorted(set(qs.order_by().values_list("object_label", flat=True).distinct()))
    if not labels:
        return qs.none()
    return qs.filter(reduce(or_, (_record_q(user, label) for label in labels)))


def notification_list(
    user: User, *, unread: bool | None = None, order: str = NEWEST
) -> QuerySet[Notification]:
    """The user's inbox: his own notifications about records he may still see, newest first
    (or unread first, then newest). `unread` True keeps the unread, False the read ones."""
    qs = _own(user)
    if unread is not None:
        qs = qs.filter(read_at__isnull=unread)
    qs = _visible(user, qs)
    if order == UNREAD_FIRST:
        unread_first = Case(
            When(read_at__isnull=True, then=Value(0)), default=Value(1), output_field=IntegerField()
        )
        return qs.order_by(unread_first, "-created_at", "-id")
    return qs.order_by("-created_at", "-id")


def unread_count(user: User) -> int:
    """How many of the inbox's notifications are unread (what the bell shows): one query when
    none is unread, two otherwise; it writes nothing."""
    return _visible(user, _own(user).filter(read_at__isnull=True)).count()


def notification_get(user: User, pk: int) -> Notification:
    """One notification of the user's inbox. Another user's, one about a record he may no
    longer see, and one that does not exist all answer the same NotFound."""
    note = _visible(user, _own(user).filter(pk=pk)).first()
    if note is None:
        raise NotFound(_("No such notification."))
    return note


def notification_read(user: User, pk: int, *, now: dt.datetime | None = None) -> Notification:
    """Mark one notification of the user's inbox read (again: the first time is kept)."""
    note = notification_get(user, pk)
    if note.read_at is None:
        note.read_at = now or timezone.now()
        # Conditional, so that two tabs opening it at once keep the first time.
        Notification.objects.filter(pk=note.pk, read_at__isnull=True).update(read_at=note.read_at)
    return note


def notification_read_all(user: User, *, now: dt.datetime | None = None) -> int:
    """Mark every unread notification of the user's inbox read; how many were."""
    unread = _visible(user, _own(user).filter(read_at__isnull=True))
    return unread.update(read_at=now or timezone.now())
