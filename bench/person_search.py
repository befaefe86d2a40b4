"""person_search: the search box of the registry on a synthetic city of n households.

The city is loaded like registry_load does. Then a police officer whose jurisdiction is the
whole city searches ~200 times through `person_list(user, q=...)`, taking the first page
(`list(qs[:50])`, what the list view shows). The queries are drawn from residents actually
stored, in six kinds:

    name       surname and given name, simplified script        王丽华
    name_hant  the same in traditional script                   王麗華
    initials   pinyin initials                                  wlh
    pinyin     full pinyin                                      wanglihua
    id_tail    the last 4 to 6 characters of an ID number       03521X
    phone      a whole mobile number                            13907712345

`seconds` is the median time of one search, `p95_seconds` the 95th percentile, `per_kind_ms`
the median per kind. Each search also forgets the user's cached jurisdiction, as a new request
would. The same SQL (the statement Django sends, with its parameters) is then run through the
database cursor and fetched, without building model objects: `raw_seconds` and
`raw_per_kind_ms` are the database's own share. `slowest` lists the three slowest searches
with their raw time. Every query runs once untimed first (warm cache); on PostgreSQL the
tables are VACUUM ANALYZEd after the load, as autovacuum soon would; on SQLite only with
`--analyze` (a deployment never runs ANALYZE on SQLite today).
"""

from __future__ import annotations

import random
import secrets
import statistics
import time
from collections import defaultdict
from typing import Any

import zhconv
from django.db import connection

from bench.registry_load import load_city
from fangyi.core.services import user_create
from fangyi.people.models import Person
from fangyi.people.selectors import person_list

KINDS = ("name", "name_hant", "initials", "pinyin", "id_tail", "phone")
PER_KIND = 34  # 6 x 34 = 204 queries
PAGE = 50


def sample_queries(seed: int, per_kind: int = PER_KIND) -> list[tuple[str, str]]:
    """(kind, query) pairs built from randomly chosen stored residents."""
    rnd = random.Random(seed)
    bounds = Person.objects.order_by("pk").values_list("pk", flat=True)
    first, last = bounds.first(), bounds.last()
    ids = rnd.sample(range(first, last + 1), min(per_kind * 8, last - first + 1))
    people = list(
        Person.objects.filter(pk__in=ids)
        .order_by("pk")
        .values("name", "name_pinyin", "name_initials", "id_number", "phone")
    )
    rnd.shuffle(people)
    with_phone = [p for p in people if p["phone"]]
    out: list[tuple[str, str]] = []
    for i in range(per_kind):
        p = people[i % len(people)]
        out.append(("name", p["name"]))
        out.append(("name_hant", zhconv.convert(p["name"], "zh-hant")))
        out.append(("initials", p["name_initials"]))
        out.append(("pinyin", p["name_pinyin"]))
        out.append(("id_tail", p["id_number"][-rnd.randint(4, 6) :]))
        out.append(("phone", with_phone[i % len(with_phone)]["phone"] if with_phone else "139"))
    rnd.shuffle(out)
    return out


def _search(user, q: str) -> int:
    user.__dict__.pop("_fangyi_paths", None)  # a new request reads the jurisdiction again
    return len(list(person_list(user, q=q)[:PAGE]))


def _raw(sql: str, params: tuple) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return len(cursor.fetchall())


def _ms(values: list[float]) -> float:
    return round(statistics.median(values) * 1000, 2)


def _p95(values: list[float]) -> float:
    return sorted(values)[max(0, round(0.95 * len(values)) - 1)]


def run(
    n: int, seed: int = 2020, profile: str | None = None, analyze: bool = False
) -> dict[str, Any]:
    loaded = load_city(n, seed)
    root = loaded.city.root
    user = user_create(
        actor=None,
        username="bench_police",
        password=secrets.token_urlsafe(16),
        role="police",
        nodes=[root],
        check_password=False,
    )
    if connection.vendor == "postgresql":
        # What autovacuum would soon do after a bulk load; done now so that it does not run
        # in the middle of the timings.
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    elif analyze:
        # Not what a deployment does today (nothing runs ANALYZE on SQLite), but what
        # `PRAGMA optimize` would do: the planner then has statistics.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    queries = sample_queries(seed)

    # The SQL each search sends, for the database-only timing.
    statements = []
    for _kind, q in queries:
        user.__dict__.pop("_fangyi_paths", None)
        statements.append(person_list(user, q=q)[:PAGE].query.sql_with_params())

    for _kind, q in queries:  # warm-up
        _search(user, q)
    times, hits = [], []
    for _kind, q in queries:
        t0 = time.perf_counter()
        hits.append(_search(user, q))
        times.append(time.perf_counter() - t0)

    for sql, params in statements:  # warm-up
        _raw(sql, params)
    raw_times = []
    for sql, params in statements:
        t0 = time.perf_counter()
        _raw(sql, params)
        raw_times.append(time.perf_counter() - t0)

    def by_kind(values: list) -> dict[str, list]:
        out: dict[str, list] = defaultdict(list)
        for (kind, _q), v in zip(queries, values, strict=True):
            out[kind].append(v)
        return out

    kt, kr, kh = by_kind(times), by_kind(raw_times), by_kind(hits)
    slowest = sorted(range(len(queries)), key=lambda i: times[i], reverse=True)[:3]
    return {
        "seconds": round(statistics.median(times), 5),
        "p95_seconds": round(_p95(times), 5),
        "max_seconds": round(max(times), 5),
        "per_kind_ms": {kind: _ms(kt[kind]) for kind in KINDS},
        "per_kind_p95_ms": {kind: round(_p95(kt[kind]) * 1000, 2) for kind in KINDS},
        "raw_seconds": round(statistics.median(raw_times), 5),
        "raw_p95_seconds": round(_p95(raw_times), 5),
        "raw_per_kind_ms": {kind: _ms(kr[kind]) for kind in KINDS},
        "raw_per_kind_p95_ms": {kind: round(_p95(kr[kind]) * 1000, 2) for kind in KINDS},
        "slowest": [
            {
                "kind": queries[i][0],
                "q": queries[i][1],
                "ms": round(times[i] * 1000, 2),
                "raw_ms": round(raw_times[i] * 1000, 2),
            }
            for i in slowest
        ],
        "mean_rows": {kind: round(statistics.mean(kh[kind]), 1) for kind in KINDS},
        "queries": len(queries),
        "analyzed": connection.vendor == "postgresql" or analyze,
        "persons": loaded.persons,
        "households": len(loaded.households),
        "load_seconds": round(loaded.household_seconds + loaded.person_seconds, 3),
    }
