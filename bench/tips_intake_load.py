"""tips_intake_load: 1,000 public tips in a minute while 20 clients poll a dispatch board, against
a real server on loopback.

The city: n households (bench/city.py's tree, inserted raw as in bench/followups_generate.py),
one officer per station, community staff per community, a grid worker per grid and health staff
per district (so the categories' routing finds someone), n / 10 closed tips of the past weeks
(scenery, inserted raw, entered by phone) and 30 active support requests at the first station.

The server is the production one: `fangyi serve` (gunicorn, gthread: --workers processes of
--threads threads) on 127.0.0.1 at a free port, a subprocess against the same throwaway
database and data folder. It runs with FANGYI_TRUST_X_FORWARDED_FOR=1, as a deployment behind
one reverse proxy does: the public API's rate limit (FANGYI_TIPS_PER_ADDRESS tips per address
in FANGYI_TIPS_WINDOW_SECONDS, left as configured) counts per resident address, and each
simulated resident's address is sent in X-Forwarded-For, the header the proxy would append.
The residents share addresses as households behind one router do: --tips tips from
--tips / 4 addresses (1,000 residents' tips from 250 addresses), four each, under the default
limit of 10. Without the header every tip would come from 127.0.0.1 and the limit would refuse
all but the first ten, which is the limit working, not a load test.

The load: --tips tips through POST /api/public/tips (the public page's JSON: category, a
compound's node_id or a household's exact address, a description, answers, sometimes a name and
phone, a client_id), paced evenly over --seconds seconds from a pool of sender threads, while
--pollers clients each GET the first station's live board fragment /dispatch/<pk>/live/ every
--interval seconds (the page itself polls every 5 s; 2 s is the harder case), each with its own
logged-in session of the station's officer (sessions are saved on every request, as configured).

Figures: `tips_sent`, `tips_stored` (public tips in the database afterwards), `errors` (non-2xx
answers and exceptions, intake and board; goal 0) with `error_kinds`, `intake_p50_ms` /
`intake_p95_ms` / `intake_max_ms`, `board_polls`, `board_p50_ms` / `board_p95_ms` /
`board_max_ms` (goal: p95 under 200), `late_max_ms` (how far behind the schedule the senders
fell), `seconds` (the load phase), `board_tips` (open tips on the board at the end),
`server_cpu_share` (the server's CPU seconds per second of load: 1.0 is one core kept busy;
read it with `cpus` and `loadavg`; `db_cpu_share` the same for PostgreSQL's backends serving
the throwaway database, 0 on SQLite; `client_cpu_share` for this process's senders and
pollers, which share the machine).
Baselines in the same run, without the server: `board_inproc_ms` (the fragment through the
Django test client in this process, median of 20), `board_queries` (its SQL statements),
`board_raw_ms` (the board selector's own SQL statements run directly on a cursor, median of
20), and `raw_insert_seconds` (the stored tips inserted again into a scratch table, bench/raw.py).
"""

from __future__ import annotations

import datetime as dt
import http.client
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext, setup_test_environment
from django.utils import timezone

from bench.followups_generate import cheap_city
from bench.raw import raw_insert_seconds
from fangyi.core.bulk import insert_many
from fangyi.core.models import Node, Role, User
from fangyi.people.models import Household
from fangyi.tips.models import Tip, TipCategory

# The options of `python -m bench` this benchmark takes (see bench/__main__.py).
OPTIONS = ("tips", "duration", "pollers", "interval", "workers", "threads")
DEFAULTS = {
    "tips": 1000,
    "duration": 60.0,
    "pollers": 20,
    "interval": 2.0,
    "workers": 3,
    "threads": 4,
}
SENDERS = 16  # sender threads: enough that a slow answer does not hold up the schedule
TIPS_PER_ADDRESS = 4
SUPPORT_REQUESTS = 30
DESCRIPTIONS = [
    "樓下棋牌室有十幾個人打牌，沒戴口罩",
    "隔壁單元在辦酒席，來了很多外地親戚",
    "小區空地有人散養雞鴨，到處是糞便",
    "對面樓有人從武漢回來，沒有登記",
    "居家隔離的住戶每天下樓倒垃圾、串門",
    "超市門口排隊的人不戴口罩",
]


