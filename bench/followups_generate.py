"""followups_generate: today's follow-ups for n people under observation.

A synthetic city of n households (bench/city.py builds the tree and the addresses) gets one
resident per household and one active home observation per resident, inserted in bulk
(untimed: the benchmark is about the daily job, not the registry). Observations are at
different stages (started 0 to 13 days ago); one in ten is followed up twice a day.

`seconds` is `followups_generate(today)` alone: the service path (one `INSERT ... SELECT ...
ON CONFLICT DO NOTHING` built from the ORM's SELECT, one summary audit row). `followups` is the rows it created (goal: under 5 s at
n = 100 000). `second_run_seconds` is the same call again, which must create nothing.
`mark_missed_seconds` is the next morning's `followups_mark_missed` over all of them (nobody
recorded anything: the worst case, every observation's streak grows; on PostgreSQL one
UPDATE ... RETURNING feeding the streaks' UPDATE, then the escalations).

`raw_seconds` is the database's own speed for the same work: today's rows deleted, then one
`INSERT ... SELECT` written by hand (the same statement runs on SQLite and PostgreSQL; the
status, symptoms and notes columns take their database defaults as in the service), in one
transaction. `ratio` =
raw_seconds / seconds: the share of the database's speed the service path keeps.

Before the raw run, PostgreSQL gets a VACUUM of the table (untimed): the service filled an
empty table, while the raw statement would otherwise insert the same keys over 220,000 dead
row versions (the missed-marking update and the delete), each unique check visiting a dead
tuple; measured at n = 100 000 that slowed the raw statement from about 2.4-2.7 s to 3.8 s,
a baseline slower than the database's own speed. SQLite reuses its free pages and has no
such cost.
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from bench.city import build_tree, household_rows
from fangyi.core.bulk import insert_many
from fangyi.core.models import Role, User
from fangyi.observation.models import FollowUp, Observation
from fangyi.observation.services import followups_generate, followups_mark_missed
from fangyi.people.models import Household, Person
from fangyi.people.synth import Synth

NAMES = "王李張劉陳楊黃趙吳周徐孫馬朱胡郭何高林羅鄭梁謝宋唐許韓馮鄧曹彭曾蕭田董潘袁蔡蔣余"
GIVEN = "偉芳娜敏靜麗強磊軍洋勇艷傑娟濤明超秀霞平剛桂英華玉蘭紅心志"


def cheap_city(n: int, seed: int = 2020):
    """The tree of bench/city.py, n households and one resident each, inserted raw (no
    validation, no audit: these rows are scenery). Returns (city, [(person_id, node_id)])."""
    city = build_tree(n, seed)
    now = timezone.now()
    rows = household_rows(city, Synth(seed))
    with transaction.atomic():
        insert_many(
            Household,
            ["node", "address", "notes", "created", "updated"],
            [(node.pk, address, "", now, now) for node, address in rows],
        )
    households = list(Household.objects.order_by("pk").values_list("pk", "node_id"))
    people = []
    for i, (hid, node_id) in enumerate(households):
        name = NAMES[i % len(NAMES)] + GIVEN[(i // 7) % len(GIVEN)] + GIVEN[(i // 3) % len(GIVEN)]
        people.append(
            (
                name,
                "",
                "none",
                "",
                "",
                hid,
                "戶主",
                node_id,
                "",
                name,
                f"p{i}",
                f"q{i % 997}",
                name[1:],
                "",
                "",
                now,
                now,
            )
        )
    with transaction.atomic():
        insert_many(
            Person,
            [
                "name", "sex", "id_type", "id_number", "phone", "household", "relation", "node",
                "notes", "name_norm", "name_pinyin", "name_initials", "name_given", "id_number_rev",
                "phone_rev", "created", "updated",
            ],
            people,
        )  # fmt: skip
    persons = list(Person.objects.order_by("pk").values_list("pk", "node_id"))
    return city, persons


def observe(
    persons: list[tuple[int, int]], today: dt.date, responsible: dict[int, int] | None = None
):
    """One active home observation per person, at stages 0 to 13 days in; one in ten twice a
    day. `responsible` maps a node id to the user who follows up there."""
    now = timezone.now()
    rows = []
    for i, (pid, node_id) in enumerate(persons):
        started = i % 14
        rows.append(
            (
                pid, node_id, "home", "active",
                today - dt.timedelta(days=started),
                today - dt.timedelta(days=started + 1),
                today - dt.timedelta(days=started + 1) + dt.timedelta(days=14),
                2 if i % 10 == 0 else 1,
                (responsible or {}).get(node_id),
                0, False, now, "",
            )
        )  # fmt: skip
    with transaction.atomic():
        insert_many(
            Observation,
            [
                "person", "node", "kind", "status", "starts", "last_exposure", "ends",
                "per_day", "responsible", "missed_streak", "escalated", "created", "end_note",
            ],
            rows,
        )  # fmt: skip


RAW_SQL = """
INSERT INTO observation_followup
    (observation_id, node_id, due, slot, assignee_id)
