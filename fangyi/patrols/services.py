"""Every write of the patrol part of fangyi.patrols: a patrol started, its route points, its
events (with photos, and what they lead to: a tip raised or resolved, a support request, the
tip an enforcement record is made on), the patrol ended, and the supervisors' patrol plans.
The duty posts' writes are in `posts.py`.

Each write checks the policy, validates every field at once (FieldErrors), then writes and
audits in one transaction; the pages and the API both call these. Times are the phone's: an
event recorded offline at 10:02 keeps 10:02, within the patrol's own start and end."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from fangyi.core import access
from fangyi.core.audit import audit_record, created, snapshot
from fangyi.core.errors import Conflict, DomainError, FieldErrors, Forbidden, NotFound
from fangyi.core.idempotency import create_once, replay
from fangyi.core.models import Node, NodeKind, Role, User, subtree_q
from fangyi.core.photos import photo_discard, photos_store
from fangyi.core.selectors import ancestor_paths, nearest_workers
from fangyi.core.validators import check_coordinate, check_length
from fangyi.linkage.models import Agency, Urgency
from fangyi.linkage.services import support_request_create
from fangyi.tips.models import Resolution, Tip, TipCategory, TipSource
from fangyi.tips.services import TipInput, tip_record, tip_resolve

from . import notices  # noqa: F401  (the app's notification kinds register with it)
from .models import (
    Activity,
    EventKind,
    InspectionResult,
    Method,
    Outcome,
    Patrol,
    PatrolEvent,
    PatrolPhoto,
    PatrolPlan,
    RoutePoint,
)

# A phone's clock may run a little ahead of the server's.
CLOCK_SKEW = dt.timedelta(minutes=5)
MINUTE = dt.timedelta(minutes=1)
# A patrol recorded after the fact (an offline phone) may have begun at most this long ago.
MAX_BACKDATE = dt.timedelta(hours=24)
# A patrol longer than this was forgotten, not walked: it cannot be ended later than this.
MAX_PATROL = dt.timedelta(hours=16)
MAX_PEOPLE = 10_000  # people at a gathering, reached by publicity, persuaded
MAX_COMPANIONS = 20
MAX_POINTS = 500  # route points in one submission (a whole offline shift at one a minute)
MAX_TIMES_PER_DAY = 12
# Who may go along on a patrol, named from Fangyi's users.
COMPANION_ROLES = (Role.AUXILIARY, Role.POLICE, Role.COMMUNITY_STAFF)
# Who answers for a compound's patrols: the nearest officer, else community staff.
RESPONSIBLE_ROLES = (Role.POLICE, Role.COMMUNITY_STAFF, Role.AUXILIARY)

PATROL_FIELDS = ["node", "leader", "others", "started_at", "ended_at", "summary"]
EVENT_FIELDS = [
    "patrol",
    "node",
    "kind",
    "at",
    "address",
    "people",
    "activity",
    "statements",
    "outcome",
    "methods",
    "reached",
    "materials",
    "result",
    "notes",
]


@dataclass
class Position:
    latitude: Any = None
    longitude: Any = None
    accuracy: Any = None


@dataclass
class EventInput:
    """One patrol event as submitted; which fields are required depends on `kind`."""

    kind: str = ""
    node: Node | None = None  # the compound; the patrol's only compound when left out
    at: dt.datetime | None = None  # the phone's time; now when left out
    address: str = ""
    position: Position = field(default_factory=Position)
    people: int | None = None
    activity: str = ""
    statements: str = ""
    outcome: str = ""
    methods: Sequence[str] = field(default_factory=list)
    reached: int | None = None
    materials: int | None = None
    result: str = ""
    notes: str = ""


# --- small checks ---------------------------------------------------------------------------


def _aware(at: dt.datetime | None, now: dt.datetime) -> dt.datetime:
    at = at or now
    return timezone.make_aware(at) if timezone.is_naive(at) else at


def position_clean(e: FieldErrors, pos: Position, prefix: str = "") -> tuple:
    """(latitude, longitude, accuracy) checked; both coordinates or neither."""
    lat = e.run(check_coordinate, pos.latitude, f"{prefix}latitude", 90)
    lon = e.run(check_coordinate, pos.longitude, f"{prefix}longitude", 180)
    acc = None
    if pos.accuracy not in (None, ""):
        try:
            acc = int(pos.accuracy)
        except (TypeError, ValueError):
            e.add(f"{prefix}accuracy", _("Enter a whole number of metres."))
        else:
            if not 0 <= acc <= 100_000:
                e.add(f"{prefix}accuracy", _("Must be between 0 and 100000 metres."))
                acc = None
    if (lat is None) != (lon is None) and f"{prefix}latitude" not in e.errors:
        e.add(f"{prefix}longitude", _("Give both latitude and longitude, or neither."))
    return lat, lon, acc


def _count(e: FieldErrors, value: Any, name: str, *, required: bool = False) -> int | None:
    if value in (None, ""):
        if required:
            e.add(name, _("Enter how many."))
        return None
    try:
        n = int(value)
    except (TypeError, ValueError):
        e.add(name, _("Enter a whole number."))
        return None
    if n < 0 or n > MAX_PEOPLE:
        e.add(name, _("Must be between 0 and %(n)d.") % {"n": MAX_PEOPLE})
        return None
    if required and n == 0:
        e.add(name, _("Enter how many."))
        return None
    return n


def _choice(e: FieldErrors, value: str, name: str, choices, *, required: bool) -> str:
    if not value:
        if required:
            e.add(name, _("Choose one."))
        return ""
    if value not in choices.values:
        e.add(
            name,
            _("Choose one of: %(choices)s.")
            % {"choices": ", ".join(str(label) for _v, label in choices.choices)},
        )
        return ""
    return value


def _compounds_under(e: FieldErrors, area: Node, compounds: Iterable[Node]) -> list[Node]:
    out = list(dict.fromkeys(compounds))
    for c in out:
        if c.kind != NodeKind.COMPOUND:
            e.add("compounds", _("Choose compounds."))
            break
        if not c.path.startswith(area.path):
            e.add("compounds", _("Choose compounds inside the area of the patrol."))
            break
    return out


def _companions(e: FieldErrors, actor: User, area: Node, users: Iterable[User]) -> list[User]:
    users = [u for u in dict.fromkeys(users) if u.pk != actor.pk]
    if len(users) > MAX_COMPANIONS:
        e.add("companions", _("At most %(n)d people on one patrol.") % {"n": MAX_COMPANIONS})
        return []
    if users:
        allowed = {u.pk for u in nearest_workers(area, COMPANION_ROLES)}
        if any(u.pk not in allowed for u in users):
            # Exactly what an id that does not exist answers: no names from elsewhere.
            raise NotFound(_("No such colleague."), field="companions")
    return users


def walking(user: User, patrol: Patrol) -> bool:
    """The leader or one of the companions: those whose phone's position is the route."""
    if patrol.leader_id == user.pk:
        return True
    return patrol.companions.filter(pk=user.pk).exists()


