"""Writes of medical observation: start, follow-ups, alerts, release, referral, transfer.

Every function takes the acting user first (keyword `actor`), checks the policy, validates
everything before writing, writes its audit row in the same transaction, and raises
DomainError (with the field) on bad input.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import connection, transaction
from django.db.models import (
    DateField,
    Exists,
    F,
    OuterRef,
    PositiveSmallIntegerField,
    Value,
)
from django.utils import timezone
from django.utils.translation import gettext as _

from fangyi.core import access
from fangyi.core.audit import audit_record, diff, snapshot
from fangyi.core.errors import Conflict, DomainError, NotFound
from fangyi.core.idempotency import replay
from fangyi.core.models import Role, User
from fangyi.core.selectors import nearest_workers
from fangyi.health.models import Decision, Outcome, RiskSettings, SelfReportLink, Symptom
from fangyi.people.models import END_PLACE_KINDS, Person, Place, PlaceKind

from . import notices
from .models import (
    WORKER_STATUSES,
    Alert,
    AlertKind,
    FollowUp,
    FollowUpStatus,
    Observation,
    ObservationKind,
    ObservationStatus,
)
from .selectors import site_staff_followup_q

OBSERVATION_FIELDS = [
    "person",
    "node",
    "decision",
    "kind",
    "place",
    "status",
    "starts",
    "last_exposure",
    "ends",
    "per_day",
    "responsible",
]

# Who follows up a person observed at home, nearest first.
RESPONSIBLE_ROLES = (Role.GRID_WORKER, Role.COMMUNITY_STAFF, Role.POLICE, Role.HEALTH_STAFF)


def observation_end_date(last_exposure: dt.date, settings: RiskSettings | None = None) -> dt.date:
    """The last day of observation: `observation_days` counted from the last exposure."""
    days = (settings or RiskSettings.current()).observation_days
    return last_exposure + dt.timedelta(days=days)


def default_responsible(person: Person) -> User | None:
    workers = nearest_workers(person.node, RESPONSIBLE_ROLES)
    return workers[0] if workers else None


def observation_start(
    *,
    actor: User,
    person: Person,
    kind: str,
    last_exposure: dt.date,
    decision: Decision | None = None,
    place: Place | None = None,
    responsible: User | None = None,
    starts: dt.date | None = None,
    client_id: uuid.UUID | None = None,
) -> Observation:
    """Put `person` under observation until last exposure + the configured days.

    A person already under observation is not observed twice: a later exposure extends the
    running observation instead (see observation_extend)."""
    access.require(actor, "observation.manage")
    if not access.path_visible(actor, person.node.path):
        raise DomainError(_("This person is not in your jurisdiction."), field="person")
    return observation_start_unchecked(
        actor=actor,
        person=person,
        kind=kind,
        last_exposure=last_exposure,
        decision=decision,
        place=place,
        responsible=responsible,
        starts=starts,
        client_id=client_id,
    )


def observation_start_unchecked(
    *,
    actor: User | None,
    person: Person,
    kind: str,
    last_exposure: dt.date,
    decision: Decision | None = None,
    place: Place | None = None,
    responsible: User | None = None,
    starts: dt.date | None = None,
    client_id: uuid.UUID | None = None,
) -> Observation:
    """observation_start without the policy check, for the care pathway and the services that
    checked their own (a health decision's observation, a transfer's next one, a person
    placed at a site). Everything else is validated here."""
    existing = replay(
        Observation,
        client_id,
        lambda done: done.person_id == person.pk and access.path_visible(actor, done.node.path),
    )
    if existing is not None:
        return existing
    if kind not in ObservationKind.values:
        raise DomainError(_("Choose where the observation happens."), field="kind")
    if kind == ObservationKind.PLACE and place is None:
        raise DomainError(_("Choose the quarantine point or designated hotel."), field="place")
    if kind == ObservationKind.PLACE and place.kind not in END_PLACE_KINDS:
        raise DomainError(_("Choose a quarantine point or designated hotel."), field="place")
    if kind == ObservationKind.HOME:
        place = None
    today = timezone.localdate()
    if last_exposure > today:
        raise DomainError(_("The last exposure cannot be in the future."), field="last_exposure")
    settings = RiskSettings.current()
    with transaction.atomic():
        running = (
            Observation.objects.select_for_update()
            .filter(person=person, status=ObservationStatus.ACTIVE)
            .first()
        )
        if running is not None:
            if last_exposure > running.last_exposure:
                return _extend(actor, running, last_exposure)
            raise Conflict(
                _("%(name)s is already under observation until %(date)s.")
                % {"name": person.name, "date": running.ends.isoformat()},
                field="person",
            )
        obs = Observation.objects.create(
            person=person,
            node=person.node,
            decision=decision,
            kind=kind,
            place=place,
            starts=starts or today,
            last_exposure=last_exposure,
            ends=observation_end_date(last_exposure, settings),
            per_day=settings.followups_per_day,
            responsible=responsible or default_responsible(person),
            created_by=actor,
            client_id=client_id,
        )
        audit_record(
            actor,
            "fangyi.observation.started",
            obs,
            changes={k: [None, v] for k, v in snapshot(obs, OBSERVATION_FIELDS).items()},
            node_path=person.node.path,
        )
        if obs.starts <= today <= obs.ends:
            # Today's follow-up now, not when the worker happens to open the day list: the
            # board, the site and the supervisor count it from the start.
            followups_generate(today, observations=[obs.pk], audit=False)
    return obs


def observation_extend(
    *, actor: User, observation: Observation, last_exposure: dt.date
) -> Observation:
    """A new exposure: the end date moves to the new last exposure + the configured days."""
    access.require(actor, "observation.manage")
    return _extend(actor, observation, last_exposure)


def _extend(actor: User | None, observation: Observation, last_exposure: dt.date) -> Observation:
    """observation_extend without the policy check (a later exposure reaching observation_start_unchecked
    extends the running observation)."""
    if observation.status != ObservationStatus.ACTIVE:
        raise DomainError(_("This observation has ended."), field="last_exposure")
    if last_exposure <= observation.last_exposure:
        raise DomainError(
            _("The new exposure must be later than the last one (%(date)s).")
            % {"date": observation.last_exposure.isoformat()},
            field="last_exposure",
        )
    if last_exposure > timezone.localdate():
        raise DomainError(_("The last exposure cannot be in the future."), field="last_exposure")
    before = snapshot(observation, OBSERVATION_FIELDS)
    with transaction.atomic():
        observation.last_exposure = last_exposure
        observation.ends = observation_end_date(last_exposure)
        observation.save(update_fields=["last_exposure", "ends"])
        after = snapshot(observation, OBSERVATION_FIELDS)
        audit_record(
            actor,
            "fangyi.observation.extended",
            observation,
            changes={k: [before[k], after[k]] for k in after if before[k] != after[k]},
            node_path=observation.node.path,
        )
    return observation


# ---------------------------------------------------------------------------------------------
# ending an observation

FOLLOWUP_FIELDS = ["status", "temperature", "symptoms", "notes", "recorded_by", "recorded_at"]
CLEAN_STATUSES = {FollowUpStatus.SEEN_WELL, FollowUpStatus.SELF_REPORTED}
OPEN_FOLLOWUP_STATUSES = [FollowUpStatus.DUE, FollowUpStatus.MISSED]
TEMPERATURE_MIN, TEMPERATURE_MAX = Decimal("35.0"), Decimal("42.0")


def _require_scope(actor: User, observation: Observation) -> None:
    """Inside the actor's jurisdiction; for site staff, at their own site."""
    if actor.role == Role.SITE_STAFF:
        here = Observation.objects.filter(site_staff_followup_q(actor, prefix=""))
        if not here.filter(pk=observation.pk).exists():
            raise NotFound(_("No such observation."))
        return
    if not access.path_visible(actor, observation.node.path):
        raise NotFound(_("No such observation."))


