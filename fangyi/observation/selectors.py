"""Reads of medical observation, always scoped to the acting user: observations, follow-ups,
alerts, the day list of a field user and the observation board."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db.models import (
    Case,
    Count,
    Exists,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from fangyi.core import access
from fangyi.core.audit import access_record
from fangyi.core.errors import NotFound
from fangyi.core.models import Node, Role, User, subtree_q
from fangyi.health.models import Outcome
from fangyi.health.selectors import awaiting_confirmation, awaiting_decision
from fangyi.people.models import Person
from fangyi.people.selectors import person_search_q
from fangyi.screening.models import DoorStatus
from fangyi.screening.selectors import doors_due

from .models import (
    Alert,
    AlertKind,
    FollowUp,
    FollowUpStatus,
    Observation,
    ObservationStatus,
)

OPEN = [FollowUpStatus.DUE, FollowUpStatus.MISSED]
HEALTH_ALERTS = [AlertKind.FEVER, AlertKind.SYMPTOMS]
# How long a missed follow-up stays on a worker's day list, and a release on the board.
OVERDUE_DAYS = 3
RELEASED_DAYS = 7
ENDING_SOON_DAYS = 2
# Items per section of the day list; the rest are counted and one tap away.
DAYLIST_LIMIT = 50


# --- observations ----------------------------------------------------------------------------


def observation_list(
    user: User,
    *,
    status: str = "",
    node: Node | None = None,
    q: str = "",
    kind: str = "",
    person: Person | None = None,
) -> QuerySet[Observation]:
    access.require(user, "observation.view")
    qs = Observation.objects.visible_to(user).select_related(
        "person", "node", "place", "responsible"
    )
    if status:
        qs = qs.filter(status=status)
    if kind:
        qs = qs.filter(kind=kind)
    if node is not None:
        qs = qs.filter(subtree_q(node.path, "node__path"))
    if person is not None:
        qs = qs.filter(person=person)
    if q:
        search = person_search_q(q)
        if search is not None:
            qs = qs.filter(person__in=Person.objects.filter(search).values("pk"))
    return qs.order_by("status", "ends", "id")


def observed_now(person: Person) -> bool:
    """Is the person under observation now (for the link to the daily check)?"""
    return Observation.objects.filter(person=person, status=ObservationStatus.ACTIVE).exists()


def observation_get(user: User, pk: int, *, via: str | None = None) -> Observation:
    """One observation the user may see, else NotFound (as for one that does not exist).
    With `via` ("ui" or "api") the read of the person's record goes to the access log."""
    obs = observation_list(user).filter(pk=pk).first()
    if obs is None:
        raise NotFound(_("No such observation."))
    if via:
        access_record(user, obs, node_path=obs.node.path, via=via)
    return obs


# --- follow-ups ------------------------------------------------------------------------------


def site_staff_followup_q(user: User, prefix: str = "observation__") -> Q:
    """Site staff's follow-ups (or, with prefix="", observations): at their place, of a
    person holding an active placement at their site."""
    if not user.place_id:
        return Q(pk__in=[])
    # Placements live in fangyi.quarantine, above this app: they are reached through the
    # relation they declare on Person (person.placements), never imported.
    here = Person.objects.filter(
        pk=OuterRef(f"{prefix}person_id"),
        placements__site__place_id=user.place_id,
        placements__status="active",
    )
    return Q(**{f"{prefix}place_id": user.place_id}) & Q(Exists(here))


def followup_list(
    user: User,
    *,
    due: dt.date | None = None,
    status: str = "",
    mine: bool = False,
    observation: Observation | None = None,
) -> QuerySet[FollowUp]:
    if user.role == Role.SITE_STAFF:
        # The daily checks at a quarantine site are its people's follow-ups: its staff see
        # (and record) those of observations at their own place of people who are there now
        # (an active placement at their site), nothing else: not one who left.
        access.require(user, "followup.record")
        scope = site_staff_followup_q(user)
    else:
        access.require(user, "observation.view")
        scope = FollowUp.objects.scope_q(user)
    qs = FollowUp.objects.filter(scope).select_related(
        "observation__person", "assignee", "recorded_by"
    )
    if due is not None:
        qs = qs.filter(due=due)
    if status:
        qs = qs.filter(status=status)
    if mine:
        qs = qs.filter(assignee=user)
    if observation is not None:
        qs = qs.filter(observation=observation)
    return qs.order_by("due", "slot", "id")


def followup_get(user: User, pk: int, *, via: str | None = None) -> FollowUp:
    followup = followup_list(user).select_related("observation__node").filter(pk=pk).first()
    if followup is None:
        raise NotFound(_("No such follow-up."))
    if via:
        access_record(user, followup, node_path=followup.observation.node.path, via=via)
    return followup


# --- alerts ----------------------------------------------------------------------------------