def on_patrol(user: User, patrol: Patrol) -> bool:
    """Who may record on the patrol: those walking it, or a supervisor over the area (who
    records from the office what he is told; his position is not the route's)."""
    return user.role == Role.SUPERVISOR or walking(user, patrol)


def _require_on(actor: User, patrol: Patrol) -> None:
    if not access.path_visible(actor, patrol.node.path):
        raise NotFound(_("No such patrol."))
    if not on_patrol(actor, patrol):
        raise Forbidden(_("Only the people on this patrol record on it."))


def _locked(patrol: Patrol) -> Patrol:
    return Patrol.objects.select_for_update(of=("self",)).select_related("node").get(pk=patrol.pk)


# --- lookups by id (pages and API) -------------------------------------------------------------


def users_for(pks: Iterable[int], *, field_name: str = "companions") -> list[User]:
    pks = list(dict.fromkeys(pks))
    if not pks:
        return []
    found = User.objects.filter(is_active=True).in_bulk(pks)
    if len(found) != len(pks):
        raise NotFound(_("No such colleague."), field=field_name)
    return [found[pk] for pk in pks]


def nodes_for(actor: User, pks: Iterable[int], *, field_name: str) -> list[Node]:
    pks = list(dict.fromkeys(pks))
    if not pks:
        return []
    found = access.nodes_visible(actor).in_bulk(pks)
    if len(found) != len(pks):
        raise NotFound(_("This jurisdiction is not one of yours."), field=field_name)
    return [found[pk] for pk in pks]