def _require_active(observation: Observation, field: str = "__all__") -> None:
    if observation.status != ObservationStatus.ACTIVE:
        raise DomainError(
            _("This observation has already ended (%(status)s).")
            % {"status": observation.get_status_display()},
            field=field,
        )


def _note(value: str, field: str = "note", required: bool = False) -> str:
    value = (value or "").strip()
    if required and not value:
        raise DomainError(_("Say why, in a few words."), field=field)
    if len(value) > 2000:
        raise DomainError(_("At most 2000 characters."), field=field)
    return value


def _close_open_followups(observation: Observation, today: dt.date) -> dict[str, int]:
    """An ended observation keeps no open follow-up: those of past days become missed, those of
    today and later are removed."""
    open_ = observation.followups.filter(status=FollowUpStatus.DUE)
    missed = open_.filter(due__lt=today).update(status=FollowUpStatus.MISSED)
    removed, _detail = open_.filter(due__gte=today).delete()
    return {"missed": missed, "removed": removed}


def last_recorded_followup(observation: Observation) -> FollowUp | None:
    return (
        observation.followups.exclude(status__in=OPEN_FOLLOWUP_STATUSES)
        .order_by("-due", "-slot", "-id")
        .first()
    )


def followup_is_clean(followup: FollowUp | None, settings: RiskSettings | None = None) -> bool:
    if followup is None or followup.status not in CLEAN_STATUSES:
        return False
    threshold = (settings or RiskSettings.current()).fever_threshold
    if followup.temperature is not None and followup.temperature >= threshold:
        return False
    return not followup.symptoms


