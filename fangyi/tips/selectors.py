"""Reads of fangyi.tips, scoped to the user's jurisdiction and role: the staff's tips and
visits, the reporter's public view by tracking code, and the tips part of the day list."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Case, IntegerField, Q, QuerySet, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _

from fangyi.core import access
from fangyi.core.audit import access_record
from fangyi.core.errors import NotFound
from fangyi.core.models import Node, User, subtree_q
from fangyi.observation.selectors import (
    DAYLIST_LIMIT,
    URGENCY,
    DayItem,
    DaySection,
    _section,
    _url,
)

from .models import OPEN_STATUSES, Tip, TipCategory, TipEvent, TipPhoto, TipStatus, TipVisit
from .services import CODE_RE, duplicates_of, normalize_code


def unknown_code() -> str:
    """One message for a code that does not exist and one that cannot exist."""
    return _("No tip has this tracking code. Check the code and try again.")


def _open_rank():
    return Case(
        When(status__in=OPEN_STATUSES, then=Value(0)), default=Value(1), output_field=IntegerField()
    )


def tip_list(
    user: User,
    *,
    status: str = "",
    category: TipCategory | int | None = None,
    node: Node | None = None,
    q: str = "",
    mine: bool = False,
    open_only: bool = False,
) -> QuerySet[Tip]:
    """Tips of the user's jurisdiction: open ones first, urgent first, the earliest due first;
    then the rest, newest first."""
    access.require(user, "tip.view")
    qs = Tip.objects.visible_to(user).select_related("category", "node")
    if status == "open" or open_only:
        qs = qs.filter(status__in=OPEN_STATUSES)
    elif status:
        qs = qs.filter(status=status)
    if category:
        qs = qs.filter(category=category)
    if node is not None:
        qs = qs.filter(subtree_q(node.path, "node__path"))
    if mine:
        qs = qs.filter(assignees=user)
    q = (q or "").strip()
    if q:
        code = normalize_code(q)
        qs = qs.filter(
            Q(code=code)
            | Q(description__icontains=q)
            | Q(address__icontains=q)
            | Q(node__name__icontains=q)
        )
    return qs.annotate(open_rank=_open_rank()).order_by(
        "open_rank", "-urgent", "due_at", "-received_at", "-id"
    )


def tip_get(user: User, pk: int, *, via: str | None = None) -> Tip:
    """One tip the user may see, else NotFound (as for one that does not exist). With `via`
    ("ui", "api", "panel") the read goes to the access log: it holds the reporter's data."""
    access.require(user, "tip.view")
    tip = (
        Tip.objects.visible_to(user)
        .filter(pk=pk)
        .select_related("category", "node", "household", "duplicate_of", "created_by")
        .first()
    )
    if tip is None:
        raise NotFound(_("No such tip."))
    if via:
        access_record(user, tip, node_path=tip.node.path, via=via)
    return tip


def tip_out(user: User, pk: int) -> Tip:
    """A tip with what its API answer shows (category, node, assignees), read in the user's
    scope; NotFound otherwise."""
    tip = (
        Tip.objects.visible_to(user)
        .select_related("category", "node")
        .prefetch_related("assignees")
        .filter(pk=pk)
        .first()
    )
    if tip is None:
        raise NotFound(_("No such tip."))
    return tip


def visit_out(user: User, pk: int) -> TipVisit:
    """A visit with its recorder and photos, read in the user's scope; NotFound otherwise."""
    visit = (
        TipVisit.objects.visible_to(user)
        .select_related("by")
        .prefetch_related("photos")
        .filter(pk=pk)
        .first()
    )
    if visit is None:
        raise NotFound(_("No such visit."))
    return visit


def tip_duplicates(user: User, tip: Tip) -> list[Tip]:
    """Likely duplicates of the tip that the user may see."""
    return list(duplicates_of(tip).visible_to(user).select_related("category", "node")[:20])


def visit_list(user: User, tip: Tip) -> list[TipVisit]:
    access.require(user, "tip.view")
    return list(
        TipVisit.objects.filter(tip=tip)
        .select_related("by")
        .prefetch_related("photos")
        .order_by("at", "id")
    )


def event_list(tip: Tip) -> list[TipEvent]:
    return list(tip.events.select_related("by").order_by("at", "id"))


def photo_get(user: User, pk: int, *, via: str | None = None) -> TipPhoto:
    access.require(user, "tip.view")
    photo = (
        TipPhoto.objects.visible_to(user).filter(pk=pk).select_related("visit__tip__node").first()
    )
    if photo is None:
        raise NotFound(_("No such photo."))
    if via:
        access_record(user, photo.visit.tip, node_path=photo.visit.tip.node.path, via=via)
    return photo