def companion_choices(area: Node, actor: User) -> list[User]:
    return [u for u in nearest_workers(area, COMPANION_ROLES) if u.pk != actor.pk]


# --- patrols ------------------------------------------------------------------------------------


def patrol_start(
    *,
    actor: User,
    node: Node,
    compounds: Iterable[Node] = (),
    companions: Iterable[User] = (),
    others: str = "",
    at: dt.datetime | None = None,
    position: Position | None = None,
    client_id: uuid.UUID | None = None,
) -> Patrol:
    """Start a patrol over `node` (a community, grid or compound of the actor's jurisdiction)
    with the colleagues who go along. One patrol under way per leader: a second is refused
    until the first is ended. The position, when the phone gives one, is the first route
    point. The same client_id twice starts one patrol."""
    access.require(actor, "patrol.record")
    done = replay(
        Patrol,
        client_id,
        lambda p: p.leader_id == actor.pk and p.node_id == node.pk,
        related=["node"],
    )
    if done is not None:
        return done
    access.check_node_in_scope(actor, node)
    now = timezone.now()
    e = FieldErrors()
    if node.kind not in (NodeKind.COMMUNITY, NodeKind.GRID, NodeKind.COMPOUND):
        e.add("node", _("A patrol goes over a community, a grid or a compound."))
    chosen = _compounds_under(e, node, compounds)
    if node.kind == NodeKind.COMPOUND and not chosen:
        chosen = [node]
    mates = _companions(e, actor, node, companions)
    others = e.run(check_length, others, "others", 200) or ""
    started = _aware(at, now)
    if started > now + CLOCK_SKEW:
        e.add("at", _("The start of the patrol is in the future."))
    elif started < now - MAX_BACKDATE:
        e.add("at", _("A patrol can be recorded at most a day after it began."))
    lat, lon, acc = position_clean(e, position or Position())
    e.raise_if_any()

    def write() -> Patrol:
        # Two starts at once (two phones, a retry with a fresh form): the leader's row is
        # locked and the check made again inside the transaction.
        User.objects.select_for_update().filter(pk=actor.pk).first()
        if Patrol.objects.filter(leader=actor, ended_at__isnull=True).exists():
            raise Conflict(_("You have a patrol under way: end it first."), field="node")
        patrol = Patrol.objects.create(
            node=node,
            leader=actor,
            others=others,
            started_at=started,
            client_id=client_id,
            recorded_at=now,
        )
        patrol.compounds.set(chosen)
        patrol.companions.set(mates)
        if lat is not None:
            RoutePoint.objects.create(
                patrol=patrol, at=started, latitude=lat, longitude=lon, accuracy=acc
            )
        changes = created(snapshot(patrol, PATROL_FIELDS))
        changes["companions"] = [None, [u.pk for u in mates]]
        changes["compounds"] = [None, [c.pk for c in chosen]]
        audit_record(actor, "fangyi.patrol.started", patrol, node_path=node.path, changes=changes)
        return patrol

    with transaction.atomic():
        return create_once(
            Patrol, client_id, lambda p: p.leader_id == actor.pk, write, related=["node"]
        )


@dataclass
class RouteResult:
    added: int  # points new to the route
    refused: dict[str, list[str]]  # "points.<i>.<field>" -> messages, for the points kept out


def route_add(
    *, actor: User, patrol: Patrol, points: Sequence[tuple[Any, Any, Any, Any]]
) -> RouteResult:
    """Add the phone's positions (at, latitude, longitude, accuracy) to the route: each inside
    the patrol's time, a point already stored (the same time) counted once. A bad point (a
    clock far ahead, latitude 123) is kept out and named; the good ones of the same batch are
    stored, so an offline backlog is not lost for one bad fix. Only the leader and the
    companions add points (a supervisor reading the patrol in the office is not on the route).
    Positions are of staff on duty, not of residents: no audit row per point."""
    access.require(actor, "patrol.record")
    if not access.path_visible(actor, patrol.node.path):
        raise NotFound(_("No such patrol."))
    if not walking(actor, patrol):
        raise Forbidden(_("Only the people walking this patrol add to its route."))
    now = timezone.now()
    if len(points) > MAX_POINTS:
        raise DomainError(_("At most %(n)d points at a time.") % {"n": MAX_POINTS}, field="points")
    e = FieldErrors()
    end = patrol.ended_at or min(now + CLOCK_SKEW, patrol.started_at + MAX_PATROL)
    rows = []
    for i, (at, lat, lon, acc) in enumerate(points):
        before = len(e.errors)
        at = _aware(at, now) if at is not None else now
        la, lo, ac = position_clean(e, Position(lat, lon, acc), prefix=f"points.{i}.")
        if la is None and f"points.{i}.latitude" not in e.errors:
            e.add(f"points.{i}.latitude", _("Give both latitude and longitude."))
        if not patrol.started_at <= at <= end:
            e.add(f"points.{i}.at", _("This position is outside the time of the patrol."))
        if len(e.errors) == before:
            rows.append(RoutePoint(patrol=patrol, at=at, latitude=la, longitude=lo, accuracy=ac))
    added = 0
    if rows:
        with transaction.atomic():
            count = patrol.route.count()
            RoutePoint.objects.bulk_create(rows, ignore_conflicts=True)
            added = patrol.route.count() - count
    return RouteResult(added=added, refused=dict(e.errors))


