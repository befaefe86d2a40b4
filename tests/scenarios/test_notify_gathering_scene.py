"""鐵心管控, told by phone: the dinner gathering in 南鐵北四區 (the seed, 15 February 2020) reaches
the station's officer (徐紅心) on his phone within a minute of the resident's report.

A resident reports six or seven neighbours drinking together without masks, on the public
page. The tip's category routes it to the station's police at once; the assignment is an
urgent notification, so an SMS for the officer's number is queued in the same transaction as
the tip, and the worker's next round (every few seconds) hands it to the gateway. The text
names the tip and its place, and links to the tip's page; the reporter, once the tip is
answered, gets the link to his tracking page."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client

from fangyi.core.models import Node, User
from fangyi.notify.backends import Outcome
from fangyi.notify.delivery import deliver_due
from fangyi.notify.models import Message, Notification
from fangyi.tips import services as tips
from fangyi.tips.models import Tip, TipCategory

pytestmark = pytest.mark.django_db

TZ = ZoneInfo("Asia/Shanghai")
REPORTED = dt.datetime(2020, 2, 15, 15, 10, tzinfo=TZ)
OFFICER_PHONE = "13907719110"
REPORTER_PHONE = "13907712345"


class Phones:
    """The gateway, as the phones see it: what arrived on which number, and when."""

    def __init__(self, clock):
        self.clock = clock
        self.got: list[tuple[str, str, dt.datetime]] = []

    def send(self, message: Message) -> Outcome:
        self.got.append((message.to, message.text, self.clock()))
        return Outcome("sent", "ok")


def test_the_gathering_tip_reaches_the_officers_phone_within_a_minute(officer, auxiliary):
    User.objects.filter(pk=officer.pk).update(phone=OFFICER_PHONE)
    nb4 = Node.objects.get(name="南铁北四区")
    gathering = TipCategory.objects.get(code="gathering")
    with time_machine.travel(REPORTED, tick=False) as clock:
        # The resident, on the public page: no account.
        public = Client()
        r = public.post(
            "/report/",
            {
                "category": gathering.code,
                "description": "南铁北四区7栋302有一户居民顶风聚餐,六七个人在喝酒,都没戴口罩",
                "node": nb4.pk,
                "address": "南铁北四区7栋302",
                "reporter_name": "王女士",
                "reporter_phone": REPORTER_PHONE,
            },
            REMOTE_ADDR="203.0.113.45",
        )
        assert r.status_code in (200, 302), r.content.decode()[:2000]
        tip = Tip.objects.filter(node=nb4, reporter_phone=REPORTER_PHONE).latest("received_at")
        assert officer in tip.assignees.all() and tip.urgent

        # In his inbox, urgent, linking to the tip; an SMS queued for his number with it.
        note = Notification.objects.get(recipient=officer, object_id=tip.pk, kind__startswith="tip")
        assert note.urgent and note.url == f"/tips/{tip.pk}/"
        queued = Message.objects.get(notification=note)
        assert queued.to == OFFICER_PHONE and queued.status == "queued"
        # Nobody else of the station was told (he alone is routed), nobody of another station.
        assert not Notification.objects.filter(object_id=tip.pk, recipient=auxiliary).exists()

        # The worker's next round, half a minute later.
        clock.shift(dt.timedelta(seconds=30))
        phones = Phones(lambda: dt.datetime.now(tz=TZ))
        deliver_due(sms=phones, sleep=lambda s: None)
        mine = [(text, at) for to, text, at in phones.got if to == OFFICER_PHONE]
        assert len(mine) == 1
        text, at = mine[0]
        assert tip.code in text and "南铁北四区" in text
        assert at - REPORTED <= dt.timedelta(minutes=1)
        queued.refresh_from_db()
        assert queued.status == "sent"

        # A second round sends nothing twice.
        clock.shift(dt.timedelta(seconds=30))
        deliver_due(sms=phones, sleep=lambda s: None)
        assert len([1 for to, _t, _a in phones.got if to == OFFICER_PHONE]) == 1

        # He handles it; the answer goes to the reporter's phone: the tracking link only.
        clock.shift(dt.timedelta(hours=1))
        tips.tip_accept(actor=officer, tip=tip)
        tips.tip_resolve(actor=officer, tip=tip, resolution="educated")
        tips.tip_answer(actor=officer, tip=tip, answer="民警已到场劝散,组织者承诺不再聚餐。")
        deliver_due(sms=phones, sleep=lambda s: None)
        told = [text for to, text, _a in phones.got if to == REPORTER_PHONE]
        assert len(told) == 1
        assert f"/track/{tip.code}/" in told[0]
        assert "聚餐" not in told[0]  # the answer itself is on the tracking page