def alert_kinds_for(user: User) -> list[str]:
    """Health staff act on fever and symptoms; supervisors on everything, missed included."""
    if not access.can(user, "alert.handle"):
        return []
    if user.role == Role.SUPERVISOR:
        return list(AlertKind.values)
    return list(HEALTH_ALERTS)


def alert_list(user: User, *, open_only: bool = True, kind: str = "") -> QuerySet[Alert]:
    access.require(user, "alert.handle")
    qs = (
        Alert.objects.visible_to(user)
        .filter(kind__in=alert_kinds_for(user))
        .select_related("observation__person", "followup", "resolved_by")
    )
    if open_only:
        qs = qs.filter(resolved_at__isnull=True)
    if kind:
        qs = qs.filter(kind=kind)
    return qs.order_by("-created", "-id")


def alert_get(user: User, pk: int, *, via: str | None = None) -> Alert:
    """One alert the user may act on (by jurisdiction and by kind: missed follow-ups are the
    supervisors'). With `via` the read of the person's data is written to the access log."""
    access.require(user, "alert.handle")
    alert = (
        Alert.objects.visible_to(user)
        .filter(pk=pk, kind__in=alert_kinds_for(user))
        .select_related("observation__person", "observation__node", "followup", "node")
        .first()
    )
    if alert is None:
        raise NotFound(_("No such alert."))
    if via:
        access_record(user, alert.observation, node_path=alert.node.path, via=via)
    return alert


# --- the day list ----------------------------------------------------------------------------


@dataclass
class DayItem:
    """One thing to do today, one tap from its form."""

    kind: str  # alert, door, overdue, followup, declaration, decision
    urgency: int  # lower first
    title: str
    detail: str
    url: str
    badge: str = ""
    pk: int = 0
    css: str = ""  # the item's and its badge's classes, worked out once here, not in the page
    badge_css: str = ""

    def __post_init__(self) -> None:
        refused = self.kind == "door" and self.urgency == URGENCY["door_refused"]
        self.css = "k-door_refused" if refused else f"k-{self.kind}"
        if self.kind == "alert":
            self.badge_css = "err"
        elif self.kind == "overdue" or refused:
            self.badge_css = "warn"


@dataclass
class DayList:
    day: dt.date
    items: list[DayItem] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    more: dict[str, int] = field(default_factory=dict)
    sections: list[DaySection] = field(default_factory=list)  # other apps' parts, with items

    def more_links(self) -> list[tuple[str, int, str, str]]:
        """(key, how many more, url, label) for other apps' sections with more than shown."""
        return [
            (s.key, self.more[s.key], s.more_url, s.more_label)
            for s in self.sections
            if self.more.get(s.key)
        ]


URGENCY = {
    "alert": 0,
    "support": 1,  # a support request addressed to me or my agency, still waiting
    "tip": 2,  # a tip assigned to me, not yet resolved
    "guest": 2,  # a hotel guest flagged by the rules, or a referral not confirmed in time
    "door_refused": 3,
    "refusal": 3,  # a person refusing a quarantine placement, still open
    "overdue": 4,
    "enforcement": 5,  # an enforcement record's follow-up check, due
    "followup": 6,
    "decision": 7,
    "placement": 7,  # a quarantine placement expected to arrive today
    "declaration": 8,
    "door": 9,
    "shift": 3,  # a duty shift to take now, or one nobody has taken (supervisors)
    "patrol": 6,  # a compound whose patrol is overdue, for the officer who answers for it
}


SECTION = {
    "alert": "alerts",
    "support": "support",
    "tip": "tips",
    "guest": "guests",
    "overdue": "overdue",
    "enforcement": "checks",
    "followup": "followups",
    "decision": "decisions",
    "declaration": "declarations",
    "door": "doors",
    "refusal": "refusals",
    "placement": "placements",
    "shift": "shifts",
    "patrol": "patrols",
}


@dataclass
class DaySection:
    """What another app adds to the day list: its items (at most DAYLIST_LIMIT), how many
    there are in all, and where the rest are listed. `key` is one of SECTION's values."""

    key: str
    label: str  # a count badge's text, e.g. "3 support requests"
    count: int
    items: list[DayItem]
    more_url: str
    more_label: str
    badge_css: str = ""


# Other apps' parts of the day list: dotted paths of functions (user, day) -> DaySection | None.
DAYLIST_SOURCES = [
    "fangyi.linkage.selectors.daylist_section",
    "fangyi.tips.selectors.daylist_section",
    "fangyi.enforcement.selectors.daylist_section",
    "fangyi.quarantine.selectors.daylist_section",
    "fangyi.quarantine.refusals.daylist_section",
    "fangyi.guests.selectors.daylist_section",
    "fangyi.patrols.selectors.daylist_section",
    "fangyi.patrols.posts.daylist_section",
]


