"""placement_race: n concurrent placement requests for a site with fewer beds.

One quarantine point with `--beds` beds (default n / 2) and n people; `--pool` threads (default
24), each on its own database connection, take the people off a shared queue and call
`placement_reserve` (the service path: policy, checks, conditional UPDATE of a free bed, the
placement under the partial unique index, its audit row), all starting together.

`placed` is how many got a bed (goal: == beds), `full` how many were told "This site has no
free bed." (goal: n - beds), `errors_other` anything else (goal: 0), `double_booked` the beds
held by more than one placement plus the beds whose state disagrees with their placements
(goal: 0). `seconds` is the wall clock of the race alone; `per_second` the requests answered a
second. On SQLite writers take turns (BEGIN IMMEDIATE with a busy timeout); on PostgreSQL a
request picks the first free bed nobody else has locked (SKIP LOCKED).

In the same run, the database's raw speed for the same work: after the service race (untimed
set-up), a second site with as many free beds and n other people, and the same number of
threads, each on its own connection, answering the n requests with plain SQL on the driver's
connection (no validation, audit or ORM). One transaction a request: on PostgreSQL
`UPDATE quarantine_bed SET state='reserved' WHERE id = (SELECT id ... WHERE site_id=%s AND
state='free' LIMIT 1 FOR UPDATE SKIP LOCKED) RETURNING id`; on SQLite, under BEGIN
IMMEDIATE, the same UPDATE without the locking clause (writers take turns), also RETURNING the
id, since the placement needs the bed and a rowcount alone does not name it; then, when a bed
was claimed, the INSERT of a minimal placement row (person, node, site, bed, group, source,
status, placed by, time). No row claimed is "full". `raw_placed` (goal: == beds),
`raw_double_booked` (goal: 0, counted as for the service) and `raw_seconds`, the wall clock
of that race. `ratio` = raw_seconds / seconds, i.e. the service's requests a second over the
raw ones (the same n requests): the share of the database's speed the service path keeps.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable
from typing import Any

from django.db import connections, transaction
from django.db.models import Count, Q
from django.utils import timezone

from fangyi.core.errors import DomainError
from fangyi.core.models import Role, User
from fangyi.core.services import node_create
from fangyi.people.models import Person, Place
from fangyi.quarantine.models import Bed, Group, Placement, Room, Site
from fangyi.quarantine.services import placement_reserve

OPTIONS = ("beds", "pool")


def _world(n: int, beds: int):
    with transaction.atomic():
        city = node_create(actor=None, kind="city", name="搶床市", parent=None, audit=False)
        health = User.objects.create(username="race-health", role=Role.HEALTH_STAFF)
        health.nodes.set([city])
        group, _made = Group.objects.get_or_create(
            code="close_contact", defaults={"name": "密切接觸者"}
        )
    return health, _site(city, group, n, beds, "搶床"), group


def _site(city, group: Group, n: int, beds: int, tag: str) -> Site:
    """A site taking `group` with `beds` free beds, and n people of `city` to place there."""
    with transaction.atomic():
        place = Place.objects.create(
            kind="quarantine_site", name=f"{tag}隔離點", node=city, address=f"{tag}路1號"
        )
        site = Site.objects.get(place=place)
        site.groups.set([group])
        rooms = Room.objects.bulk_create(
            [Room(site=site, number=str(1000 + i)) for i in range((beds + 1) // 2)]
        )
        Bed.objects.bulk_create(
            [Bed(room=rooms[i // 2], site=site, label=str(i % 2 + 1)) for i in range(beds)]
        )
        Person.objects.bulk_create(
            [
                Person(name=f"{tag}者{i}", name_norm=f"{tag}者{i}", id_type="none", node=city)
                for i in range(n)
            ],
            batch_size=500,
        )
    return site


def double_booked(site: Site) -> int:
    holding = Q(placements__status__in=["reserved", "active"])
    twice = (
        Bed.objects.filter(site=site)
        .annotate(k=Count("placements", filter=holding))
        .filter(k__gt=1)
        .count()
    )
    held = set(
        Placement.objects.filter(site=site, status__in=["reserved", "active"]).values_list(
            "bed_id", flat=True
        )
    )
    wrong = sum(
        1
        for pk, state in Bed.objects.filter(site=site).values_list("pk", "state")
        if (pk in held) != (state in ("reserved", "occupied"))
    )
    return twice + wrong


def _race(pool: int, work: Callable[[threading.Barrier], None]) -> float:
    """Start `pool` threads running `work` (each waits on the barrier it is given after its
    set-up), release them together; the wall clock until the last one ends."""
    barrier = threading.Barrier(pool + 1)
    threads = [threading.Thread(target=work, args=(barrier,)) for _ in range(pool)]
    for t in threads:
        t.start()
    try:
        barrier.wait()
    except threading.BrokenBarrierError:
        pass  # a thread failed in its set-up: it reports why
    started = time.perf_counter()
    for t in threads:
        t.join()
    return time.perf_counter() - started


def _people(site: Site, after: int = 0) -> list[int]:
    return list(
        Person.objects.filter(node=site.node, pk__gt=after)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


_PG_CLAIM = (
    "UPDATE quarantine_bed SET state = 'reserved' WHERE id = (SELECT id FROM quarantine_bed "
    "WHERE site_id = %s AND state = 'free' LIMIT 1 FOR UPDATE SKIP LOCKED) RETURNING id"
)
_SQLITE_CLAIM = (
    "UPDATE quarantine_bed SET state = 'reserved' WHERE id = (SELECT id FROM quarantine_bed "
    "WHERE site_id = ? AND state = 'free' LIMIT 1) RETURNING id"
)
_INSERT = (
    "INSERT INTO quarantine_placement (person_id, node_id, kind, site_id, bed_id, group_id, "
    "source, status, transport, reserved_at, reserved_by_id, notes) "
    "VALUES ({m}, {m}, 'site', {m}, {m}, {m}, 'decision', 'reserved', '', {m}, {m}, '')"
)


def _raw_race(
    pool: int, site: Site, group: Group, actor: User, people: list[int]
) -> tuple[int, float]:
    """The same n requests as plain SQL on the driver's connection, one per thread: the bed
    claimed and the placement inserted in one transaction. Returns (placed, seconds)."""
    lock = threading.Lock()
    placed = [0]
    failures: list[BaseException] = []
    node_id, site_id, group_id, actor_id = site.node_id, site.pk, group.pk, actor.pk

    def work(barrier: threading.Barrier):
        try:
            connection = connections["default"]  # this thread's own
            connection.ensure_connection()
            raw = connection.connection  # the sqlite3 / psycopg connection itself
            sqlite = connection.vendor == "sqlite"
            claim = _SQLITE_CLAIM if sqlite else _PG_CLAIM
            insert = _INSERT.format(m="?" if sqlite else "%s")
            cursor = raw.cursor()
            barrier.wait()
            got = 0
            while True:
                with lock:
                    if not people:
                        break
                    pk = people.pop()
                now = timezone.now()
                # SQLite stores naive UTC text, as Django does.
                at = str(now.astimezone(dt.UTC).replace(tzinfo=None)) if sqlite else now
                cursor.execute("BEGIN IMMEDIATE" if sqlite else "BEGIN")
                try:
                    cursor.execute(claim, [site_id])
                    row = cursor.fetchone()
                    if row is not None:
                        cursor.execute(
                            insert, [pk, node_id, site_id, row[0], group_id, at, actor_id]
                        )
                        got += 1
                    cursor.execute("COMMIT")
                except BaseException:
                    cursor.execute("ROLLBACK")
                    raise
            cursor.close()
            with lock:
                placed[0] += got
        except BaseException as exc:  # noqa: BLE001 - re-raised in the main thread
            failures.append(exc)
            if not barrier.broken:
                barrier.abort()
        finally:
            connections.close_all()

    seconds = _race(pool, work)
    if failures:
        cause = next(
            (f for f in failures if not isinstance(f, threading.BrokenBarrierError)), failures[0]
        )
        raise RuntimeError(f"raw placement failed: {cause!r}") from cause
    return placed[0], seconds


def run(
    n: int, seed: int = 2020, beds: int | None = None, pool: int = 24, **_: Any
) -> dict[str, Any]:
    beds = beds or max(1, n // 2)
    health, site, group = _world(n, beds)
    people = _people(site)
    lock = threading.Lock()
    counts = {"placed": 0, "full": 0, "errors_other": 0}
    samples: list[str] = []

    def work(barrier: threading.Barrier):
        try:
            user = User.objects.get(pk=health.pk)
            site_ = Site.objects.select_related("place", "node").get(pk=site.pk)
            group_ = Group.objects.get(pk=group.pk)
            barrier.wait()
            while True:
                with lock:
                    if not people:
                        return
                    pk = people.pop()
                person = Person.objects.select_related("node").get(pk=pk)
                try:
                    placement_reserve(actor=user, person=person, site=site_, group=group_)
                    key = "placed"
                except DomainError as exc:
                    key = "full" if list(exc.errors) == ["site"] else "errors_other"
                    if key == "errors_other":
                        samples.append(repr(exc.errors)[:200])
                except Exception as exc:  # noqa: BLE001 - counted and reported
                    key = "errors_other"
                    samples.append(repr(exc)[:200])
                with lock:
                    counts[key] += 1
        finally:
            connections.close_all()

    seconds = _race(pool, work)
    booked = double_booked(site)

    # The raw baseline: a second site as big, n other people (set up untimed).
    last = Person.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    raw_site = _site(site.node, group, n, beds, "生床")
    raw_people = _people(raw_site, after=last)
    raw_placed, raw_seconds = _raw_race(pool, raw_site, group, health, raw_people)
    return {
        **counts,
        "beds": beds,
        "double_booked": booked,
        "threads": pool,
        "seconds": round(seconds, 3),
        "per_second": round(n / seconds, 1),
        "raw_placed": raw_placed,
        "raw_double_booked": double_booked(raw_site),
        "raw_seconds": round(raw_seconds, 4),
        "ratio": round(raw_seconds / seconds, 4),
        "error_samples": samples[:3],
    }
