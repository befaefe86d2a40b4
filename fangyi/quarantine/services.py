"""Writes of fangyi.quarantine: sites, rooms and beds, placements (reserve, arrive, transfer,
release, cancel, refused).

Every function takes the acting user first (keyword `actor`), checks the policy, validates
everything before writing, writes its audit row in the same transaction, and raises
DomainError (with the field) on bad input.

A bed is never given twice: placement_reserve takes a bed only by a conditional UPDATE from
free to reserved, and the placement that holds it is unique per bed in the database
(`placement_one_per_bed`); a lost race tries another bed until none is free.
"""

from __future__ import annotations

import datetime as dt
import math
import random
import uuid
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from fangyi.core import access
from fangyi.core.audit import audit_record
from fangyi.core.errors import Conflict, DomainError, NotFound
from fangyi.core.idempotency import replay
from fangyi.core.models import Node, Role, User
from fangyi.core.transitions import Lifecycle, Move, Step, allowed_steps, register, transition
from fangyi.observation.models import (
    FollowUp,
    FollowUpStatus,
    Observation,
    ObservationKind,
    ObservationStatus,
)
from fangyi.observation.models import ObservationKind as OK
from fangyi.observation.models import ObservationStatus as OS
from fangyi.observation.services import (
    END_PLACE_KINDS,
    followups_generate,
    observation_move_home,
    observation_release,
    observation_start_unchecked,
)
from fangyi.people.models import Person, Place

from . import notices  # noqa: F401  (the app's notification kinds register with it)
from .models import (
    HOLDING,
    Bed,
    BedState,
    Group,
    Placement,
    PlacementKind,
    PlacementSource,
    PlacementStatus,
    Room,
    Site,
)

# Bed state changes site staff make by hand; reserved and occupied follow the placements only.
BED_MOVES = {
    BedState.CLEANING: {BedState.FREE, BedState.OUT_OF_SERVICE},
    BedState.FREE: {BedState.OUT_OF_SERVICE},
    BedState.OUT_OF_SERVICE: {BedState.FREE},
}
MAX_BEDS_PER_ROOM = 20
MAX_ROOMS = 500
# How many free beds a request picks among at random (SQLite): fewer collisions in a rush.
PICK_AMONG = 16


# --- scoping helpers ---------------------------------------------------------------------------


def is_site_staff(user: User) -> bool:
    return getattr(user, "role", None) == Role.SITE_STAFF


def site_visible(user: User, site: Site) -> bool:
    """Site staff: their own site only; everyone else: the site's node in their jurisdiction."""
    if is_site_staff(user):
        return bool(user.place_id) and user.place_id == site.place_id
    return access.path_visible(user, site.node.path)


def placement_q(user: User) -> Q:
    """The placements a user may see: site staff those at their site; everyone else those of a
    person, or at a site, in their jurisdiction."""
    return Placement.objects.scope_q(user)


def placement_visible(user: User, placement: Placement) -> bool:
    if is_site_staff(user):
        return (
            bool(user.place_id)
            and placement.site_id is not None
            and (placement.site.place_id == user.place_id)
        )
    if access.path_visible(user, placement.node.path):
        return True
    return placement.site_id is not None and access.path_visible(user, placement.site.node.path)


def _require_placement(actor: User, placement: Placement) -> None:
    if not placement_visible(actor, placement):
        raise NotFound(_("No such placement."))


def site_staff_user(site: Site) -> User | None:
    """The site's staff account that follows up the people there (the first one)."""
    return (
        User.objects.filter(role=Role.SITE_STAFF, place_id=site.place_id, is_active=True)
        .order_by("pk")
        .first()
    )


# --- sites, rooms, beds ------------------------------------------------------------------------


def site_for_place(place: Place) -> Site:
    """The Site row of a quarantine point or designated hotel, made on first use."""

    if place.kind not in END_PLACE_KINDS:
        raise DomainError(_("Choose a quarantine point or designated hotel."), field="place")
    site, _made = Site.objects.get_or_create(place=place, defaults={"node_id": place.node_id})
    return site


