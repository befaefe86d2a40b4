"""registry_load: households and persons of a synthetic city through the registry's bulk path.

`seconds` and `rate` are for `persons_bulk_create(actor=None, rows=..., scoped=False)` alone:
validation, search keys, the duplicate check, the inserts and one audit row per person. The
time spent generating the synthetic residents is measured apart (`synth_seconds`) and left out.

In the same run the database's raw speed is measured: the very rows the service stored (every
column but the id, search keys included) are inserted again into a scratch copy of the person
table (same columns, indexes, unique and foreign keys), with `executemany` on the sqlite3
cursor under Django's connection, or with `COPY` (psycopg 3) on PostgreSQL. `raw_rate` is
persons per second that way, and `ratio` = rate / raw_rate: the share of the database's speed
the service path keeps. `cpu_seconds` / `raw_cpu_seconds` are this process's CPU time for the
same two steps, steadier than wall time on a busy machine (on SQLite they include the
database's work; on PostgreSQL the server's is not in them).

`--profile FILE` runs the bulk path under cProfile, writes the stats to FILE and prints the
top entries to stderr (the rate is then understated).
"""

from __future__ import annotations

import cProfile
import io
import pstats
import sys
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from bench.city import City, build_tree, household_rows, person_rows
from bench.raw import raw_insert_seconds
from fangyi.people.models import Household, Person
from fangyi.people.services import households_bulk_create, persons_bulk_create
from fangyi.people.synth import Synth

SCRATCH = "bench_person_raw"


class Timed:
    """An iterator that adds up the time its source takes to produce each item."""

    def __init__(self, source: Iterable[Any]):
        self._it = iter(source)
        self.seconds = 0.0
        self.cpu_seconds = 0.0
        self.count = 0

    def __iter__(self) -> Iterator[Any]:
        return self

    def __next__(self) -> Any:
        t, c = time.perf_counter(), time.process_time()
        try:
            item = next(self._it)
        finally:
            self.seconds += time.perf_counter() - t
            self.cpu_seconds += time.process_time() - c
        self.count += 1
        return item


@dataclass
class Loaded:
    city: City
    households: list[Household]
    persons: int
    tree_seconds: float
    household_seconds: float
    person_seconds: float  # the service path only, generation left out
    person_cpu_seconds: float  # CPU time of this process for the same
    synth_seconds: float
    profiled: bool = False


def load_city(n: int, seed: int = 2020, profile: str | None = None) -> Loaded:
    """Build the tree, then load n households and their residents through the bulk path."""
    t0 = time.perf_counter()
    city = build_tree(n, seed)
    t1 = time.perf_counter()
    synth = Synth(seed)
    rows = household_rows(city, synth)
    t2 = time.perf_counter()
    households = households_bulk_create(actor=None, rows=rows)
    household_seconds = time.perf_counter() - t2

    source = Timed(person_rows(households, synth))
    profiler = cProfile.Profile() if profile else None
    t3, c3 = time.perf_counter(), time.process_time()
    if profiler:
        profiler.enable()
    result = persons_bulk_create(actor=None, rows=source, scoped=False)
    if profiler:
        profiler.disable()
    elapsed = time.perf_counter() - t3
    cpu = time.process_time() - c3
    if result.errors:
        raise RuntimeError(f"{len(result.errors)} synthetic persons rejected: {result.errors[:3]}")
    if profiler:
        profiler.dump_stats(profile)
        _print_profile(profiler)
    return Loaded(
        city=city,
        households=households,
        persons=result.created,
        tree_seconds=t1 - t0,
        household_seconds=household_seconds,
        person_seconds=elapsed - source.seconds,
        person_cpu_seconds=cpu - source.cpu_seconds,
        synth_seconds=source.seconds,
        profiled=bool(profiler),
    )


def _print_profile(profiler: cProfile.Profile) -> None:
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("cumulative").print_stats(45)
    stats.sort_stats("tottime").print_stats(30)
    print(out.getvalue(), file=sys.stderr)


def run(
    n: int, seed: int = 2020, profile: str | None = None, analyze: bool = False
) -> dict[str, Any]:
    loaded = load_city(n, seed, profile=profile)
    raw_count, raw_seconds, raw_cpu = raw_insert_seconds(Person, SCRATCH)
    rate = loaded.persons / loaded.person_seconds
    raw_rate = raw_count / raw_seconds
    figures: dict[str, Any] = {
        "seconds": round(loaded.person_seconds, 3),
        "persons": loaded.persons,
        "households": len(loaded.households),
        "rate": round(rate, 1),
        "raw_seconds": round(raw_seconds, 3),
        "raw_rate": round(raw_rate, 1),
        "ratio": round(rate / raw_rate, 4),
        # CPU time of this process: robust on a busy machine. On SQLite it covers the database
        # work too (in process); on PostgreSQL the server's share is not in it.
        "cpu_seconds": round(loaded.person_cpu_seconds, 3),
        "raw_cpu_seconds": round(raw_cpu, 3),
        "household_seconds": round(loaded.household_seconds, 3),
        "household_rate": round(len(loaded.households) / loaded.household_seconds, 1),
        "synth_seconds": round(loaded.synth_seconds, 3),
        "tree_seconds": round(loaded.tree_seconds, 3),
        "nodes": sum(loaded.city.nodes.values()),
    }
    if loaded.profiled:
        figures["profiled"] = True  # cProfile was on: rate and ratio are understated
    return figures
