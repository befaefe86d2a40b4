"""declarations_store: n declarations through the service path, against the raw insert.

A synthetic city of about n/3 households (so about n persons) is loaded through the registry's
bulk path (untimed), with two risk areas in force (湖北省, 溫州市). Then n declarations, one
per person in turn, are generated (untimed): about 10 % back from a risk area within the
observation window, about 10 % back from elsewhere, 2 % with a fever or a symptom, 1 % with a
contact with a case, the rest plain temperatures.

`seconds` and `rate` are for `declarations_bulk_record(actor=None, rows=...)` alone:
validation (`declaration_clean`), the rules (`rules_evaluate`), the inserts and one audit row
per declaration. In the same run the rows the service stored are inserted again into a
scratch copy of the declaration table (same columns, indexes and keys), with `executemany` on
the sqlite3 cursor or `COPY` on PostgreSQL: `raw_rate`, and `ratio` = rate / raw_rate (goal
at least 0.2). `--profile FILE` profiles the service path.
"""

from __future__ import annotations

import cProfile
import datetime as dt
import io
import pstats
import random
import sys
import time
from collections import Counter
from decimal import Decimal
from typing import Any

from django.utils import timezone

from bench.raw import raw_insert_seconds
from bench.registry_load import load_city
from fangyi.health.models import Declaration, RiskArea
from fangyi.health.services import DeclarationInput, declarations_bulk_record
from fangyi.people.models import Person

SCRATCH = "bench_declaration_raw"
RISK_PLACES = ["武漢市", "武汉", "湖北省孝感市", "黃岡", "溫州市", "温州"]
OTHER_PLACES = ["桂林市", "柳州", "廣州市", "深圳", "北海市", "南寧市武鳴區"]
TRANSPORT = ["高鐵", "飛機", "自駕", "長途汽車", ""]
SYMPTOMS = ["dry_cough", "fatigue", "sore_throat", "fever"]
METHODS = ["forehead", "ear", "armpit"]


def _setup_rules(today: dt.date) -> None:
    start = today - dt.timedelta(days=60)
    RiskArea.objects.create(
        name="湖北省",
        aliases="湖北, 武漢, 武汉, 武漢市, 武汉市, 孝感, 黃岡, 黄冈",
        counts_from=start,
    )
    RiskArea.objects.create(name="溫州市", aliases="温州, 温州市", counts_from=start)


def make_rows(persons: list[Person], n: int, seed: int, today: dt.date) -> list[tuple]:
    rnd = random.Random(seed)

    def day(back: int) -> str:
        return (today - dt.timedelta(days=back)).isoformat()

    rows = []
    for i in range(n):
        person = persons[i % len(persons)]
        roll = rnd.random()
        data = DeclarationInput(
            temperature=Decimal(f"36.{rnd.randint(0, 9)}"),
            temperature_method=rnd.choice(METHODS),
            travel_since=today - dt.timedelta(days=30),
        )
        if roll < 0.10:
            back = rnd.randint(1, 20)
            data.travel = [
                {
                    "place": rnd.choice(RISK_PLACES),
                    "from": day(back + rnd.randint(0, 6)),
                    "to": day(back),
                    "transport": rnd.choice(TRANSPORT),
                }
            ]
        elif roll < 0.20:
            back = rnd.randint(1, 25)
            data.travel = [
                {
                    "place": rnd.choice(OTHER_PLACES),
                    "from": day(back + 2),
                    "to": day(back),
                    "transport": rnd.choice(TRANSPORT),
                }
            ]
        elif roll < 0.22:
            if rnd.random() < 0.5:
                data.temperature = Decimal(f"{rnd.choice([37, 38])}.{rnd.randint(3, 9)}")
            else:
                data.symptoms = [rnd.choice(SYMPTOMS)]
        elif roll < 0.23:
            data.contacts = [
                {
                    "kind": rnd.choice(["confirmed", "suspected"]),
                    "who": "同事",
                    "date": day(rnd.randint(1, 18)),
                    "place": "單位",
                }
            ]
        rows.append((person, data))
    return rows


def run(
    n: int, seed: int = 2020, profile: str | None = None, analyze: bool = False
) -> dict[str, Any]:
    today = timezone.localdate()
    t0 = time.perf_counter()
    loaded = load_city(max(1, n // 3), seed)
    city_seconds = time.perf_counter() - t0
    _setup_rules(today)
    persons = list(Person.objects.select_related("node").order_by("pk"))
    t1 = time.perf_counter()
    rows = make_rows(persons, n, seed, today)
    synth_seconds = time.perf_counter() - t1

    profiler = cProfile.Profile() if profile else None
    t2, c2 = time.perf_counter(), time.process_time()
    if profiler:
        profiler.enable()
    result = declarations_bulk_record(actor=None, rows=rows, source="visit")
    if profiler:
        profiler.disable()
    seconds = time.perf_counter() - t2
    cpu = time.process_time() - c2
    if result.errors:
        raise RuntimeError(f"{len(result.errors)} declarations rejected: {result.errors[:3]}")
    if profiler:
        profiler.dump_stats(profile)
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(35)
        print(out.getvalue(), file=sys.stderr)

    proposals = Counter(Declaration.objects.values_list("proposal", flat=True))
    raw_count, raw_seconds, raw_cpu = raw_insert_seconds(Declaration, SCRATCH)
    rate = result.created / seconds
    raw_rate = raw_count / raw_seconds
    figures: dict[str, Any] = {
        "seconds": round(seconds, 3),
        "declarations": result.created,
        "rate": round(rate, 1),
        "raw_seconds": round(raw_seconds, 3),
        "raw_rate": round(raw_rate, 1),
        "ratio": round(rate / raw_rate, 4),
        # CPU time of this process, steadier than wall time on a busy machine (on SQLite it
        # includes the database's work; on PostgreSQL the server's is not in it).
        "cpu_seconds": round(cpu, 3),
        "raw_cpu_seconds": round(raw_cpu, 3),
        "cpu_ratio": round(raw_cpu / cpu, 4) if cpu else None,
        "proposals": dict(sorted(proposals.items())),
        "persons": loaded.persons,
        "households": len(loaded.households),
        "city_seconds": round(city_seconds, 3),
        "synth_seconds": round(synth_seconds, 3),
    }
    if profiler:
        figures["profiled"] = True
    return figures