# --- the reporter's view ------------------------------------------------------------------------


def tip_public(code: str) -> Tip:
    """The tip with this tracking code, for its reporter. Unknown and malformed codes answer
    the same NotFound."""
    code = normalize_code(code)
    tip = None
    if CODE_RE.match(code):
        tip = (
            Tip.objects.select_related("category", "node", "duplicate_of__node")
            .filter(code=code)
            .first()
        )
    if tip is None:
        raise NotFound(unknown_code(), field="code")
    return tip


@dataclass
class PublicEvent:
    status: str
    label: str
    at: dt.datetime


@dataclass
class PublicView:
    """All the tracking page and API show: never a description, name, phone or note."""

    code: str
    category: str
    received_at: dt.datetime
    place: str
    status: str
    status_label: str
    answer: str
    answered_at: dt.datetime | None
    merged: bool
    events: list[PublicEvent] = field(default_factory=list)


def public_view(tip: Tip) -> PublicView:
    """What the reporter sees. A merged tip follows its main tip: its status, its events after
    the merge, and its answer."""
    main = tip.duplicate_of or tip
    labels = dict(TipStatus.choices)
    own = list(tip.events.filter(public=True).order_by("at", "id").values_list("status", "at"))
    rows = own
    if main.pk != tip.pk:
        merged_at = tip.resolved_at or (own[-1][1] if own else tip.received_at)
        rows = [r for r in own if r[0] != TipStatus.RESOLVED]
        rows += list(
            main.events.filter(public=True, at__gte=merged_at)
            .order_by("at", "id")
            .values_list("status", "at")
        )
    events, last = [], None
    for status, at in rows:
        if status == last:
            continue  # a reopened tip's "assigned" after "assigned" adds nothing to read
        events.append(PublicEvent(status=status, label=str(labels[status]), at=at))
        last = status
    return PublicView(
        code=tip.code,
        category=tip.category.name,
        received_at=tip.received_at,
        place=tip.node.name,
        status=main.status,
        status_label=str(labels[main.status]),
        answer=main.answer if main.status in (TipStatus.ANSWERED, TipStatus.CLOSED) else "",
        answered_at=main.answered_at,
        merged=main.pk != tip.pk,
        events=events,
    )


# --- the day list -------------------------------------------------------------------------------


def daylist_section(user, day):
    """This app's part of the day list (fangyi.observation.selectors.DAYLIST_SOURCES): open
    tips assigned to the user, urgent first, the earliest due first. One query (two when
    there are more than fit)."""
    from django.urls import reverse

    if not access.can(user, "tip.handle"):
        return None
    mine = (
        Tip.objects.visible_to(user)
        .filter(assignees=user, status__in=OPEN_STATUSES)
        .order_by("-urgent", "due_at", "received_at", "id")
    )
    rows = _section(
        mine,
        "pk",
        "category__name",
        "node__name",
        "status",
        "urgent",
        "due_at",
        limit=DAYLIST_LIMIT,
    )
    if not rows:
        return None
    # One query unless the section is full: only then are the rest counted.
    count = mine.count() if len(rows) == DAYLIST_LIMIT else len(rows)
    url = _url("tip_detail")
    labels = dict(TipStatus.choices)
    items = []
    for pk, category, place, status, urgent, due in rows:
        detail = place
        if due is not None:
            detail = _("%(place)s · on scene by %(time)s") % {
                "place": place,
                "time": timezone.localtime(due).strftime("%m-%d %H:%M"),
            }
        item = DayItem("tip", URGENCY["tip"], category, detail, url(pk), str(labels[status]), pk)
        if urgent:
            item.badge_css = "warn"
        items.append(item)
    return DaySection(
        key="tips",
        label=_("%(n)d tips") % {"n": count},
        count=count,
        items=items,
        more_url=reverse("tip_list") + "?mine=1&status=open",
        more_label=_("All my open tips"),
    )


def category_list() -> list[TipCategory]:
    """Every category with its routing, in the configured order (configuration, not personal)."""
    return list(TipCategory.objects.order_by("order", "id"))


def category_get(pk: int) -> TipCategory:
    category = TipCategory.objects.filter(pk=pk).first()
    if category is None:
        raise NotFound(_("No such category."))
    return category


def category_by_code(code: str) -> TipCategory | None:
    """The category of a list filter (`?category=`); an unknown code filters nothing out."""
    return TipCategory.objects.filter(code=code).first() if code else None
