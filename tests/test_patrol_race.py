"""Ten concurrent starts of a patrol by one leader (two phones, retries with fresh forms): one
patrol under way, the others refused with 409. Real threads, each on its own connection, on
SQLite (a file copy, see tests/test_placement_race.py) and PostgreSQL."""

from __future__ import annotations

import threading
import uuid

import pytest
from django.db import connections

from fangyi.core.errors import Conflict
from fangyi.core.models import Role, User
from fangyi.core.services import node_create
from fangyi.patrols.models import Patrol
from fangyi.patrols.services import patrol_start
from tests.test_placement_race import race_db  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)


def test_ten_concurrent_starts_leave_one_patrol_under_way(race_db):  # noqa: F811
    parent = None
    for kind in ("city", "district", "station", "community", "grid", "compound"):
        parent = node_create(
            actor=None, kind=kind, name=f"并发{kind}{uuid.uuid4().hex[:6]}", parent=parent,
            audit=False,
        )  # fmt: skip
    officer = User.objects.create(username=f"race-{parent.pk}", role=Role.POLICE)
    officer.nodes.set([parent])
    threads = 10
    barrier = threading.Barrier(threads)
    lock = threading.Lock()
    started, refused, errors = [], [], []

    def work():
        race_db.enter()
        try:
            user = User.objects.get(pk=officer.pk)
            barrier.wait(timeout=30)
            patrol = patrol_start(actor=user, node=parent, client_id=uuid.uuid4())
            with lock:
                started.append(patrol.pk)
        except Conflict:
            with lock:
                refused.append(1)
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
    assert len(started) == 1 and len(refused) == threads - 1
    assert Patrol.objects.filter(leader=officer, ended_at__isnull=True).count() == 1
