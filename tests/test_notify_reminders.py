"""The SMS to residents under home observation (issue 15, item 4): the morning link to the
day's self-report, the afternoon reminder to those who have not reported, exactly once per
person, day and kind, however often and from however many workers it is called."""

from __future__ import annotations

import datetime as dt
import re
import threading
import uuid

import pytest
from django.db import connection, connections
from django.test import Client
from django.utils import timezone, translation

from fangyi.core.models import AuditEntry, Role, User
from fangyi.core.services import node_create
from fangyi.health.models import SelfReportLink
from fangyi.health.services import selfreport_day_token, selfreport_link_create
from fangyi.notify.models import BlockedNumber, Message
from fangyi.notify.services import STOP_HINT, render
from fangyi.observation import reminders
from fangyi.observation.models import Observation, ObservationStatus, ReminderSent
from fangyi.observation.services import followup_self_report, observation_start_unchecked
from fangyi.people.models import Person
from tests.test_placement_race import race_db  # noqa: F401

LINK = re.compile(r"/r/([^/\s]+)/daily/")


def at(hour: int, minute: int = 0, day: dt.date | None = None) -> dt.datetime:
    return timezone.make_aware(
        dt.datetime.combine(day or timezone.localdate(), dt.time(hour, minute))
    )


_numbers = iter(range(10_000))


def phone() -> str:
    return f"1397{uuid.uuid4().int % 10_000:04d}{next(_numbers) % 1000:03d}"


def observed(
    household,
    name="居观者",
    number: str | None = "",
    kind="home",
    id_type="none",
    starts: dt.date | None = None,
) -> Person:
    person = Person.objects.create(
        name=name,
        name_norm=name,
        id_type=id_type,
        node=household.node,
        household=household,
        phone=phone() if number == "" else (number or ""),
    )
    today = timezone.localdate()
    place = None
    if kind == "place":
        from fangyi.people.models import Place

        place = Place.objects.filter(kind="quarantine_site").first()
    observation_start_unchecked(
        actor=None,
        person=person,
        kind=kind,
        last_exposure=today - dt.timedelta(days=2),
        starts=starts or today,
        place=place,
    )
    return person


def sms_to(person: Person, kind: str | None = None):
    qs = Message.objects.filter(to=person.phone)
    if kind:
        qs = qs.filter(kind=kind)
    return list(qs)


@pytest.mark.django_db
def test_the_morning_sms_goes_once_per_person_however_often_called(jiwu_household):
    person = observed(jiwu_household)
    first = reminders.reminders_due(at(8, 0))
    assert first >= 1
    for minute in range(1, 6):
        assert reminders.reminders_due(at(8, minute)) == 0
    assert reminders.reminders_due(at(13, 59)) == 0
    (sms,) = sms_to(person)
    assert sms.kind == reminders.MORNING.key and sms.status == "queued"
    assert ReminderSent.objects.filter(person=person, kind="morning").count() == 1
    assert ReminderSent.objects.get(person=person).message_id == sms.pk
    assert sms.node_path == person.node.path  # the delivery log's administrators are his


@pytest.mark.django_db
def test_nothing_before_the_morning_time_nor_at_night(jiwu_household):
    person = observed(jiwu_household)
    assert reminders.reminders_due(at(7, 59)) == 0
    assert reminders.reminders_due(at(21, 0)) == 0
    assert reminders.reminders_due(at(3, 0)) == 0
    assert sms_to(person) == []


@pytest.mark.django_db
def test_the_text_has_the_link_the_sender_and_the_stop_hint_and_no_health_data(
    jiwu_household, settings
):
    settings.PUBLIC_URL = "https://fangyi.example.cn"
    person = observed(jiwu_household, name="陈小明")
    reminders.reminders_due(at(8, 0))
    (sms,) = sms_to(person)
    assert sms.language == "zh-hans"
    with translation.override("en"):
        text = render(reminders.MORNING_TEXT, sms.params, "en")
    assert sms.params["sender"] == "机务社区"
    assert sms.params["link"].startswith("https://fangyi.example.cn/r/")
    assert sms.params["link"] in sms.text and "机务社区" in sms.text
    assert render(STOP_HINT, {}, sms.language) in sms.text
    assert "小明" not in sms.text and "陈" not in sms.text  # no name, no health data
    for word in ("observation", "temperature", "fever", "观察", "体温", "发热"):
        assert word not in sms.text and word not in text
    assert len(sms.text) <= 500
    # The link opens the daily self-report page of the same person, as the notice's does.
    token = LINK.search(sms.text).group(1)
    page = Client().get(f"/r/{token}/daily/")
    assert page.status_code == 200 and "小明" in page.content.decode()
    assert Client().get(f"/r/{token}/").status_code == 200


