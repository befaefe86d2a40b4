"""Reads of fangyi.quarantine, scoped to the user's jurisdiction, role and (for site staff) place."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, F, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from fangyi.core import access, divisions
from fangyi.core.audit import access_record
from fangyi.core.errors import DomainError, NotFound
from fangyi.core.models import User
from fangyi.health.models import Decision
from fangyi.health.selectors import decision_get
from fangyi.observation.models import FollowUp
from fangyi.observation.selectors import DAYLIST_LIMIT, URGENCY, DayItem, DaySection
from fangyi.people.models import Person

from .models import HOLDING, Bed, BedState, Group, Placement, PlacementStatus, Site
from .services import is_site_staff, placement_q

BED_STATES = [s for s, _label in BedState.choices]


def _day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    start = timezone.make_aware(dt.datetime.combine(day, dt.time.min))
    return start, start + dt.timedelta(days=1)


def site_qs(user: User) -> QuerySet[Site]:
    """The sites a user may see: site staff their own; everyone else by the site's node."""
    return Site.objects.visible_to(user)


def _bed_counts() -> dict:
    return {
        state: Count("beds", filter=Q(beds__state=state), distinct=True) for state in BED_STATES
    }


def site_list(user: User) -> QuerySet[Site]:
    """Sites with their bed counts per state (one query)."""
    access.require(user, "site.view")
    return (
        site_qs(user)
        .select_related("place", "node")
        .annotate(**_bed_counts(), beds_total=Count("beds", distinct=True))
        .order_by("place__name", "pk")
    )


def site_get(user: User, pk: int, via: str | None = None) -> Site:
    access.require(user, "site.view")
    site = site_qs(user).select_related("place", "node").filter(pk=pk).first()
    if site is None:
        raise NotFound(_("No such site."))
    if via:
        access_record(user, site, node_path=site.node.path, via=via)
    return site


def site_pick(pk: int | None, *, field: str = "site", message: str = "") -> Site:
    """The site a placement manager picks for a placement or a transfer. Any site: a district's
    quarantine point takes people from every station (the service checks it is in use and
    takes the group). Missing: the field is to be chosen."""
    site = Site.objects.select_related("place", "node").filter(pk=pk).first() if pk else None
    if site is None:
        raise DomainError(message or _("Choose a site."), field=field)
    return site


def group_find(*, pk: int | None = None, code: str | None = None) -> Group | None:
    """A group (configuration, seen by all) by id or by code; None when there is none."""
    if pk is not None:
        return Group.objects.filter(pk=pk).first()
    if code is not None:
        return Group.objects.filter(code=code).first()
    return None


def group_get(
    *, pk: int | None = None, code: str | None = None, field: str = "group", message: str = ""
) -> Group:
    """A group by id or code, else a field error (the person's group is to be chosen)."""
    group = group_find(pk=pk, code=code)
    if group is None:
        raise DomainError(message or _("Choose the person's group."), field=field)
    return group


def groups_all() -> QuerySet[Group]:
    return Group.objects.all()


def placement_subject(
    user: User,
    person_pk: int | None,
    decision_pk: int | None = None,
    *,
    person_field: str = "person",
    decision_field: str = "decision",
) -> tuple[Person, Decision | None]:
    """The person to place, among those the user may see, and the decision behind it (one of
    that person's); NotFound naming the page's or the payload's field otherwise. The placement
    page and the placement API both read their subject here."""
    person = (
        Person.objects.visible_to(user)
        .select_related("node", "household")
        .filter(pk=person_pk)
        .first()
        if person_pk
        else None
    )
    if person is None:
        raise NotFound(_("No such person."), field=person_field)
    decision = (
        decision_get(decision_pk, person=person, field=decision_field)
        if decision_pk is not None
        else None
    )
    return person, decision


def bed_get(user: User, pk: int) -> Bed:
    bed = (
        Bed.objects.filter(site__in=site_qs(user))
        .select_related("room", "site__place", "site__node")
        .filter(pk=pk)
        .first()
    )
    if bed is None:
        raise NotFound(_("No such bed."))
    return bed


def site_beds(site: Site) -> list:
    """The site's rooms with their beds, and who holds each bed (two queries)."""
    beds = list(site.beds.select_related("room").order_by("room__number", "label"))
    holders = dict(
        Placement.objects.filter(site=site, status__in=list(HOLDING)).values_list(
            "bed_id", "person__name"
        )
    )
    rooms: dict = {}
    for bed in beds:
        bed.holder = holders.get(bed.pk, "")
        rooms.setdefault(bed.room_id, (bed.room, []))[1].append(bed)
    return list(rooms.values())