SELECT o.id, o.node_id, %s, s.slot, o.responsible_id
FROM observation_observation o
CROSS JOIN (SELECT 1 AS slot UNION ALL SELECT 2) s
WHERE o.status = 'active' AND o.starts <= %s AND o.ends >= %s AND s.slot <= o.per_day
"""


def raw_generate_seconds(today: dt.date) -> tuple[int, float]:
    """Delete today's rows (untimed), then the same rows by hand with INSERT ... SELECT."""
    FollowUp.objects.filter(due=today).delete()
    if connection.vendor == "postgresql":
        # The same clean table the service met (see the module's docstring).
        with connection.cursor() as cursor:
            cursor.execute(f"VACUUM {connection.ops.quote_name(FollowUp._meta.db_table)}")
    sql = RAW_SQL  # the same SQL on SQLite and PostgreSQL; status, symptoms, notes: defaults
    t0 = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, [today, today, today])
        count = cursor.rowcount
    return count, time.perf_counter() - t0


def run(
    n: int, seed: int = 2020, profile: str | None = None, analyze: bool = False
) -> dict[str, Any]:
    t0 = time.perf_counter()
    today = timezone.localdate()
    city, persons = cheap_city(n, seed)
    worker = User.objects.create(username="bench-grid", role=Role.GRID_WORKER)
    observe(persons, today, {node_id: worker.pk for _pid, node_id in persons[:: max(1, n // 50)]})
    setup = time.perf_counter() - t0
    if analyze or connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")

    t1, c1 = time.perf_counter(), time.process_time()
    created = followups_generate(today)
    seconds, cpu = time.perf_counter() - t1, time.process_time() - c1
    t2 = time.perf_counter()
    again = followups_generate(today)
    second = time.perf_counter() - t2
    if again:
        raise RuntimeError(f"a second run created {again} follow-ups")
    expected = sum(1 for i in range(len(persons)) for _ in range(2 if i % 10 == 0 else 1))
    if created != expected:
        raise RuntimeError(f"created {created} follow-ups, expected {expected}")

    t3 = time.perf_counter()
    marked = followups_mark_missed(today + dt.timedelta(days=1))
    mark_seconds = time.perf_counter() - t3
    FollowUp.objects.filter(due=today).update(status="due")

    raw_count, raw_seconds = raw_generate_seconds(today)
    if raw_count != created:
        raise RuntimeError(f"the raw insert made {raw_count} rows, the service {created}")
    return {
        "seconds": round(seconds, 3),
        "cpu_seconds": round(cpu, 3),
        "followups": created,
        "observations": len(persons),
        "rate": round(created / seconds, 1),
        "second_run_seconds": round(second, 3),
        "mark_missed_seconds": round(mark_seconds, 3),
        "missed": marked["missed"],
        "raw_seconds": round(raw_seconds, 3),
        "ratio": round(raw_seconds / seconds, 4),
        "setup_seconds": round(setup, 3),
        "nodes": sum(city.nodes.values()),
    }