def _coordinate(value: Any, field: str, limit: int) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        number = Decimal(str(value)).quantize(Decimal("0.000001"))
    except (InvalidOperation, ValueError):
        raise DomainError(_("Enter a number."), field=field) from None
    if not number.is_finite() or abs(number) > limit:
        raise DomainError(_("Enter a number between -%(n)d and %(n)d.") % {"n": limit}, field=field)
    return number


def _groups(values) -> list[Group]:
    """Groups given as Group objects, codes or ids; an unknown one names the field."""
    out: list[Group] = []
    by_code = {g.code: g for g in Group.objects.all()}
    by_pk = {g.pk: g for g in by_code.values()}
    for value in values or []:
        if isinstance(value, Group):
            group = value
        elif isinstance(value, int) or (isinstance(value, str) and value.isdigit()):
            group = by_pk.get(int(value))
        else:
            group = by_code.get(str(value))
        if group is None:
            raise DomainError(_("No such group: %(g)s.") % {"g": value}, field="groups")
        if group not in out:
            out.append(group)
    return out


def site_configure(*, actor: User, site: Site, groups, latitude=None, longitude=None) -> Site:
    """The groups a site takes and where it is (for "nearest first")."""
    access.require(actor, "site.configure")
    if not site_visible(actor, site):
        raise NotFound(_("No such site."))
    chosen = _groups(groups)
    lat = _coordinate(latitude, "latitude", 90)
    lon = _coordinate(longitude, "longitude", 180)
    if (lat is None) != (lon is None):
        field = "longitude" if lon is None else "latitude"
        raise DomainError(_("Give both latitude and longitude, or neither."), field=field)
    before = {
        "groups": sorted(site.groups.values_list("code", flat=True)),
        "latitude": str(site.latitude) if site.latitude is not None else None,
        "longitude": str(site.longitude) if site.longitude is not None else None,
    }
    with transaction.atomic():
        site.latitude, site.longitude = lat, lon
        site.save(update_fields=["latitude", "longitude"])
        site.groups.set(chosen)
        after = {
            "groups": sorted(g.code for g in chosen),
            "latitude": str(lat) if lat is not None else None,
            "longitude": str(lon) if lon is not None else None,
        }
        audit_record(
            actor,
            "fangyi.site.configured",
            site,
            node_path=site.node.path,
            changes={k: [before[k], after[k]] for k in after if before[k] != after[k]},
        )
    return site


def rooms_add(*, actor: User, site: Site, rooms) -> list[Room]:
    """Add rooms (number, floor, beds) with their beds, all free. Bulk: a few statements."""
    access.require(actor, "site.configure")
    if not site_visible(actor, site):
        raise NotFound(_("No such site."))
    rows: list[tuple[str, int | None, int]] = []
    seen: set[str] = set()
    for number, floor, beds in rooms or []:
        number = str(number or "").strip()
        if not number or len(number) > 20:
            raise DomainError(_("Give each room a number (at most 20 characters)."), field="rooms")
        if number in seen:
            raise DomainError(_("Room %(n)s is listed twice.") % {"n": number}, field="rooms")
        seen.add(number)
        try:
            beds = int(beds)
            floor = int(floor) if floor not in (None, "") else None
        except (TypeError, ValueError):
            raise DomainError(_("Enter whole numbers."), field="beds") from None
        if not 1 <= beds <= MAX_BEDS_PER_ROOM:
            raise DomainError(
                _("A room has 1 to %(n)d beds.") % {"n": MAX_BEDS_PER_ROOM}, field="beds"
            )
        if floor is not None and not -10 <= floor <= 200:
            raise DomainError(_("Enter a floor between -10 and 200."), field="floor")
        rows.append((number, floor, beds))
    if not rows:
        raise DomainError(_("Add at least one room."), field="rooms")
    if len(rows) > MAX_ROOMS:
        raise DomainError(_("At most %(n)d rooms at once.") % {"n": MAX_ROOMS}, field="rooms")
    taken = set(site.rooms.filter(number__in=seen).values_list("number", flat=True))
    if taken:
        raise DomainError(
            _("These rooms exist already: %(rooms)s.") % {"rooms": ", ".join(sorted(taken))},
            field="rooms",
        )
    now = timezone.now()
    with transaction.atomic():
        made = Room.objects.bulk_create(
            [Room(site=site, number=number, floor=floor) for number, floor, _beds in rows]
        )
        if any(r.pk is None for r in made):  # a backend that does not return ids
            made = list(site.rooms.filter(number__in=seen))
        count = {number: beds for number, _floor, beds in rows}
        Bed.objects.bulk_create(
            [
                Bed(room=room, site=site, label=str(i), state=BedState.FREE, changed_at=now)
                for room in made
                for i in range(1, count[room.number] + 1)
            ]
        )
        audit_record(
            actor,
            "fangyi.site.rooms_added",
            site,
            node_path=site.node.path,
            changes={
                "rooms": [None, len(made)],
                "beds": [None, sum(count.values())],
            },
        )
    return made