def _end(
    actor: User, observation: Observation, status: str, note: str, verb: str, **extra
) -> Observation:
    before = snapshot(observation, [*OBSERVATION_FIELDS, "end_note"])
    today = timezone.localdate()
    observation.status = status
    observation.ended_at = timezone.now()
    observation.ended_by = actor
    observation.end_note = note
    observation.save(update_fields=["status", "ended_at", "ended_by", "end_note"])
    closed = _close_open_followups(observation, today)
    after = snapshot(observation, [*OBSERVATION_FIELDS, "end_note"])
    changes = {k: [before[k], after[k]] for k in after if before[k] != after[k]}
    changes["ended_by"] = [None, actor.pk]
    if any(closed.values()):
        changes["followups_closed"] = [None, closed]
    for key, value in extra.items():
        changes[key] = [None, value]
    audit_record(
        actor,
        f"fangyi.observation.{verb}",
        observation,
        changes=changes,
        node_path=observation.node.path,
    )
    return observation


def observation_release(*, actor: User, observation: Observation, note: str = "") -> Observation:
    """Release: only on or after the end date, and only when the last recorded follow-up was
    clean (seen well or self-reported, no fever, no symptom)."""
    access.require(actor, "observation.manage")
    _require_scope(actor, observation)
    _require_active(observation)
    note = _note(note)
    today = timezone.localdate()
    if today < observation.ends:
        raise DomainError(
            _("Observation runs until %(date)s: release it on that day or later.")
            % {"date": observation.ends.isoformat()},
            field="ends",
        )
    last = last_recorded_followup(observation)
    if not followup_is_clean(last):
        if last is None:
            message = _("No follow-up has been recorded: record a clean one before release.")
        else:
            message = _(
                "The last follow-up (%(date)s, %(status)s) is not clean: record a clean one "
                "before release."
            ) % {"date": last.due.isoformat(), "status": last.get_status_display()}
        raise DomainError(message, field="followups")
    with transaction.atomic():
        return _end(
            actor,
            observation,
            ObservationStatus.RELEASED,
            note,
            "released",
            last_followup=last.pk,
        )


def observation_move_home(*, actor: User | None, observation: Observation, note: str = ""):
    """The person's placement at a site ended without a next one (allowed home after a
    refusal, a transfer cancelled): the running observation continues at home, followed up
    by their community worker again. Call inside the caller's transaction."""
    if observation.status != ObservationStatus.ACTIVE or observation.kind == ObservationKind.HOME:
        return observation
    before = {"kind": observation.kind, "place": observation.place_id}
    before["responsible"] = observation.responsible_id
    observation.kind, observation.place = ObservationKind.HOME, None
    observation.responsible = default_responsible(observation.person)
    observation.save(update_fields=["kind", "place", "responsible"])
    observation.followups.filter(status=FollowUpStatus.DUE, due__gte=timezone.localdate()).update(
        assignee=observation.responsible
    )
    after = {"kind": observation.kind, "place": None, "responsible": observation.responsible_id}
    changes = {k: [before[k], after[k]] for k in after if before[k] != after[k]}
    if note:
        changes["note"] = [None, note]
    audit_record(
        actor,
        "fangyi.observation.moved",
        observation,
        node_path=observation.node.path,
        changes=changes,
    )
    return observation


def observation_refer(
    *, actor: User, observation: Observation, note: str, place: Place | None = None
) -> Observation:
    """Refer to the fever clinic or a hospital (with a note, and the place when known).

    The observation part alone: when it ran at a quarantine site, the placement there ends
    with it through fangyi.care.flows.observation_refer, which the pages and the API call."""
    access.require(actor, "observation.manage")
    _require_scope(actor, observation)
    _require_active(observation)
    note = _note(note, required=True)
    if place is not None and place.kind != PlaceKind.FEVER_CLINIC:
        raise DomainError(_("Choose a fever clinic."), field="place")
    with transaction.atomic():
        return _end(
            actor,
            observation,
            ObservationStatus.REFERRED,
            note,
            "referred",
            place=place.pk if place else None,
        )


