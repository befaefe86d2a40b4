"""Twenty concurrent retries of one follow-up with one client_id: every one answers the stored
record, none a 409 "already recorded" (issue 12, item 9), and it is stored and audited once.

The retries passed the replay check before the first was stored, then waited for the row lock;
the losers found the follow-up recorded and answered 409. Real threads, each on its own
connection, on SQLite (a file copy, see tests/test_placement_race.py) and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import threading
import uuid

import pytest
from django.db import connections
from django.utils import timezone

from fangyi.core.models import AuditEntry, Role, User
from fangyi.core.services import node_create
from fangyi.observation.models import FollowUp
from fangyi.observation.services import (
    followup_record,
    followups_generate,
    observation_start_unchecked,
)
from fangyi.people.models import Person
from tests.test_placement_race import race_db  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)


def test_twenty_concurrent_retries_of_one_followup_all_get_the_stored_record(race_db):  # noqa: F811
    district = node_create(
        actor=None, kind="city", name=f"重试市{uuid.uuid4().hex[:6]}", parent=None, audit=False
    )
    worker = User.objects.create(username=f"retry-{district.pk}", role=Role.GRID_WORKER)
    worker.nodes.set([district])
    person = Person.objects.create(name="重试者", name_norm="重试者", id_type="none", node=district)
    today = timezone.localdate()
    observation = observation_start_unchecked(
        actor=None,
        person=person,
        kind="home",
        last_exposure=today - dt.timedelta(days=2),
        responsible=worker,
        starts=today,
    )
    followups_generate(today, observations=[observation.pk], audit=False)
    due = FollowUp.objects.get(observation=observation, due=today)
    client_id = uuid.uuid4()
    threads = 20
    barrier = threading.Barrier(threads)
    lock = threading.Lock()
    answers, errors = [], []

    def work():
        race_db.enter()
        try:
            user = User.objects.get(pk=worker.pk)
            followup = FollowUp.objects.select_related("observation__person").get(pk=due.pk)
            barrier.wait(timeout=30)
            stored = followup_record(
                actor=user,
                followup=followup,
                status="seen_well",
                temperature="36.6",
                client_id=client_id,
            )
            with lock:
                answers.append(stored.pk)
        except Exception as exc:  # noqa: BLE001 - counted and shown by the test
            with lock:
                errors.append(repr(exc))
        finally:
            connections.close_all()

    pool = [threading.Thread(target=work) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in pool)
    assert errors == []
    assert answers == [due.pk] * threads
    due.refresh_from_db()
    assert due.status == "seen_well" and due.client_id == client_id
    recorded = AuditEntry.objects.filter(object_id=due.pk, action__startswith="fangyi.followup")
    assert recorded.count() == 1, list(recorded.values_list("action", flat=True))