def bed_set_state(*, actor: User, bed: Bed, state: str) -> Bed:
    """Cleaning → free, free ↔ out of service (site staff of that site, or a supervisor).
    Reserved and occupied beds follow their placements and are never changed by hand."""
    access.require(actor, "bed.manage")
    site = bed.site
    if not site_visible(actor, site):
        raise NotFound(_("No such bed."))
    if state not in BedState.values:
        raise DomainError(_("Choose a state."), field="state")
    old = bed.state
    if state not in BED_MOVES.get(old, set()):
        raise DomainError(
            _("A bed that is %(old)s cannot be set to %(new)s here.")
            % {"old": BedState(old).label, "new": BedState(state).label},
            field="state",
        )
    now = timezone.now()
    with transaction.atomic():
        if not Bed.objects.filter(pk=bed.pk, state=old).update(state=state, changed_at=now):
            raise Conflict(_("The bed changed meanwhile: look again."), field="state")
        bed.state, bed.changed_at = state, now
        audit_record(
            actor,
            "fangyi.bed.state",
            bed,
            node_path=site.node.path,
            changes={"state": [old, state]},
        )
    return bed


# --- choosing a site ---------------------------------------------------------------------------


@dataclass
class SiteChoice:
    site: Site
    free: int
    distance_km: float | None


def haversine_km(lat1, lon1, lat2, lon2) -> float:
    lat1, lon1, lat2, lon2 = (math.radians(float(v)) for v in (lat1, lon1, lat2, lon2))
    a = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 6371.0 * 2 * math.asin(math.sqrt(a))


def site_choices(
    *,
    group: Group,
    near: Node | None = None,
    origin: tuple[Any, Any] | None = None,
    exclude: Site | None = None,
) -> list[SiteChoice]:
    """Sites in use that take `group` and have a free bed: most free beds first, then nearest.

    Nodes carry no coordinates, so `near` alone gives no distance; `origin` (latitude,
    longitude: where the person is now, e.g. the site a transfer starts from) does, for the
    sites whose coordinates are configured. Otherwise distance is None. One query."""
    del near  # kept for the contract; the tree has no coordinates
    qs = (
        Site.objects.filter(active=True, place__is_active=True, groups=group)
        .select_related("place")
        .annotate(free=Count("beds", filter=Q(beds__state=BedState.FREE), distinct=True))
        .filter(free__gt=0)
    )
    if exclude is not None:
        qs = qs.exclude(pk=exclude.pk)
    out = []
    for site in qs:
        distance = None
        if origin and None not in origin and site.latitude is not None:
            distance = round(haversine_km(*origin, site.latitude, site.longitude), 1)
        out.append(SiteChoice(site, site.free, distance))
    out.sort(
        key=lambda c: (
            -c.free,
            c.distance_km is None,
            c.distance_km or 0,
            c.site.place.name,
        )
    )
    return out


# --- placements --------------------------------------------------------------------------------

PLACEMENT_FIELDS = ["person", "kind", "site", "bed", "group", "source", "status", "transport"]


def _snapshot(p: Placement) -> dict:
    return {
        "person": p.person_id,
        "kind": p.kind,
        "site": p.site_id,
        "bed": p.bed_id,
        "group": p.group_id,
        "source": p.source,
        "status": p.status,
        "transport": p.transport,
        "expected_at": p.expected_at.isoformat() if p.expected_at else None,
    }


def _replay(client_id, person: Person, actor: User | None, scoped: bool) -> Placement | None:
    return replay(
        Placement,
        client_id,
        lambda done: done.person_id == person.pk and (not scoped or placement_visible(actor, done)),
    )


