"""Reminded by SMS and reporting by the link (issue 15, item 4): two neighbours in 機務小區
under home observation after a trip to Wuhan.

At eight in the morning each gets an SMS from 机务社区 with the link to his daily self-report,
the link of his notice (a day token of his self-report link: the raw token is never stored).
Chen opens it on his phone, finds his given name and the day's form, and reports 36.6 °C. At
three in the afternoon the worker's round sends the reminder to the neighbour, who has not
reported, and nothing to Chen. The next minute's rounds send nothing more."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client

from fangyi.notify.models import Message
from fangyi.notify.services import STOP_HINT, render
from fangyi.observation import reminders
from fangyi.observation.models import FollowUp
from fangyi.observation.services import observation_start
from fangyi.people.models import Person

pytestmark = pytest.mark.django_db

TZ = ZoneInfo("Asia/Shanghai")
DAY = dt.date(2020, 2, 10)


def _at(hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(DAY, dt.time(hour, minute), tzinfo=TZ)


def _resident(household, name: str, phone: str) -> Person:
    return Person.objects.create(
        name=name, name_norm=name, id_type="none", node=household.node, household=household,
        phone=phone,
    )  # fmt: skip


def test_a_resident_is_reminded_reports_by_the_link_and_the_neighbour_is_reminded(
    jiwu_household, health, settings
):
    settings.PUBLIC_URL = "https://fangyi.example.cn"
    chen = _resident(jiwu_household, "陈建国", "13977118801")
    li = _resident(jiwu_household, "李秀英", "13977118802")
    with time_machine.travel(_at(7, 30), tick=False):
        for person in (chen, li):
            observation_start(
                actor=health,
                person=person,
                kind="home",
                last_exposure=DAY - dt.timedelta(days=3),
                starts=DAY,
            )

    # 08:00: the morning SMS, once each, whatever the number of rounds.
    with time_machine.travel(_at(8, 0), tick=False):
        reminders.reminders_due(_at(8, 0))
    with time_machine.travel(_at(8, 1), tick=False):
        assert reminders.reminders_due(_at(8, 1)) == 0
    (to_chen,) = Message.objects.filter(to=chen.phone)
    (to_li,) = Message.objects.filter(to=li.phone)
    for sms in (to_chen, to_li):
        assert sms.kind == reminders.MORNING.key and sms.status == "queued"
        assert sms.text.startswith(render("[Fangyi] ", {}, "zh-hans"))
        assert "机务社区" in sms.text and render(STOP_HINT, {}, "zh-hans") in sms.text
        assert "https://fangyi.example.cn/r/" in sms.text
    assert to_chen.text != to_li.text  # each his own link

    # Chen opens the link from his SMS and reports.
    path = re.search(r"https://fangyi\.example\.cn(/r/[^/\s]+/daily/)", to_chen.text).group(1)
    phone = Client()
    with time_machine.travel(_at(9, 12), tick=False):
        page = phone.get(path)
        assert page.status_code == 200
        text = page.content.decode()
        assert "建国" in text and "陈建国" not in text and "李秀英" not in text
        done = phone.post(path, {"temperature": "36.6", "client_id": str(uuid.uuid4())})
        assert done.status_code == 200
    followup = FollowUp.objects.get(observation__person=chen, due=DAY)
    assert followup.status == "self_reported" and str(followup.temperature) == "36.6"

    # 15:00: the reminder goes to Li, who has not reported, and not to Chen.
    with time_machine.travel(_at(15, 0), tick=False):
        reminders.reminders_due(_at(15, 0))
    with time_machine.travel(_at(15, 1), tick=False):
        assert reminders.reminders_due(_at(15, 1)) == 0
    assert Message.objects.filter(to=chen.phone).count() == 1
    reminder = Message.objects.get(to=li.phone, kind=reminders.AFTERNOON.key)
    assert "https://fangyi.example.cn/r/" in reminder.text
    assert render(STOP_HINT, {}, "zh-hans") in reminder.text

    # The morning's link is the day's only: the next day it opens nothing.
    with time_machine.travel(_at(8, 0) + dt.timedelta(days=1), tick=False):
        assert Client().get(path).status_code == 404