def observation_transfer(
    *,
    actor: User,
    observation: Observation,
    kind: str,
    place: Place | None = None,
    note: str = "",
    client_id: uuid.UUID | None = None,
) -> Observation:
    """Home ↔ a quarantine point or designated hotel (or one place to another): this
    observation ends as transferred and the next starts today with the same last exposure.
    Returns the new observation. The observation part alone: the placement at the site left
    ends through fangyi.care.flows.observation_transfer, which the pages and the API call."""
    access.require(actor, "observation.manage")
    _require_scope(actor, observation)
    existing = replay(
        Observation,
        client_id,
        lambda done: (
            done.person_id == observation.person_id and access.path_visible(actor, done.node.path)
        ),
    )
    if existing is not None:
        return existing
    _require_active(observation)
    note = _note(note)
    if kind not in ObservationKind.values:
        raise DomainError(_("Choose where the observation continues."), field="kind")
    if kind == ObservationKind.PLACE:
        if place is None:
            raise DomainError(_("Choose the quarantine point or designated hotel."), field="place")
        if place.kind not in END_PLACE_KINDS or not place.is_active:
            raise DomainError(
                _("Choose a quarantine point or designated hotel in use."), field="place"
            )
        if observation.kind == ObservationKind.PLACE and observation.place_id == place.pk:
            raise DomainError(_("The person is already observed there."), field="place")
    else:
        place = None
        if observation.kind == ObservationKind.HOME:
            raise DomainError(_("The person is already observed at home."), field="kind")
    with transaction.atomic():
        _end(actor, observation, ObservationStatus.TRANSFERRED, note, "transferred")
        nxt = observation_start_unchecked(
            actor=actor,
            person=observation.person,
            kind=kind,
            place=place,
            last_exposure=observation.last_exposure,
            decision=observation.decision,
            client_id=client_id,
        )
        observation.transferred_to = nxt
        observation.save(update_fields=["transferred_to"])
        if nxt.starts <= timezone.localdate() <= nxt.ends:
            followups_generate(timezone.localdate(), observations=[nxt.pk], audit=False)
    return nxt


# ---------------------------------------------------------------------------------------------
# follow-ups: generated each day, recorded by a worker or self-reported


# One statement the database runs on its own: the rows never travel to Python. ON CONFLICT
# DO NOTHING on followup_unique_slot makes a concurrent run skip the rows the other created
# (both SQLite and PostgreSQL spell it so; SQLite needs the WHERE the SELECT always has).
_GENERATE_SQL = "INSERT INTO {table} ({columns}) {select} ON CONFLICT ({conflict}) DO NOTHING"


def followups_generate(
    day: dt.date, *, observations: Iterable[int] | None = None, audit: bool = True
) -> int:
    """Create the follow-ups due on `day` for every active observation running that day
    (`per_day` of them, slots 1 and 2), assigned to the observation's responsible worker.

    Idempotent: slots that exist already are skipped, so a second run creates nothing. Bulk:
    one `INSERT ... SELECT ... ON CONFLICT DO NOTHING`, the SELECT built by the ORM (slot 1
    of every running observation UNION ALL slot 2 of those followed up twice a day); the
    unique constraint skips the slots that exist, and a concurrent run's rows too (no retry
    needed). No NOT EXISTS in the SELECT: on a table PostgreSQL had analyzed empty, the
    planner ran it as a nested loop over the rows being inserted (7 s at 22,000 rows).
    `observations` limits the run to those ids (the day list makes sure a worker's own rows
    exist). One summary audit row when anything was created (`audit=False` for callers that
    audit the change themselves).

    Measured at 110,000 rows (bench followups_generate): reading the observations and sending
    the rows back took 6.4 to 7.2 s on PostgreSQL and 2.3 s on SQLite; this statement 3.6 to
    4.2 s and 0.7 to 1.0 s. What is left on PostgreSQL is the seven index entries and the four
    per-row foreign key triggers (about 2 s of them) that any insert of these rows pays."""
    running = Observation.objects.filter(
        status=ObservationStatus.ACTIVE, starts__lte=day, ends__gte=day
    ).order_by()
    if observations is not None:
        ids = list(observations)
        if not ids:
            return 0
        running = running.filter(pk__in=ids)

    def slot_rows(slot: int):
        # per_day 1 (or an impossible 0) gets slot 1 only; 2 or more gets slots 1 and 2.
        qs = running if slot == 1 else running.filter(per_day__gte=slot)
        return qs.values_list(
            "pk",
            "node_id",
            Value(day, output_field=DateField()),
            Value(slot, output_field=PositiveSmallIntegerField()),
            "responsible_id",
        )

    select, params = slot_rows(1).union(slot_rows(2), all=True).query.sql_with_params()
    opts = FollowUp._meta
    qn = connection.ops.quote_name

    def cols(*names: str) -> str:
        return ", ".join(qn(opts.get_field(f).column) for f in names)

    # Table and column names from the model's metadata, quoted; the values are parameters.
    sql = _GENERATE_SQL.format(
        table=qn(opts.db_table),
        columns=cols("observation", "node", "due", "slot", "assignee"),
        select=select,
        conflict=cols("observation", "due", "slot"),
    )
    with transaction.atomic():
        # Status, symptoms and notes take their database defaults (due, [], "").
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            created = max(cursor.rowcount, 0)
        if created and audit:
            audit_record(
                None,
                "fangyi.followup.generated",
                None,
                object_type="followup",
                object_repr=_("Follow-ups due %(date)s") % {"date": day.isoformat()},
                changes={"due": [None, day.isoformat()], "created": [None, created]},
            )
    return created