# --- the city ----------------------------------------------------------------------------------


def _users(stations, communities, grids, districts) -> User:
    """One account per place for the routing; returns the first station's officer."""
    made = []
    for role, nodes in (
        (Role.POLICE, stations),
        (Role.COMMUNITY_STAFF, communities),
        (Role.GRID_WORKER, grids),
        (Role.HEALTH_STAFF, districts),
    ):
        for i, node in enumerate(nodes):
            user = User.objects.create(username=f"bench-{role}-{i}", role=role, first_name=f"{i}")
            user.nodes.set([node])
            made.append(user)
    return next(u for u in made if u.role == Role.POLICE)


def _history(count: int, compounds: list[int], categories: list[TipCategory]) -> None:
    """Closed tips of the past weeks: what the tips table holds around the new ones."""
    from fangyi.tips.services import new_code

    now = timezone.now()
    rnd = random.Random(7)
    rows = []
    for i in range(count):
        at = now - dt.timedelta(days=3 + i % 40, minutes=i)
        rows.append(
            Tip(
                code=new_code(),
                category=categories[i % len(categories)],
                node_id=rnd.choice(compounds),
                description=DESCRIPTIONS[i % len(DESCRIPTIONS)],
                source="phone",
                status="closed",
                resolution="rectified",
                received_at=at,
                due_at=at + dt.timedelta(hours=2),
                closed_at=at + dt.timedelta(days=1),
            )
        )
    Tip.objects.bulk_create(rows, batch_size=500)


def _support_requests(station: Node, officer: User) -> None:
    from fangyi.linkage.models import SupportRequest

    now = timezone.now()
    households = list(
        Household.objects.filter(node__path__startswith=station.path)
        .order_by("pk")
        .values_list("pk", "node_id")[:SUPPORT_REQUESTS]
    )
    rows = []
    for i, (hid, node_id) in enumerate(households):
        created = now - dt.timedelta(minutes=5 * i)
        rows.append(
            (
                node_id,
                station.pk,
                ["police", "health", "community"][i % 3],
                officer.pk,
                "police",
                hid,
                "住戶拒不開門，請求協助",
                ["urgent", "high", "normal"][i % 3],
                [10, 30, 120][i % 3],
                ["open", "accepted", "arrived"][i % 3],
                created,
                created + dt.timedelta(minutes=[10, 30, 120][i % 3]),
                "",
                "",
            )
        )
    with transaction.atomic():
        insert_many(
            SupportRequest,
            [
                "node",
                "from_node",
                "agency",
                "requested_by",
                "requester_agency",
                "household",
                "need",
                "urgency",
                "target_minutes",
                "status",
                "created_at",
                "due_at",
                "decline_reason",
                "outcome",
            ],
            rows,
        )