def patrol_end(
    *,
    actor: User,
    patrol: Patrol,
    at: dt.datetime | None = None,
    summary: str = "",
    position: Position | None = None,
) -> Patrol:
    """End the patrol: after its start and its last event, not in the future."""
    access.require(actor, "patrol.record")
    _require_on(actor, patrol)
    now = timezone.now()
    e = FieldErrors()
    ended = _aware(at, now)
    summary = e.run(check_length, summary, "summary", 2000) or ""
    lat, lon, acc = position_clean(e, position or Position())
    with transaction.atomic():
        patrol = _locked(patrol)
        if patrol.ended_at is not None:
            raise Conflict(_("This patrol has already ended."))
        last = patrol.events.order_by("-at").values_list("at", flat=True).first()
        if ended > now + CLOCK_SKEW:
            e.add("at", _("The end of the patrol is in the future."))
        elif ended < patrol.started_at or (last is not None and ended < last):
            e.add("at", _("The patrol ends after it began and after its last event."))
        elif ended > patrol.started_at + MAX_PATROL:
            e.add("at", _("A patrol lasts at most 16 hours: give the time it really ended."))
        e.raise_if_any()
        patrol.ended_at = ended
        patrol.summary = summary
        patrol.save(update_fields=["ended_at", "summary"])
        if lat is not None:
            RoutePoint.objects.bulk_create(
                [RoutePoint(patrol=patrol, at=ended, latitude=lat, longitude=lon, accuracy=acc)],
                ignore_conflicts=True,
            )
        audit_record(
            actor,
            "fangyi.patrol.ended",
            patrol,
            node_path=patrol.node.path,
            changes={"ended_at": [None, ended.isoformat()], "summary": [None, summary]},
        )
    return patrol


# --- events -------------------------------------------------------------------------------------


def _event_check(actor: User, patrol: Patrol, data: EventInput, now) -> dict[str, Any]:
    e = FieldErrors()
    out: dict[str, Any] = {}
    kind = _choice(e, data.kind, "kind", EventKind, required=True)
    out["kind"] = kind
    node = data.node
    if node is None:
        compounds = list(patrol.compounds.all()[:2])
        node = compounds[0] if len(compounds) == 1 else None
        if node is None and patrol.node.kind == NodeKind.COMPOUND:
            node = patrol.node
    if node is None:
        e.add("node", _("Choose the compound."))
    elif not access.path_visible(actor, node.path) or not node.path.startswith(patrol.node.path):
        raise NotFound(_("This jurisdiction is not one of yours."), field="node")
    elif node.kind != NodeKind.COMPOUND:
        e.add("node", _("Choose the compound."))
    out["node"] = node
    at = _aware(data.at, now)
    if patrol.started_at - MINUTE < at < patrol.started_at:
        # A time typed to the minute, in the minute the patrol began: it is the patrol's start.
        at = patrol.started_at
    if at > now + CLOCK_SKEW:
        e.add("at", _("The time of the event is in the future."))
    elif at < patrol.started_at:
        e.add("at", _("The event is before the patrol started."))
    elif patrol.ended_at is not None and at > patrol.ended_at:
        e.add("at", _("The event is after the patrol ended."))
    elif at > patrol.started_at + MAX_PATROL:
        e.add("at", _("A patrol lasts at most 16 hours: end this one and start a new one."))
    out["at"] = at
    out["address"] = e.run(check_length, data.address, "address", 200) or ""
    out["latitude"], out["longitude"], out["accuracy"] = position_clean(e, data.position)
    out["notes"] = e.run(check_length, data.notes, "notes", 2000) or ""
    out["statements"] = e.run(check_length, data.statements, "statements", 2000) or ""

    gathering = kind == EventKind.GATHERING
    out["people"] = _count(
        e, data.people, "people", required=kind in (EventKind.GATHERING, EventKind.MASKS)
    )
    out["activity"] = _choice(e, data.activity, "activity", Activity, required=gathering)
    out["outcome"] = _choice(e, data.outcome, "outcome", Outcome, required=gathering)
    methods = list(dict.fromkeys(data.methods or []))
    if any(m not in Method.values for m in methods):
        e.add(
            "methods",
            _("Choose one of: %(choices)s.")
            % {"choices": ", ".join(str(label) for _v, label in Method.choices)},
        )
        methods = []
    elif kind == EventKind.PUBLICITY and not methods:
        e.add("methods", _("Say how the publicity was given."))
    out["methods"] = methods
    out["reached"] = _count(e, data.reached, "reached", required=kind == EventKind.PUBLICITY)
    out["materials"] = _count(e, data.materials, "materials")
    out["result"] = _choice(
        e, data.result, "result", InspectionResult, required=kind == EventKind.INSPECTION
    )
    if kind == EventKind.OTHER and not out["notes"]:
        e.add("notes", _("Say what was noticed."))
    e.raise_if_any()
    return out