def _require_person(actor: User, person: Person) -> None:
    if not access.path_visible(actor, person.node.path):
        raise NotFound(_("No such person."), field="person")


def placement_holding(person: Person) -> Placement | None:
    """The person's placement that holds a bed or a home (reserved or active), if any."""
    return (
        Placement.objects.filter(person=person, status__in=HOLDING)
        .select_related("site__place")
        .first()
    )


def _conflict_holding(current: Placement) -> Conflict:
    where = current.site.place.name if current.site_id else _("home")
    return Conflict(
        _("%(name)s already has a placement (%(where)s, %(status)s).")
        % {"name": current.person.name, "where": where, "status": current.get_status_display()},
        field="person",
        details={"id": current.pk},
    )


def _clean_source(source: str) -> str:
    if source not in PlacementSource.values:
        raise DomainError(_("Choose where the placement comes from."), field="source")
    return source


def _clean_transport(transport: str) -> str:
    transport = (transport or "").strip()
    if len(transport) > 200:
        raise DomainError(_("At most 200 characters."), field="transport")
    return transport


class _LostRace(Exception):
    """Another request took the bed first: try another."""


def site_full_error() -> DomainError:
    return DomainError(_("This site has no free bed."), field="site")


def _pick_bed(site: Site) -> int | None:
    free = Bed.objects.filter(site=site, state=BedState.FREE)
    if connection.features.has_select_for_update_skip_locked:
        # PostgreSQL: the first free bed nobody else is taking right now.
        return (
            free.select_for_update(skip_locked=True, of=("self",))
            .order_by("pk")
            .values_list("pk", flat=True)
            .first()
        )
    pks = list(free.order_by("pk").values_list("pk", flat=True)[:PICK_AMONG])
    return random.choice(pks) if pks else None  # noqa: S311


def _take_bed(
    *,
    actor: User | None,
    person: Person,
    site: Site,
    group: Group,
    source: str,
    decision=None,
    observation=None,
    previous: Placement | None = None,
    transport: str = "",
    expected_at=None,
    client_id=None,
) -> Placement:
    """One free bed of `site`, reserved, and its placement; retried while beds are free."""
    for _attempt in range(1000):
        try:
            with transaction.atomic():
                current = placement_holding(person)
                if current is not None:
                    raise _conflict_holding(current)
                pk = _pick_bed(site)
                if pk is None:
                    raise site_full_error()
                now = timezone.now()
                if not Bed.objects.filter(pk=pk, state=BedState.FREE).update(
                    state=BedState.RESERVED, changed_at=now
                ):
                    raise _LostRace
                placement = Placement.objects.create(
                    person=person,
                    node_id=person.node_id,
                    kind=PlacementKind.SITE,
                    site=site,
                    bed_id=pk,
                    group=group,
                    source=source,
                    decision=decision,
                    observation=observation,
                    previous=previous,
                    status=PlacementStatus.RESERVED,
                    transport=transport,
                    expected_at=expected_at,
                    reserved_at=now,
                    reserved_by=actor,
                    client_id=client_id,
                )
                audit_record(
                    actor,
                    "fangyi.placement.reserved",
                    placement,
                    node_path=person.node.path,
                    changes={k: [None, v] for k, v in _snapshot(placement).items()},
                )
            return placement
        except _LostRace:
            continue
        except IntegrityError:
            # The same client id stored meanwhile, or the bed taken under us: look again.
            done = replay(Placement, client_id, lambda done: done.person_id == person.pk)
            if done is not None:
                return done
            continue
    raise Conflict(_("Too many requests for this site at once: try again."), field="site")


def placement_reserve(
    *,
    actor: User | None,
    person: Person,
    site: Site,
    group: Group | None,
    source: str = PlacementSource.DECISION,
    decision=None,
    observation=None,
    transport: str = "",
    expected_at: dt.datetime | None = None,
    client_id: uuid.UUID | None = None,
) -> Placement:
    """Reserve one free bed of `site` for `person`: atomically, never a bed twice."""
    access.require(actor, "placement.manage")
    _require_person(actor, person)
    return placement_reserve_unchecked(
        actor=actor,
        person=person,
        site=site,
        group=group,
        source=source,
        decision=decision,
        observation=observation,
        transport=transport,
        expected_at=expected_at,
        client_id=client_id,
        replay_scoped=True,
    )


