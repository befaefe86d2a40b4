"""Reads of fangyi.linkage, scoped to the user's jurisdiction and role: support requests, the
dispatch board of a station, this app's part of the day list."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Case, F, IntegerField, Q, QuerySet, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from fangyi.core import access
from fangyi.core.audit import access_record
from fangyi.core.errors import DomainError, NotFound
from fangyi.core.models import Node, NodeKind, Role, User, subtree_q
from fangyi.observation.selectors import DAYLIST_LIMIT, URGENCY, DayItem, DaySection
from fangyi.people.models import Household, Person
from fangyi.tips.models import OPEN_STATUSES, Tip, TipStatus
from fangyi.tips.models import Tip as TipModel

from .models import (
    ACTIVE,
    RUNNING,
    Agency,
    RequestStatus,
    ResponseTarget,
    SupportRequest,
    Urgency,
    agency_of,
)

# Lists on the board: the most urgent this many, the rest counted.
BOARD_LIMIT = 50
URGENCY_RANK = Case(
    When(urgency=Urgency.URGENT, then=Value(0)),
    When(urgency=Urgency.HIGH, then=Value(1)),
    default=Value(2),
    output_field=IntegerField(),
)
RUNNING_FIRST = Case(
    When(status__in=RUNNING, then=Value(0)), default=Value(1), output_field=IntegerField()
)
CLOSED = (RequestStatus.DONE, RequestStatus.DECLINED, RequestStatus.CANCELLED)
STATUS_FILTERS = ("active", "overdue", "closed", *RequestStatus.values)
TABS = ("to_me", "mine", "all")


def visible_q(user: User) -> Q:
    """Requests whose place is in the user's jurisdiction, that the user asked for, or whose
    requester's side (from_node) is in the user's jurisdiction."""
    return SupportRequest.objects.scope_q(user)


def to_me_q(user: User) -> Q:
    """Requests addressed to the user, or to the user's agency in his jurisdiction; for a
    supervisor, every request of his area (he answers for every agency)."""
    in_area = SupportRequest.objects.scope_q(user, "node__path")
    if user.role == Role.SUPERVISOR:
        return in_area
    agency = agency_of(user.role)
    q = Q(target_user=user)
    if agency:
        q |= Q(agency=agency) & in_area
    return q


def support_list(
    user: User,
    *,
    status: str = "",
    mine: bool = False,
    to_me: bool = False,
    now: dt.datetime | None = None,
) -> QuerySet[SupportRequest]:
    """The requests the user may see; running ones first, closest due first. `status`: one of
    STATUS_FILTERS; `mine`: asked by the user; `to_me`: addressed to him or his agency."""
    access.require(user, "support.view")
    qs = SupportRequest.objects.filter(visible_q(user))
    if status:
        if status not in STATUS_FILTERS:
            raise DomainError(_("Unknown status filter."), field="status")
        if status == "active":
            qs = qs.filter(status__in=ACTIVE)
        elif status == "overdue":
            qs = qs.filter(status__in=RUNNING, due_at__lt=now or timezone.now())
        elif status == "closed":
            qs = qs.filter(status__in=CLOSED)
        else:
            qs = qs.filter(status=status)
    if mine:
        qs = qs.filter(requested_by=user)
    if to_me:
        qs = qs.filter(to_me_q(user))
    return (
        qs.select_related(
            "node", "from_node", "requested_by", "target_user", "accepted_by", "household", "person"
        )
        .select_related("tip")
        .annotate(running=RUNNING_FIRST, rank=URGENCY_RANK)
        .order_by("running", "rank", "due_at", "-id")
    )


def support_get(user: User, pk: int, *, via: str | None = None) -> SupportRequest:
    """One request the user may see, else NotFound (as for one that does not exist). With
    `via` ("ui", "api", "panel") the read goes to the access log."""
    request = support_list(user).filter(pk=pk).select_related("assignment__sweep").first()
    if request is None:
        raise NotFound(_("No such support request."))
    if via:
        access_record(user, request, node_path=request.node.path, via=via)
    return request


def door_support(user: User, assignment) -> SupportRequest | None:
    """The latest request made from a refused door, if the user may see it; one query."""
    if not access.can(user, "support.view"):
        return None
    return (
        SupportRequest.objects.filter(visible_q(user), assignment=assignment)
        .select_related("accepted_by", "requested_by")
        .order_by("-created_at", "-id")
        .first()
    )


def tip_support(user: User, tip) -> list[SupportRequest]:
    """The support requests on a tip that the user may see, newest first."""
    access.require(user, "support.view")
    return list(
        SupportRequest.objects.filter(visible_q(user), tip=tip)
        .select_related("requested_by", "accepted_by", "target_user")
        .order_by("-created_at", "-id")
    )


# --- timers ------------------------------------------------------------------------------------


def timer(
    start: dt.datetime, due: dt.datetime | None, now: dt.datetime, running: bool = True
) -> dict[str, Any]:
    """Seconds elapsed since `start`, seconds left until `due` (negative once past), overdue."""
    left = int((due - now).total_seconds()) if due is not None and running else None
    return {
        "elapsed": max(0, int((now - start).total_seconds())),
        "left": left,
        "overdue": bool(running and left is not None and left < 0),
    }


def display_name(first: str, last: str, username: str) -> str:
    """User.display_name from values() columns."""
    first, last = (first or "").strip(), (last or "").strip()
    if any("\u3400" <= ch <= "\u9fff" for ch in first + last):
        return (last + first) or username
    return f"{first} {last}".strip() or username


def request_timer(request: SupportRequest, now: dt.datetime | None = None) -> dict[str, Any]:
    now = now or timezone.now()
    running = request.status in RUNNING
    since = request.created_at
    if not running:
        since = (
            request.done_at
            or request.arrived_at
            or request.declined_at
            or request.cancelled_at
            or request.created_at
        )
    return {**timer(since, request.due_at, now, running), "since": since, "running": running}


# --- the dispatch board ------------------------------------------------------------------------


def board_stations(user: User) -> list[Node]:
    """The boards the user may open: the stations in his jurisdiction; a user below a station
    (community staff) gets his own nodes instead."""
    access.require(user, "dispatch.view")
    stations = list(access.nodes_visible(user).filter(kind=NodeKind.STATION).order_by("path"))
    if stations:
        return stations
    return list(Node.objects.filter(path__in=access.user_paths(user)).order_by("path"))


def board_station_get(user: User, pk: int) -> Node:
    for node in board_stations(user):
        if node.pk == pk:
            return node
    raise NotFound(_("No such station."))


@dataclass
class BoardPanel:
    """What another app adds to the dispatch board (BOARD_SOURCES): a titled list of rows,
    each a dict with "label", "detail", "url", "badge" and "badge_css" ("warn" for a problem),
    at most BOARD_LIMIT of them, and how many there are in all."""

    key: str
    title: str
    count: int
    rows: list[dict[str, Any]] = field(default_factory=list)
    more_url: str = ""
    more_label: str = ""

    @property
    def problems(self) -> int:
        return sum(1 for r in self.rows if r.get("badge_css") == "warn")


# Other apps' panels of the board: dotted paths of functions (user, station, now) ->
# BoardPanel | None, imported when the board is built (the apps sit above this one).
BOARD_SOURCES = [
    "fangyi.patrols.selectors.board_section",
    "fangyi.patrols.posts.board_section",
]


@dataclass
class Board:
    """A station's live board: open tips and active support requests, each a dict of values
    with its timer (`elapsed`, `left` in seconds, `overdue`); at most BOARD_LIMIT of each, the
    most urgent, and how many there are in all."""

    station: Node
    now: dt.datetime
    tips: list[dict[str, Any]] = field(default_factory=list)
    tips_count: int = 0
    requests: list[dict[str, Any]] = field(default_factory=list)
    requests_count: int = 0
    panels: list[BoardPanel] = field(default_factory=list)

    @property
    def overdue(self) -> int:
        return (
            sum(1 for r in self.tips if r["overdue"])
            + sum(1 for r in self.requests if r["overdue"])
            + sum(p.problems for p in self.panels)
        )

    @property
    def tips_more(self) -> int:
        return max(0, self.tips_count - len(self.tips))

    @property
    def requests_more(self) -> int:
        return max(0, self.requests_count - len(self.requests))


TIP_FIELDS = (
    "pk",
    "code",
    "category__name",
    "node__name",
    "address",
    "status",
    "urgent",
    "received_at",
    "due_at",
)
# The requests' own columns and their node's name only: on PostgreSQL, planning a join of seven
# tables (node, household, person, tip, two users) took 12-25 ms per poll against 0.7 ms to run
# it, so the names of the few rows shown are read apart, one small IN query per table.
REQUEST_FIELDS = (
    "pk",
    "agency",
    "urgency",
    "status",
    "need",
    "node__name",
    "household_id",
    "person_id",
    "tip_id",
    "assignment_id",
    "created_at",
    "due_at",
    "accepted_at",
    "arrived_at",
    "escalated_at",
    "target_minutes",
    "requested_by_id",
    "accepted_by_id",
)


def _names(model, ids: set, *fields: str) -> dict[int, tuple]:
    """{pk: (fields...)} of the given rows: one query, none when there are no ids."""
    ids.discard(None)
    if not ids:
        return {}
    return {row[0]: row[1:] for row in model.objects.filter(pk__in=ids).values_list("pk", *fields)}


def _capped(qs: QuerySet, fields: tuple[str, ...], limit: int) -> tuple[list[dict], int]:
    """Up to `limit` rows as dicts, and the total: one query, two when there are more."""
    rows = list(qs.values(*fields)[: limit + 1])
    if len(rows) <= limit:
        return rows, len(rows)
    return rows[:limit], qs.count()


def board(
    user: User, station: Node, *, now: dt.datetime | None = None, limit: int = BOARD_LIMIT
) -> Board:
    """Open tips and active support requests under `station` in the user's jurisdiction, the
    most urgent first, with their timers, and the panels of BOARD_SOURCES. At most nine queries
    whatever the size (and each panel's own): the user's
    nodes (cached for the request), the tips, the requests, a count of each only when there are
    more than `limit`, and the names the shown requests point at (households, persons, tips,
    users)."""

    access.require(user, "dispatch.view")
    now = now or timezone.now()
    under = subtree_q(station.path, "node__path")
    tips_qs = (
        Tip.objects.visible_to(user)
        .filter(under, status__in=OPEN_STATUSES)
        .order_by("-urgent", F("due_at").asc(nulls_last=True), "received_at", "pk")
    )
    tips, tips_count = _capped(tips_qs, TIP_FIELDS, limit)
    labels = dict(_tip_status_labels())
    for t in tips:
        t.update(timer(t["received_at"], t["due_at"], now))
        t["status_label"] = labels.get(t["status"], t["status"])

    req_qs = (
        SupportRequest.objects.visible_to(user, "node__path")
        .filter(under, status__in=ACTIVE)
        .annotate(running=RUNNING_FIRST, rank=URGENCY_RANK)
        .order_by("running", "due_at", "rank", "pk")
    )
    requests, requests_count = _capped(req_qs, REQUEST_FIELDS, limit)

    households = _names(Household, {r["household_id"] for r in requests}, "address")
    persons = _names(Person, {r["person_id"] for r in requests}, "name")
    tip_codes = _names(TipModel, {r["tip_id"] for r in requests}, "code")
    users = _names(
        User,
        {r["requested_by_id"] for r in requests} | {r["accepted_by_id"] for r in requests},
        "first_name",
        "last_name",
        "username",
    )
    agencies = {k: str(v) for k, v in Agency.choices}
    statuses = {k: str(v) for k, v in RequestStatus.choices}
    urgencies = {k: str(v) for k, v in Urgency.choices}
    for r in requests:
        r["is_running"] = r["status"] in RUNNING
        since = r["created_at"] if r["is_running"] else (r["arrived_at"] or r["created_at"])
        r["since"] = since
        r.update(timer(since, r["due_at"], now, r["is_running"]))
        r["agency_label"] = agencies.get(r["agency"], r["agency"])
        r["status_label"] = statuses.get(r["status"], r["status"])
        r["urgency_label"] = urgencies.get(r["urgency"], r["urgency"])
        r["household__address"] = households.get(r["household_id"], ("",))[0]
        r["person__name"] = persons.get(r["person_id"], ("",))[0]
        r["tip__code"] = tip_codes.get(r["tip_id"], ("",))[0]
        r["place"] = r["household__address"] or r["person__name"] or r["node__name"]
        by = users.get(r["requested_by_id"])
        r["requested_by"] = display_name(*by) if by else ""
        accepted = users.get(r["accepted_by_id"])
        r["accepted_by"] = display_name(*accepted) if accepted else ""
    from django.utils.module_loading import import_string

    panels = []
    for source in BOARD_SOURCES:
        panel = import_string(source)(user, station, now)
        if panel is not None:
            panels.append(panel)
    return Board(
        station=station,
        now=now,
        tips=tips,
        tips_count=tips_count,
        requests=requests,
        requests_count=requests_count,
        panels=panels,
    )


def _tip_status_labels():

    return [(k, str(v)) for k, v in TipStatus.choices]


# --- the day list ------------------------------------------------------------------------------


def daylist_section(user, day):
    """This app's part of the day list (fangyi.observation.selectors.DAYLIST_SOURCES): the
    requests addressed to the user or his agency in his jurisdiction, still waiting, the most
    urgent and closest due first; for supervisors the overdue (escalated) requests of their
    area too, in red. Two queries."""
    if not access.can(user, "support.respond"):
        return None
    from django.urls import reverse

    now = timezone.now()
    if user.role == Role.SUPERVISOR:
        q = (Q(target_user=user) & Q(status=RequestStatus.OPEN)) | (
            Q(status__in=RUNNING, escalated_at__isnull=False)
            & (
                SupportRequest.objects.scope_q(user, "node__path")
                | SupportRequest.objects.scope_q(user, "from_node__path")
            )
        )
    else:
        agency = agency_of(user.role)
        mine = Q(target_user=user)
        if agency:
            mine |= Q(agency=agency) & SupportRequest.objects.scope_q(user, "node__path")
        q = mine & Q(status=RequestStatus.OPEN)
    qs = (
        SupportRequest.objects.filter(q)
        .annotate(rank=URGENCY_RANK)
        .order_by("rank", "due_at", "pk")
    )
    rows = list(
        qs.values_list(
            "pk",
            "need",
            "urgency",
            "due_at",
            "escalated_at",
            "household__address",
            "person__name",
            "node__name",
            "agency",
        )[:DAYLIST_LIMIT]
    )
    count = len(rows) if len(rows) < DAYLIST_LIMIT else qs.count()
    marker = 987654321
    head, tail = reverse("support_detail", args=[marker]).split(str(marker))
    urgencies = {k: str(v) for k, v in Urgency.choices}
    agencies = {k: str(v) for k, v in Agency.choices}
    items = []
    late = False
    for pk, need, urgency, due, escalated, address, name, place, agency in rows:
        overdue = due < now
        detail = _("%(agency)s · due %(time)s · %(need)s") % {
            "agency": agencies.get(agency, agency),
            "time": timezone.localtime(due).strftime("%H:%M"),
            "need": need[:80],
        }
        item = DayItem(
            "support",
            URGENCY["support"],
            address or name or place,
            detail,
            f"{head}{pk}{tail}",
            _("Overdue") if overdue else urgencies.get(urgency, urgency),
            pk,
        )
        if overdue or escalated:
            item.badge_css = "err"
            late = True
        elif urgency == Urgency.URGENT:
            item.badge_css = "warn"
        items.append(item)
    return DaySection(
        key="support",
        label=ngettext("%(n)d support request", "%(n)d support requests", count) % {"n": count},
        count=count,
        items=items,
        more_url=reverse("support_list") + "?tab=to_me",
        more_label=_("All support requests"),
        badge_css="err" if late else ("warn" if count else ""),
    )


def response_targets() -> dict[str, int]:
    """Urgency → the minutes a support request of it should be answered in (configuration)."""
    return {t.urgency: t.minutes for t in ResponseTarget.objects.all()}