def patrol_event_record(
    *,
    actor: User,
    patrol: Patrol,
    data: EventInput,
    photos: Iterable[Any] = (),
    client_id: uuid.UUID | None = None,
) -> PatrolEvent:
    """Record one event of a patrol (the leader or a companion). Its compound joins the
    patrol's compounds, its position the route. Photos are checked and kept outside the
    database (fangyi.core.photos); a refused event leaves neither a row nor a file."""
    access.require(actor, "patrol.record")
    done = replay(PatrolEvent, client_id, lambda ev: ev.patrol_id == patrol.pk, related=["node"])
    if done is not None:
        return done
    _require_on(actor, patrol)
    now = timezone.now()
    clean = _event_check(actor, patrol, data, now)
    stored = photos_store(photos, field="photos")
    made: list[PatrolEvent] = []
    try:
        with transaction.atomic():

            def write() -> PatrolEvent:
                # An end committed meanwhile: the patrol is read again under its lock and the
                # event's time checked against it.
                fresh = _locked(patrol)
                if fresh.ended_at is not None and clean["at"] > fresh.ended_at:
                    raise DomainError(_("The event is after the patrol ended."), field="at")
                event = PatrolEvent.objects.create(
                    patrol=patrol, recorded_by=actor, recorded_at=now, client_id=client_id, **clean
                )
                rows = []
                for s in stored:
                    photo = PatrolPhoto(event=event, uploaded_by=actor, uploaded_at=now)
                    photo.fill(s)
                    rows.append(photo)
                PatrolPhoto.objects.bulk_create(rows)
                patrol.compounds.add(clean["node"])
                if clean["latitude"] is not None:
                    RoutePoint.objects.bulk_create(
                        [
                            RoutePoint(
                                patrol=patrol,
                                at=clean["at"],
                                latitude=clean["latitude"],
                                longitude=clean["longitude"],
                                accuracy=clean["accuracy"],
                            )
                        ],
                        ignore_conflicts=True,
                    )
                changes = created(snapshot(event, EVENT_FIELDS))
                if clean["latitude"] is not None:
                    changes["position"] = [None, f"{clean['latitude']},{clean['longitude']}"]
                if stored:
                    changes["photos"] = [None, len(stored)]
                audit_record(
                    actor,
                    "fangyi.patrolevent.recorded",
                    event,
                    node_path=clean["node"].path,
                    changes=changes,
                )
                made.append(event)
                return event

            event = create_once(PatrolEvent, client_id, lambda ev: ev.patrol_id == patrol.pk, write)
    except BaseException:
        photo_discard(stored)
        raise
    if not made:
        photo_discard(stored)  # a concurrent retry stored the event (and its photos) first
    return event