def placement_reserve_unchecked(
    *,
    actor: User | None,
    person: Person,
    site: Site,
    group: Group | None,
    source: str = PlacementSource.DECISION,
    decision=None,
    observation=None,
    transport: str = "",
    expected_at: dt.datetime | None = None,
    client_id: uuid.UUID | None = None,
    replay_scoped: bool = False,
) -> Placement:
    """placement_reserve without the policy check, for services that checked their own (a
    refusal agreed, a guest referred by police). A retry is answered with the stored placement
    of the same person (`replay_scoped`: only when the actor may see it, as the public function
    answers)."""
    existing = _replay(client_id, person, actor, replay_scoped)
    if existing is not None:
        return existing
    if group is None:
        raise DomainError(_("Choose the person's group."), field="group")
    source = _clean_source(source)
    transport = _clean_transport(transport)
    if not site.active or not site.place.is_active:
        raise DomainError(_("This site is not in use."), field="site")
    if not site.groups.filter(pk=group.pk).exists():
        raise DomainError(
            _("This site does not take %(group)s.") % {"group": group.name}, field="site"
        )
    if expected_at is not None and expected_at < timezone.now() - dt.timedelta(days=1):
        raise DomainError(_("The expected arrival cannot be in the past."), field="expected_at")
    current = placement_holding(person)
    if current is not None:
        raise _conflict_holding(current)
    return _take_bed(
        actor=actor,
        person=person,
        site=site,
        group=group,
        source=source,
        decision=decision,
        observation=observation,
        transport=transport,
        expected_at=expected_at,
        client_id=client_id,
    )


def placement_home(
    *,
    actor: User | None,
    person: Person,
    source: str = PlacementSource.DECISION,
    decision=None,
    observation=None,
    client_id: uuid.UUID | None = None,
) -> Placement:
    """Home quarantine: a placement without a site, active at once."""
    access.require(actor, "placement.manage")
    _require_person(actor, person)
    return placement_home_unchecked(
        actor=actor,
        person=person,
        source=source,
        decision=decision,
        observation=observation,
        client_id=client_id,
        replay_scoped=True,
    )


def placement_home_unchecked(
    *,
    actor: User | None,
    person: Person,
    source: str = PlacementSource.DECISION,
    decision=None,
    observation=None,
    client_id: uuid.UUID | None = None,
    replay_scoped: bool = False,
) -> Placement:
    """placement_home without the policy check, for services that checked their own (a
    refusal agreed: home quarantine instead)."""
    existing = _replay(client_id, person, actor, replay_scoped)
    if existing is not None:
        return existing
    source = _clean_source(source)
    with transaction.atomic():
        current = placement_holding(person)
        if current is not None:
            raise _conflict_holding(current)
        now = timezone.now()
        placement = Placement.objects.create(
            person=person,
            node_id=person.node_id,
            kind=PlacementKind.HOME,
            source=source,
            decision=decision,
            observation=observation,
            status=PlacementStatus.ACTIVE,
            reserved_at=now,
            reserved_by=actor,
            arrived_at=now,
            client_id=client_id,
        )
        audit_record(
            actor,
            "fangyi.placement.home",
            placement,
            node_path=person.node.path,
            changes={k: [None, v] for k, v in _snapshot(placement).items()},
        )
    return placement


def _move_bed(bed_id: int | None, old: str, new: str) -> None:
    if bed_id is None:
        return
    if not Bed.objects.filter(pk=bed_id, state=old).update(state=new, changed_at=timezone.now()):
        raise Conflict(_("The bed changed meanwhile: look again."), field="bed")