def followups_ensure(user: User, day: dt.date) -> int:
    """Today's rows for the observations `user` is responsible for, in case the daily run has
    not happened yet: cheap (one read when they exist) and idempotent."""
    if not getattr(user, "is_authenticated", False):
        return 0
    missing = (
        Observation.objects.filter(
            responsible=user, status=ObservationStatus.ACTIVE, starts__lte=day, ends__gte=day
        )
        .exclude(Exists(FollowUp.objects.filter(observation=OuterRef("pk"), due=day)))
        .values_list("pk", flat=True)
    )
    ids = list(missing[:5000])
    if not ids:
        return 0
    return followups_generate(day, observations=ids, audit=False)


def _mark_missed_counted(stale) -> int:
    """Read the stale rows once (locked), then update in a few statements: a correlated count
    per observation inside the UPDATE is quadratic on SQLite."""
    rows = list(stale.select_for_update().values_list("pk", "observation_id"))
    per_obs = Counter(obs_id for _pk, obs_id in rows)
    last = max((pk for pk, _obs in rows), default=0)
    # Only the rows counted (one generated meanwhile for a past day waits for tomorrow).
    missed = stale.filter(pk__lte=last).update(status=FollowUpStatus.MISSED)
    by_count: dict[int, list[int]] = {}
    for obs_id, n in per_obs.items():
        by_count.setdefault(n, []).append(obs_id)
    for n, ids in by_count.items():
        for i in range(0, len(ids), 900):
            Observation.objects.filter(pk__in=ids[i : i + 900]).update(
                missed_streak=F("missed_streak") + n
            )
    return missed


# PostgreSQL: one statement. The UPDATE marks (and locks) exactly the rows it returns, a row
# recorded meanwhile drops out (read committed re-checks the WHERE), and the streaks grow by
# the count of those very rows. At 110,000 rows the read-lock-update-in-900s path above took
# 8.7 to 12 s there.
_MARK_MISSED_SQL = """
WITH marked AS (
    UPDATE {followup} SET {status} = %s WHERE {status} = %s AND {due} < %s
    RETURNING {observation_id}
), counted AS (
    SELECT {observation_id} AS obs, COUNT(*) AS n FROM marked GROUP BY {observation_id}
), streaks AS (
    UPDATE {observation} o SET {missed_streak} = o.{missed_streak} + counted.n
    FROM counted WHERE o.{pk} = counted.obs
    RETURNING counted.n
)
SELECT COALESCE(SUM(n), 0) FROM streaks
"""


def _mark_missed_postgresql(day: dt.date) -> int:
    qn = connection.ops.quote_name
    fopts, oopts = FollowUp._meta, Observation._meta

    def fcol(name: str) -> str:
        return qn(fopts.get_field(name).column)

    # Table and column names from the models' metadata, quoted; the values are parameters.
    sql = _MARK_MISSED_SQL.format(
        followup=qn(fopts.db_table),
        status=fcol("status"),
        due=fcol("due"),
        observation_id=fcol("observation"),
        observation=qn(oopts.db_table),
        missed_streak=qn(oopts.get_field("missed_streak").column),
        pk=qn(oopts.pk.column),
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [FollowUpStatus.MISSED.value, FollowUpStatus.DUE.value, day])
        return int(cursor.fetchone()[0])