@pytest.mark.django_db
def test_the_link_is_the_one_of_the_notice_and_dies_with_it(jiwu_household, grid_worker):
    person = observed(jiwu_household)
    jiwu = person.node
    grid_worker.nodes.add(jiwu)
    link, raw = selfreport_link_create(actor=grid_worker, person=person)
    reminders.reminders_due(at(8, 0))
    (sms,) = sms_to(person)
    token = LINK.search(sms.text).group(1)
    assert raw not in sms.text and token.startswith(f"{link.pk}-")
    assert SelfReportLink.objects.filter(person=person).count() == 1  # no link of its own
    assert Client().get(f"/r/{token}/daily/").status_code == 200
    assert Client().get(f"/api/self-report/{token}").status_code == 200
    assert Client().get(f"/r/{raw}/daily/").status_code == 200  # the notice's own still opens
    # Another day's token, a forged one, and the token once the link is revoked: 404.
    yesterday = selfreport_day_token(link.pk, timezone.localdate() - dt.timedelta(days=1))
    assert Client().get(f"/r/{yesterday}/daily/").status_code == 404
    assert Client().get(f"/r/{token[:-2]}xx/daily/").status_code == 404
    other = selfreport_day_token(link.pk + 1000, timezone.localdate())
    assert other != token and Client().get(f"/r/{other}/daily/").status_code == 404
    selfreport_link_create(actor=grid_worker, person=person)  # a new notice revokes the old
    assert Client().get(f"/r/{token}/daily/").status_code == 404


@pytest.mark.django_db
def test_a_person_without_a_link_gets_one_made_for_the_sms_and_audited(jiwu_household):
    person = observed(jiwu_household)
    assert not SelfReportLink.objects.filter(person=person).exists()
    reminders.reminders_due(at(8, 0))
    link = SelfReportLink.objects.get(person=person)
    assert link.created_by is None and link.revoked is None
    assert AuditEntry.objects.filter(
        action="fangyi.selfreportlink.created", object_id=link.pk, actor__isnull=True
    ).exists()
    # The afternoon reminder reuses it.
    reminders.reminders_due(at(15, 0))
    assert SelfReportLink.objects.filter(person=person).count() == 1


@pytest.mark.django_db
def test_the_afternoon_reminder_only_for_those_who_have_not_reported(jiwu_household):
    reported = observed(jiwu_household, name="已报者")
    missing = observed(jiwu_household, name="未报者")
    reminders.reminders_due(at(8, 0))
    morning = sms_to(reported)[0]
    token = LINK.search(morning.text).group(1)
    response = Client().post(
        f"/r/{token}/daily/", {"temperature": "36.5", "client_id": str(uuid.uuid4())}
    )
    assert response.status_code == 200
    reminders.reminders_due(at(15, 0))
    reminders.reminders_due(at(15, 1))
    assert [m.kind for m in sms_to(reported)] == [reminders.MORNING.key]
    kinds = sorted(m.kind for m in sms_to(missing))
    assert kinds == sorted([reminders.MORNING.key, reminders.AFTERNOON.key])
    reminder = sms_to(missing, reminders.AFTERNOON.key)[0]
    assert LINK.search(reminder.text) and render(STOP_HINT, {}, "zh-hans") in reminder.text


@pytest.mark.django_db
def test_a_person_who_reported_before_the_morning_gets_nothing(jiwu_household):
    person = observed(jiwu_household)
    link = SelfReportLink.objects.create(
        person=person, digest=uuid.uuid4().hex, expires=timezone.now() + dt.timedelta(days=3)
    )
    followup_self_report(link=link, data={"temperature": "36.4"})
    reminders.reminders_due(at(8, 0))
    reminders.reminders_due(at(15, 0))
    assert sms_to(person) == []


