"""Delivery of the outbox against a fake SMS gateway on loopback (tests/notify_gateway.py):
every message delivered exactly once though the gateway fails one request in three and is
slow on others; 500, timeouts and an unreachable gateway retried with backoff, then given up
with a clear answer; a worker killed mid-send resends with the same key; two workers never
both send one message; blocked numbers and records no longer visible are not sent; the
digest goes once a day; the rate holds (a fake clock)."""

from __future__ import annotations

import datetime as dt
import json
import threading

import pytest
from django.core import mail
from django.db import connections
from django.utils import timezone

from fangyi.core.models import AuditEntry, Role, User
from fangyi.notify import backends, delivery
from fangyi.notify.models import BlockedNumber, Message, MessageStatus, Notification, Preference
from fangyi.notify.registry import Kind, register
from fangyi.notify.services import emit, send_to_resident
from tests.conftest import node
from tests.notify_gateway import FakeGateway
from tests.test_placement_race import race_db  # noqa: F401

pytestmark = pytest.mark.django_db

RESIDENT = register(
    Kind("delivery_test_resident", "A resident's test message", action="person.view")
)
STAFF = register(Kind("delivery_test_staff", "A staff test", action="person.view", urgent=True))
QUIET = register(Kind("delivery_test_quiet", "A quiet test", action="person.view"))


def t(hours: float = 0) -> dt.datetime:
    return timezone.now().replace(microsecond=0) + dt.timedelta(hours=hours)


def queue(n: int, now: dt.datetime | None = None, first: int = 0) -> list[Message]:
    made = [
        send_to_resident(
            RESIDENT.key,
            phone=f"138{first + i:08d}",
            message="Your daily self-report: %(link)s",
            params={"link": f"https://fy.example.cn/r/{i}"},
            now=now,
        )
        for i in range(n)
    ]
    assert all(made)
    return made  # type: ignore[return-value]


@pytest.fixture(autouse=True)
def _empty_outbox(db):
    """The demo city's own messages (if any) are not this test's."""
    Message.objects.all().delete()


@pytest.fixture
def gateway_settings(settings):
    settings.FANGYI_SMS_BACKEND = "http"
    settings.FANGYI_SMS_KEY = "secret"
    settings.FANGYI_SMS_TIMEOUT = 0.3
    settings.FANGYI_SMS_RATE = 0  # unpaced unless a test says
    settings.FANGYI_SMS_MAX_ATTEMPTS = 4
    return settings


def run_until_done(now: dt.datetime, rounds: int = 20, **kw) -> dt.datetime:
    """deliver_due as the worker calls it, the clock moved past each backoff."""
    for _ in range(rounds):
        delivery.deliver_due(now, **kw)
        left = Message.objects.filter(status__in=["queued", "failed", "sending"])
        if not left.exists():
            return now
        now = max(m.not_before for m in left) + dt.timedelta(seconds=1)
    return now


def test_every_message_is_delivered_exactly_once_through_a_flaky_slow_gateway(gateway_settings):
    gateway_settings.FANGYI_SMS_MAX_ATTEMPTS = 12  # the faults hit one message again and again
    now = t()
    queue(30, now)
    with FakeGateway(fail_every=3, slow_every=3, slow_seconds=0.45, key="secret") as gw:
        gateway_settings.FANGYI_SMS_URL = gw.url
        run_until_done(now)
    sent = Message.objects.filter(status=MessageStatus.SENT)
    assert sent.count() == 30, list(Message.objects.values_list("status", "attempts", "answer"))
    keys = {str(k) for k in sent.values_list("key", flat=True)}
    assert set(gw.delivered) == keys  # none lost
    assert gw.doubled == 0  # none reached a phone twice, though the slow ones were sent again
    # ...and Fangyi posted again only what the gateway answered too late: a key answered at
    # once was never posted a second time, and no key more often than its message's attempts.
    attempts = {str(k): a for k, a in sent.values_list("key", "attempts")}
    assert all(gw.accepted[k] == 1 for k in keys - gw.slowed), gw.accepted
    assert all(gw.accepted[k] <= attempts[k] for k in keys)
    assert gw.repeats > 0  # a timed-out send was retried with the same key
    assert all(m.attempts >= 1 and m.sent_at and m.answer.startswith("200") for m in sent)
    assert Message.objects.filter(attempts__gt=1).exists()