def followups_mark_missed(day: dt.date) -> dict[str, int]:
    """Follow-ups still due before `day` become missed. Each observation counts its missed
    follow-ups in a row (a recorded one resets the count); at RiskSettings.missed_escalation
    in a row an alert goes to the supervisors and the observation is marked escalated.

    Runs once a day, in bulk: a few statements whatever the size."""
    settings = RiskSettings.current()
    stale = FollowUp.objects.filter(status=FollowUpStatus.DUE, due__lt=day)
    with transaction.atomic():
        if connection.vendor == "postgresql":
            missed = _mark_missed_postgresql(day)
        else:
            missed = _mark_missed_counted(stale)
        to_escalate = list(
            Observation.objects.filter(
                status=ObservationStatus.ACTIVE,
                escalated=False,
                missed_streak__gte=settings.missed_escalation,
            ).select_related("person", "node")
        )
        alerts = [
            Alert(
                observation=obs,
                node_id=obs.node_id,
                kind=AlertKind.MISSED,
                message=(
                    _("%(name)s: %(n)d follow-ups missed in a row (until %(date)s).")
                    % {
                        "name": obs.person.name,
                        "n": obs.missed_streak,
                        "date": (day - dt.timedelta(days=1)).isoformat(),
                    }
                )[:300],
            )
            for obs in to_escalate
        ]
        Alert.objects.bulk_create(alerts, batch_size=1000)
        notices.missed_in_a_row(alerts, day)
        escalated = [o.pk for o in to_escalate]
        # SQLite caps the parameters of a statement; PostgreSQL takes them in one UPDATE.
        step = 900 if connection.vendor == "sqlite" else 50_000
        for i in range(0, len(escalated), step):
            Observation.objects.filter(pk__in=escalated[i : i + step]).update(escalated=True)
        if missed or alerts:
            audit_record(
                None,
                "fangyi.followup.missed",
                None,
                object_type="followup",
                object_repr=_("Follow-ups missed before %(date)s") % {"date": day.isoformat()},
                changes={
                    "before": [None, day.isoformat()],
                    "missed": [None, missed],
                    "escalated": [None, [o.pk for o in to_escalate][:1000]],
                },
            )
    return {"missed": missed, "escalated": len(alerts)}


def daily_rounds(day: dt.date | None = None) -> dict[str, int]:
    """The daily job: yesterday's open follow-ups become missed, today's are generated."""
    day = day or timezone.localdate()
    result = followups_mark_missed(day)
    result["generated"] = followups_generate(day)
    return result


def _streak(observation: Observation) -> int:
    """Missed follow-ups in a row since the last recorded one."""
    streak = 0
    for status in (
        observation.followups.exclude(status=FollowUpStatus.DUE)
        .order_by("-due", "-slot", "-id")
        .values_list("status", flat=True)[:60]
    ):
        if status != FollowUpStatus.MISSED:
            break
        streak += 1
    return streak


@dataclass
class FollowUpInput:
    status: str = ""
    temperature: Any = None
    symptoms: Iterable[str] = ()
    notes: str = ""
    client_id: uuid.UUID | None = None


def _clean_temperature(value: Any, errors: dict[str, list[str]]) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        temp = Decimal(str(value).strip().replace(",", ".")).quantize(Decimal("0.1"))
    except (InvalidOperation, ValueError):
        errors.setdefault("temperature", []).append(_("Write the temperature like 36.5."))
        return None
    if not TEMPERATURE_MIN <= temp <= TEMPERATURE_MAX:
        errors.setdefault("temperature", []).append(
            _("A body temperature is between %(low)s and %(high)s °C; %(value)s is not one.")
            % {"low": TEMPERATURE_MIN, "high": TEMPERATURE_MAX, "value": value}
        )
        return None
    return temp