@pytest.mark.django_db
def test_who_gets_nothing(jiwu_household):
    released = observed(jiwu_household, name="解除者")
    obs = Observation.objects.get(person=released)
    obs.status = ObservationStatus.RELEASED
    obs.save(update_fields=["status"])
    ended = observed(jiwu_household, name="期满者")
    Observation.objects.filter(person=ended).update(
        ends=timezone.localdate() - dt.timedelta(days=1)
    )
    later = observed(
        jiwu_household, name="明起者", starts=timezone.localdate() + dt.timedelta(days=1)
    )
    no_phone = observed(jiwu_household, name="无电话", number=None)
    landline = observed(jiwu_household, name="座机者", number="0771-5551234")
    blocked = observed(jiwu_household, name="退订者")
    BlockedNumber.objects.create(phone=blocked.phone, reason="test")
    at_site = observed(jiwu_household, name="集中者", kind="place")
    reminders.reminders_due(at(8, 0))
    reminders.reminders_due(at(15, 0))
    for person in (released, ended, later, landline, blocked, at_site):
        assert sms_to(person) == [], person.name
    assert not ReminderSent.objects.filter(
        person__in=[released, ended, later, no_phone, landline, blocked, at_site]
    ).exists()


@pytest.mark.django_db
def test_a_kind_switched_off_sends_nothing(jiwu_household):
    from fangyi.notify.models import KindSetting

    person = observed(jiwu_household)
    KindSetting.objects.create(key=reminders.MORNING.key, enabled=False)
    assert reminders.reminders_due(at(8, 0)) == 0
    assert sms_to(person) == []


@pytest.mark.django_db
def test_the_language_follows_the_person(jiwu_household):
    taiwan = observed(jiwu_household, name="台胞者", id_type="taiwan")
    mainland = observed(jiwu_household, name="本地者", id_type="none")
    reminders.reminders_due(at(8, 0))
    (t,) = sms_to(taiwan)
    (m,) = sms_to(mainland)
    assert t.language == "zh-hant" and m.language == "zh-hans"
    assert t.text.endswith(render(STOP_HINT, {}, "zh-hant"))
    assert m.text.endswith(render(STOP_HINT, {}, "zh-hans"))


@pytest.mark.django_db
def test_many_people_take_few_queries(jiwu_household, django_assert_max_num_queries):
    today = timezone.localdate()
    persons = Person.objects.bulk_create(
        [
            Person(
                name=f"批量{i}",
                name_norm=f"批量{i}",
                id_type="none",
                node=jiwu_household.node,
                phone=f"1380000{i:04d}",
            )
            for i in range(1200)
        ]
    )
    Observation.objects.bulk_create(
        [
            Observation(
                person=p,
                node=p.node,
                kind="home",
                starts=today,
                last_exposure=today - dt.timedelta(days=1),
                ends=today + dt.timedelta(days=12),
            )
            for p in persons
        ]
    )
    # A few statements per batch of 500; SQLite's bulk inserts are split in more statements
    # (999 values at most each), PostgreSQL's are one each.
    bound = 40 if connection.vendor == "postgresql" else 100
    with django_assert_max_num_queries(bound):
        queued = reminders.reminders_due(at(8, 0))
    assert queued >= 1200
    assert (
        Message.objects.filter(to__startswith="1380000", kind=reminders.MORNING.key).count() == 1200
    )
    with django_assert_max_num_queries(3):
        assert reminders.reminders_due(at(8, 1)) == 0


@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_send_each_sms_once(race_db):  # noqa: F811
    city = node_create(
        actor=None, kind="city", name=f"提醒市{uuid.uuid4().hex[:6]}", parent=None, audit=False
    )
    worker = User.objects.create(username=f"remind-{city.pk}", role=Role.GRID_WORKER)
    worker.nodes.set([city])
    today = timezone.localdate()
    persons = []
    for i in range(30):
        person = Person.objects.create(
            name=f"并发{i}",
            name_norm=f"并发{i}",
            id_type="none",
            node=city,
            phone=f"1361111{i:04d}",
        )
        observation_start_unchecked(
            actor=None,
            person=person,
            kind="home",
            last_exposure=today - dt.timedelta(days=1),
            starts=today,
        )
        persons.append(person)
    barrier = threading.Barrier(2)
    lock = threading.Lock()
    counts, errors = [], []

    def work():
        race_db.enter()
        try:
            barrier.wait(timeout=30)
            n = reminders.reminders_due(at(8, 0))
            with lock:
                counts.append(n)
        except Exception as exc:  # noqa: BLE001 - shown by the test
            with lock:
                errors.append(repr(exc))
        finally:
            connections.close_all()

    pool = [threading.Thread(target=work) for _ in range(2)]
    for t in pool:
        t.start()
    for t in pool:
        t.join(timeout=60)
    assert errors == []
    mine = Message.objects.filter(to__startswith="1361111", kind=reminders.MORNING.key)
    assert mine.count() == 30
    assert len(set(mine.values_list("to", flat=True))) == 30
    assert ReminderSent.objects.filter(person__in=persons).count() == 30
    assert sum(counts) >= 30