def _section(qs: QuerySet, *fields: str, limit: int = DAYLIST_LIMIT) -> list[tuple]:
    """Up to `limit` rows as plain tuples (no model instances to build): one query."""
    return list(qs.values_list(*fields)[:limit])


def _url(name: str):
    """A URL maker that reverses once: pk -> the page of the item's form."""
    marker = 987654321
    template = reverse(name, args=[marker])
    head, tail = template.split(str(marker))
    return lambda pk: f"{head}{pk}{tail}"


def daylist(user: User, day: dt.date | None = None) -> DayList:
    """A field user's day: open alerts they act on, refused doors, overdue follow-ups,
    follow-ups due today, decisions to make and self-reports to confirm, doors to knock on;
    most urgent first. A fixed number of queries whatever the size (one per section and one
    count per section), and each section at most DAYLIST_LIMIT items (the rest counted)."""
    day = day or timezone.localdate()
    out = DayList(day=day)
    items = out.items

    if access.can(user, "alert.handle"):
        alerts = alert_list(user)
        out.counts["alerts"] = alerts.count()
        url = _url("alert_detail")
        kinds = {k: str(label) for k, label in AlertKind.choices}
        for pk, kind, message, name in _section(
            alerts, "pk", "kind", "message", "observation__person__name"
        ):
            items.append(
                DayItem("alert", URGENCY["alert"], name, message, url(pk), kinds[kind], pk)
            )

    if access.can(user, "followup.record"):
        mine = FollowUp.objects.visible_to(user).filter(
            assignee=user,
            observation__status=ObservationStatus.ACTIVE,
        )
        overdue = mine.filter(
            status__in=OPEN, due__lt=day, due__gte=day - dt.timedelta(days=OVERDUE_DAYS)
        ).order_by("due", "slot", "id")
        due = mine.filter(status=FollowUpStatus.DUE, due=day).order_by("slot", "id")
        out.counts["overdue"] = overdue.count()
        out.counts["followups"] = due.count()
        url = _url("followup_form")
        statuses = {k: str(label) for k, label in FollowUpStatus.choices}
        for pk, when, status, name in _section(
            overdue, "pk", "due", "status", "observation__person__name"
        ):
            detail = _("Due %(date)s") % {"date": when.isoformat()}
            items.append(
                DayItem("overdue", URGENCY["overdue"], name, detail, url(pk), statuses[status], pk)
            )
        first, second, today_ = (
            _("Follow-up, until %(date)s"),
            _("Second follow-up, until %(date)s"),
            _("Today"),
        )
        for pk, slot, ends, name in _section(
            due, "pk", "slot", "observation__ends", "observation__person__name"
        ):
            detail = (second if slot > 1 else first) % {"date": ends.isoformat()}
            items.append(
                DayItem("followup", URGENCY["followup"], name, detail, url(pk), today_, pk)
            )

    if access.can(user, "decision.make"):
        decisions = awaiting_decision(user).order_by("recorded_at", "id")
        out.counts["decisions"] = decisions.count()
        url = _url("declaration_detail")  # the decision form is on the detail page
        outcomes = {k: str(label) for k, label in Outcome.choices}
        for pk, name, proposal, reason in _section(
            decisions, "pk", "person__name", "proposal", "proposal_reason"
        ):
            label = outcomes.get(proposal, proposal)
            items.append(
                DayItem("decision", URGENCY["decision"], name, reason or label, url(pk), label, pk)
            )

    if access.can(user, "declaration.record"):
        pending = awaiting_confirmation(user).order_by("recorded_at", "id")
        out.counts["declarations"] = pending.count()
        url = _url("declaration_detail")
        to_confirm = _("To confirm")
        for pk, name, declared in _section(pending, "pk", "person__name", "declared_on"):
            detail = _("Self-report of %(date)s to confirm") % {"date": declared.isoformat()}
            items.append(
                DayItem(
                    "declaration", URGENCY["declaration"], name, detail, url(pk), to_confirm, pk
                )
            )

    if access.can(user, "visit.record"):
        doors = doors_due(user, day)
        out.counts["doors"] = doors.count()
        url = _url("door_detail")
        labels = {k: str(label) for k, label in DoorStatus.choices}
        for pk, status, address, purpose in _section(
            doors, "pk", "status", "household__address", "sweep__purpose"
        ):
            urgency = URGENCY["door_refused"] if status == DoorStatus.REFUSED else URGENCY["door"]
            items.append(DayItem("door", urgency, address, purpose, url(pk), labels[status], pk))

    from django.utils.module_loading import import_string

    for source in DAYLIST_SOURCES:
        section = import_string(source)(user, day)
        if section is not None:
            out.sections.append(section)
            out.counts[section.key] = section.count
            items.extend(section.items)

    # A stable sort keeps each section's own order inside its urgency.
    items.sort(key=lambda i: i.urgency)
    shown: dict[str, int] = {}
    for i in items:
        shown[SECTION[i.kind]] = shown.get(SECTION[i.kind], 0) + 1
    out.more = {k: n - shown.get(k, 0) for k, n in out.counts.items() if n > shown.get(k, 0)}
    return out