def placement_list(
    user: User,
    *,
    site: Site | None = None,
    status: str | None = None,
    person=None,
    holding: bool = False,
) -> QuerySet[Placement]:
    access.require(user, "placement.view")
    qs = Placement.objects.filter(placement_q(user)).select_related(
        "person", "site__place", "bed__room", "group", "observation"
    )
    if site is not None:
        qs = qs.filter(site=site)
    if status:
        qs = qs.filter(status=status)
    if holding:
        qs = qs.filter(status__in=list(HOLDING))
    if person is not None:
        qs = qs.filter(person=person)
    return qs.order_by("-reserved_at", "-pk")


def placement_get(user: User, pk: int, via: str | None = None) -> Placement:
    access.require(user, "placement.view")
    placement = (
        Placement.objects.filter(placement_q(user))
        .select_related(
            "person", "node", "site__place", "site__node", "bed__room", "group", "observation"
        )
        .filter(pk=pk)
        .first()
    )
    if placement is None:
        raise NotFound(_("No such placement."))
    if via:
        access_record(user, placement, node_path=placement.node.path, via=via)
    return placement


# --- the occupancy board -----------------------------------------------------------------------


@dataclass
class OccupancyRow:
    site_id: int | None  # None: the total
    name: str
    free: int = 0
    reserved: int = 0
    occupied: int = 0
    cleaning: int = 0
    out_of_service: int = 0
    arrivals: int = 0  # reserved placements expected today (or with no time given) not arrived
    releases: int = 0  # people in quarantine whose observation ends today or before

    @property
    def beds(self) -> int:
        return self.free + self.reserved + self.occupied + self.cleaning + self.out_of_service

    @property
    def in_use_percent(self) -> int:
        usable = self.beds - self.out_of_service
        return round(100 * (self.reserved + self.occupied) / usable) if usable else 0


def _placement_counts(sites: QuerySet, day: dt.date) -> dict[int, tuple[int, int]]:
    start, end = _day_bounds(day)
    rows = (
        Placement.objects.filter(site__in=sites, status__in=list(HOLDING))
        .order_by()
        .values("site_id")
        .annotate(
            arrivals=Count(
                "pk",
                filter=Q(status=PlacementStatus.RESERVED)
                & (Q(expected_at__lt=end) | Q(expected_at__isnull=True)),
            ),
            releases=Count(
                "pk",
                filter=Q(status=PlacementStatus.ACTIVE, observation__ends__lte=day),
            ),
        )
        .values_list("site_id", "arrivals", "releases")
    )
    return {site: (a, r) for site, a, r in rows}


def occupancy(user: User, day: dt.date | None = None) -> list[OccupancyRow]:
    """One row per site the user may see, then the total: beds by state, arrivals expected
    today, releases due. Two queries whatever the number of sites or beds."""
    access.require(user, "occupancy.view")
    day = day or timezone.localdate()
    sites = site_qs(user).filter(active=True)
    counts = (
        Bed.objects.filter(site__in=sites)
        .order_by()
        .values("site_id")
        .annotate(**{s: Count("pk", filter=Q(state=s)) for s in BED_STATES})
    )
    rows: dict[int, OccupancyRow] = {}
    site_rows = sites.select_related("place").order_by("place__name", "pk")
    by_site = {c["site_id"]: c for c in counts}
    placements = _placement_counts(sites, day)
    for site in site_rows:
        c = by_site.get(site.pk, {})
        arrivals, releases = placements.get(site.pk, (0, 0))
        rows[site.pk] = OccupancyRow(
            site.pk,
            site.place.name,
            **{s: c.get(s, 0) for s in BED_STATES},
            arrivals=arrivals,
            releases=releases,
        )
    total = OccupancyRow(None, _("All sites"))
    for row in rows.values():
        for f in (*BED_STATES, "arrivals", "releases"):
            setattr(total, f, getattr(total, f) + getattr(row, f))
    return [*rows.values(), total]


def expected_arrivals(site: Site, now: dt.datetime | None = None) -> list[Placement]:
    """Every placement reserved at the site and not yet arrived, whenever it is expected: a
    guest referred at 22:00 with four hours to arrive is expected tomorrow, and the site must
    see him tonight. Those without a time first, then by the time expected; each marked
    `overdue` (its time has passed) and `later` (expected on a later day)."""
    now = now or timezone.now()
    today = timezone.localtime(now).date()
    rows = list(
        Placement.objects.filter(site=site, status=PlacementStatus.RESERVED)
        .select_related("person", "bed__room", "group")
        .order_by(F("expected_at").asc(nulls_first=True), "pk")
    )
    for p in rows:
        p.overdue = p.expected_at is not None and p.expected_at < now
        p.later = p.expected_at is not None and timezone.localtime(p.expected_at).date() > today
    return rows


