"""The day list (home page of field roles) and the observation board: what is on them, in
which order, and a fixed number of queries whatever the size."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from fangyi.core import access
from fangyi.core.models import User
from fangyi.observation import selectors, services
from fangyi.observation.models import (
    Alert,
    FollowUp,
    FollowUpStatus,
    Observation,
    ObservationStatus,
)
from fangyi.people.models import Household
from fangyi.screening.models import Assignment, Sweep
from tests.conftest import login
from tests.test_permissions import make_person

pytestmark = pytest.mark.django_db


def populate(compound, worker: User, size: int, tag: str) -> list[Observation]:
    """`size` people under observation in `compound`, followed up by `worker`: today's
    follow-ups due, one in three missed yesterday, one in five with an open fever alert; and
    an open sweep with `size` doors for the worker, one refused."""
    today = timezone.localdate()
    observations = []
    for i in range(size):
        household = Household.objects.create(node=compound, address=f"{tag}路{i}号")
        person = make_person(f"{tag}{i}", household=household)
        observations.append(
            Observation(
                person=person,
                node=compound,
                kind="home",
                starts=today - dt.timedelta(days=5),
                last_exposure=today - dt.timedelta(days=6),
                ends=today + dt.timedelta(days=8 if i % 4 else 1),
                responsible=worker,
            )
        )
    Observation.objects.bulk_create(observations)
    services.followups_generate(
        today - dt.timedelta(days=1), observations=[o.pk for o in observations]
    )
    services.followups_generate(today, observations=[o.pk for o in observations])
    yesterday = FollowUp.objects.filter(
        observation__in=observations, due=today - dt.timedelta(days=1)
    )
    for n, f in enumerate(yesterday.order_by("pk")):
        if n % 3:
            FollowUp.objects.filter(pk=f.pk).update(status="seen_well", recorded_at=timezone.now())
        else:
            FollowUp.objects.filter(pk=f.pk).update(status="missed")
    Alert.objects.bulk_create(
        Alert(
            observation=o, node=compound, kind="fever", message="38.0 °C", proposal="fever_clinic"
        )
        for o in observations[::5]
    )
    sweep = Sweep.objects.create(
        node=compound, purpose=f"{tag} sweep", starts=today - dt.timedelta(days=1), ends=today
    )
    households = Household.objects.filter(address__startswith=f"{tag}路")
    Assignment.objects.bulk_create(
        Assignment(
            sweep=sweep,
            household=h,
            node=compound,
            grid=compound.parent,
            assignee=worker,
            status="refused" if n == 0 else "pending",
        )
        for n, h in enumerate(households)
    )
    return observations


def test_the_grid_workers_day_most_urgent_first(grid_worker, jiwu):
    observations = populate(jiwu, grid_worker, 6, "日程")
    day = selectors.daylist(grid_worker, timezone.localdate())
    kinds = [i.kind for i in day.items]
    # Grid workers handle no alerts; refused doors, then overdue, then today's, then doors.
    assert "alert" not in kinds
    order = [selectors.URGENCY[k if k != "door" else "door"] for k in kinds]
    assert [i.urgency for i in day.items] == sorted(i.urgency for i in day.items)
    assert day.items[0].kind == "door" and day.items[0].urgency == selectors.URGENCY["door_refused"]
    overdue = [i for i in day.items if i.kind == "overdue"]
    mine_missed = FollowUp.objects.filter(
        observation__in=observations, status=FollowUpStatus.MISSED
    ).count()
    assert len(overdue) >= mine_missed == 2
    todays = {i.pk for i in day.items if i.kind == "followup"}
    assert (
        set(
            FollowUp.objects.filter(
                observation__in=observations, due=timezone.localdate()
            ).values_list("pk", flat=True)
        )
        <= todays
    )
    # Each item is one tap from its form.
    item = next(i for i in day.items if i.kind == "followup")
    assert item.url == f"/followups/{item.pk}/"
    assert order


def test_health_staff_see_the_fever_alerts_first(health, grid_worker, jiwu):
    populate(jiwu, grid_worker, 5, "发热")
    day = selectors.daylist(health, timezone.localdate())
    assert day.items[0].kind == "alert"
    assert day.items[0].url == f"/alerts/{day.items[0].pk}/"
    assert day.counts["alerts"] >= 1


def test_field_roles_get_the_day_list_at_home_and_supervisors_the_counts_and_the_board(
    grid_worker, supervisor, officer, health, jiwu
):
    populate(jiwu, grid_worker, 3, "首页")
    page = login(grid_worker).get("/").content.decode()
    assert "首页0" in page and "/followups/" in page
    assert 'href="/board/"' not in page.split("<main>")[1]  # no board for grid workers
    health_page = login(health).get("/").content.decode()
    assert "/alerts/" in health_page and "/board/" in health_page.split("<main>")[1]
    sup = login(supervisor).get("/")
    assert sup.status_code == 200
    text = sup.content.decode().split("<main>")[1]
    assert "/board/" in text
    assert "机务社区" in text  # the registry counts of the jurisdiction are still there
    assert login(officer).get("/").status_code == 200


def test_the_day_list_generates_todays_followups_when_the_daily_job_did_not_run(grid_worker, jiwu):
    today = timezone.localdate()
    person = make_person(
        "未生成", household=Household.objects.create(node=jiwu, address="未生成路1号")
    )
    obs = Observation.objects.create(
        person=person,
        node=jiwu,
        kind="home",
        starts=today,
        last_exposure=today - dt.timedelta(days=1),
        ends=today + dt.timedelta(days=13),
        responsible=grid_worker,
    )
    assert not obs.followups.exists()
    page = login(grid_worker).get("/").content.decode()
    followup = obs.followups.get(due=today)
    assert f"/followups/{followup.pk}/" in page
    login(grid_worker).get("/")
    assert obs.followups.count() == 1


def _count(fn) -> int:
    with CaptureQueriesContext(connection) as ctx:
        fn()
    return len(ctx.captured_queries)


@pytest.mark.parametrize("size", [3, 40])
def test_the_day_list_page_is_a_fixed_number_of_queries(
    grid_worker, health, jiwu, size, django_assert_max_num_queries
):
    populate(jiwu, grid_worker, size, f"查询{size}")
    for user in (grid_worker, health):
        client = login(user)
        client.get("/")  # warm: today's rows exist, the session is loaded
        # Session and user (2), the session's renewal (3 with its savepoint), today's
        # follow-ups made if missing (1), the user's nodes (1), a count and a row query per
        # section of this app (up to 12), and one query per other app's section (tips,
        # support requests, enforcement checks, placements expected, refusals; see
        # DAYLIST_SOURCES).
        with django_assert_max_num_queries(23):
            response = client.get("/")
        assert response.status_code == 200


def test_the_day_list_and_the_board_cost_the_same_at_two_sizes(grid_worker, health, jiwu):
    populate(jiwu, grid_worker, 3, "小")
    for user in (grid_worker, health):
        access.user_paths(user)  # cached on the user for the request, as a page would
    small = {
        "daylist": _count(lambda: selectors.daylist(grid_worker)),
        "health": _count(lambda: selectors.daylist(health)),
        "board": _count(lambda: list(selectors.board(health, "symptomatic").rows[:50])),
    }
    populate(jiwu, grid_worker, 60, "大")
    big = {
        "daylist": _count(lambda: selectors.daylist(grid_worker)),
        "health": _count(lambda: selectors.daylist(health)),
        "board": _count(lambda: list(selectors.board(health, "symptomatic").rows[:50])),
    }
    assert small == big


@pytest.mark.parametrize("size", [3, 40])
def test_the_board_page_is_a_fixed_number_of_queries(
    health, grid_worker, jiwu, size, django_assert_max_num_queries
):
    populate(jiwu, grid_worker, size, f"看板{size}")
    client = login(health)
    for tab in selectors.TABS:
        with django_assert_max_num_queries(10):
            response = client.get("/board/", {"tab": tab})
        assert response.status_code == 200


def test_the_board_tabs_count_what_they_show(health, supervisor, grid_worker, jiwu):
    observations = populate(jiwu, grid_worker, 10, "标签")
    today = timezone.localdate()
    b = selectors.board(health, "symptomatic", node=jiwu)
    ids = {o.pk for o in observations}
    # Two with an open alert (0 and 5) are symptomatic; 4 missed yesterday (0, 3, 6, 9).
    assert ids >= {o.pk for o in b.rows if o.pk in ids}
    assert {o.pk for o in b.rows} & ids == {observations[0].pk, observations[5].pk}
    silent = {o.pk for o in selectors.board(health, "not_reporting", node=jiwu).rows} & ids
    missed = set(
        FollowUp.objects.filter(observation__in=observations, status="missed").values_list(
            "observation_id", flat=True
        )
    )
    assert silent == missed and len(missed) == 4
    due = {o.pk for o in selectors.board(health, "due_today", node=jiwu).rows} & ids
    assert due == ids
    ending = {o.pk for o in selectors.board(health, "ending_soon", node=jiwu).rows} & ids
    assert ending == {o.pk for i, o in enumerate(observations) if i % 4 == 0}
    # A release shows on the released tab the same day.
    Observation.objects.filter(pk=observations[1].pk).update(
        status=ObservationStatus.RELEASED, ended_at=timezone.now()
    )
    released = selectors.board(health, "released", node=jiwu)
    assert observations[1].pk in {o.pk for o in released.rows}
    from decimal import Decimal

    FollowUp.objects.filter(observation=observations[2], due=today).update(
        status="seen_unwell", temperature=Decimal("37.8"), recorded_at=timezone.now()
    )
    row = selectors.board(health, "symptomatic", node=jiwu).rows.get(pk=observations[2].pk)
    assert (row.last_status, row.last_temperature, row.last_due) == (
        "seen_unwell",
        Decimal("37.8"),
        today,
    )
    for tab in selectors.TABS:
        board = selectors.board(health, tab, node=jiwu)
        assert board.counts[tab] == board.rows.count()
    # The supervisor's board (station) has the same people; the outsider's (北湖) none.
    assert selectors.board(supervisor, "due_today").counts["due_today"] >= len(ids)
    assert today


def test_the_board_filters_by_a_node_of_the_jurisdiction(
    health, grid_worker, jiwu, nantie4, supervisor
):
    populate(jiwu, grid_worker, 4, "筛选")
    in_nantie = selectors.board(health, "due_today", node=nantie4)
    assert not {o.node_id for o in in_nantie.rows} - {nantie4.pk}
    client = login(supervisor)
    beihu = supervisor.__class__.objects.get(username="beihu").nodes.first()
    assert client.get("/board/", {"node": beihu.pk}).status_code == 404
    htmx = client.get("/board/", {"tab": "due_today", "node": jiwu.pk}, HTTP_HX_REQUEST="true")
    assert htmx.status_code == 200
    assert "<html" not in htmx.content.decode()
    assert "筛选0" in htmx.content.decode()
    # The area filter then sends the tab shown (updated out of band).
    assert 'name="tab" value="due_today" id="board-tab-name"' in htmx.content.decode()
    assert "hx-swap-oob" in htmx.content.decode()
    assert "hx-swap-oob" not in client.get("/board/").content.decode()


def test_every_item_of_the_day_list_opens_its_page(health, grid_worker, officer):
    """One tap from its form: each item's link answers 200 for the user it is listed for.
    The demo city gives health staff decisions to make and the workers doors, follow-ups,
    alerts and self-reports to confirm."""
    for user in (health, grid_worker, officer):
        client = login(user)
        items = selectors.daylist(user).items
        assert items, user.username
        for kind in {item.kind for item in items}:
            item = next(i for i in items if i.kind == kind)
            response = client.get(item.url)
            assert response.status_code == 200, (user.username, kind, item.url)