def test_the_gateway_gets_the_key_the_number_the_text_and_the_template(gateway_settings):
    gateway_settings.FANGYI_SMS_TEMPLATES = {RESIDENT.key: "SMS_1234"}
    (message,) = queue(1)
    with FakeGateway(key="secret") as gw:
        gateway_settings.FANGYI_SMS_URL = gw.url
        assert delivery.deliver_due()["sent"] == 1
    body = gw.payloads[str(message.key)]
    assert body["to"] == "13800000000" and "self-report" in body["text"]
    assert body["template"] == "SMS_1234" and body["params"] == message.params
    assert gw.headers[0]["Idempotency-Key"] == str(message.key)
    assert gw.headers[0]["Authorization"] == "Bearer secret"


@pytest.mark.parametrize(
    ("fault", "reason"),
    [("500", "500"), ("timeout", "timeout after 0.3 s"), ("unreachable", "unreachable")],
)
def test_a_gateway_fault_is_retried_with_backoff_then_given_up(gateway_settings, fault, reason):
    now = t()
    (message,) = queue(1, now)
    gw = FakeGateway(
        status=500 if fault == "500" else None,
        slow_every=1 if fault == "timeout" else 0,
        slow_seconds=0.6,
    ).start()
    gateway_settings.FANGYI_SMS_URL = gw.url
    if fault == "unreachable":
        gw.stop()
    waits = []
    try:
        for attempt in range(1, 5):
            delivery.deliver_due(now)
            message.refresh_from_db()
            assert message.attempts == attempt and reason in message.answer
            if attempt < 4:
                assert message.status == MessageStatus.FAILED
                waits.append((message.not_before - now).total_seconds())
                assert delivery.deliver_due(now)["claimed"] == 0  # not before its time
                now = message.not_before
    finally:
        gw.stop()
    assert waits == [30, 60, 120]
    assert message.status == MessageStatus.GIVEN_UP
    assert message.answer.startswith("Given up after 4 attempts")
    assert delivery.deliver_due(now + dt.timedelta(days=1))["claimed"] == 0


def test_an_invalid_number_is_given_up_at_once(gateway_settings):
    (message,) = queue(1)
    with FakeGateway(reject=("13800000000",)) as gw:
        gateway_settings.FANGYI_SMS_URL = gw.url
        delivery.deliver_due()
    message.refresh_from_db()
    assert message.status == MessageStatus.GIVEN_UP and message.attempts == 1
    assert message.answer.startswith("Given up (refused): 400")


def test_a_worker_killed_mid_send_resends_with_the_same_key_and_the_gateway_counts_one(
    gateway_settings,
):
    now = t()
    (message,) = queue(1, now)
    with FakeGateway() as gw:
        gateway_settings.FANGYI_SMS_URL = gw.url
        # The first worker claimed it and handed it over, then died before writing "sent".
        claimed = delivery._claim(message.pk, now)
        assert claimed is not None
        assert backends.HttpBackend().send(claimed).sent
        assert delivery.deliver_due(now + dt.timedelta(seconds=10))["claimed"] == 0  # leased
        later = now + delivery.lease_length() + dt.timedelta(seconds=1)
        assert delivery.deliver_due(later)["sent"] == 1
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT and message.attempts == 2
    assert gw.received == [str(message.key)] * 2  # the same key twice ...
    assert gw.delivered == {str(message.key): 1}  # ... one SMS


def test_a_message_interrupted_on_its_last_attempt_is_given_up_clearly(gateway_settings):
    now = t()
    (message,) = queue(1, now)
    Message.objects.filter(pk=message.pk).update(
        status=MessageStatus.SENDING, attempts=4, lease_until=now - dt.timedelta(seconds=1)
    )
    delivery.deliver_due(now)
    message.refresh_from_db()
    assert message.status == MessageStatus.GIVEN_UP
    assert "interrupted" in message.answer and "4 attempts" in message.answer


def test_a_blocked_number_gets_nothing(gateway_settings):
    now = t()
    (message,) = queue(1, now)
    BlockedNumber.objects.create(phone=message.to, reason="TD")
    with FakeGateway() as gw:
        gateway_settings.FANGYI_SMS_URL = gw.url
        delivery.deliver_due(now)
    message.refresh_from_db()
    assert message.status == MessageStatus.GIVEN_UP and "blocked" in message.answer
    assert gw.requests == 0


