"""上門排查: a sweep over 機務小區 to 100 % coverage, with one door that stays shut (閉門羹) and
is visited the next day by the officer with the grid worker. Everything through the pages."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from fangyi.core.models import AuditEntry, Node
from fangyi.people.models import Household
from fangyi.screening import selectors
from fangyi.screening.models import Assignment, DoorStatus, DoorVisit, Sweep
from tests.conftest import login

pytestmark = pytest.mark.django_db

TZ = ZoneInfo("Asia/Shanghai")
DAY1 = dt.datetime(2020, 2, 3, 8, 30, tzinfo=TZ)
DAY2 = dt.datetime(2020, 2, 4, 9, 15, tzinfo=TZ)


def doors_on_page(html: str) -> list[int]:
    return [int(pk) for pk in re.findall(r'href="/doors/(\d+)/"', html)]


def test_a_sweep_over_jiwu_to_full_coverage(supervisor, grid_worker, officer, jiwu):
    with time_machine.travel(DAY1, tick=False) as traveller:
        # The station's supervisor opens the sweep over the compound.
        boss = login(supervisor)
        r = boss.post(
            "/sweeps/new/",
            {
                "node": jiwu.pk,
                "purpose": "春节以来返邕人员排查",
                "starts": "2020-02-03",
                "ends": "2020-02-09",
            },
        )
        assert r.status_code == 302, r.content.decode()[:2000]
        sweep = Sweep.objects.get(purpose="春节以来返邕人员排查", starts=dt.date(2020, 2, 3))
        households = Household.objects.filter(node=jiwu).count()
        assert Assignment.objects.filter(sweep=sweep, assignee=grid_worker).count() == households

        # The grid worker opens her doors, page by page, and knocks on every one.
        worker = login(grid_worker)
        doors: list[int] = []
        page = 1
        while True:
            html = worker.get(f"/sweeps/{sweep.pk}/doors/?mine=1&page={page}").content.decode()
            doors += doors_on_page(html)
            if f"page={page + 1}" not in html:
                break
            page += 1
        assert len(doors) == len(set(doors)) == households
        shut = doors[len(doors) // 2]
        for i, pk in enumerate(doors):
            traveller.shift(dt.timedelta(minutes=2))
            if i < 3 or pk == shut:
                assert worker.get(f"/doors/{pk}/").status_code == 200
            outcome = "refused" if pk == shut else "visited"
            r = worker.post(
                f"/doors/{pk}/",
                {
                    "outcome": outcome,
                    "notes": "敲门多次,住户拒不开门" if pk == shut else "",
                    "latitude": "22.8170",
                    "longitude": "108.3669",
                    "accuracy": "20",
                    "client_id": str(uuid.uuid4()),
                },
            )
            assert r.status_code == 302, r.content.decode()[:500]

        refused = Assignment.objects.get(pk=shut)
        assert refused.status == DoorStatus.REFUSED
        assert refused.needs_police and refused.revisit_due == dt.date(2020, 2, 4)
        grid_row, total = selectors.coverage(supervisor, sweep, level="grid")
        assert (grid_row.households, grid_row.visited, grid_row.refused) == (
            households,
            households - 1,
            1,
        )
        assert grid_row.percent < 100
        boss = login(supervisor)  # six hours later: a fresh session
        page = boss.get(f"/sweeps/{sweep.pk}/").content.decode()
        assert '<span class="badge warn">1</span>' in page  # the refused column
        refused_list = boss.get(f"/sweeps/{sweep.pk}/doors/?status=refused").content.decode()
        assert doors_on_page(refused_list) == [shut]
        assert "需民警协助" in refused_list  # "Needs police", in the page's language

    with time_machine.travel(DAY2, tick=False):
        # The next morning the door is due again, first on the grid worker's list.
        due = list(selectors.doors_due(grid_worker, dt.date(2020, 2, 4)).filter(sweep=sweep))
        assert [a.pk for a in due] == [shut]
        revisits = login(grid_worker).get(f"/sweeps/{sweep.pk}/doors/?status=revisits")
        assert doors_on_page(revisits.content.decode()) == [shut]
        # The officer goes with her; the family opens, and he records the visit.
        police = login(officer)
        assert police.get(f"/doors/{shut}/").status_code == 200
        r = police.post(
            f"/doors/{shut}/",
            {
                "outcome": "visited",
                "notes": "民警与网格员一同上门,住户开门配合登记",
                "client_id": str(uuid.uuid4()),
            },
        )
        assert r.status_code == 302
        door = Assignment.objects.get(pk=shut)
        assert (door.status, door.attempts, door.needs_police, door.revisit_due) == (
            DoorStatus.VISITED,
            2,
            False,
            None,
        )
        attempts = list(DoorVisit.objects.filter(assignment=door).order_by("at"))
        assert [(v.outcome, v.by) for v in attempts] == [
            ("refused", grid_worker),
            ("visited", officer),
        ]
        assert (
            AuditEntry.objects.filter(
                action="fangyi.doorvisit.created", object_id__in=[v.pk for v in attempts]
            ).count()
            == 2
        )

        # 100 % at every level.
        boss = login(supervisor)
        for level, name in (
            ("grid", "机务第一网格"),
            ("community", "机务社区"),
            ("station", "五里亭派出所"),
        ):
            row, total = selectors.coverage(supervisor, sweep, level=level)
            assert row.node.name == name
            assert (row.percent, row.households, row.done, row.pending) == (
                100.0,
                households,
                households,
                0,
            )
            assert total.percent == 100.0
            html = boss.get(f"/sweeps/{sweep.pk}/?level={level}").content.decode()
            assert name in html and "100.0%" in html


def _coverage_queries(client, sweep) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(f"/sweeps/{sweep.pk}/").status_code == 200
        assert client.get(f"/sweeps/{sweep.pk}/coverage/?level=station").status_code == 200
    return len(ctx.captured_queries)


def test_the_coverage_page_costs_the_same_for_a_compound_and_a_station(
    supervisor, jiwu, django_assert_max_num_queries
):
    from fangyi.screening.services import sweep_open

    with time_machine.travel(DAY1, tick=False):
        station = Node.objects.get(name="五里亭派出所")
        small = sweep_open(
            actor=supervisor, node=jiwu, purpose="小", starts=DAY1.date(), ends=DAY1.date()
        )
        large = sweep_open(
            actor=supervisor, node=station, purpose="大", starts=DAY1.date(), ends=DAY1.date()
        )
        assert (
            Assignment.objects.filter(sweep=large).count()
            > 2 * Assignment.objects.filter(sweep=small).count()
        )
        client = login(supervisor)
        client.get("/")  # sessions and the like, warmed
        n_small = _coverage_queries(client, small)
        n_large = _coverage_queries(client, large)
        assert n_small == n_large
        with django_assert_max_num_queries(n_small):
            assert client.get(f"/sweeps/{large.pk}/").status_code == 200
        with django_assert_max_num_queries(14):
            assert client.get(f"/sweeps/{large.pk}/coverage/?level=grid").status_code == 200
