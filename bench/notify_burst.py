"""notify_burst: the morning SMS to n people under home observation, through the fake gateway.

The synthetic city of bench/daylist.py (n households, one resident each, a grid worker whose
day list is measured), with every resident under home observation today and a mainland
mobile number. fangyi.observation.reminders.reminders_due queues the morning SMS (it is run
at today's FANGYI_REMINDER_MORNING; the messages are then made due now), and the outbox is
sent by fangyi.notify.delivery.deliver_due, as the worker's delivery loop does, at a
configured `--rate` messages a second through tests/notify_gateway.py on loopback, which fails
one request in `--fail-every` with a 500 (those are retried after the 30 s backoff, with the
same key).

Figures: `seconds` from the first claim to the last message sent; `rate` the messages sent a
second on the first pass (until the first retry is due); `duplicates` messages that reached a
phone twice (goal 0), `lost` messages not delivered (goal 0), `repeats` requests of a key the
gateway already had (none expected with 500s: nothing was delivered on those);
`daylist_before_seconds` and `daylist_during_seconds` the median server time of the worker's
day list (GET /, the Django test client) before the burst and while it runs.
"""

from __future__ import annotations

import datetime as dt
import statistics
import threading
import time
from typing import Any

from django.conf import settings
from django.db import connection, connections, transaction
from django.test import Client
from django.test.utils import setup_test_environment
from django.utils import timezone

from bench.daylist import build
from bench.followups_generate import observe
from fangyi.notify import delivery
from fangyi.notify.delivery import deliver_due
from fangyi.notify.models import Message, MessageStatus
from fangyi.observation.models import Observation
from fangyi.observation.reminders import reminders_due
from fangyi.people.models import Person
from tests.notify_gateway import FakeGateway

OPTIONS = ("rate", "fail_every")
# The retry backoff's base for the run (the worker's is 30 s, doubling): with one request in
# three failing, a few messages fail six or seven times in a row, and the real backoff would
# make the figure the backoff's (minutes) rather than the sending's. Attempts are raised for
# the same reason: the figure asks whether every message arrives once, not when one is given up.
BACKOFF = dt.timedelta(milliseconds=50)
MAX_ATTEMPTS = 30


def _everyone_observed_with_a_phone(today: dt.date) -> int:
    observed = set(Observation.objects.values_list("person_id", flat=True))
    rest = [
        (pid, node_id)
        for pid, node_id in Person.objects.order_by("pk").values_list("pk", "node_id")
        if pid not in observed
    ]
    observe(rest, today)
    ids = list(Person.objects.order_by("pk").values_list("pk", flat=True))
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.executemany(
            "UPDATE people_person SET phone = %s WHERE id = %s",
            [(f"139{i:08d}", pk) for i, pk in enumerate(ids)],
        )
    return len(ids)


def _daylist(client: Client, runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        response = client.get("/")
        times.append(time.perf_counter() - t)
        if response.status_code != 200:
            raise RuntimeError(f"GET / answered {response.status_code}")
    return times


def run(n: int, seed: int = 2020, rate: int = 200, fail_every: int = 3, **_: Any) -> dict:
    t0 = time.perf_counter()
    today = timezone.localdate()
    worker, sizes = build(n, seed)
    people = _everyone_observed_with_a_phone(today)
    hour, _sep, minute = settings.FANGYI_REMINDER_MORNING.partition(":")
    morning = timezone.make_aware(dt.datetime.combine(today, dt.time(int(hour), int(minute))))
    queued = reminders_due(morning + dt.timedelta(minutes=1))
    Message.objects.update(not_before=timezone.now())  # queued at the morning time, due now
    setup = time.perf_counter() - t0
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")

    setup_test_environment()
    client = Client()
    client.force_login(worker)
    _daylist(client, 3)  # warm-up
    before = _daylist(client, 20)

    gateway = FakeGateway(fail_every=fail_every).start()
    settings.FANGYI_SMS_BACKEND = "http"
    settings.FANGYI_SMS_URL = gateway.url
    settings.FANGYI_SMS_RATE = rate
    settings.FANGYI_SMS_TIMEOUT = 2.0
    settings.FANGYI_SMS_MAX_ATTEMPTS = MAX_ATTEMPTS
    delivery.BACKOFF = BACKOFF
    done = threading.Event()
    marks: dict[str, float] = {}
    errors: list[str] = []

    def send() -> None:
        try:
            marks["start"] = time.perf_counter()
            while True:
                counts = deliver_due(limit=max(rate * 5, 100))
                if counts["sent"] and "first_pass" not in marks:
                    marks.setdefault("first_sent", 0)
                left = Message.objects.filter(
                    status__in=[MessageStatus.QUEUED, MessageStatus.FAILED, MessageStatus.SENDING]
                )
                if not left.exists():
                    break
                if not counts["claimed"]:
                    marks.setdefault("first_pass", time.perf_counter())
                    time.sleep(0.2)  # waiting for the backoff of the failed ones
            marks["end"] = time.perf_counter()
        except Exception as exc:  # noqa: BLE001 - reported in the figures
            errors.append(repr(exc))
        finally:
            connections.close_all()
            done.set()

    sender = threading.Thread(target=send, name="burst")
    sender.start()
    during: list[float] = []
    while not done.is_set():
        during += _daylist(client, 1)
        time.sleep(0.05)
    sender.join()
    gateway.stop()
    if errors:
        raise RuntimeError(errors[0])

    sent = Message.objects.filter(status=MessageStatus.SENT).count()
    first_pass = marks.get("first_pass", marks["end"]) - marks["start"]
    first_sent = len(gateway.received)  # requests that reached a phone, all passes
    return {
        "people": people,
        "queued": queued,
        "sent": sent,
        "seconds": round(marks["end"] - marks["start"], 2),
        "configured_rate": rate,
        "rate": round(gateway.requests / (marks["end"] - marks["start"]), 1),
        "first_pass_seconds": round(first_pass, 2),
        "gateway_requests": gateway.requests,
        "failed_requests": gateway.requests - first_sent,
        "duplicates": gateway.doubled,
        "lost": queued - len(gateway.delivered),
        "repeats": gateway.repeats,
        "given_up": Message.objects.filter(status=MessageStatus.GIVEN_UP).count(),
        "daylist_before_seconds": round(statistics.median(before), 4),
        "daylist_during_seconds": round(statistics.median(during), 4) if during else None,
        "daylist_during_runs": len(during),
        **sizes,
        "setup_seconds": round(setup, 2),
    }
