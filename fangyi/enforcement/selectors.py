"""Reads of fangyi.enforcement, scoped to the user's jurisdiction and role. Only police roles
and supervisors (enforcement.view) read records, their photos and the follow-up checks."""

from __future__ import annotations

import datetime as dt

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from fangyi.core import access
from fangyi.core.audit import access_record
from fangyi.core.errors import DomainError, NotFound
from fangyi.core.models import Node, Role, User, subtree_q
from fangyi.observation.selectors import DAYLIST_LIMIT, URGENCY, DayItem, DaySection
from fangyi.people.models import Person

from .models import EnforcementPhoto, EnforcementRecord, LegalBasis, Measure

FOLLOWUP_FILTERS = ("due", "open", "done")


def record_list(
    user: User,
    *,
    measure: str = "",
    tip=None,
    person: Person | None = None,
    node: Node | None = None,
    followup: str = "",
    day: dt.date | None = None,
) -> QuerySet[EnforcementRecord]:
    """The records at places in the user's jurisdiction, newest first.

    `person`: records about that person or naming them among the people involved.
    `followup`: "due" (a check planned for `day` or before, not done), "open" (planned, not
    done) or "done"."""
    access.require(user, "enforcement.view")
    qs = EnforcementRecord.objects.visible_to(user).select_related(
        "node", "tip__category", "person", "recorded_by", "followup_by"
    )
    if measure:
        if measure not in Measure.values:
            raise DomainError(_("Unknown measure."), field="measure")
        qs = qs.filter(measure=measure)
    if tip is not None:
        qs = qs.filter(tip=tip)
    if person is not None:
        involved = EnforcementRecord.persons.through.objects.filter(person=person).values(
            "enforcementrecord_id"
        )
        qs = qs.filter(Q(person=person) | Q(pk__in=involved))
    if node is not None:
        qs = qs.filter(subtree_q(node.path, "node__path"))
    if followup:
        if followup not in FOLLOWUP_FILTERS:
            raise DomainError(_("Unknown follow-up filter."), field="followup")
        if followup == "done":
            qs = qs.filter(followup_done_at__isnull=False)
        else:
            qs = qs.filter(followup_on__isnull=False, followup_done_at__isnull=True)
            if followup == "due":
                qs = qs.filter(followup_on__lte=day or timezone.localdate())
    return qs.order_by("-at", "-id")


def record_get(
    user: User, pk: int, *, via: str | None = None, full: bool = False
) -> EnforcementRecord:
    """One record the user may see, else NotFound (as for one that does not exist). With
    `via` ("ui", "api" or "panel") the read goes to the access log; `full` reads its lists too
    (legal bases, persons, officers, photos), as the API answers them."""
    qs = record_list(user).select_related("node")
    if full:
        qs = qs.prefetch_related("legal_bases", "persons", "officers", "photos")
    record = qs.filter(pk=pk).first()
    if record is None:
        raise NotFound(_("No such enforcement record."))
    if via:
        access_record(user, record, node_path=record.node.path, via=via)
    return record


def record_detail(record: EnforcementRecord) -> dict:
    """The record's lists, read once each: legal bases, people involved, officers, photos."""
    return {
        "legal_bases": list(record.legal_bases.all()),
        "persons": list(record.persons.select_related("household", "node").order_by("name")),
        "officers": list(record.officers.order_by("username")),
        "photos": list(record.photos.order_by("uploaded_at", "id")),
    }


def photo_get(user: User, pk: int, *, via: str | None = None) -> EnforcementPhoto:
    """An evidence photo of a record the user may see, else NotFound. With `via` the read of
    the photo goes to the access log."""
    access.require(user, "enforcement.view")
    photo = (
        EnforcementPhoto.objects.filter(pk=pk)
        .visible_to(user)
        .select_related("record__node")
        .first()
    )
    if photo is None:
        raise NotFound(_("No such photo."))
    if via:
        access_record(user, photo, node_path=photo.record.node.path, via=via)
    return photo


def legalbasis_list(*, active_only: bool = False) -> QuerySet[LegalBasis]:
    """The notices and laws records can cite: public texts, readable by anyone logged in."""
    qs = LegalBasis.objects.all()
    if active_only:
        qs = qs.filter(active=True)
    return qs.order_by("order", "id")


def legalbasis_get(user: User, pk: int) -> LegalBasis:
    access.require(user, "legalbasis.configure")
    basis = LegalBasis.objects.filter(pk=pk).first()
    if basis is None:
        raise NotFound(_("No such legal basis."))
    return basis


# --- the day list ----------------------------------------------------------------------------


def checks_due(user: User, day: dt.date) -> QuerySet[EnforcementRecord]:
    """Follow-up checks planned for `day` or before and not done: the user's own (as one of
    the officers); a supervisor's, every one of his area. Oldest first."""
    qs = EnforcementRecord.objects.visible_to(user).filter(
        followup_on__isnull=False,
        followup_on__lte=day,
        followup_done_at__isnull=True,
    )
    if user.role != Role.SUPERVISOR:
        mine = EnforcementRecord.officers.through.objects.filter(user=user).values(
            "enforcementrecord_id"
        )
        qs = qs.filter(pk__in=mine)
    return qs.order_by("followup_on", "at", "id")


def daylist_section(user, day):
    """This app's part of the day list (fangyi.observation.selectors.DAYLIST_SOURCES): the
    follow-up checks due, each one tap from its form. Two queries whatever the size."""
    if not access.can(user, "enforcement.view"):
        return None

    qs = checks_due(user, day)
    count = qs.count()
    rows = list(
        qs.values_list("pk", "followup_on", "measure", "person__name", "location", "node__name")[
            :DAYLIST_LIMIT
        ]
    )
    measures = {k: str(label) for k, label in Measure.choices}
    overdue, today = _("Overdue"), _("Today")
    items = []
    for pk, due, measure, name, location, place in rows:
        detail = _("Follow-up check of %(measure)s, due %(date)s") % {
            "measure": measures.get(measure, measure),
            "date": due.isoformat(),
        }
        item = DayItem(
            "enforcement",
            URGENCY["enforcement"],
            name or location or place,
            detail,
            f"/enforcement/{pk}/#followup",
            overdue if due < day else today,
            pk,
        )
        if due < day:
            item.badge_css = "warn"
        items.append(item)
    return DaySection(
        key="checks",
        label=ngettext("%(n)d follow-up check", "%(n)d follow-up checks", count) % {"n": count},
        count=count,
        items=items,
        more_url="/enforcement/?followup=due",
        more_label=_("All follow-up checks due"),
    )