def _staff_sms(officer, person) -> Message:
    officer.phone = "13912345678"
    officer.save(update_fields=["phone"])
    (note,) = emit(
        STAFF.key,
        recipients=[officer],
        obj=person,
        message="A test about %(name)s",
        params={"name": person.name},
        url=f"/persons/{person.pk}/",
        node_path=person.node.path,
    )
    return Message.objects.get(notification=note, channel="sms")


def test_a_recipient_who_may_no_longer_see_the_record_is_not_sent(
    gateway_settings, officer, jiwu_person
):
    message = _staff_sms(officer, jiwu_person)
    officer.nodes.set([node("北湖小区")])
    with FakeGateway() as gw:
        gateway_settings.FANGYI_SMS_URL = gw.url
        delivery.deliver_due()
    message.refresh_from_db()
    assert message.status == MessageStatus.GIVEN_UP and "no longer see" in message.answer
    assert gw.requests == 0


def test_a_staff_sms_still_visible_is_sent_urgent_first(gateway_settings, officer, jiwu_person):
    queue(3)
    message = _staff_sms(officer, jiwu_person)
    with FakeGateway() as gw:
        gateway_settings.FANGYI_SMS_URL = gw.url
        delivery.deliver_due(limit=1)
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT and list(gw.delivered) == [str(message.key)]


def test_the_rate_is_respected_on_a_fake_clock(settings):
    settings.FANGYI_SMS_BACKEND = "file"
    settings.FANGYI_SMS_RATE = 20
    queue(50)
    clock = [100.0]
    sends: list[float] = []

    class Timed(backends.FileBackend):
        def send(self, message):
            sends.append(clock[0])
            return super().send(message)

    def sleep(seconds: float) -> None:
        assert 0 < seconds <= 0.05 + 1e-9
        clock[0] += seconds

    counts = delivery.deliver_due(sms=Timed(), clock=lambda: clock[0], sleep=sleep, pool=1)
    assert counts["sent"] == 50
    assert clock[0] - 100.0 == pytest.approx(49 / 20)  # 50 sends at 20 a second
    sends.sort()
    window = [sum(1 for s in sends if a <= s < a + 1 - 1e-6) for a in sends]  # float steps
    assert max(window) <= 20


def test_the_file_backend_writes_one_json_line_per_message(settings, tmp_path):
    settings.FANGYI_SMS_BACKEND = "file"
    settings.DATA_DIR = tmp_path
    (message,) = queue(1)
    assert delivery.deliver_due()["sent"] == 1
    (path,) = (tmp_path / "sms").iterdir()
    line = json.loads(path.read_text("utf-8"))
    assert line["key"] == str(message.key) and line["to"] == message.to


def test_the_console_backend_prints(settings, capsys):
    settings.FANGYI_SMS_BACKEND = "console"
    queue(1)
    assert delivery.deliver_due()["sent"] == 1
    assert "13800000000" in capsys.readouterr().out


def test_an_email_goes_through_djangos_backend(settings, officer, jiwu_person):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    officer.email = "xu@example.cn"
    officer.save(update_fields=["email"])
    Preference.objects.create(user=officer, sms=False, email=True)
    (note,) = emit(
        STAFF.key,
        recipients=[officer],
        obj=jiwu_person,
        message="A test about %(name)s",
        params={"name": jiwu_person.name},
        url="/x/",
        node_path=jiwu_person.node.path,
    )
    delivery.deliver_due()
    message = Message.objects.get(notification=note)
    assert message.status == MessageStatus.SENT
    assert mail.outbox[0].to == ["xu@example.cn"]
    assert mail.outbox[0].extra_headers["X-Fangyi-Key"] == str(message.key)