def event_words(event: PatrolEvent) -> str:
    """The event in one sentence, for the tip, support request or record it leads to."""
    parts = [event.get_kind_display()]
    if event.people:
        parts.append(_("%(n)d people") % {"n": event.people})
    if event.activity:
        parts.append(event.get_activity_display())
    if event.outcome:
        parts.append(event.get_outcome_display())
    if event.address:
        parts.append(event.address)
    text = ", ".join(str(p) for p in parts)
    for extra in (event.statements, event.notes):
        if extra:
            text += ". " + extra
    return text[:2000]


TIP_CATEGORY: dict[str, str] = {EventKind.GATHERING: "gathering", EventKind.MASKS: "no_mask"}


def _event_locked(event: PatrolEvent) -> PatrolEvent:
    return (
        PatrolEvent.objects.select_for_update(of=("self",))
        .select_related("node", "patrol__node")
        .get(pk=event.pk)
    )


def event_tip(*, actor: User, event: PatrolEvent, category: TipCategory | None = None) -> Tip:
    """The tip this event raised (staff entry, found on patrol), made now when it has none:
    what the enforcement record or the support request of the event hangs on."""
    access.require(actor, "tip.record")
    _require_on(actor, event.patrol)
    with transaction.atomic():
        event = _event_locked(event)
        if event.tip_id is not None:
            return event.tip  # type: ignore[return-value]
        if category is None:
            code = TIP_CATEGORY.get(event.kind, "other")
            category = (
                TipCategory.objects.filter(code=code, active=True).first()
                or TipCategory.objects.filter(active=True).order_by("order", "id").first()
            )
        if category is None:
            raise DomainError(_("No tip category is configured."), field="category")
        tip = tip_record(
            actor=actor,
            data=TipInput(
                category=category,
                description=event_words(event),
                node=event.node,
                address=event.address,
                latitude=event.latitude,
                longitude=event.longitude,
            ),
            source=TipSource.PATROL,
        )
        event.tip = tip
        event.save(update_fields=["tip"])
        audit_record(
            actor,
            "fangyi.patrolevent.tip_raised",
            event,
            node_path=event.node.path,
            changes={"tip": [None, tip.code]},
        )
        return tip


SUPPORT_NEED_MAX = 1000  # what linkage takes as a request's need


def event_support(*, actor: User, event: PatrolEvent, need: str = "") -> Any:
    """One tap from a refused gathering: ask the police for urgent support on the event's tip
    (raised now when it has none), the need written from the event. One transaction: a
    request refused leaves no tip behind either."""
    if event.outcome != Outcome.REFUSED:
        raise DomainError(_("Support is asked from a gathering that refused."), field="outcome")
    with transaction.atomic():
        tip = event_tip(actor=actor, event=event)
        event = _event_locked(event)
        if event.support_id is not None:
            return event.support
        text = need or event_words(event)
        if len(text) > SUPPORT_NEED_MAX:
            text = text[: SUPPORT_NEED_MAX - 1] + "…"
        request = support_request_create(
            actor=actor,
            agency=Agency.POLICE,
            urgency=Urgency.URGENT,
            need=text,
            tip=tip,
        )
        event.support = request
        event.save(update_fields=["support"])
        audit_record(
            actor,
            "fangyi.patrolevent.support_asked",
            event,
            node_path=event.node.path,
            changes={"support": [None, request.pk]},
        )
        return request


def event_enforcement_linked(*, actor: User, event: PatrolEvent, record: Any) -> PatrolEvent:
    """Remember the enforcement record made from the event's form (its tip is the event's)."""
    with transaction.atomic():
        event = _event_locked(event)
        if event.enforcement_id is None and record.tip_id == event.tip_id:
            event.enforcement = record
            event.save(update_fields=["enforcement"])
    return event


def event_resolves_tip(
    *, actor: User, event: PatrolEvent, tip: Tip, resolution: str, note: str = ""
) -> Tip:
    """The event settles a tip already open at the same place: the tip is resolved (by its
    own lifecycle, which decides who may) and the event remembers it."""
    _require_on(actor, event.patrol)
    if not tip.node.path.startswith(event.node.path) and tip.node_id != event.node_id:
        raise DomainError(_("The tip is about another place."), field="tip")
    if resolution not in Resolution.values:
        raise DomainError(_("Choose how the tip was resolved."), field="resolution")
    with transaction.atomic():
        tip = tip_resolve(
            actor=actor, tip=tip, resolution=resolution, note=note or event_words(event)
        )
        event = _event_locked(event)
        event.resolved_tip = tip
        event.save(update_fields=["resolved_tip"])
        audit_record(
            actor,
            "fangyi.patrolevent.tip_resolved",
            event,
            node_path=event.node.path,
            changes={"tip": [None, tip.code]},
        )
    return tip


