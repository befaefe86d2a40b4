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
"""

from __future__ import annotations

import threading
import time
from typing import Any

from django.db import connections, transaction
from django.db.models import Count, Q

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
        place = Place.objects.create(
            kind="quarantine_site", name="搶床隔離點", node=city, address="隔離路1號"
        )
        site = Site.objects.create(place=place, node=city)
        site.groups.set([group])
        rooms = Room.objects.bulk_create(
            [Room(site=site, number=str(1000 + i)) for i in range((beds + 1) // 2)]
        )
        Bed.objects.bulk_create(
            [Bed(room=rooms[i // 2], site=site, label=str(i % 2 + 1)) for i in range(beds)]
        )
        Person.objects.bulk_create(
            [
                Person(name=f"搶床者{i}", name_norm=f"搶床者{i}", id_type="none", node=city)
                for i in range(n)
            ],
            batch_size=500,
        )
    return health, site, group


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


def run(
    n: int, seed: int = 2020, beds: int | None = None, pool: int = 24, **_: Any
) -> dict[str, Any]:
    beds = beds or max(1, n // 2)
    health, site, group = _world(n, beds)
    people = list(Person.objects.filter(node=site.node).order_by("pk").values_list("pk", flat=True))
    lock = threading.Lock()
    barrier = threading.Barrier(pool + 1)
    counts = {"placed": 0, "full": 0, "errors_other": 0}
    samples: list[str] = []

    def work():
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

    threads = [threading.Thread(target=work) for _ in range(pool)]
    for t in threads:
        t.start()
    barrier.wait()
    started = time.perf_counter()
    for t in threads:
        t.join()
    seconds = time.perf_counter() - started
    return {
        **counts,
        "beds": beds,
        "double_booked": double_booked(site),
        "threads": pool,
        "seconds": round(seconds, 3),
        "per_second": round(n / seconds, 1),
        "error_samples": samples[:3],
    }
