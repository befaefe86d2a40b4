"""The race for the last bed, with real threads, each on its own database connection.

Ten requests for one free bed at once: exactly one is placed, the nine others get "This site
has no free bed." on the field `site`, and no bed is ever held by two placements. The same
with many beds and more requests than beds. Runs on SQLite and on PostgreSQL
(scripts/with-postgres).

SQLite: the test database is usually in memory (shared cache), where SQLite refuses a second
writer at once ("database table is locked") instead of waiting, unlike a real deployment's
file. So when it is in memory, the race runs on a file copy of it (SQLite's backup), with the
deployment's settings (WAL, BEGIN IMMEDIATE, busy timeout): every thread, and the test's own
reads, get a connection to that file (Django's connections are per thread). With
FANGYI_TEST_DB set the test database is a file already and is used as it is.

A transactional test: its rows are committed, so other threads see them; the database is
emptied afterwards (pytest-django runs these after the other tests; the browser tests build the
demo city again when they find it gone).
"""

from __future__ import annotations

import sqlite3
import threading
import uuid

import pytest
from django.db import connection, connections
from django.db.models import Count, Q

from fangyi.core.errors import DomainError
from fangyi.core.models import Role, User
from fangyi.core.services import node_create
from fangyi.people.models import Person, Place
from fangyi.quarantine import services
from fangyi.quarantine.models import Bed, Group, Placement, Room, Site

pytestmark = pytest.mark.django_db(transaction=True)


class RaceDb:
    """Where the race runs: the test database, or a file copy of it when that is in memory."""

    def __init__(self, settings_dict: dict | None):
        self.settings_dict = settings_dict

    def enter(self) -> None:
        """Call first in every thread (and the test's own): this thread's default connection."""
        if self.settings_dict is not None:
            connections["default"] = type(connections["default"])(self.settings_dict, "default")


@pytest.fixture
def race_db(transactional_db, tmp_path):
    if connection.vendor != "sqlite" or not connection.is_in_memory_db():
        yield RaceDb(None)
        return
    connection.ensure_connection()
    target = sqlite3.connect(tmp_path / "race.sqlite3")
    connection.connection.backup(target)
    target.close()
    db = RaceDb({**connection.settings_dict, "NAME": str(tmp_path / "race.sqlite3")})
    original = connections["default"]
    db.enter()
    try:
        yield db
    finally:
        connections["default"].close()
        connections["default"] = original


def _world(beds: int, people: int):
    district = node_create(
        actor=None, kind="city", name=f"竞争市{uuid.uuid4().hex[:6]}", parent=None, audit=False
    )
    health = User.objects.create(username=f"race-{district.pk}", role=Role.HEALTH_STAFF)
    health.nodes.set([district])
    group, _made = Group.objects.get_or_create(
        code="close_contact", defaults={"name": "密切接触者"}
    )
    place = Place.objects.create(
        kind="quarantine_site", name="抢床隔离点", node=district, address="隔离路9号"
    )
    site = Site.objects.get(place=place)
    site.groups.set([group])
    rooms = Room.objects.bulk_create(
        [Room(site=site, number=str(100 + i)) for i in range((beds + 1) // 2)]
    )
    Bed.objects.bulk_create(
        [Bed(room=rooms[i // 2], site=site, label=str(i % 2 + 1)) for i in range(beds)]
    )
    persons = Person.objects.bulk_create(
        [
            Person(name=f"抢床者{i}", name_norm=f"抢床者{i}", id_type="none", node=district)
            for i in range(people)
        ]
    )
    return health, site, group, persons


def _race(db, health, site, group, persons, threads: int):
    """Every person asks for a bed at once; (placed, full errors, other errors)."""
    barrier = threading.Barrier(threads)
    lock = threading.Lock()
    placed, full, other = [], [], []
    queue = list(persons)

    def work():
        db.enter()
        try:
            user = User.objects.get(pk=health.pk)
            site_ = Site.objects.select_related("place", "node").get(pk=site.pk)
            barrier.wait(timeout=30)
            while True:
                with lock:
                    if not queue:
                        return
                    person = queue.pop()
                try:
                    p = services.placement_reserve(
                        actor=user, person=person, site=site_, group=group, transport="救护车"
                    )
                    with lock:
                        placed.append(p.pk)
                except DomainError as exc:
                    with lock:
                        (full if list(exc.errors) == ["site"] else other).append(exc.errors)
                except Exception as exc:  # noqa: BLE001 - counted and shown by the test
                    with lock:
                        other.append(repr(exc))
        finally:
            connections.close_all()

    pool = [threading.Thread(target=work) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in pool)
    return placed, full, other


def _double_booked(site) -> int:
    holding = Q(placements__status__in=["reserved", "active"])
    twice = (
        Bed.objects.filter(site=site)
        .annotate(n=Count("placements", filter=holding))
        .filter(n__gt=1)
        .count()
    )
    # A bed whose state disagrees with its placements.
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


def test_ten_threads_race_for_the_last_bed(race_db):
    health, site, group, persons = _world(beds=1, people=10)
    placed, full, other = _race(race_db, health, site, group, persons, threads=10)
    assert other == []
    assert len(placed) == 1
    assert len(full) == 9
    assert _double_booked(site) == 0
    assert Bed.objects.get(site=site).state == "reserved"
    assert Placement.objects.filter(site=site).count() == 1


def test_more_requests_than_beds_fill_every_bed_once(race_db):
    health, site, group, persons = _world(beds=30, people=60)
    placed, full, other = _race(race_db, health, site, group, persons, threads=12)
    assert other == []
    assert len(placed) == 30
    assert len(full) == 30
    assert _double_booked(site) == 0
    assert not Bed.objects.filter(site=site, state="free").exists()
    # Each placed person holds exactly one bed, each bed exactly one person.
    rows = list(Placement.objects.filter(site=site).values_list("person_id", "bed_id"))
    assert len({p for p, _b in rows}) == len({b for _p, b in rows}) == 30


def test_the_database_is_shared_across_threads(race_db):
    """The premise of the two tests above: a row committed here is seen from another thread's
    own connection (on SQLite too), so the race is a real one."""
    group, _made = Group.objects.get_or_create(code="inbound", defaults={"name": "境外入境人员"})
    seen = []

    def look():
        race_db.enter()
        try:
            seen.append(Group.objects.filter(pk=group.pk).exists())
            seen.append(connections["default"].vendor == connection.vendor)
        finally:
            connections.close_all()

    t = threading.Thread(target=look)
    t.start()
    t.join()
    assert seen == [True, True]