def in_quarantine(site: Site, day: dt.date) -> list[Placement]:
    """People at the site, with their end date and today's check (one follow-up query)."""

    rows = list(
        Placement.objects.filter(site=site, status=PlacementStatus.ACTIVE)
        .select_related("person", "bed__room", "observation", "group")
        .order_by("observation__ends", "pk")
    )
    obs_ids = [p.observation_id for p in rows if p.observation_id]
    checks: dict[int, FollowUp] = {}
    for f in FollowUp.objects.filter(observation_id__in=obs_ids, due=day).order_by("slot"):
        checks.setdefault(f.observation_id, f)
    for p in rows:
        p.check = checks.get(p.observation_id)
        p.release_due = bool(p.observation and p.observation.ends <= day)
    return rows


# --- the day list ------------------------------------------------------------------------------


def daylist_section(user, day):
    """Placements to see through today: for site staff the arrivals expected at their site, for
    health staff and supervisors the reservations in their area not yet arrived. One query
    (two when there are more than shown)."""
    if not (access.can(user, "placement.arrive") and access.can(user, "placement.view")):
        return None
    from django.urls import reverse

    _start, end = _day_bounds(day)
    qs = (
        Placement.objects.filter(placement_q(user), status=PlacementStatus.RESERVED)
        .filter(Q(expected_at__lt=end) | Q(expected_at__isnull=True))
        .order_by("expected_at", "pk")
    )
    rows = list(
        qs.values_list("pk", "person__name", "site__place__name", "expected_at", "transport")[
            :DAYLIST_LIMIT
        ]
    )
    count = len(rows) if len(rows) < DAYLIST_LIMIT else qs.count()
    if not count:
        return None
    marker = 987654321
    head, tail = reverse("placement_detail", args=[marker]).split(str(marker))
    items = []
    now = timezone.now()
    late = False
    for pk, name, site_name, expected, transport in rows:
        when = timezone.localtime(expected).strftime("%H:%M") if expected else _("today")
        overdue = expected is not None and expected < now
        late = late or overdue
        detail = _("%(site)s · expected %(when)s") % {"site": site_name, "when": when}
        if transport:
            detail += f" · {transport[:60]}"
        item = DayItem(
            "placement",
            URGENCY.get("placement", URGENCY["decision"]),
            name,
            detail,
            f"{head}{pk}{tail}",
            _("Late") if overdue else _("Arriving"),
            pk,
        )
        if overdue:
            item.badge_css = "warn"
        items.append(item)
    more = reverse("site_list") if is_site_staff(user) else reverse("placement_list")
    return DaySection(
        key="placements",
        label=ngettext("%(n)d arrival expected", "%(n)d arrivals expected", count) % {"n": count},
        count=count,
        items=items,
        more_url=more + ("" if is_site_staff(user) else "?status=reserved"),
        more_label=_("All placements"),
        badge_css="warn" if late else "",
    )


def group_implied(decision: Decision | None) -> Group | None:
    """The group a decision implies, so that health staff do not pick it by hand: a close
    contact of a confirmed or suspected case is `close_contact`; travel from Hubei is `hubei`,
    from another risk area `risk_area`. None when the declaration says neither (or there is no
    decision): the page then asks."""
    declaration = decision.declaration if decision is not None else None
    if declaration is None:
        return None
    code = ""
    if any((c or {}).get("kind") in ("confirmed", "suspected") for c in declaration.contacts):
        code = "close_contact"
    else:
        places = [str((t or {}).get("place", "")) for t in declaration.travel]
        found = [d for p in places for d in divisions.resolve(p)]
        hubei = divisions.get("420000")
        if hubei is not None and any(hubei.covers(d.code) for d in found):
            code = "hubei"
        elif places and declaration.proposal in ("home", "central"):
            code = "risk_area"
    return Group.objects.filter(code=code).first() if code else None


def site_of_decision(decision: Decision | None) -> Site | None:
    """The site at the place the decision chose, if it names one."""
    if decision is None or not decision.place_id:
        return None
    return Site.objects.filter(place_id=decision.place_id).first()
