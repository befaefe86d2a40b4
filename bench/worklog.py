"""worklog: the 20-day work log of one officer on a city of n households with a year of
activity for a whole station.

The city is bench/city.py's tree with one resident per household (bench/followups_generate's
cheap_city). The first station gets its staff (the officer measured, three more officers, four
auxiliary police, a grid worker per grid, community staff per community, health staff) and a
year of their work ending today, inserted with bulk_create (scenery, not the service path):
door visits (25 a day per grid worker, 10 for the officer), follow-ups, declarations,
decisions, tips with their steps and visits, support requests with response times, patrols
with companions and events, duty shifts with their tallies, enforcement records, hotel guests
registered and referred, placements and persuasions. At n = 100 000 that is about 300 000
rows.

`seconds` is the median server time of GET /api/worklog (the last 20 days, the officer's own
log) through the Django test client (middleware, session, the log's queries, JSON), over
`runs` requests after a warm-up; `p95_seconds` its 95th percentile; `selector_seconds` the
median of `fangyi.worklog.selectors.worklog` alone. `queries` is the selector's statements
(one aggregate per source and one for the response times, the same at any size),
`request_queries` the whole request's. `totals` are the period's sums.

`raw_seconds` is the same log computed by hand-written SQL in the same run (one GROUP BY per
kind, the local day as date(at, '+8 hours') on SQLite and (at AT TIME ZONE ...)::date on
PostgreSQL, the median in Python from one SELECT), and `raw_totals` its sums; `days_match`
says the two agree on every day and kind. Goal: seconds < 0.1 at n = 100 000.
"""

from __future__ import annotations

import datetime as dt
import random
import statistics
import time
from typing import Any

from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext, setup_test_environment
from django.utils import timezone

from bench.followups_generate import cheap_city
from fangyi.core.models import Node, Role, User
from fangyi.enforcement.models import EnforcementRecord
from fangyi.guests.models import GuestReport
from fangyi.health.models import Decision, Declaration
from fangyi.linkage.models import SupportRequest
from fangyi.observation.models import FollowUp, Observation
from fangyi.patrols.models import DutyPost, DutyShift, Patrol, PatrolEvent, ShiftTally
from fangyi.people.models import Household, Place
from fangyi.quarantine.models import Persuasion, Placement, Refusal
from fangyi.screening.models import Assignment, DoorVisit, Sweep
from fangyi.tips.models import Tip, TipCategory, TipEvent, TipVisit
from fangyi.worklog import selectors

YEAR = 365
BATCH = 5000