def _observe_at_site(actor: User, placement: Placement, today: dt.date):
    """The person's observation continues at the site, followed up by the site's staff: moved
    there when one is running, else started there."""

    site = placement.site
    staff = site_staff_user(site)
    running = (
        Observation.objects.select_for_update()
        .filter(person_id=placement.person_id, status=OS.ACTIVE)
        .first()
    )
    if running is not None:
        before = {"kind": running.kind, "place": running.place_id, "responsible": None}
        before["responsible"] = running.responsible_id
        running.kind, running.place_id = OK.PLACE, site.place_id
        if staff is not None:
            running.responsible = staff
        running.save(update_fields=["kind", "place", "responsible"])
        if staff is not None:
            FollowUp.objects.filter(
                observation=running, status=FollowUpStatus.DUE, due__gte=today
            ).update(assignee=staff)
        after = {"kind": running.kind, "place": running.place_id}
        after["responsible"] = running.responsible_id
        audit_record(
            actor,
            "fangyi.observation.moved",
            running,
            node_path=running.node.path,
            changes={
                **{k: [before[k], after[k]] for k in after if before[k] != after[k]},
                "placement": [None, placement.pk],
            },
        )
        obs = running
    else:
        decision = placement.decision
        last = (decision.last_exposure if decision else None) or timezone.localdate(
            placement.reserved_at
        )
        obs = observation_start_unchecked(
            actor=actor,
            person=placement.person,
            kind=OK.PLACE,
            place=site.place,
            last_exposure=min(last, today),
            decision=decision,
            responsible=staff,
        )
    if obs.starts <= today <= obs.ends:
        followups_generate(today, observations=[obs.pk], audit=False)
    return obs


def placement_arrive(*, actor: User, placement: Placement, at: dt.datetime | None = None):
    """The site confirms arrival: the bed becomes occupied, the placement active, the person's
    observation continues at the site, its follow-ups assigned to the site's staff."""

    def clean() -> dict:
        now = timezone.now()
        when = at or now
        if when > now + dt.timedelta(minutes=5):
            raise DomainError(_("The arrival cannot be in the future."), field="at")
        if when < placement.reserved_at - dt.timedelta(minutes=2):
            raise DomainError(_("The arrival cannot be before the bed was reserved."), field="at")
        return {"at": when}

    return transition(actor, placement, "arrive", clean=clean, arrival_confirmed_by=actor)


def _arrived(move: Move) -> dict:
    """The bed occupied and the observation moved to (or started at) the site."""
    _move_bed(move.fresh.bed_id, BedState.RESERVED, BedState.OCCUPIED)
    return {"observation": _observe_at_site(move.actor, move.fresh, timezone.localdate())}


def _arrival_changes(move: Move) -> dict:
    return {
        "status": [move.before, move.after],
        "arrived_at": [None, move.at.isoformat()],
        "observation": [None, move.fresh.observation_id],
    }


def _end(actor, placement: Placement, status: str, verb: str, note: str = "", **extra) -> None:
    old = placement.status
    placement.status = status
    placement.ended_at = timezone.now()
    placement.ended_by = actor
    if note:
        placement.notes = (placement.notes + "\n" + note).strip()[:2000]
    placement.save(update_fields=["status", "ended_at", "ended_by", "notes"])
    audit_record(
        actor,
        f"fangyi.placement.{verb}",
        placement,
        node_path=placement.node.path,
        changes={"status": [old, status], **{k: [None, v] for k, v in extra.items()}},
    )


def _require_holding(placement: Placement, field: str = "status") -> None:
    if placement.status not in HOLDING:
        raise DomainError(
            _("This placement has ended (%(status)s).")
            % {"status": placement.get_status_display()},
            field=field,
        )


def placement_transfer(
    *, actor: User, placement: Placement, site: Site, transport: str = ""
) -> Placement:
    """Move the person to another site: this placement ends as transferred (its bed to
    cleaning, or back to free when the person never arrived) and a bed is reserved at the
    other site, same group. Returns the new placement."""
    access.require(actor, "placement.manage")
    _require_placement(actor, placement)
    _require_holding(placement)
    transport = _clean_transport(transport)
    if placement.kind != PlacementKind.SITE:
        raise DomainError(_("A home placement is not transferred: place the person."), field="site")
    if site.pk == placement.site_id:
        raise DomainError(_("The person is already placed at this site."), field="site")
    if not site.active or not site.place.is_active:
        raise DomainError(_("This site is not in use."), field="site")
    if placement.group_id and not site.groups.filter(pk=placement.group_id).exists():
        raise DomainError(
            _("This site does not take %(group)s.") % {"group": placement.group.name},
            field="site",
        )
    if not Bed.objects.filter(site=site, state=BedState.FREE).exists():
        raise site_full_error()
    with transaction.atomic():
        locked = Placement.objects.select_for_update().get(pk=placement.pk)
        if locked.status not in HOLDING:
            raise Conflict(_("This placement changed meanwhile."), field="status")
        was = locked.status
        bed_next = BedState.CLEANING if was == PlacementStatus.ACTIVE else BedState.FREE
        bed_now = BedState.OCCUPIED if was == PlacementStatus.ACTIVE else BedState.RESERVED
        _move_bed(placement.bed_id, bed_now, bed_next)
        placement.status = was
        _end(actor, placement, PlacementStatus.TRANSFERRED, "transferred", to_site=site.pk)
        new = _take_bed(
            actor=actor,
            person=placement.person,
            site=site,
            group=placement.group,
            source=PlacementSource.TRANSFER,
            decision=placement.decision,
            observation=placement.observation,
            previous=placement,
            transport=transport,
        )
    return new


