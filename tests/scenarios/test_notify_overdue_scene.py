"""聯動, overdue: a support request nobody answers in time reaches both supervisors.

The district's health staff (覃敏) visit a household in 機務小區 that keeps its door shut and
ask the station's police for support, urgently (ten minutes). The officer is out on another
call and nobody accepts it. Eleven minutes later the worker's minute round escalates the
request: the supervisor of the answering side (the station's, 梁建國) and the supervisor of the
requesting side (the district's health supervisor) each find it in their inbox, linking to the
request, and on their day list in red. The next rounds tell nobody twice; the other station's
supervisor hears nothing."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine

from fangyi.core.models import Node, Role, User
from fangyi.linkage import services as linkage
from fangyi.notify.models import Notification
from fangyi.observation.selectors import daylist
from tests.conftest import english_login

pytestmark = pytest.mark.django_db

TZ = ZoneInfo("Asia/Shanghai")
ASKED = dt.datetime(2020, 2, 6, 10, 0, tzinfo=TZ)


def supervisor_of(username: str, node: str) -> User:
    user = User.objects.create(username=username, role=Role.SUPERVISOR, first_name=username)
    user.nodes.set([Node.objects.get(name=node)])
    return user


def test_an_overdue_support_request_notifies_both_supervisors(
    health, officer, supervisor, jiwu_household
):
    district = supervisor_of("weijian-chief", "西乡塘区")
    other = supervisor_of("beihu-chief", "北湖派出所")
    with time_machine.travel(ASKED, tick=False) as clock:
        s = linkage.support_request_create(
            actor=health,
            agency="police",
            urgency="urgent",
            need="住户拒不开门,请民警协助入户测温登记",
            household=jiwu_household,
        )
        assert s.from_node.name == "西乡塘区" and s.node == jiwu_household.node
        # The station's police were told at once.
        assert Notification.objects.filter(
            recipient=officer, object_id=s.pk, kind="support_requested_urgent"
        ).exists()

        clock.shift(dt.timedelta(minutes=9))
        linkage.support_escalate_overdue()
        assert not Notification.objects.filter(kind="support_overdue", object_id=s.pk).exists()

        clock.shift(dt.timedelta(minutes=2))
        assert linkage.support_escalate_overdue() >= 1
        told = Notification.objects.filter(kind="support_overdue", object_id=s.pk)
        assert set(told.values_list("recipient", flat=True)) == {supervisor.pk, district.pk}
        assert not told.filter(recipient=other).exists()
        for note in told:
            assert note.url == f"/support/{s.pk}/"
            assert "机务小区" in note.params["place"]

        # Each sees it on his day list too, and in his inbox.
        for chief in (supervisor, district):
            items = [i for i in daylist(chief).items if i.kind == "support"]
            assert any(f"/support/{s.pk}/" in (i.url or "") for i in items)
        page = english_login(supervisor).get("/notifications/")
        if page.status_code == 200:  # the inbox page (its own tests cover it)
            html = page.content.decode()
            note = told.get(recipient=supervisor)
            assert f"/support/{s.pk}/" in html or f"/notifications/{note.pk}/open/" in html

        # The next rounds tell nobody twice.
        for _ in range(3):
            clock.shift(dt.timedelta(minutes=1))
            linkage.support_escalate_overdue()
        assert Notification.objects.filter(kind="support_overdue", object_id=s.pk).count() == 2
