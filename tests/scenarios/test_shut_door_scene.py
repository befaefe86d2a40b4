"""閉門羹: a door in 機務小區 stays shut to the grid worker's sweep; one tap asks the station's
police for support; the officer (徐紅心) accepts and arrives within the target; the household
then opens and is screened with its declarations; the request is closed with its outcome."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine

from fangyi.core.models import AuditEntry
from fangyi.health.models import Declaration
from fangyi.health.services import DeclarationInput
from fangyi.linkage import selectors
from fangyi.linkage.models import SupportRequest
from fangyi.screening.models import Assignment, DoorStatus
from fangyi.screening.services import door_visit_record, sweep_open
from tests.conftest import english_login

pytestmark = pytest.mark.django_db

TZ = ZoneInfo("Asia/Shanghai")
REFUSED = dt.datetime(2020, 2, 5, 19, 40, tzinfo=TZ)


def test_the_shut_door(grid_worker, officer, supervisor, jiwu):
    with time_machine.travel(REFUSED, tick=False) as clock:
        sweep = sweep_open(
            actor=supervisor,
            node=jiwu,
            purpose="春节以来返邕人员排查",
            starts=REFUSED.date(),
            ends=REFUSED.date() + dt.timedelta(days=6),
        )
        door = (
            Assignment.objects.filter(sweep=sweep, assignee=grid_worker)
            .select_related("household", "sweep", "node")
            .order_by("household__address")
            .first()
        )
        members = list(door.household.members.order_by("pk"))
        assert members

        # The grid worker knocks; nobody opens and they refuse through the door.
        door_visit_record(
            actor=grid_worker, assignment=door, outcome="refused", notes="隔门拒绝登记"
        )
        door.refresh_from_db()
        assert door.status == DoorStatus.REFUSED and door.needs_police

        # One tap on the door page.
        worker = english_login(grid_worker)
        page = worker.get(f"/doors/{door.pk}/").content.decode()
        assert 'id="ask-police"' in page
        response = worker.post("/support/new/", {"door": door.pk, "agency": "police"})
        assert response.status_code == 302
        s = SupportRequest.objects.get(assignment=door)
        assert response["Location"] == f"/support/{s.pk}/"
        assert (s.agency, s.urgency, s.target_minutes) == ("police", "high", 30)
        assert s.household == door.household and s.node == door.node
        assert s.created_at == REFUSED and s.due_at == REFUSED + dt.timedelta(minutes=30)
        assert door.household.address in s.need

        # It is on the officer's day list and on the station's board, with its timer.
        day = REFUSED.date()
        assert s.pk in [i.pk for i in selectors.daylist_section(officer, day).items]
        police = english_login(officer)
        home = police.get("/").content.decode()
        assert f'href="/support/{s.pk}/"' in home
        station = jiwu.ancestors()[2]
        assert station.name == "五里亭派出所"
        board = police.get(f"/dispatch/{station.pk}/live/").content.decode()
        assert f'data-request="{s.pk}"' in board and "30:00 left" in board

        # The officer accepts two minutes later, and is on the spot after eight more: within
        # the target of 30 minutes (10 if it had been urgent).
        clock.shift(dt.timedelta(minutes=2))
        assert police.post(f"/support/{s.pk}/accept/").status_code == 302
        clock.shift(dt.timedelta(minutes=8))
        assert police.post(f"/support/{s.pk}/arrive/").status_code == 302
        s.refresh_from_db()
        assert s.status == "arrived" and s.accepted_by == officer
        assert s.accepted_at == REFUSED + dt.timedelta(minutes=2)
        assert s.arrived_at == REFUSED + dt.timedelta(minutes=10)
        assert s.arrived_at - s.created_at <= dt.timedelta(minutes=s.target_minutes)
        assert s.arrived_at - s.created_at <= dt.timedelta(minutes=10)
        door_page = worker.get(f"/doors/{door.pk}/").content.decode()
        assert "Arrived" in door_page and 'id="ask-police"' not in door_page

        # With the officer there the family opens: the door is visited, everyone declared.
        clock.shift(dt.timedelta(minutes=15))
        visit = door_visit_record(
            actor=grid_worker,
            assignment=door,
            outcome="visited",
            notes="民警到场后开门配合",
            declarations=[
                (m, DeclarationInput(temperature="36.5", temperature_method="forehead"))
                for m in members
            ],
        )
        door.refresh_from_db()
        assert door.status == DoorStatus.VISITED and not door.needs_police
        assert Declaration.objects.filter(visit=visit).count() == len(members)

        # The officer closes the request with its outcome.
        clock.shift(dt.timedelta(minutes=5))
        done = police.post(
            f"/support/{s.pk}/done/", {"outcome": "陪同网格员入户,全户已登记测温,体温正常"}
        )
        assert done.status_code == 302
        s.refresh_from_db()
        assert s.status == "done" and s.done_at == REFUSED + dt.timedelta(minutes=30)
        assert s.outcome.startswith("陪同网格员入户")
        assert s.escalated_at is None  # answered in time: nobody was told it was late
        assert s.assignment_id == door.pk

        # Every step is in the audit trail, in order, by the right people.
        steps = list(
            AuditEntry.objects.filter(object_id=s.pk, action__startswith="fangyi.supportrequest.")
            .order_by("at", "id")
            .values_list("action", "actor__username")
        )
        assert steps == [
            ("fangyi.supportrequest.create", "wanggeyuan"),
            ("fangyi.supportrequest.accept", "xuhongxin"),
            ("fangyi.supportrequest.arrive", "xuhongxin"),
            ("fangyi.supportrequest.done", "xuhongxin"),
        ]
        detail = worker.get(f"/support/{s.pk}/").content.decode()
        for hhmm in ("19:40", "19:42", "19:50", "20:10"):
            assert hhmm in detail