def followup_clean(
    data: FollowUpInput, *, statuses: Iterable[str], settings: RiskSettings
) -> tuple[FollowUpInput, str | None]:
    """Validate a follow-up; every field error at once. Returns the cleaned data and the alert
    kind it raises (fever, symptoms or None). A fever or a symptom makes the status "seen,
    unwell" (a self-report stays a self-report)."""
    errors: dict[str, list[str]] = {}
    statuses = list(statuses)
    if data.status not in statuses:
        errors["status"] = [_("Choose what happened.")]
    data.temperature = _clean_temperature(data.temperature, errors)
    codes = [str(c).strip() for c in (data.symptoms or ()) if str(c).strip()]
    codes = list(dict.fromkeys(codes))
    known = set(
        Symptom.objects.filter(is_active=True, code__in=codes).values_list("code", flat=True)
    )
    unknown = [c for c in codes if c not in known]
    if unknown:
        errors["symptoms"] = [_("Unknown symptom: %(codes)s.") % {"codes": ", ".join(unknown[:5])}]
    data.symptoms = codes
    data.notes = (data.notes or "").strip()
    if len(data.notes) > 2000:
        errors["notes"] = [_("At most 2000 characters.")]
    unreached = data.status in (FollowUpStatus.NOT_REACHED, FollowUpStatus.REFUSED)
    if unreached and (data.temperature is not None or codes):
        errors.setdefault("status", []).append(
            _("A temperature or symptoms mean the person was seen: choose seen, well or unwell.")
        )
    if errors:
        first = next(iter(errors.values()))[0]
        raise DomainError(first, errors=errors)
    alert = None
    if data.temperature is not None and data.temperature >= settings.fever_threshold:
        alert = AlertKind.FEVER
    elif codes:
        alert = AlertKind.SYMPTOMS
    if alert and data.status == FollowUpStatus.SEEN_WELL:
        data.status = FollowUpStatus.SEEN_UNWELL
    return data, alert


def _alert_message(followup: FollowUp, kind: str, names: dict[str, str]) -> str:
    person = followup.observation.person.name
    words = []
    if followup.temperature is not None:
        words.append(f"{followup.temperature} °C")
    words += [names.get(c, c) for c in followup.symptoms]
    return (
        _("%(name)s on %(date)s: %(what)s. Proposed: the fever clinic.")
        % {"name": person, "date": followup.due.isoformat(), "what": ", ".join(words)}
    )[:300]


def _jsonable(values: dict[str, Any]) -> dict[str, Any]:
    """Temperatures as text ("37.8") in the audit trail."""
    return {k: str(v) if isinstance(v, Decimal) else v for k, v in values.items()}


def _store_followup(
    actor: User | None, followup: FollowUp, data: FollowUpInput, alert_kind: str | None, verb: str
) -> FollowUp:
    observation = followup.observation
    before = snapshot(followup, FOLLOWUP_FIELDS)
    followup.status = data.status
    followup.temperature = data.temperature
    followup.symptoms = list(data.symptoms)
    followup.notes = data.notes
    followup.recorded_by = actor
    followup.recorded_at = timezone.now()
    followup.client_id = data.client_id
    followup.save()
    streak = _streak(observation)
    if streak != observation.missed_streak or (streak == 0 and observation.escalated):
        observation.missed_streak = streak
        if streak == 0:
            observation.escalated = False
        observation.save(update_fields=["missed_streak", "escalated"])
    changes = diff(_jsonable(before), _jsonable(snapshot(followup, FOLLOWUP_FIELDS)))
    if alert_kind:
        names = dict(Symptom.objects.filter(code__in=followup.symptoms).values_list("code", "name"))
        alert = Alert.objects.create(
            observation=observation,
            followup=followup,
            node_id=followup.node_id,
            kind=alert_kind,
            message=_alert_message(followup, alert_kind, names),
            proposal=Outcome.FEVER_CLINIC,
        )
        changes["alert"] = [None, alert.pk]
        notices.alert_raised(alert, observation, observation.person.name, observation.node.path)
    audit_record(
        actor,
        f"fangyi.followup.{verb}",
        followup,
        changes=changes,
        node_path=observation.node.path,
    )
    return followup


def followup_record(
    *,
    actor: User,
    followup: FollowUp,
    status: str,
    temperature: Any = None,
    symptoms: Iterable[str] = (),
    notes: str = "",
    client_id: uuid.UUID | None = None,
) -> FollowUp:
    """A worker records a follow-up: seen well or unwell, not reached, refused; temperature,
    symptoms, notes. A fever (at or above the configured threshold) or a symptom raises an
    alert for health staff proposing the fever clinic. The same client_id twice stores once."""
    access.require(actor, "followup.record")
    existing = replay(FollowUp, client_id, lambda done: done.pk == followup.pk)
    if existing is not None:
        return existing
    observation = followup.observation
    _require_scope(actor, observation)
    settings = RiskSettings.current()
    data, alert_kind = followup_clean(
        FollowUpInput(status, temperature, symptoms, notes, client_id),
        statuses=WORKER_STATUSES,
        settings=settings,
    )
    _require_active(observation, "status")
    if followup.due > timezone.localdate():
        raise DomainError(
            _("This follow-up is due on %(date)s.") % {"date": followup.due.isoformat()},
            field="due",
        )
    with transaction.atomic():
        locked = (
            FollowUp.objects.select_for_update()
            .select_related("observation__person")
            .get(pk=followup.pk)
        )
        if client_id and locked.client_id == client_id:
            # A concurrent retry of this very request stored it while we waited for the
            # lock: answer the stored record, as a retry after it would get.
            return locked
        if locked.status not in OPEN_FOLLOWUP_STATUSES:
            raise Conflict(
                _("This follow-up was already recorded (%(status)s).")
                % {"status": locked.get_status_display()},
                field="status",
            )
        result = _store_followup(actor, locked, data, alert_kind, "recorded")
    followup.refresh_from_db()
    return result