def placement_left(*, actor: User, person: Person, place_id: int, note: str = "") -> None:
    """For the observation part: the person's observation at the site of `place_id` ends
    (transferred home or elsewhere, referred to a clinic) and they leave it: their placement
    there ends as transferred, the bed to cleaning (back to free when they never arrived).
    Call inside the caller's transaction (observation_transfer, observation_refer)."""
    held = (
        Placement.objects.select_for_update()
        .filter(person=person, kind=PlacementKind.SITE, status__in=HOLDING)
        .filter(site__place_id=place_id)
        .first()
    )
    if held is None:
        return
    was = held.status
    if was == PlacementStatus.ACTIVE:
        _move_bed(held.bed_id, BedState.OCCUPIED, BedState.CLEANING)
    else:
        _move_bed(held.bed_id, BedState.RESERVED, BedState.FREE)
    _end(actor, held, PlacementStatus.TRANSFERRED, "transferred", note=note, via="observation")


def observe_at_home_if_left(actor: User | None, person: Person, note: str = "") -> None:
    """A placement at a site ended without a next one there (allowed home after refusing a
    transfer, a transfer cancelled): the running observation, when it still names a site the
    person no longer holds a bed at, continues at home (fangyi.observation.services
    observation_move_home), so that site's staff no longer follow them up. Call inside the
    caller's transaction."""

    obs = (
        Observation.objects.select_for_update()
        .filter(person=person, status=ObservationStatus.ACTIVE, kind=ObservationKind.PLACE)
        .first()
    )
    if obs is None:
        return
    here = Placement.objects.filter(
        person=person, kind=PlacementKind.SITE, status__in=HOLDING, site__place_id=obs.place_id
    )
    if not here.exists():
        observation_move_home(actor=actor, observation=obs, note=note)


def placement_release(*, actor: User, placement: Placement) -> Placement:
    """End of quarantine: the observation is released (refused before its end date, or without
    a clean last follow-up: the error names the field), the bed goes to cleaning."""
    return transition(actor, placement, "release", ended_by=actor)


def _released(move: Move) -> dict:
    # Only the observation at this site is released with the placement: one running
    # elsewhere (at home, another site) is not this site's to end.
    placement: Placement = move.fresh
    place_id = placement.site.place_id if placement.site_id else None
    obs = placement.observation
    if obs is None or obs.status != ObservationStatus.ACTIVE or obs.place_id != place_id:
        obs = Observation.objects.filter(
            person_id=placement.person_id, status=ObservationStatus.ACTIVE, place_id=place_id
        ).first()
    if obs is not None:
        observation_release(actor=move.actor, observation=obs)
    _move_bed(placement.bed_id, BedState.OCCUPIED, BedState.CLEANING)
    return {}


def placement_cancel(*, actor: User, placement: Placement, reason: str) -> Placement:
    """A reservation not needed after all: the bed goes back to free."""

    def clean() -> dict:
        text = (reason or "").strip()
        if not text:
            raise DomainError(_("Say why, in a few words."), field="reason")
        if len(text) > 500:
            raise DomainError(_("At most 500 characters."), field="reason")
        return {"reason": text}

    return transition(actor, placement, "cancel", clean=clean, ended_by=actor)


def _cancelling(move: Move) -> dict:
    _move_bed(move.fresh.bed_id, BedState.RESERVED, BedState.FREE)
    return {"notes": _with_note(move.fresh.notes, move.data["reason"])}