# --- plans --------------------------------------------------------------------------------------


def _responsible_for(compounds: list[Node]) -> dict[int, User]:
    """The officer of each compound (the nearest police officer, else community staff, else
    auxiliary police): one query for all of them. Unlike core.selectors.nearest_workers the
    role comes before the depth: a compound's patrols are the officer's duty (the seed's 社区民警),
    even where community staff sit closer in the tree."""
    paths = set()
    for c in compounds:
        paths.update(ancestor_paths(c.path))
    rows = list(
        User.objects.filter(is_active=True, role__in=RESPONSIBLE_ROLES, nodes__path__in=paths)
        .annotate(_p=F("nodes__path"))
        .order_by("username")
    )
    out: dict[int, User] = {}
    for c in compounds:
        best = None
        for u in rows:
            if c.path.startswith(u._p):
                key = (RESPONSIBLE_ROLES.index(u.role), -len(u._p), u.username)
                if best is None or key < best[0]:
                    best = (key, u)
        if best is not None:
            out[c.pk] = best[1]
    return out


def plan_set(
    *,
    actor: User,
    node: Node,
    times_per_day: int,
    responsible: User | None = None,
) -> int:
    """Every compound under `node` is to be patrolled `times_per_day` times a day (0 stops
    the plan). The responsible officer is the one named, else each compound's nearest officer.
    Returns how many compounds the plan now covers."""
    access.require(actor, "patrol.plan")
    access.check_node_in_scope(actor, node)
    e = FieldErrors()
    try:
        times = int(times_per_day)
    except (TypeError, ValueError):
        times = -1
    if not 0 <= times <= MAX_TIMES_PER_DAY:
        e.add("times_per_day", _("Must be between 0 and %(n)d.") % {"n": MAX_TIMES_PER_DAY})
    compounds = list(
        Node.objects.filter(subtree_q(node.path, "path"), kind=NodeKind.COMPOUND).order_by("path")
    )
    if not compounds:
        e.add("node", _("There are no compounds under this jurisdiction."))
    if responsible is not None:
        # Anyone the supervisor may name (inside his jurisdiction, of a patrolling role)...
        if responsible.role not in RESPONSIBLE_ROLES or not any(
            access.path_visible(actor, p) for p in access.user_paths(responsible)
        ):
            raise NotFound(_("No such colleague."), field="responsible")
        # ...whose own jurisdiction holds every compound of the plan.
        if not all(access.path_visible(responsible, c.path) for c in compounds):
            e.add(
                "responsible",
                _("%(name)s's jurisdiction does not hold every compound under %(node)s.")
                % {"name": responsible.display_name, "node": node.name},
            )
    e.raise_if_any()
    now = timezone.now()
    with transaction.atomic():
        if times == 0:
            n = PatrolPlan.objects.filter(node__in=compounds).update(
                active=False, set_by=actor, set_at=now
            )
        else:
            names = (
                {c.pk: responsible for c in compounds}
                if responsible is not None
                else _responsible_for(compounds)
            )
            existing = {p.node_id: p for p in PatrolPlan.objects.filter(node__in=compounds)}
            new: list[PatrolPlan] = []
            changed: list[PatrolPlan] = []
            for c in compounds:
                plan = existing.get(c.pk) or PatrolPlan(node=c)
                plan.times_per_day = times
                plan.responsible = names.get(c.pk)
                plan.active = True
                plan.set_by = actor
                plan.set_at = now
                (changed if plan.pk else new).append(plan)
            PatrolPlan.objects.bulk_create(new)
            PatrolPlan.objects.bulk_update(
                changed, ["times_per_day", "responsible", "active", "set_by", "set_at"]
            )
            n = len(compounds)
        audit_record(
            actor,
            "fangyi.patrolplan.set",
            node,
            node_path=node.path,
            changes={
                "times_per_day": [None, times],
                "compounds": [None, n],
                "responsible": [None, responsible.pk if responsible else None],
            },
        )
    return n
