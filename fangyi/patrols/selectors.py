"""Reads of the patrol part of fangyi.patrols, scoped to the user: patrols, their events and
photos, the coverage of the patrol plans, and this part's share of the day list and the
dispatch board. The duty posts' reads are in `posts.py`."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Max, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from fangyi.core import access
from fangyi.core.audit import access_record
from fangyi.core.errors import DomainError
from fangyi.core.models import Node, User, subtree_q
from fangyi.core.scoping import scoped_get
from fangyi.linkage.selectors import BOARD_LIMIT, BoardPanel, display_name
from fangyi.observation.selectors import DAYLIST_LIMIT, URGENCY, DayItem, DaySection
from fangyi.tips.models import OPEN_STATUSES, Tip, TipCategory

from .models import Patrol, PatrolEvent, PatrolPhoto, PatrolPlan

# Coverage rows shown on one page; the rest are counted.
COVERAGE_LIMIT = 500


def patrol_list(
    user: User,
    *,
    under_way: bool | None = None,
    node: Node | None = None,
    leader: User | None = None,
    day: dt.date | None = None,
) -> QuerySet[Patrol]:
    access.require(user, "patrol.view")
    qs = Patrol.objects.visible_to(user).select_related("node", "leader")
    if under_way is not None:
        qs = qs.filter(ended_at__isnull=under_way)
    if node is not None:
        qs = qs.filter(subtree_q(node.path, "node__path"))
    if leader is not None:
        qs = qs.filter(Q(leader=leader) | Q(companions=leader)).distinct()
    if day is not None:
        start = timezone.make_aware(dt.datetime.combine(day, dt.time.min))
        qs = qs.filter(started_at__gte=start, started_at__lt=start + dt.timedelta(days=1))
    return qs.annotate(events_count=Count("events", distinct=True)).order_by("-started_at", "-id")


def patrol_get(user: User, pk: int, *, field: str | None = None, via: str | None = None) -> Patrol:
    """A patrol the user may see (404 otherwise); with `via` the read goes to the access log
    (its events hold what people said)."""
    access.require(user, "patrol.view")
    patrol = scoped_get(
        Patrol,
        user,
        pk,
        related=("node", "leader"),
        field=field,
        message=_("No such patrol."),
    )
    if via:
        access_record(user, patrol, node_path=patrol.node.path, via=via)
    return patrol


def patrol_detail(patrol: Patrol) -> dict:
    """What the patrol page shows besides the patrol: its people, compounds, events (with
    their photos' ids) and route. Five queries whatever the size."""
    events = list(patrol.events.select_related("node", "recorded_by").order_by("at", "id"))
    photos: dict[int, list[int]] = {}
    for pk, event_id in PatrolPhoto.objects.filter(event__patrol=patrol).values_list(
        "pk", "event_id"
    ):
        photos.setdefault(event_id, []).append(pk)
    for ev in events:
        ev.photo_ids = photos.get(ev.pk, [])
    route = list(patrol.route.values_list("at", "latitude", "longitude"))
    return {
        "companions": list(patrol.companions.all()),
        "compounds": list(patrol.compounds.order_by("path")),
        "events": events,
        "route": route,
        "totals": event_totals(events),
    }


def event_totals(events) -> dict[str, int]:
    """What a patrol did, summed: gatherings dispersed, people at them, people reached by
    publicity, people persuaded to wear masks, places checked."""
    out = {"gatherings": 0, "gathered": 0, "publicity": 0, "reached": 0, "masks": 0, "checks": 0}
    for ev in events:
        if ev.kind == "gathering":
            out["gatherings"] += 1
            out["gathered"] += ev.people or 0
        elif ev.kind == "publicity":
            out["publicity"] += 1
            out["reached"] += ev.reached or 0
        elif ev.kind == "masks":
            out["masks"] += ev.people or 0
        elif ev.kind == "inspection":
            out["checks"] += 1
    return out


def event_get(
    user: User, pk: int, *, field: str | None = None, via: str | None = None
) -> PatrolEvent:
    """An event the user may see (404 otherwise). What people said at a gathering is on it,
    so with `via` the read goes to the access log."""
    access.require(user, "patrol.view")
    event = scoped_get(
        PatrolEvent,
        user,
        pk,
        related=("node", "patrol__node", "patrol__leader", "tip"),
        field=field,
        message=_("No such patrol event."),
    )
    if via:
        access_record(user, event, node_path=event.node.path, via=via)
    return event


def photo_get(user: User, pk: int, *, via: str | None = None) -> PatrolPhoto:
    """A photo of an event the user may see; with `via` the read goes to the access log."""
    access.require(user, "patrol.view")
    photo = scoped_get(PatrolPhoto, user, pk, related=("event__node",), message=_("No such photo."))
    if via:
        access_record(user, photo, node_path=photo.event.node.path, via=via)
    return photo


def tip_for(user: User, pk: int, *, field: str = "tip_id") -> Tip:
    """A tip the user may see, for an event to settle (404 naming the field otherwise)."""
    return scoped_get(
        Tip, user, pk, related=("node", "category"), field=field, message=_("No such tip.")
    )


def category_get(pk: int) -> TipCategory:
    """An active tip category (configuration), else a field error."""
    category = TipCategory.objects.filter(pk=pk, active=True).first()
    if category is None:
        raise DomainError(_("Choose the category from the list."), field="category_id")
    return category


def open_tips_at(user: User, event: PatrolEvent) -> list:
    """Tips still open at the event's compound, which the event may settle."""
    return list(
        Tip.objects.visible_to(user)
        .filter(node=event.node, status__in=OPEN_STATUSES)
        .select_related("category")
        .order_by("-received_at")[:10]
    )


# --- coverage of the plans ------------------------------------------------------------------------


@dataclass
class CoverageRow:
    plan_id: int
    node_id: int
    name: str
    times_per_day: int
    responsible: str
    responsible_id: int | None
    last_at: dt.datetime | None
    today: int
    due_at: dt.datetime
    overdue: bool


def interval(times_per_day: int) -> dt.timedelta:
    return dt.timedelta(hours=24) / max(1, times_per_day)


def _plans(user: User, now: dt.datetime) -> QuerySet[PatrolPlan]:
    start = timezone.make_aware(dt.datetime.combine(timezone.localtime(now).date(), dt.time.min))
    return (
        PatrolPlan.objects.visible_to(user)
        .filter(active=True)
        .annotate(
            last_at=Max("node__patrols__started_at"),
            today=Count(
                "node__patrols", filter=Q(node__patrols__started_at__gte=start), distinct=True
            ),
        )
    )


def _rows(plans, now: dt.datetime, names: dict[int | None, str]) -> list[CoverageRow]:
    rows = []
    for p in plans:
        base = p.last_at or p.set_at
        due = base + interval(p.times_per_day)
        rows.append(
            CoverageRow(
                plan_id=p.pk,
                node_id=p.node_id,
                name=p.node.name,
                times_per_day=p.times_per_day,
                responsible=names.get(p.responsible_id or 0, ""),
                responsible_id=p.responsible_id,
                last_at=p.last_at,
                today=p.today,
                due_at=due,
                overdue=due <= now,
            )
        )
    return rows


def coverage(
    user: User, *, node: Node | None = None, now: dt.datetime | None = None
) -> list[CoverageRow]:
    """Every planned compound in the user's jurisdiction (under `node`): when it was last
    patrolled, how many patrols began there today, when the next is due and whether it is
    overdue; overdue first, then the longest unpatrolled. A compound is overdue when its last
    patrol began longer ago than 24 hours / times a day (never patrolled: counted from when
    the plan was set). Two queries whatever the size."""
    access.require(user, "patrol.view")
    now = now or timezone.now()
    qs = _plans(user, now).select_related("node", "responsible")
    if node is not None:
        qs = qs.filter(subtree_q(node.path, "node__path"))
    plans = list(qs.order_by("node__path"))
    names = {
        p.responsible_id: display_name(
            p.responsible.first_name, p.responsible.last_name, p.responsible.username
        )
        for p in plans
        if p.responsible is not None
    }
    rows = _rows(plans, now, names)
    rows.sort(key=lambda r: (not r.overdue, r.due_at))
    return rows


def coverage_page(
    user: User, *, node: Node | None = None, now: dt.datetime | None = None
) -> tuple[list[CoverageRow], int, int]:
    """The coverage page's rows (overdue first, at most COVERAGE_LIMIT), how many compounds
    are overdue and how many are planned, all counted over every plan."""
    rows = coverage(user, node=node, now=now)
    return rows[:COVERAGE_LIMIT], sum(1 for r in rows if r.overdue), len(rows)


def overdue_mine(user: User, now: dt.datetime | None = None) -> list[CoverageRow]:
    """The overdue compounds the user answers for (the day list's part)."""
    now = now or timezone.now()
    plans = _plans(user, now).filter(responsible=user).select_related("node")
    rows = [r for r in _rows(plans, now, {}) if r.overdue]
    rows.sort(key=lambda r: r.due_at)
    return rows


# --- the day list and the dispatch board -------------------------------------------------------


def daylist_section(user, day):
    """This part's share of the day list (fangyi.observation.selectors.DAYLIST_SOURCES): the
    patrol under way (to go back to) and the overdue compounds the user answers for. Two
    queries whatever the size."""
    if not access.can(user, "patrol.record"):
        return None
    now = timezone.now()
    items = []
    running = list(
        Patrol.objects.filter(leader=user, ended_at__isnull=True).values_list(
            "pk", "node__name", "started_at"
        )[:1]
    )
    for pk, name, started in running:
        item = DayItem(
            "patrol",
            URGENCY["patrol"],
            name,
            _("Patrol under way since %(time)s")
            % {"time": timezone.localtime(started).strftime("%H:%M")},
            f"/patrols/{pk}/",
            _("Under way"),
            pk,
        )
        items.append(item)
    overdue = overdue_mine(user, now)
    for row in overdue[:DAYLIST_LIMIT]:
        last = (
            _("last patrolled %(time)s")
            % {"time": timezone.localtime(row.last_at).strftime("%m-%d %H:%M")}
            if row.last_at
            else _("never patrolled")
        )
        item = DayItem(
            "patrol",
            URGENCY["patrol"],
            row.name,
            _("Patrol due %(n)d× a day, %(last)s") % {"n": row.times_per_day, "last": last},
            f"/patrols/new/?node={row.node_id}",
            _("Patrol due"),
            row.node_id,
        )
        item.badge_css = "warn"
        items.append(item)
    if not items:
        return None
    count = len(overdue) + len(running)
    return DaySection(
        key="patrols",
        label=ngettext("%(n)d patrol to do", "%(n)d patrols to do", count) % {"n": count},
        count=count,
        items=items,
        more_url="/patrols/coverage/",
        more_label=_("Patrol coverage"),
    )


def board_section(user, station, now):
    """This part's panel of the dispatch board: the patrols under way under the station, who
    leads them, since when and how many events. One query (two with more than the limit)."""
    if not access.can(user, "patrol.view"):
        return None
    qs = (
        Patrol.objects.visible_to(user)
        .filter(subtree_q(station.path, "node__path"), ended_at__isnull=True)
        .annotate(n=Count("events"))
        .order_by("started_at", "pk")
    )
    rows = list(
        qs.values_list(
            "pk",
            "node__name",
            "started_at",
            "n",
            "leader__first_name",
            "leader__last_name",
            "leader__username",
        )[: BOARD_LIMIT + 1]
    )
    count = len(rows) if len(rows) <= BOARD_LIMIT else qs.count()
    out = []
    for pk, name, started, n, first, last, username in rows[:BOARD_LIMIT]:
        minutes = int((now - started).total_seconds() // 60)
        out.append(
            {
                "label": name,
                "detail": _("%(who)s, since %(time)s, %(n)d events")
                % {
                    "who": display_name(first, last, username),
                    "time": timezone.localtime(started).strftime("%H:%M"),
                    "n": n,
                },
                "url": f"/patrols/{pk}/",
                "badge": ngettext("%(n)d minute", "%(n)d minutes", minutes) % {"n": minutes},
                "badge_css": "",
            }
        )
    return BoardPanel(
        key="patrols",
        title=_("Patrols under way"),
        count=count,
        rows=out,
        more_url="/patrols/?under_way=1",
        more_label=_("All patrols"),
    )


# --- choices for the forms ----------------------------------------------------------------------

AREA_KINDS = ("community", "grid", "compound")
AREA_LIMIT = 400


def area_choices(user: User) -> list[Node]:
    """The communities, grids and compounds of the user's jurisdiction a patrol can set out
    over, in tree order (at most AREA_LIMIT)."""
    return list(
        access.nodes_visible(user).filter(kind__in=AREA_KINDS).order_by("path")[:AREA_LIMIT]
    )


def compounds_under(user: User, node: Node) -> list[Node]:
    return list(
        access.nodes_visible(user)
        .filter(subtree_q(node.path, "path"), kind="compound")
        .order_by("path")[:AREA_LIMIT]
    )


def plan_nodes(user: User) -> list[Node]:
    """Where a supervisor can set a plan: his stations, communities, grids and compounds."""
    return list(
        access.nodes_visible(user)
        .filter(kind__in=("station", *AREA_KINDS))
        .order_by("path")[:AREA_LIMIT]
    )


def responsible_choices(user: User) -> list[User]:
    """Who a supervisor can make answer for compounds: the active police officers, community
    staff and auxiliary police whose jurisdiction lies inside his."""
    return list(
        User.objects.filter(
            access.node_q(user, "nodes__path"),
            is_active=True,
            role__in=("police", "community_staff", "auxiliary"),
        )
        .distinct()
        .order_by("role", "username")
    )