# --- the board -------------------------------------------------------------------------------

TABS = {
    "symptomatic": gettext_lazy("Symptomatic"),
    "not_reporting": gettext_lazy("Not reporting"),
    "due_today": gettext_lazy("Due today"),
    "ending_soon": gettext_lazy("Ending soon"),
    "released": gettext_lazy("Released"),
}


def _last_recorded(field_name: str):
    return Subquery(
        FollowUp.objects.filter(observation=OuterRef("pk"))
        .exclude(status__in=OPEN)
        .order_by("-due", "-slot", "-id")
        .values(field_name)[:1],
        output_field=FollowUp._meta.get_field(field_name),
    )


def tab_q(tab: str, day: dt.date) -> Q:
    active = Q(status=ObservationStatus.ACTIVE)
    if tab == "symptomatic":
        open_alert = Exists(
            Alert.objects.filter(
                observation=OuterRef("pk"), kind__in=HEALTH_ALERTS, resolved_at__isnull=True
            )
        )
        return active & (Q(open_alert) | Q(last_status=FollowUpStatus.SEEN_UNWELL))
    if tab == "not_reporting":
        silent = Exists(
            FollowUp.objects.filter(
                observation=OuterRef("pk"), status__in=OPEN, due=day - dt.timedelta(days=1)
            )
        )
        return active & (Q(missed_streak__gt=0) | Q(silent))
    if tab == "due_today":
        due = Exists(
            FollowUp.objects.filter(observation=OuterRef("pk"), due=day, status=FollowUpStatus.DUE)
        )
        return active & Q(due)
    if tab == "ending_soon":
        return active & Q(ends__gte=day, ends__lte=day + dt.timedelta(days=ENDING_SOON_DAYS))
    if tab == "released":
        since = timezone.make_aware(
            dt.datetime.combine(day - dt.timedelta(days=RELEASED_DAYS), dt.time.min)
        )
        return Q(status=ObservationStatus.RELEASED, ended_at__gte=since)
    raise NotFound(_("No such tab."), field="tab")


@dataclass
class Board:
    tab: str
    day: dt.date
    counts: dict[str, int]
    rows: QuerySet[Observation]
    node: Node | None = None
    tabs: dict[str, Any] = field(default_factory=lambda: dict(TABS))


def board(user: User, tab: str = "symptomatic", node: Node | None = None, day=None) -> Board:
    """The observation board (health staff, supervisors): the count of each tab in one query
    and the rows of the chosen tab (a lazy queryset: one query however it is sliced)."""
    access.require(user, "board.view")
    day = day or timezone.localdate()
    if tab not in TABS:
        raise NotFound(_("No such tab."), field="tab")
    qs = Observation.objects.visible_to(user)
    if node is not None:
        qs = qs.filter(subtree_q(node.path, "node__path"))
    qs = qs.annotate(
        last_status=_last_recorded("status"),
        last_temperature=_last_recorded("temperature"),
        last_due=_last_recorded("due"),
    )
    # Each tab's condition becomes a 0/1 column of the inner query, summed by the outer one:
    # one query for all the counts.
    flags = qs.annotate(
        **{f"in_{t}": Case(When(tab_q(t, day), then=Value(1)), default=Value(0)) for t in TABS}
    )
    sums = flags.aggregate(**{t: Sum(f"in_{t}") for t in TABS})
    counts = {t: sums[t] or 0 for t in TABS}
    rows = (
        qs.filter(tab_q(tab, day))
        .select_related("person", "node", "responsible", "place")
        .annotate(
            open_alerts=Subquery(
                Alert.objects.filter(observation=OuterRef("pk"), resolved_at__isnull=True)
                .order_by()
                .values("observation")
                .annotate(c=Count("pk"))
                .values("c")[:1]
            )
        )
        .order_by(*(("-ended_at", "id") if tab == "released" else ("ends", "id")))
    )
    return Board(tab=tab, day=day, counts=counts, rows=rows, node=node)


def person_observations(user: User, person: Person) -> dict[str, Any]:
    """The person page's panel: running and past observations, and today's follow-ups."""
    day = timezone.localdate()
    observations = list(observation_list(user, person=person).order_by("-starts", "-id")[:20])
    running = [o for o in observations if o.status == ObservationStatus.ACTIVE]
    today = (
        list(followup_list(user, due=day).filter(observation__in=[o.pk for o in running]))
        if running
        else []
    )
    return {"observations": observations, "running": running, "today": today, "day": day}