def days_of_activity(n: int) -> int:
    """A year at the sizes that are measured (n >= 20 000); a smaller city, for a smoke test,
    gets fewer days (at least 30, so the 20 days read are all full)."""
    return YEAR if n >= 20_000 else max(30, n * YEAR // 20_000)


def _user(username: str, role: str, node: Node, first: str = "") -> User:
    user = User.objects.create(username=username, role=role, first_name=first)
    user.nodes.set([node])
    return user


def _bulk(model, rows: list) -> list:
    return model.objects.bulk_create(rows, batch_size=BATCH)


def _through(field, pairs: list[tuple[int, int]]) -> None:
    """Rows of a many-to-many table: (owner id, user id)."""
    through = field.remote_field.through
    owner = field.m2m_field_name() + "_id"
    other = field.m2m_reverse_field_name() + "_id"
    through.objects.bulk_create(
        [through(**{owner: a, other: b}) for a, b in pairs], batch_size=BATCH
    )


def build(n: int, seed: int) -> tuple[User, dict[str, int]]:
    rnd = random.Random(seed)
    tz = timezone.get_default_timezone()
    today = timezone.localdate()
    span = days_of_activity(n)
    first_day = today - dt.timedelta(days=span - 1)
    city, persons = cheap_city(n, seed)
    station = Node.objects.filter(kind="station").order_by("path").first()
    inside = Node.objects.filter(path__startswith=station.path)
    communities = list(inside.filter(kind="community").order_by("path"))
    grids = list(inside.filter(kind="grid").order_by("path"))
    compounds = list(inside.filter(kind="compound").order_by("path"))
    compound_ids = [c.pk for c in compounds]
    grid_of = {c.pk: c.parent_id for c in compounds}
    households = list(
        Household.objects.filter(node_id__in=compound_ids)
        .order_by("pk")
        .values_list("pk", "node_id")
    )
    residents = [p for p in persons if p[1] in grid_of]

    officer = _user("bench-police", Role.POLICE, station, "徐红心")
    police = [officer] + [
        _user(f"bench-police-{i}", Role.POLICE, communities[i % len(communities)])
        for i in range(1, 4)
    ]
    auxiliary = [_user(f"bench-aux-{i}", Role.AUXILIARY, station) for i in range(4)]
    workers = [_user(f"bench-grid-{i}", Role.GRID_WORKER, g) for i, g in enumerate(grids)]
    staff = [_user(f"bench-staff-{i}", Role.COMMUNITY_STAFF, c) for i, c in enumerate(communities)]
    health = _user("bench-health", Role.HEALTH_STAFF, station)
    _user("bench-supervisor", Role.SUPERVISOR, station)
    hotel = Place.objects.create(
        kind="hotel", name="北大路宾馆", node=compounds[0], address="北大路1号"
    )
    category = TipCategory.objects.order_by("pk").first() or TipCategory.objects.create(
        code="other", name="其他"
    )

    def when(day: dt.date, lo: int = 8, hi: int = 21) -> dt.datetime:
        minute = rnd.randrange(lo * 60, hi * 60)
        return dt.datetime.combine(day, dt.time(minute // 60, minute % 60), tzinfo=tz)

    days = [first_day + dt.timedelta(days=i) for i in range(span)]
    sizes: dict[str, int] = {}
    with transaction.atomic():
        # Door visits: one sweep over the station, one household in it per visit's door.
        sweep = Sweep.objects.create(
            node=station, purpose="全面排查", starts=first_day, ends=today, created_by=officer
        )
        assignments = _bulk(
            Assignment,
            [
                Assignment(sweep=sweep, household_id=h, node_id=c, grid_id=grid_of[c])
                for h, c in households
            ],
        )
        doors = []
        for day in days:
            for worker in workers:
                for _ in range(25):
                    a = assignments[rnd.randrange(len(assignments))]
                    doors.append((a, worker, when(day)))
            for cop, k in zip(police, (10, 5, 5, 5), strict=True):
                for _ in range(k):
                    a = assignments[rnd.randrange(len(assignments))]
                    doors.append((a, cop, when(day)))
        _bulk(
            DoorVisit,
            [
                DoorVisit(
                    assignment=a, household_id=a.household_id, node_id=a.node_id,
                    outcome="visited", at=t, by=u,
                )
                for a, u, t in doors
            ],
        )  # fmt: skip
        sizes["door_visits"] = len(doors)

        # Follow-ups and declarations: a pool of observations in the station.
        pool = residents[:400]
        observations = _bulk(
            Observation,
            [
                Observation(
                    person_id=p, node_id=c, kind="home", status="active", starts=first_day,
                    last_exposure=first_day, ends=today, created_by=health,
                )
                for p, c in pool
            ],
        )  # fmt: skip
        recorders = [*workers, officer, officer]
        followups, declarations = [], []
        for day in days:
            for i, user in enumerate(recorders):
                for j in range(3 if user.role == Role.GRID_WORKER else 1):
                    o = observations[(i * 3 + j) % len(observations)]
                    followups.append(
                        FollowUp(
                            observation=o, node_id=o.node_id, due=day, slot=1 + j, assignee=user,
                            status="seen_well", recorded_by=user, recorded_at=when(day),
                        )
                    )  # fmt: skip
            for user in [*workers, officer]:
                p, c = pool[rnd.randrange(len(pool))]
                declarations.append(
                    Declaration(
                        person_id=p, node_id=c, declared_on=day, proposal="none",
                        recorded_by=user, recorded_at=when(day),
                    )
                )  # fmt: skip
        _bulk(FollowUp, followups)
        _bulk(Declaration, declarations)
        _bulk(
            Decision,
            [
                Decision(
                    person_id=pool[i % len(pool)][0], node_id=pool[i % len(pool)][1],
                    outcome="home", reason="密切接触者", decided_by=health, decided_at=when(day),
                )
                for i, day in enumerate(d for d in days for _ in range(2))
            ],
        )  # fmt: skip
        sizes.update(followups=len(followups), declarations=len(declarations))

        # Tips: eight a day, each with four steps (taken in by a grid worker, accepted, on
        # scene and resolved by an officer, the officer measured for half) and a visit.
        tips, tip_steps, visits = [], [], []
        for day in days:
            for k in range(8):
                c = compound_ids[rnd.randrange(len(compound_ids))]
                t0 = when(day, 8, 18)
                tips.append(
                    Tip(
                        code=f"B{day:%y%m%d}{k}{rnd.randrange(10**6):06d}",
                        category=category, node_id=c, description="居民聚集", source="phone",
                        status="resolved", received_at=t0,
                    )
                )  # fmt: skip
        tips = _bulk(Tip, tips)
        for k, tip in enumerate(tips):
            cop = officer if k % 2 == 0 else police[1 + k % 3]
            worker = workers[k % len(workers)]
            t0 = tip.received_at
            for i, (user, status) in enumerate(
                ((worker, "new"), (cop, "accepted"), (cop, "on_scene"), (cop, "resolved"))
            ):
                tip_steps.append(
                    TipEvent(tip=tip, at=t0 + dt.timedelta(minutes=7 * i), by=user, status=status)
                )
            visits.append(
                TipVisit(
                    tip=tip, node_id=tip.node_id, at=t0 + dt.timedelta(minutes=15), by=cop,
                    found="已劝散",
                )
            )  # fmt: skip
        _bulk(TipEvent, tip_steps)
        _bulk(TipVisit, visits)
        sizes.update(tips=len(tips), tip_events=len(tip_steps), tip_visits=len(visits))

        # Support: four a day asked by grid workers, two of them answered by the officer.
        support = []
        for day in days:
            for k in range(4):
                asked = when(day, 8, 20)
                cop = officer if k < 2 else police[k]
                support.append(
                    SupportRequest(
                        node_id=compound_ids[rnd.randrange(len(compound_ids))], agency="police",
                        requested_by=workers[k % len(workers)], need="闭门不配合", urgency="urgent",
                        target_minutes=10, status="done", created_at=asked,
                        due_at=asked + dt.timedelta(minutes=10),
                        accepted_at=asked + dt.timedelta(minutes=rnd.randint(1, 3)),
                        accepted_by=cop,
                        arrived_at=asked + dt.timedelta(minutes=rnd.randint(3, 20)),
                        done_at=asked + dt.timedelta(minutes=60),
                    )
                )  # fmt: skip
        _bulk(SupportRequest, support)
        sizes["support_requests"] = len(support)

        # Patrols: each officer leads two a day with an auxiliary; community staff lead one a
        # day with the officer measured; three events each.
        patrols, companions = [], []
        for day in days:
            for i, cop in enumerate(police):
                for _ in range(2):
                    area = communities[i % len(communities)]
                    started = when(day, 7, 19)
                    patrols.append(
                        (Patrol(node=area, leader=cop, started_at=started), auxiliary[i])
                    )
            for i, person in enumerate(staff):
                started = when(day, 7, 19)
                patrols.append(
                    (Patrol(node=communities[i], leader=person, started_at=started), officer)
                )
        made = _bulk(Patrol, [p for p, _c in patrols])
        events = []
        for patrol, (_p, companion) in zip(made, patrols, strict=True):
            companions.append((patrol.pk, companion.pk))
            for i in range(3):
                events.append(
                    PatrolEvent(
                        patrol=patrol, node_id=compound_ids[rnd.randrange(len(compound_ids))],
                        kind="publicity", at=patrol.started_at + dt.timedelta(minutes=10 * i + 5),
                        recorded_by_id=patrol.leader_id, reached=20,
                    )
                )  # fmt: skip
        _through(Patrol._meta.get_field("companions"), companions)
        _bulk(PatrolEvent, events)
        sizes.update(patrols=len(made), patrol_events=len(events))

        # Duty posts: one a community, two shifts a day, thirty taps a shift; the officer on
        # one shift in three at the first post.
        posts = _bulk(
            DutyPost,
            [
                DutyPost(node=c, name=f"{c.name}卡点", kind="gate", created_by=officer)
                for c in communities
            ],
        )
        shifts, on_duty = [], []
        for day in days:
            for i, post in enumerate(posts):
                for start_hour in (7, 14):
                    starts = dt.datetime.combine(day, dt.time(start_hour), tzinfo=tz)
                    people = [auxiliary[i % len(auxiliary)], staff[i]]
                    if i == 0 and start_hour == 7 and day.toordinal() % 3 == 0:
                        people.append(officer)
                    shifts.append(
                        DutyShift(
                            post=post, node_id=post.node_id, starts=starts,
                            ends=starts + dt.timedelta(hours=7), created_by=officer,
                            taken_at=starts, taken_by=people[0],
                        )
                    )  # fmt: skip
                    on_duty.append(people)
        shifts = _bulk(DutyShift, shifts)
        _through(
            DutyShift._meta.get_field("staff"),
            [(s.pk, u.pk) for s, people in zip(shifts, on_duty, strict=True) for u in people],
        )
        tallies = []
        for shift, people in zip(shifts, on_duty, strict=True):
            for i in range(30):
                tallies.append(
                    ShiftTally(
                        shift=shift, kind="persons" if i < 20 else "vehicles", delta=1,
                        at=shift.starts + dt.timedelta(minutes=12 * i), by=people[0],
                    )
                )  # fmt: skip
        _bulk(ShiftTally, tallies)
        sizes.update(shifts=len(shifts), tallies=len(tallies))

        # Enforcement (one a day, the officer and an auxiliary), hotel guests (one registered
        # every other day, one in two of them referred), placements, persuasions.
        records = _bulk(
            EnforcementRecord,
            [
                EnforcementRecord(
                    node_id=compound_ids[i % len(compound_ids)], measure="education",
                    at=when(day), facts="聚集劝散", recorded_by=officer,
                )
                for i, day in enumerate(days)
            ],
        )  # fmt: skip
        _through(
            EnforcementRecord._meta.get_field("officers"),
            [(r.pk, u.pk) for r in records for u in (officer, auxiliary[0])],
        )
        placements, guests = [], []
        for i, day in enumerate(days):
            p, c = residents[(400 + i) % len(residents)]
            placements.append(
                Placement(
                    person_id=p, node_id=c, kind="home", source="decision", status="released",
                    reserved_at=when(day), reserved_by=health,
                )
            )  # fmt: skip
        for i, day in enumerate(days[::2]):
            p, c = residents[(800 + i) % len(residents)]
            registered = when(day, 8, 18)
            placement = None
            if i % 2 == 0:
                placement = Placement(
                    person_id=p, node_id=c, kind="home", source="referral", status="released",
                    reserved_at=registered + dt.timedelta(hours=1), reserved_by=officer,
                )  # fmt: skip
                placements.append(placement)
            guests.append((registered, placement))
        _bulk(Placement, placements)
        _bulk(
            GuestReport,
            [
                GuestReport(
                    place=hotel, node=hotel.node, reported_by=officer,
                    reported_at=registered - dt.timedelta(minutes=20), name="旅客",
                    id_type="resident", id_number="420102199001011234", from_where="湖北省武汉市",
                    arrived_on=registered.date(), registered_at=registered, registered_by=officer,
                    placement=placement, status="referred" if placement else "registered",
                    referred_at=placement.reserved_at if placement else None,
                )
                for registered, placement in guests
            ],
        )  # fmt: skip
        refused = placements[-(span // 5) :]
        refusals = _bulk(
            Refusal,
            [
                Refusal(
                    placement=pl, person_id=pl.person_id, node_id=pl.node_id, reason="无症状",
                    at=pl.reserved_at, by=officer,
                )
                for pl in refused
            ],
        )  # fmt: skip
        _bulk(
            Persuasion,
            [
                Persuasion(
                    refusal=r, at=r.at + dt.timedelta(minutes=30), by=officer,
                    explained="潜伏期", outcome="agreed",
                )
                for r in refusals
            ],
        )  # fmt: skip
        sizes.update(enforcement=len(records), guests=len(guests), placements=len(placements))
    sizes["rows"] = sum(sizes.values())
    sizes["days_of_activity"] = span
    sizes["station_households"] = len(households)
    return officer, sizes


# --- the same log by hand-written SQL -------------------------------------------------------------

# key -> (aggregate, FROM ... , the user column, the time column, extra condition)
RAW = {
    "doors": ("COUNT(*)", "screening_doorvisit t", "t.by_id", "t.at", ""),
    "followups": (
        "COUNT(*)", "observation_followup t", "t.recorded_by_id", "t.recorded_at",
        "t.status IN ('seen_well', 'seen_unwell', 'not_reached', 'refused')",
    ),
    "declarations": ("COUNT(*)", "health_declaration t", "t.recorded_by_id", "t.recorded_at", ""),
    "decisions": ("COUNT(*)", "health_decision t", "t.decided_by_id", "t.decided_at", ""),
    "tips": ("COUNT(DISTINCT t.tip_id)", "tips_tipevent t", "t.by_id", "t.at", ""),
    "tip_visits": ("COUNT(*)", "tips_tipvisit t", "t.by_id", "t.at", ""),
    "support": (
        "COUNT(*)", "linkage_supportrequest t", "t.accepted_by_id", "t.accepted_at",
        "t.status <> 'declined'",
    ),
    "patrols_led": ("COUNT(*)", "patrols_patrol t", "t.leader_id", "t.started_at", ""),
    "patrols_joined": (
        "COUNT(*)",
        "patrols_patrol t JOIN patrols_patrol_companions c ON c.patrol_id = t.id",
        "c.user_id", "t.started_at", "",
    ),
    "patrol_events": ("COUNT(*)", "patrols_patrolevent t", "t.recorded_by_id", "t.at", ""),
    "shifts": (
        "COUNT(*)",
        "patrols_dutyshift t JOIN patrols_dutyshift_staff s ON s.dutyshift_id = t.id",
        "s.user_id", "t.starts", "t.taken_at IS NOT NULL",
    ),
    "persons_checked": (
        "SUM(t.delta)", "patrols_shifttally t", "t.by_id", "t.at", "t.kind = 'persons'",
    ),
    "vehicles_checked": (
        "SUM(t.delta)", "patrols_shifttally t", "t.by_id", "t.at", "t.kind = 'vehicles'",
    ),
    "enforcement": (
        "COUNT(*)",
        "enforcement_enforcementrecord t JOIN enforcement_enforcementrecord_officers o "
        "ON o.enforcementrecord_id = t.id",
        "o.user_id", "t.at", "",
    ),
    "guests": ("COUNT(*)", "guests_guestreport t", "t.registered_by_id", "t.registered_at", ""),
    "referrals": (
        "COUNT(*)",
        "guests_guestreport t JOIN quarantine_placement p ON p.id = t.placement_id",
        "p.reserved_by_id", "t.referred_at", "",
    ),
    "placements": ("COUNT(*)", "quarantine_placement t", "t.reserved_by_id", "t.reserved_at", ""),
    "persuasions": ("COUNT(*)", "quarantine_persuasion t", "t.by_id", "t.at", ""),
}  # fmt: skip


def _day_sql(column: str, offset_hours: int) -> str:
    if connection.vendor == "sqlite":
        return f"date({column}, '{offset_hours:+d} hours')"
    return f"({column} AT TIME ZONE '{timezone.get_default_timezone_name()}')::date"


def _param(value: dt.datetime):
    if connection.vendor == "sqlite":
        return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S")
    return value


def raw_worklog(user_id: int, start: dt.date, end: dt.date) -> tuple[dict, dict, float | None]:
    """(per day {kind: n}, totals, median minutes) by hand-written SQL."""
    tz = timezone.get_default_timezone()
    lo = dt.datetime.combine(start, dt.time.min, tzinfo=tz)
    hi = dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
    offset = int(lo.utcoffset().total_seconds() // 3600)  # Asia/Shanghai keeps +8 all year
    per_day: dict[str, dict[str, int]] = {}
    totals = {}
    with connection.cursor() as cursor:
        for key, (agg, source, who, at, where) in RAW.items():
            cond = f" AND {where}" if where else ""
            sql = (
                f"SELECT {_day_sql(at, offset)} AS d, {agg} FROM {source} "  # noqa: S608
                f"WHERE {who} = %s AND {at} >= %s AND {at} < %s{cond} GROUP BY 1"
            )
            cursor.execute(sql, [user_id, _param(lo), _param(hi)])
            total = 0
            for day, n in cursor.fetchall():
                day = str(day)[:10]
                per_day.setdefault(day, {})[key] = int(n or 0)
                total += int(n or 0)
            totals[key] = total
        cursor.execute(
            "SELECT created_at, arrived_at FROM linkage_supportrequest WHERE accepted_by_id = %s "
            "AND accepted_at >= %s AND accepted_at < %s AND status <> 'declined' "
            "AND arrived_at IS NOT NULL",
            [user_id, _param(lo), _param(hi)],
        )
        minutes = []
        for a, b in cursor.fetchall():
            if isinstance(a, str):
                a, b = dt.datetime.fromisoformat(a), dt.datetime.fromisoformat(b)
            minutes.append(max(0.0, (b - a).total_seconds() / 60))
    median = statistics.median(minutes) if minutes else None
    return per_day, totals, median


# --- the run --------------------------------------------------------------------------------------


def _median(fn, runs: int) -> tuple[float, float, float]:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    times.sort()
    return statistics.median(times), times[min(len(times) - 1, int(len(times) * 0.95))], times[0]


def run(
    n: int, seed: int = 2020, profile: str | None = None, analyze: bool = False
) -> dict[str, Any]:
    t0 = time.perf_counter()
    officer, sizes = build(n, seed)
    setup = time.perf_counter() - t0
    if analyze or connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    end = timezone.localdate()
    start = end - dt.timedelta(days=selectors.DEFAULT_DAYS - 1)

    setup_test_environment()
    client = Client()
    client.force_login(officer)
    url = f"/api/worklog?start={start}&end={end}"
    for _ in range(3):
        response = client.get(url)
        assert response.status_code == 200, response.content[:300]
    with CaptureQueriesContext(connection) as ctx:
        data = client.get(url).json()
    request_queries = len(ctx.captured_queries)
    user = User.objects.get(pk=officer.pk)
    with CaptureQueriesContext(connection) as ctx:
        log = selectors.worklog(user, user, start, end)
    queries = len(ctx.captured_queries)

    runs = 40 if n >= 20_000 else 15

    def request() -> None:
        if client.get(url).status_code != 200:
            raise RuntimeError("GET /api/worklog failed")

    seconds, p95, fastest = _median(request, runs)
    selector_seconds = _median(lambda: selectors.worklog(user, user, start, end), runs)[0]
    raw_seconds = _median(lambda: raw_worklog(officer.pk, start, end), runs)[0]
    raw_days, raw_totals, raw_median = raw_worklog(officer.pk, start, end)
    orm_days = {
        d.date.isoformat(): {k: v for k, v in d.counts.items() if v} for d in log.days if d.any
    }
    raw_days = {d: {k: v for k, v in c.items() if v} for d, c in raw_days.items()}
    raw_days = {d: c for d, c in raw_days.items() if c}
    return {
        "seconds": round(seconds, 4),
        "p95_seconds": round(p95, 4),
        "min_seconds": round(fastest, 4),
        "selector_seconds": round(selector_seconds, 4),
        "raw_seconds": round(raw_seconds, 4),
        "ratio": round(raw_seconds / seconds, 3) if seconds else None,
        "runs": runs,
        "queries": queries,
        "request_queries": request_queries,
        "raw_queries": len(RAW) + 1,
        "totals": data["totals"],
        "raw_totals": raw_totals,
        "days_match": orm_days == raw_days,
        "support_median_minutes": data["support_median_minutes"],
        "raw_support_median_minutes": None if raw_median is None else round(raw_median, 1),
        "summary": data["summary"],
        **sizes,
        "setup_seconds": round(setup, 3),
    }