# --- two workers at once ---------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_workers_never_both_send_one_message(race_db, settings):  # noqa: F811
    settings.FANGYI_SMS_BACKEND = "http"
    settings.FANGYI_SMS_RATE = 0
    settings.FANGYI_SMS_TIMEOUT = 2
    queue(40, first=50_000)
    barrier = threading.Barrier(2)
    errors: list[str] = []
    with FakeGateway() as gw:
        settings.FANGYI_SMS_URL = gw.url

        def work():
            race_db.enter()
            try:
                barrier.wait(timeout=30)
                delivery.deliver_due(pool=2)
            except Exception as exc:  # noqa: BLE001 - shown by the assertion
                errors.append(repr(exc))
            finally:
                connections.close_all()

        pool = [threading.Thread(target=work) for _ in range(2)]
        for th in pool:
            th.start()
        for th in pool:
            th.join(timeout=120)
    assert errors == []
    assert gw.repeats == 0  # not even the same key twice: each claimed by one worker
    assert len(gw.delivered) == 40
    assert Message.objects.filter(status=MessageStatus.SENT).count() == 40
    assert Message.objects.filter(attempts=1).count() == 40


# --- the digest ------------------------------------------------------------------------------


def test_the_digest_goes_once_a_day_with_what_was_not_urgent(settings, officer, jiwu_person):
    settings.FANGYI_DIGEST_AT = "18:00"
    officer.email = "xu@example.cn"
    officer.save(update_fields=["email"])
    morning = timezone.make_aware(dt.datetime.combine(timezone.localdate(), dt.time(9)))
    for i in range(3):
        emit(
            QUIET.key,
            recipients=[officer],
            obj=jiwu_person,
            message="A quiet test %(n)s",
            params={"n": i},
            url=f"/q/{i}/",
            dedupe=f"q{i}",
            now=morning,
        )
    Notification.objects.filter(recipient=officer, params__n=2).update(read_at=morning)
    assert delivery.digest_send(morning + dt.timedelta(hours=8)) == 0  # 17:00: not yet
    evening = morning + dt.timedelta(hours=9, minutes=5)
    assert delivery.digest_send(evening) == 1
    assert delivery.digest_send(evening + dt.timedelta(minutes=1)) == 0  # a second call
    (digest,) = Message.objects.filter(recipient=officer, kind=delivery.DIGEST_KIND)
    assert digest.channel == "email" and "/q/0/" in digest.text and "/q/1/" in digest.text
    assert "/q/2/" not in digest.text  # read already
    assert Notification.objects.filter(kind=QUIET.key, digested_at=evening).count() == 2


def day(hour: int) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(timezone.localdate(), dt.time(hour)))


def test_no_digest_for_a_user_who_does_not_want_it(settings, officer, jiwu_person):
    settings.FANGYI_DIGEST_AT = "18:00"
    officer.email = "xu@example.cn"
    officer.save(update_fields=["email"])
    Preference.objects.create(user=officer, digest=False)
    emit(QUIET.key, recipients=[officer], obj=jiwu_person, message="Quiet", url="/q/", now=day(9))
    assert delivery.digest_send(day(19)) == 0
    assert not Message.objects.filter(kind=delivery.DIGEST_KIND).exists()


def test_a_user_without_email_keeps_the_digest_in_the_inbox(settings, jiwu_person):
    settings.FANGYI_DIGEST_AT = "18:00"
    user = User.objects.create(username="digest-noemail", role=Role.POLICE)
    user.nodes.set([jiwu_person.node])
    (note,) = emit(
        QUIET.key, recipients=[user], obj=jiwu_person, message="Quiet", url="/q/", now=day(9)
    )
    assert delivery.digest_send(day(19)) == 0
    note.refresh_from_db()
    assert note.digested_at is not None and note.read_at is None


# --- the administrator's retry ---------------------------------------------------------------


def test_an_administrator_requeues_a_message_given_up_with_the_same_key(admin, officer):
    (message,) = queue(1)
    Message.objects.filter(pk=message.pk).update(
        status=MessageStatus.GIVEN_UP, attempts=6, answer="Given up after 6 attempts: 500"
    )
    message.refresh_from_db()
    key = message.key
    again = delivery.message_retry(admin, message)
    assert again.status == MessageStatus.QUEUED and again.attempts == 0 and again.key == key
    entry = AuditEntry.objects.get(action="fangyi.message.retried", object_id=message.pk)
    assert entry.actor == admin and "13800000000" not in entry.object_repr
    from fangyi.core.errors import Conflict, Forbidden

    with pytest.raises(Conflict):
        delivery.message_retry(admin, again)
    with pytest.raises(Forbidden):
        delivery.message_retry(officer, again)


def test_numbers_are_masked():
    assert delivery.masked("13812345678") == "138****5678"
    assert delivery.masked("xu@example.cn") == "x***@example.cn"
