"""Fourteen days of home observation in 機務小區, day by day (跟蹤隨訪).

Every morning the daily job marks what was missed and generates the day's follow-ups. Most
evenings the person reports through their personal link, on a phone, without an account; on
the days they do not, the grid worker records the follow-up from the day list. On the sixth
day 37.8 °C raises a fever alert that health staff handle. A release is refused before the end
date, then given after it, with a clean last follow-up; who and when are kept."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.test import Client

from fangyi.core.models import AuditEntry
from fangyi.health.services import selfreport_link_create
from fangyi.observation.models import Alert, FollowUp, Observation
from fangyi.people.models import Household
from tests.conftest import login
from tests.test_permissions import make_person

pytestmark = pytest.mark.django_db

TZ = ZoneInfo("Asia/Shanghai")
FIRST = dt.date(2020, 2, 3)  # back from 武漢 on 2 February
WORKER_DAYS = {3, 9}  # no self-report: the grid worker calls round
FEVER_DAY = 5


def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=TZ)


def test_fourteen_days_of_home_observation(grid_worker, health, jiwu, time_machine, capsys):
    time_machine.move_to(at(FIRST, 9), tick=False)
    household = Household.objects.create(node=jiwu, address="机务小区7栋2单元501室")
    person = make_person("黄志明", household=household)

    # Day 0: health staff put him under home observation by hand; the grid worker hands him
    # his personal link.
    staff = login(health)
    r = staff.post(
        f"/observations/new/?person={person.pk}",
        {
            "kind": "home",
            "last_exposure": "2020-02-02",
            "client_id": "0b9f5a0e-3e0c-4a55-9d55-1f6f1a2b3c4d",
        },
    )
    assert r.status_code == 302
    obs = Observation.objects.get(person=person)
    assert obs.ends == dt.date(2020, 2, 16)
    assert obs.responsible == grid_worker
    _link, token = selfreport_link_create(actor=grid_worker, person=person)
    phone = Client()  # his own phone: no account, no login

    day, n = FIRST, 0
    while day <= obs.ends:
        # Morning: the daily job.
        time_machine.move_to(at(day, 6), tick=False)
        call_command("fangyi_daily")
        assert FollowUp.objects.filter(observation=obs, due=day, status="due").count() == 1

        if n in WORKER_DAYS:
            # The grid worker opens the day list and taps the follow-up.
            time_machine.move_to(at(day, 17), tick=False)
            worker = login(grid_worker)
            home = worker.get("/").content.decode()
            link = re.search(r'href="(/followups/\d+/)"[^>]*>\s*<div class="what"><b>黄志明', home)
            assert link, "the follow-up is on the day list"
            r = worker.post(
                link.group(1), {"status": "seen_well", "temperature": "36.4", "notes": "电话随访"}
            )
            assert r.status_code == 302
        else:
            time_machine.move_to(at(day, 20), tick=False)
            temperature = "37.8" if n == FEVER_DAY else f"36.{n % 7 + 2}"
            form = phone.get(f"/r/{token}/daily/")
            assert form.status_code == 200 and "志明" in form.content.decode()
            r = phone.post(f"/r/{token}/daily/", {"temperature": temperature})
            assert r.status_code == 200
            assert FollowUp.objects.get(observation=obs, due=day).status == "self_reported"

        if n == FEVER_DAY:
            # The fever alerts health staff, first on their day list, with the fever clinic proposed.
            time_machine.move_to(at(day, 20, 30), tick=False)
            staff = login(health)
            home = staff.get("/").content.decode()
            alert = Alert.objects.get(observation=obs, kind="fever")
            assert f"/alerts/{alert.pk}/" in home
            assert alert.proposal == "fever_clinic" and "37.8" in alert.message
            board = staff.get("/board/", {"tab": "symptomatic"}).content.decode()
            assert "黄志明" in board
            r = staff.post(
                f"/alerts/{alert.pk}/",
                {"resolution": "上门复测36.9°C,无其他症状,继续居家观察"},
            )
            assert r.status_code == 302
            alert.refresh_from_db()
            assert alert.resolved_by == health and alert.resolved_at == at(day, 20, 30)

        if day == obs.ends - dt.timedelta(days=1):
            # The day before the end date: release refused, the note kept, nothing ends.
            time_machine.move_to(at(day, 21), tick=False)
            staff = login(health)
            r = staff.post(f"/observations/{obs.pk}/release/", {"note": "家属要求提前解除"})
            assert r.status_code == 200
            assert "2020-02-16" in r.content.decode()
            assert "家属要求提前解除" in r.content.decode()
            obs.refresh_from_db()
            assert obs.status == "active" and obs.ended_at is None
        day += dt.timedelta(days=1)
        n += 1

    # The morning after the end date: nothing new to follow up; released with a clean last
    # follow-up (his own report of the evening before).
    time_machine.move_to(at(day, 6), tick=False)
    call_command("fangyi_daily")
    assert not FollowUp.objects.filter(observation=obs, due=day).exists()
    time_machine.move_to(at(day, 10), tick=False)
    staff = login(health)
    r = staff.post(f"/observations/{obs.pk}/release/", {"note": "14天期满,体温正常"})
    assert r.status_code == 302
    obs.refresh_from_db()
    assert obs.status == "released"
    assert obs.ended_by == health and obs.ended_at == at(day, 10)
    assert obs.end_note == "14天期满,体温正常"
    entry = AuditEntry.objects.get(action="fangyi.observation.released", object_id=obs.pk)
    assert entry.actor == health and entry.changes["status"] == ["active", "released"]

    followups = list(FollowUp.objects.filter(observation=obs).order_by("due"))
    assert [f.due for f in followups] == [FIRST + dt.timedelta(days=i) for i in range(14)]
    statuses = [f.status for f in followups]
    assert statuses.count("self_reported") == 12 and statuses.count("seen_well") == 2
    assert "missed" not in statuses and obs.missed_streak == 0
    assert [a.kind for a in obs.alerts.all()] == ["fever"]
    # The released person is on the board's released tab, and off the day list.
    assert "黄志明" in staff.get("/board/", {"tab": "released"}).content.decode()
    assert "黄志明" not in login(grid_worker).get("/").content.decode()
    capsys.readouterr()