def followup_self_report(*, link: SelfReportLink, data: FollowUpInput | dict) -> FollowUp:
    """The observed person fills today's follow-up through their personal link (no account):
    status self-reported, temperature, symptoms, notes; the same alerts as a worker's."""
    if isinstance(data, dict):
        data = FollowUpInput(
            **{k: v for k, v in data.items() if k in FollowUpInput.__annotations__}
        )
    data.status = FollowUpStatus.SELF_REPORTED
    if data.client_id:
        existing = FollowUp.objects.filter(
            client_id=data.client_id, observation__person_id=link.person_id
        ).first()
        if existing is not None:
            return existing
    today = timezone.localdate()
    observation = (
        Observation.objects.filter(
            person_id=link.person_id, status=ObservationStatus.ACTIVE, starts__lte=today
        )
        .select_related("person", "node")
        .first()
    )
    if observation is None:
        raise NotFound(_("You are not under medical observation today."))
    settings = RiskSettings.current()
    data, alert_kind = followup_clean(
        data, statuses=[FollowUpStatus.SELF_REPORTED], settings=settings
    )
    if data.temperature is None:
        raise DomainError(_("Take your temperature and write it here."), field="temperature")
    if today <= observation.ends:
        followups_generate(today, observations=[observation.pk], audit=False)
    with transaction.atomic():
        followup = (
            FollowUp.objects.select_for_update()
            .select_related("observation__person")
            .filter(observation=observation, due=today, status=FollowUpStatus.DUE)
            .order_by("slot")
            .first()
        )
        if followup is None:
            if data.client_id and (
                done := FollowUp.objects.filter(
                    client_id=data.client_id, observation__person_id=link.person_id
                ).first()
            ):
                return done  # a concurrent retry stored it while we waited
            raise Conflict(_("Today's check is already recorded. Thank you."), field="__all__")
        result = _store_followup(None, followup, data, alert_kind, "self_reported")
        SelfReportLink.objects.filter(pk=link.pk).update(last_used=timezone.now())
    return result


def today_selfreport_followup(person_id: int, day: dt.date) -> FollowUp | None:
    return (
        FollowUp.objects.filter(observation__person_id=person_id, due=day)
        .exclude(status__in=OPEN_FOLLOWUP_STATUSES)
        .order_by("-slot")
        .first()
    )


# ---------------------------------------------------------------------------------------------
# alerts


def alert_resolve(
    *, actor: User, alert: Alert, resolution: str, refer: bool = False, place: Place | None = None
) -> Alert:
    """Health staff (fever, symptoms) or a supervisor (missed) say what was done. With
    `refer`, the observation ends as a referral to the fever clinic in the same step."""
    access.require(actor, "alert.handle")
    if not access.path_visible(actor, alert.node.path):
        raise NotFound(_("No such alert."))
    resolution = _note(resolution, field="resolution", required=True)
    if alert.resolved_at is not None:
        raise Conflict(
            _("This alert was already handled on %(date)s.")
            % {"date": timezone.localtime(alert.resolved_at).strftime("%Y-%m-%d %H:%M")},
            field="resolution",
        )
    with transaction.atomic():
        if refer:
            observation_refer(
                actor=actor, observation=alert.observation, note=resolution, place=place
            )
        alert.resolved_at = timezone.now()
        alert.resolved_by = actor
        alert.resolution = resolution
        alert.save(update_fields=["resolved_at", "resolved_by", "resolution"])
        audit_record(
            actor,
            "fangyi.alert.resolved",
            alert,
            changes={"resolution": [None, resolution], "referred": [None, refer]},
            node_path=alert.node.path,
        )
    return alert