def _cancelled(move: Move) -> None:
    if move.fresh.kind == PlacementKind.SITE:
        observe_at_home_if_left(move.actor, move.fresh.person, note=move.data["reason"])


def _with_note(notes: str, note: str) -> str:
    return (notes + "\n" + note).strip()[:2000] if note else notes


# --- the lifecycle table -------------------------------------------------------------------------


def _refused(placement: Placement, step: Step) -> DomainError:
    status = placement.get_status_display()
    message = {
        "arrive": _("This placement is not waiting for an arrival (%(status)s)."),
        "release": _("Only a person in quarantine is released (%(status)s)."),
        "cancel": _("Only a reservation not yet arrived is cancelled (%(status)s)."),
        "transfer": _("This placement has ended (%(status)s)."),
    }[step.name]
    return DomainError(message % {"status": status}, field="status")


def _changed(placement: Placement, step: Step) -> Conflict:
    if step.name == "arrive":
        return Conflict(_("The arrival was already confirmed."), field="status")
    return Conflict(_("This placement changed meanwhile."), field="status")


def _locked(placement: Placement) -> Placement:
    return (
        # Only the placement's row is locked: the related rows may be absent (an outer join,
        # which PostgreSQL cannot lock).
        Placement.objects.select_for_update(of=("self",))
        .select_related("node", "site__place", "person__node", "decision", "observation")
        .get(pk=placement.pk)
    )


P = PlacementStatus
PLACEMENT_STEPS = register(
    Lifecycle(
        model=Placement,
        audit_kind="placement",
        in_scope=_require_placement,
        refused=_refused,
        changed=_changed,
        lock=_locked,
        node_path=lambda placement: placement.node.path,
        steps={
            s.name: s
            for s in (
                Step(
                    "arrive",
                    (P.RESERVED,),
                    P.ACTIVE,
                    "placement.arrive",
                    when=lambda p: p.kind == PlacementKind.SITE,
                    only="at a site",
                    stamp="arrived_at",
                    sets=("arrival_confirmed_by",),
                    prepare=_arrived,
                    changes=_arrival_changes,
                    verb="arrived",
                ),
                # Taken by placement_transfer itself (a new placement is its result); the row
                # says when it may be offered.
                Step(
                    "transfer",
                    tuple(HOLDING),
                    P.TRANSFERRED,
                    "placement.manage",
                    when=lambda p: p.kind == PlacementKind.SITE,
                    only="at a site",
                ),
                Step(
                    "release",
                    (P.ACTIVE,),
                    P.RELEASED,
                    "placement.manage",
                    stamp="ended_at",
                    sets=("ended_by",),
                    prepare=_released,
                    verb="released",
                ),
                Step(
                    "cancel",
                    (P.RESERVED, P.ACTIVE),
                    P.CANCELLED,
                    "placement.manage",
                    when=lambda p: p.status == P.RESERVED or p.kind == PlacementKind.HOME,
                    only="in quarantine: at home only",
                    stamp="ended_at",
                    sets=("ended_by",),
                    prepare=_cancelling,
                    apply=_cancelled,
                    changes=lambda m: {
                        "status": [m.before, m.after],
                        "reason": [None, m.data["reason"]],
                    },
                    verb="cancelled",
                ),
            )
        },
    )
)


def placement_allowed_steps(user: User, placement: Placement) -> list[str]:
    """The steps the user may take on the placement now: the page's buttons, from the table."""
    return allowed_steps(user, placement)


def placement_mark_refused(placement: Placement) -> None:
    """For the refusals part: the person refuses; the placement ends as refused and its bed is
    free again. Call inside your own transaction (with your own audit row)."""
    if placement.status != PlacementStatus.RESERVED:
        raise DomainError(
            _("Only a placement not yet arrived can be refused (%(status)s).")
            % {"status": placement.get_status_display()},
            field="status",
        )
    with transaction.atomic():
        _move_bed(placement.bed_id, BedState.RESERVED, BedState.FREE)
        updated = Placement.objects.filter(pk=placement.pk, status=PlacementStatus.RESERVED).update(
            status=PlacementStatus.REFUSED, ended_at=timezone.now()
        )
        if not updated:
            raise Conflict(_("This placement changed meanwhile."), field="status")
    placement.status = PlacementStatus.REFUSED
