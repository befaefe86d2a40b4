"""daylist: server time of a grid worker's day list in a big city.

A synthetic city of n households (bench/city.py builds the tree; one resident per household,
inserted raw as in bench/followups_generate.py). An open sweep covers every household: the
worker's grid (about 900 households) is theirs, the rest an officer's; 40 % of the doors are
visited, 2 % refused. A few thousand people are under observation (n / 30, at most 3 000),
spread over the city, each followed up by the worker of their grid; yesterday's follow-ups are
half recorded and half missed (the daily job ran this morning), today's are due; one in
twenty has an open fever alert.

`seconds` is the median time of the whole server path of GET / for the worker (the Django
test client: middleware, session, the day list's reads, the template), over `runs` requests
after a warm-up; `p95_seconds` the 95th percentile; `queries` the SQL statements of one
request (the same at every size); `cpu_seconds` the median CPU time of one request (steadier
than wall time on a busy machine). Goal: under 0.1 s at n = 100 000.
"""

from __future__ import annotations

import datetime as dt
import statistics
import time
from typing import Any

from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext, setup_test_environment
from django.utils import timezone

from bench.followups_generate import cheap_city, observe
from fangyi.core.bulk import insert_many
from fangyi.core.models import Node, Role, User
from fangyi.observation.models import Alert, FollowUp, Observation
from fangyi.observation.services import followups_generate, followups_mark_missed
from fangyi.people.models import Household
from fangyi.screening.models import Assignment, Sweep


def build(n: int, seed: int) -> tuple[User, dict[str, int]]:
    today = timezone.localdate()
    city, persons = cheap_city(n, seed)
    station = Node.objects.filter(kind="station").order_by("path").first()
    grids = list(Node.objects.filter(kind="grid", path__startswith=station.path).order_by("path"))
    grid = grids[0]
    worker = User.objects.create(username="bench-grid", role=Role.GRID_WORKER, first_name="網格員")
    worker.nodes.set([grid])
    officer = User.objects.create(username="bench-police", role=Role.POLICE)
    officer.nodes.set([city.root])
    parent = dict(Node.objects.filter(kind="compound").values_list("pk", "parent_id"))

    # The sweep: every household, the worker's grid to the worker.
    sweep = Sweep.objects.create(
        node=city.root,
        purpose="全面排查",
        starts=today - dt.timedelta(days=2),
        ends=today + dt.timedelta(days=5),
    )
    rows, mine = [], 0
    for i, (hid, node_id) in enumerate(
        Household.objects.order_by("pk").values_list("pk", "node_id")
    ):
        is_mine = parent[node_id] == grid.pk
        mine += is_mine
        status = "refused" if i % 50 == 7 else ("visited" if i % 5 < 2 else "pending")
        rows.append(
            (
                sweep.pk,
                hid,
                node_id,
                parent[node_id],
                worker.pk if is_mine else officer.pk,
                status,
                0,
                status == "refused",
            )
        )
    with transaction.atomic():
        insert_many(
            Assignment,
            [
                "sweep",
                "household",
                "node",
                "grid",
                "assignee",
                "status",
                "attempts",
                "needs_police",
            ],
            rows,
        )

    # Observation: a few thousand people spread over the city.
    count = max(10, min(3000, n // 30))
    step = max(1, len(persons) // count)
    observed = persons[::step][:count]
    responsible = {
        node_id: (worker.pk if parent[node_id] == grid.pk else officer.pk)
        for _p, node_id in observed
    }
    observe(observed, today, responsible)
    followups_generate(today - dt.timedelta(days=1))
    yesterday = FollowUp.objects.filter(due=today - dt.timedelta(days=1))
    ids = list(yesterday.values_list("pk", flat=True))
    FollowUp.objects.filter(pk__in=ids[::2]).update(status="seen_well", recorded_at=timezone.now())
    followups_mark_missed(today)
    followups_generate(today)
    alerts = [
        Alert(
            observation_id=pk,
            node_id=node_id,
            kind="fever",
            message="37.9 °C",
            proposal="fever_clinic",
        )
        for pk, node_id in Observation.objects.values_list("pk", "node_id")[::20]
    ]
    Alert.objects.bulk_create(alerts, batch_size=1000)
    return worker, {
        "households": len(rows),
        "worker_doors": mine,
        "observations": len(observed),
        "worker_observations": Observation.objects.filter(responsible=worker).count(),
        "worker_followups_due": FollowUp.objects.filter(
            assignee=worker, due=today, status="due"
        ).count(),
        "alerts": len(alerts),
    }


def run(
    n: int, seed: int = 2020, profile: str | None = None, analyze: bool = False
) -> dict[str, Any]:
    t0 = time.perf_counter()
    worker, sizes = build(n, seed)
    setup = time.perf_counter() - t0
    if analyze or connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    setup_test_environment()
    client = Client()
    client.force_login(worker)
    for _ in range(3):  # warm-up: templates compiled, today's rows checked
        response = client.get("/")
        assert response.status_code == 200, response.status_code
    with CaptureQueriesContext(connection) as ctx:
        response = client.get("/")
    queries = len(ctx.captured_queries)  # now: each request starts by clearing the log
    body = response.content.decode()
    runs = 60 if n <= 20_000 else 40
    times, cpu = [], []
    for _ in range(runs):
        t, c = time.perf_counter(), time.process_time()
        response = client.get("/")
        times.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
        if response.status_code != 200:
            raise RuntimeError(f"GET / answered {response.status_code}")
    times.sort()
    return {
        "seconds": round(statistics.median(times), 4),
        "p95_seconds": round(times[min(len(times) - 1, int(len(times) * 0.95))], 4),
        "min_seconds": round(times[0], 4),
        # CPU time of this process per request (median): steadier than wall time on a busy
        # machine; on SQLite it includes the database's work.
        "cpu_seconds": round(statistics.median(cpu), 4),
        "runs": runs,
        "queries": queries,
        "items": body.count('class="day-item'),
        "bytes": len(body.encode()),
        **sizes,
        "setup_seconds": round(setup, 3),
    }