def build(n: int, seed: int):
    cheap_city(n, seed)
    kinds = {
        kind: list(Node.objects.filter(kind=kind).order_by("path"))
        for kind in ("district", "station", "community", "grid")
    }
    officer = _users(kinds["station"], kinds["community"], kinds["grid"], kinds["district"])
    station = kinds["station"][0]
    compounds = list(
        Node.objects.filter(kind="compound").order_by("path").values_list("pk", flat=True)
    )
    categories = list(TipCategory.objects.filter(active=True).order_by("order", "id"))
    _history(max(10, n // 10), compounds, categories)
    _support_requests(station, officer)
    return officer, station, compounds, categories


# --- the server -------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _server_env() -> dict[str, str]:
    env = dict(os.environ)
    env["FANGYI_TRUST_X_FORWARDED_FOR"] = "1"
    env.setdefault("FANGYI_PUBLIC_URL", "http://127.0.0.1")
    env.pop("FANGYI_TEST_DB", None)
    if connection.vendor == "postgresql":
        # The server's DATABASE_URL names the throwaway database the bench created.
        url = urlsplit(os.environ["DATABASE_URL"])
        env["DATABASE_URL"] = url._replace(path="/" + connection.settings_dict["NAME"]).geturl()
    return env


def start_server(workers: int, threads: int, log: Path) -> tuple[subprocess.Popen, int]:
    """`fangyi serve` on 127.0.0.1 at a free port; returns once it answers."""
    port = _free_port()
    cmd = [
        sys.executable,
        "-m",
        "fangyi.cli",
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--threads",
        str(threads),
    ]
    out = log.open("wb")
    proc = subprocess.Popen(cmd, env=_server_env(), stdout=out, stderr=subprocess.STDOUT)  # noqa: S603
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited: {log.read_text()[-2000:]}")
        try:
            status, _body, _ms = request(port, "GET", "/login/")
            if status == 200:
                return proc, port
        except OSError:
            pass
        time.sleep(0.2)
    stop_server(proc)
    raise RuntimeError(f"the server did not answer in 60 s: {log.read_text()[-2000:]}")


def stop_server(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _cpu_seconds(select) -> float:
    """CPU seconds (user + system) used so far by the processes `select(pid, ppid, cmdline)`
    picks."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            cmdline = (stat.parent / "cmdline").read_bytes()
        except OSError:
            continue
        if select(int(stat.parent.name), int(fields[1]), cmdline):
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / tick


def server_cpu_seconds(proc: subprocess.Popen) -> float:
    """The server's: gunicorn's master and workers."""
    return _cpu_seconds(lambda pid, ppid, _cmd: proc.pid in (pid, ppid))


def db_cpu_seconds() -> float:
    """PostgreSQL's backends serving the throwaway database (their title names it); 0 on
    SQLite, whose work is inside the server's processes."""
    if connection.vendor != "postgresql":
        return 0.0
    name = connection.settings_dict["NAME"].encode()
    return _cpu_seconds(lambda _pid, _ppid, cmd: cmd.startswith(b"postgres: ") and name in cmd)


def request(
    port: int, method: str, path: str, body: bytes | None = None, headers: dict | None = None
) -> tuple[int, bytes, float]:
    """One request on a fresh loopback connection: status, body, milliseconds."""
    t0 = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        data = response.read()
        return response.status, data, (time.perf_counter() - t0) * 1000
    finally:
        conn.close()


# --- the load ---------------------------------------------------------------------------------


def _tip_bodies(count: int, compounds, categories, seed: int) -> list[tuple[dict, str]]:
    """(JSON body, resident address) for each tip: four tips per address."""
    rnd = random.Random(seed)
    addresses = dict(
        Household.objects.filter(node_id__in=compounds).order_by("pk").values_list("pk", "address")
    )
    some = rnd.sample(sorted(addresses), min(len(addresses), count))
    out = []
    for i in range(count):
        category = categories[i % len(categories)]
        body: dict[str, Any] = {
            "category": category.code,
            "description": DESCRIPTIONS[i % len(DESCRIPTIONS)],
            "client_id": str(uuid.UUID(int=rnd.getrandbits(128), version=4)),
        }
        if i % 5 == 4:  # a household's exact address
            body["address"] = addresses[some[i % len(some)]]
        else:  # the compound picked from the page's list
            body["node_id"] = rnd.choice(compounds)
        answers = {}
        for q in category.questions or []:
            if q.get("type") == "number":
                answers[q["code"]] = str(rnd.randint(3, 30))
            elif q.get("type") == "yes_no":
                answers[q["code"]] = rnd.choice(["yes", "no"])
            elif q.get("type") == "choice":
                answers[q["code"]] = rnd.choice(q.get("choices") or [""])
        body["answers"] = answers
        if i % 2:
            body["reporter_name"] = "熱心居民"
            body["reporter_phone"] = f"139{rnd.randint(0, 99_999_999):08d}"
        a = i // TIPS_PER_ADDRESS
        out.append((body, f"10.20.{a // 250}.{a % 250 + 1}"))
    return out


class Load:
    def __init__(self, port: int):
        self.port = port
        self.lock = threading.Lock()
        self.intake: list[float] = []
        self.board: list[float] = []
        self.late: list[float] = []
        self.errors: Counter[str] = Counter()
        self.done = threading.Event()

    def error(self, kind: str) -> None:
        with self.lock:
            self.errors[kind] += 1

    def send_all(self, bodies, rate: float) -> None:
        """Tip i leaves at start + i / rate, from whichever sender thread is free."""
        start = time.perf_counter() + 0.2
        cursor = iter(range(len(bodies)))
        take = threading.Lock()

        def sender():
            while True:
                with take:
                    i = next(cursor, None)
                if i is None:
                    return
                due = start + i / rate
                wait = due - time.perf_counter()
                if wait > 0:
                    time.sleep(wait)
                late = max(0.0, time.perf_counter() - due) * 1000
                body, address = bodies[i]
                try:
                    status, data, ms = request(
                        self.port,
                        "POST",
                        "/api/public/tips",
                        json.dumps(body).encode(),
                        {"Content-Type": "application/json", "X-Forwarded-For": address},
                    )
                except Exception as exc:  # noqa: BLE001 - counted, the load goes on
                    self.error(f"intake {type(exc).__name__}")
                    continue
                with self.lock:
                    self.late.append(late)
                    if 200 <= status < 300:
                        self.intake.append(ms)
                    else:
                        self.errors[f"intake {status} {data[:120].decode(errors='replace')}"] += 1

        threads = [threading.Thread(target=sender) for _ in range(SENDERS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

    def poll(self, path: str, cookie: str, interval: float, offset: float) -> None:
        headers = {"Cookie": cookie, "HX-Request": "true"}
        time.sleep(offset)
        next_at = time.perf_counter()
        while not self.done.is_set():
            try:
                status, data, ms = request(self.port, "GET", path, headers=headers)
                with self.lock:
                    if status == 200:
                        self.board.append(ms)
                    else:
                        self.errors[f"board {status}"] += 1
            except Exception as exc:  # noqa: BLE001
                self.error(f"board {type(exc).__name__}")
            next_at += interval
            self.done.wait(max(0.0, next_at - time.perf_counter()))


def _session_cookie(user: User) -> str:
    from django.conf import settings

    client = Client()
    client.force_login(user)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


def _pct(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(len(ordered) * q))], 1)


# --- the baselines -----------------------------------------------------------------------------


def _baselines(officer: User, station: Node, live: str) -> dict[str, Any]:
    from fangyi.linkage import selectors

    setup_test_environment()
    client = Client()
    client.force_login(officer)
    for _ in range(3):
        assert client.get(live).status_code == 200
    with CaptureQueriesContext(connection) as ctx:
        client.get(live)
    queries = len(ctx.captured_queries)
    times = []
    for _ in range(20):
        t0 = time.perf_counter()
        client.get(live)
        times.append((time.perf_counter() - t0) * 1000)
    # The board selector's own statements, run directly.
    fresh = User.objects.get(pk=officer.pk)
    with CaptureQueriesContext(connection) as ctx:
        selectors.board(fresh, station)
    statements = [q["sql"] for q in ctx.captured_queries]
    raw = []
    with connection.cursor() as cursor:
        for _ in range(20):
            t0 = time.perf_counter()
            for sql in statements:
                cursor.execute(sql)
                cursor.fetchall()
            raw.append((time.perf_counter() - t0) * 1000)
    return {
        "board_inproc_ms": round(statistics.median(times), 1),
        "board_queries": queries,
        "board_raw_ms": round(statistics.median(raw), 2),
        "board_raw_statements": len(statements),
    }


def run(
    n: int,
    seed: int = 2020,
    profile: str | None = None,
    analyze: bool = False,
    tips: int = DEFAULTS["tips"],
    duration: float = DEFAULTS["duration"],
    pollers: int = DEFAULTS["pollers"],
    interval: float = DEFAULTS["interval"],
    workers: int = DEFAULTS["workers"],
    threads: int = DEFAULTS["threads"],
) -> dict[str, Any]:
    t0 = time.perf_counter()
    officer, station, compounds, categories = build(n, seed)
    bodies = _tip_bodies(tips, compounds, categories, seed)
    cookies = [_session_cookie(officer) for _ in range(pollers)]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    setup = time.perf_counter() - t0
    live = f"/dispatch/{station.pk}/live/"
    connection.close()  # the server has the database to itself during the load

    data_dir = Path(os.environ["FANGYI_DATA_DIR"])
    proc, port = start_server(workers, threads, data_dir / "server.log")
    try:
        load = Load(port)
        # Warm-up: every worker has imported, compiled its templates and opened a connection.
        for _ in range(workers * 3):
            request(port, "GET", "/api/public/tip-categories")
            request(port, "GET", live, headers={"Cookie": cookies[0], "HX-Request": "true"})
        polls = [
            threading.Thread(
                target=load.poll, args=(live, cookies[i], interval, interval * i / max(1, pollers))
            )
            for i in range(pollers)
        ]
        for t in polls:
            t.start()
        started, cpu = time.perf_counter(), server_cpu_seconds(proc)
        own, db_cpu = time.process_time(), db_cpu_seconds()
        load.send_all(bodies, tips / duration)
        seconds = time.perf_counter() - started
        load.done.set()
        for t in polls:
            t.join()
        cpu = server_cpu_seconds(proc) - cpu
        own = time.process_time() - own
        db_cpu = db_cpu_seconds() - db_cpu
    finally:
        stop_server(proc)

    stored = Tip.objects.filter(source="public").count()
    board_tips = selectors_board_count(officer, station)
    figures: dict[str, Any] = {
        "tips_sent": tips,
        "tips_stored": stored,
        "errors": sum(load.errors.values()),
        "error_kinds": dict(load.errors.most_common(5)),
        "intake_p50_ms": _pct(load.intake, 0.5),
        "intake_p95_ms": _pct(load.intake, 0.95),
        "intake_max_ms": _pct(load.intake, 1.0),
        "late_max_ms": _pct(load.late, 1.0),
        "board_polls": len(load.board),
        "board_p50_ms": _pct(load.board, 0.5),
        "board_p95_ms": _pct(load.board, 0.95),
        "board_max_ms": _pct(load.board, 1.0),
        "board_tips": board_tips,
        "seconds": round(seconds, 2),
        "rate": round(tips / seconds, 2),
        # The server's CPU seconds per second of load (1.0 = one core busy), and the cores.
        "server_cpu_share": round(cpu / seconds, 2),
        "db_cpu_share": round(db_cpu / seconds, 2),  # PostgreSQL's backends (0 on SQLite)
        "client_cpu_share": round(own / seconds, 2),  # this process: senders and pollers
        "cpus": os.cpu_count(),
        "pollers": pollers,
        "interval": interval,
        "workers": workers,
        "threads": threads,
        "tips_per_address": TIPS_PER_ADDRESS,
        "history_tips": Tip.objects.filter(status="closed").count(),
        "setup_seconds": round(setup, 2),
    }
    figures.update(_baselines(officer, station, live))
    count, raw_seconds, _cpu = raw_insert_seconds(Tip, "raw_bench_tips")
    figures["raw_insert_tips"] = count
    figures["raw_insert_seconds"] = round(raw_seconds, 4)
    return figures


def selectors_board_count(officer: User, station: Node) -> int:
    from fangyi.linkage import selectors

    return selectors.board(User.objects.get(pk=officer.pk), station).tips_count
