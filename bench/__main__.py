"""Run the benchmarks: `python -m bench NAME [--n N]` or `python -m bench all [--n N]`.

    registry_load   households and persons through the bulk path, against the raw insert speed
    person_search   the search box on the loaded city, against the same SQL run raw
    declarations_store   declarations through the service path (rules evaluated), against
                    the raw insert of the same rows
    followups_generate   today's follow-ups for everyone under observation
    daylist         server time of a worker's day list in a big station
    tips_intake_load   1,000 public tips in a minute while 20 clients poll a dispatch board,
                    against a real server (gunicorn) on loopback
    placement_race  n concurrent placement requests for a site with n/2 beds (--beds), from
                    a pool of threads (--pool), each on its own connection: no bed given twice
    worklog         an officer's 20-day work log and its period sums, with a year of a whole
                    station's activity, against the same sums by raw SQL
    notify_burst    the morning SMS to n people under home observation through a fake gateway
                    (fails 1 in --fail-every) at --rate a second: seconds, duplicates, lost, and
                    the day list's server time before and during the burst

Each runs on a throwaway database (SQLite in a temporary folder, or PostgreSQL when
DATABASE_URL is set) and prints one JSON line last. `all` runs each in its own process at
n=20000 unless --n says otherwise.
"""

from __future__ import annotations

import argparse
import importlib
import os
import subprocess
import sys

BENCHES = {
    "registry_load": "bench.registry_load",
    "person_search": "bench.person_search",
    "declarations_store": "bench.declarations_store",
    "followups_generate": "bench.followups_generate",
    "daylist": "bench.daylist",
    "tips_intake_load": "bench.tips_intake_load",
    "placement_race": "bench.placement_race",
    "worklog": "bench.worklog",
    "notify_burst": "bench.notify_burst",
}
# `all` runs every benchmark at a size a 2-core machine finishes in a few minutes.
DEFAULT_N = 20_000


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("name", choices=[*BENCHES, "all"])
    parser.add_argument("--n", type=int, default=DEFAULT_N, help="households in the city")
    parser.add_argument("--seed", type=int, default=2020)
    parser.add_argument(
        "--profile",
        metavar="FILE",
        help="registry_load: write cProfile stats of the bulk path to FILE",
    )
    parser.add_argument(
        "--analyze",
        action="store_true",
        help="person_search on SQLite: run ANALYZE after the load (PostgreSQL always is)",
    )
    load = parser.add_argument_group("tips_intake_load")
    load.add_argument("--tips", type=int, default=1000, help="public tips to send")
    load.add_argument("--duration", type=float, default=60.0, help="seconds to send them over")
    load.add_argument("--pollers", type=int, default=20, help="clients polling the board")
    load.add_argument("--interval", type=float, default=2.0, help="seconds between polls")
    load.add_argument("--workers", type=int, default=3, help="gunicorn worker processes")
    load.add_argument("--threads", type=int, default=4, help="threads per worker")
    race = parser.add_argument_group("placement_race")
    race.add_argument("--beds", type=int, default=None, help="beds at the site (default n/2)")
    race.add_argument("--pool", type=int, default=24, help="threads asking at once")
    burst = parser.add_argument_group("notify_burst")
    burst.add_argument("--rate", type=int, default=200, help="SMS a second (FANGYI_SMS_RATE)")
    burst.add_argument("--fail-every", type=int, default=3, help="the gateway's 500s: 1 in N")
    args = parser.parse_args(argv)
    if args.n < 1:
        parser.error("--n must be at least 1")

    if args.name == "all":
        # One process per benchmark: a fresh database and its own peak memory figure.
        rc = 0
        for name in BENCHES:
            cmd = [
                sys.executable,
                "-m",
                "bench",
                name,
                "--n",
                str(args.n),
                "--seed",
                str(args.seed),
            ]
            rc = subprocess.run(cmd, check=False).returncode or rc  # noqa: S603
        return rc

    from bench.env import emit, peak_rss_mb, throwaway_database

    with throwaway_database() as vendor:
        module = importlib.import_module(BENCHES[args.name])
        # A benchmark's own options (its OPTIONS) are passed only to it.
        extra = {name: getattr(args, name) for name in getattr(module, "OPTIONS", ())}
        figures = module.run(
            n=args.n, seed=args.seed, profile=args.profile, analyze=args.analyze, **extra
        )
    # The 1-minute load average: on a shared machine, wall-clock figures need it to be read.
    emit(
        {
            "bench": args.name,
            "n": args.n,
            **figures,
            "db": vendor,
            "peak_rss_mb": peak_rss_mb(),
            "loadavg": round(os.getloadavg()[0], 2),
        }
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
