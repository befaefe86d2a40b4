"""Linkage support requests (聯動): asking, every step and its time, who may answer, escalation
of overdue requests, the dispatch board, the day list, the refused door's one tap, the pages."""

from __future__ import annotations

import datetime as dt
import threading
import uuid

import pytest
import time_machine
from django.utils import timezone

from fangyi.core.errors import Conflict, DomainError, Forbidden, NotFound
from fangyi.core.models import AccessLog, AuditEntry, Node, User
from fangyi.linkage import selectors, services
from fangyi.linkage.models import DEFAULT_MINUTES, ResponseTarget, SupportRequest
from fangyi.people.models import Household
from fangyi.screening.models import Assignment, DoorStatus, Sweep
from tests.conftest import english_login, login

pytestmark = pytest.mark.django_db

NEED = "住户拒不开门,请民警协助入户排查"


def ask(actor, *, agency="police", urgency="high", need=NEED, **subject) -> SupportRequest:
    return services.support_request_create(
        actor=actor, agency=agency, urgency=urgency, need=need, **subject
    )


def fresh(request: SupportRequest) -> SupportRequest:
    return SupportRequest.objects.get(pk=request.pk)


@pytest.fixture
def household(jiwu_household) -> Household:
    return jiwu_household


@pytest.fixture
def refused_door(grid_worker, jiwu) -> Assignment:
    """A door of the demo sweep in 机务小区, refused by the grid worker just now."""
    from fangyi.screening.services import door_visit_record

    door = (
        Assignment.objects.filter(
            assignee=grid_worker, status=DoorStatus.PENDING, node=jiwu, sweep__status="open"
        )
        .select_related("sweep", "node", "household")
        .order_by("pk")
        .first()
    )
    door_visit_record(actor=grid_worker, assignment=door, outcome="refused", notes="不开门")
    door.refresh_from_db()
    assert door.needs_police
    return door


# --- asking ------------------------------------------------------------------------------------


def test_a_grid_worker_asks_the_police_on_a_household(grid_worker, household):
    before = timezone.now()
    s = ask(grid_worker, household=household)
    assert (s.node, s.household, s.requested_by, s.agency) == (
        household.node,
        household,
        grid_worker,
        "police",
    )
    assert s.from_node == grid_worker.nodes.get()  # her grid, which holds the compound
    assert s.requester_agency == "community"
    assert s.status == "open" and s.target_minutes == 30
    assert s.due_at - s.created_at == dt.timedelta(minutes=30)
    assert s.created_at >= before
    entry = AuditEntry.objects.get(action="fangyi.supportrequest.create", object_id=s.pk)
    assert entry.actor == grid_worker and entry.node_path == household.node.path


def test_the_deepest_node_of_the_requester_is_the_from_node(officer, household):
    deep = Node.objects.get(name="机务社区")
    officer.nodes.add(deep)
    officer._fangyi_paths = None
    s = ask(officer, household=household)
    assert s.from_node == deep


def test_the_target_time_comes_from_the_configuration(grid_worker, household, admin):
    services.response_targets_set(actor=admin, minutes={"urgent": 7})
    assert ask(grid_worker, household=household, urgency="urgent").target_minutes == 7
    ResponseTarget.objects.filter(urgency="normal").delete()
    s = ask(grid_worker, household=household, urgency="normal")
    assert s.target_minutes == DEFAULT_MINUTES["normal"] == 120


def test_a_person_and_a_tip_are_subjects_too(grid_worker, jiwu_person, jiwu):
    from fangyi.tips.models import Tip, TipCategory

    s = ask(grid_worker, person=jiwu_person, agency="health")
    assert s.person == jiwu_person and s.node == jiwu_person.node and s.household is None
    tip = Tip.objects.create(
        code="LKTEST01",
        category=TipCategory.objects.first(),
        node=jiwu,
        description="散养家禽",
        source="phone",
    )
    t = ask(grid_worker, tip=tip, agency="community")
    assert t.tip == tip and t.node == jiwu


@pytest.mark.parametrize(
    "kwargs,field",
    [
        ({}, "subject"),
        ({"two": True}, "subject"),
        ({"agency": "fire"}, "agency"),
        ({"urgency": "soon"}, "urgency"),
        ({"need": "   "}, "need"),
        ({"need": "x" * 1001}, "need"),
        ({"agency": "user"}, "target_user"),
    ],
)
def test_bad_input_names_its_field_and_stores_nothing(
    grid_worker, household, jiwu_person, kwargs, field
):
    before = SupportRequest.objects.count()
    subject = {"household": household}
    if kwargs.pop("two", False):
        subject["person"] = jiwu_person
    if field == "subject" and not subject.get("person"):
        subject = {}
    args = {"agency": "police", "urgency": "high", "need": NEED, **kwargs}
    with pytest.raises(DomainError) as exc:
        services.support_request_create(actor=grid_worker, **args, **subject)
    assert field in exc.value.errors
    assert SupportRequest.objects.count() == before


def test_every_field_error_at_once(grid_worker, household):
    with pytest.raises(DomainError) as exc:
        ask(grid_worker, household=household, agency="fire", urgency="soon", need="")
    assert {"agency", "urgency", "need"} <= set(exc.value.errors)


def test_a_named_person_must_be_a_field_worker_of_the_place(
    grid_worker, household, officer, outsider, admin
):
    s = ask(grid_worker, household=household, agency="user", target_user=officer)
    assert s.target_user == officer
    for wrong in (outsider, admin):  # outside the place; not a field role
        with pytest.raises(DomainError) as exc:
            ask(grid_worker, household=household, agency="user", target_user=wrong)
        assert exc.value.errors == {
            "target_user": ["Choose an active field worker whose jurisdiction holds this place."]
        }
    with pytest.raises(DomainError) as exc:
        ask(grid_worker, household=household, agency="police", target_user=officer)
    assert "target_user" in exc.value.errors


def test_a_place_outside_the_jurisdiction_is_not_found(grid_worker, beihu_household):
    before = SupportRequest.objects.count()
    with pytest.raises(NotFound) as exc:
        ask(grid_worker, household=beihu_household)
    assert "household" in exc.value.errors
    assert SupportRequest.objects.count() == before


def test_roles_that_may_not_ask_are_refused(admin, hotel_clerk, household):
    for user in (admin, hotel_clerk):
        with pytest.raises(Forbidden):
            ask(user, household=household)


def test_the_same_client_id_twice_stores_one(grid_worker, community_staff, household):
    key = uuid.uuid4()
    a = ask(grid_worker, household=household, client_id=key)
    b = ask(grid_worker, household=household, client_id=key)
    assert a.pk == b.pk
    assert SupportRequest.objects.filter(client_id=key).count() == 1
    with pytest.raises(Conflict) as exc:
        ask(community_staff, household=household, client_id=key)
    assert "client_id" in exc.value.errors


# --- the refused door --------------------------------------------------------------------------


def test_a_refused_door_becomes_a_request_on_its_household(grid_worker, refused_door):
    s = services.support_request_create(
        actor=grid_worker, agency="police", urgency="high", assignment=refused_door
    )
    assert s.assignment == refused_door and s.household == refused_door.household
    assert refused_door.household.address in s.need and refused_door.sweep.purpose in s.need
    # asked twice while the first still runs: refused, pointing at the first
    with pytest.raises(Conflict) as exc:
        services.support_request_create(
            actor=grid_worker, agency="police", urgency="high", assignment=refused_door
        )
    assert exc.value.details["id"] == s.pk


def test_only_a_refused_door_asks_this_way(grid_worker, jiwu):
    door = Assignment.objects.filter(status=DoorStatus.PENDING, node=jiwu).first()
    with pytest.raises(DomainError) as exc:
        services.support_request_create(
            actor=grid_worker, agency="police", urgency="high", assignment=door
        )
    assert "assignment" in exc.value.errors


def test_the_refused_door_page_asks_police_in_one_tap(grid_worker, refused_door):
    client = english_login(grid_worker)
    page = client.get(f"/doors/{refused_door.pk}/").content.decode()
    assert 'id="ask-police"' in page and "Ask police for support" in page
    response = client.post(
        "/support/new/", {"door": refused_door.pk, "agency": "police", "urgency": "high"}
    )
    s = SupportRequest.objects.get(assignment=refused_door)
    assert response.status_code == 302 and response["Location"] == f"/support/{s.pk}/"
    assert (s.agency, s.urgency, s.requested_by, s.household_id) == (
        "police",
        "high",
        grid_worker,
        refused_door.household_id,
    )
    page = client.get(f"/doors/{refused_door.pk}/").content.decode()
    assert 'id="ask-police"' not in page
    assert 'id="door-support"' in page and "Waiting" in page and 'class="timer' in page
    # a second tap (another phone) lands on the same request
    again = client.post("/support/new/", {"door": refused_door.pk, "agency": "police"})
    assert again.status_code == 302 and again["Location"] == f"/support/{s.pk}/"
    assert SupportRequest.objects.filter(assignment=refused_door).count() == 1


def test_the_one_tap_needs_nothing_but_the_door_and_the_agency(grid_worker, refused_door):
    response = login(grid_worker).post(
        "/support/new/", {"door": refused_door.pk, "agency": "police"}
    )
    assert response.status_code == 302
    s = SupportRequest.objects.get(assignment=refused_door)
    assert s.urgency == "high" and s.need


def test_a_declined_request_offers_the_tap_again(grid_worker, officer, refused_door):
    s = services.support_request_create(
        actor=grid_worker, agency="police", urgency="high", assignment=refused_door
    )
    services.support_decline(actor=officer, request=s, reason="警力正在处置聚集")
    page = english_login(grid_worker).get(f"/doors/{refused_door.pk}/").content.decode()
    assert "Declined" in page and "Ask police for support again" in page


def test_a_door_that_opened_offers_no_tap(grid_worker, jiwu):
    door = Assignment.objects.filter(status=DoorStatus.VISITED, node=jiwu).first()
    page = english_login(grid_worker).get(f"/doors/{door.pk}/").content.decode()
    assert 'id="ask-police"' not in page


# --- the steps ---------------------------------------------------------------------------------


def test_accept_arrive_done_each_with_its_time(grid_worker, officer, household):
    s = ask(grid_worker, household=household)
    t0 = timezone.now()
    with time_machine.travel(t0 + dt.timedelta(minutes=3), tick=False):
        services.support_accept(actor=officer, request=s)
    with time_machine.travel(t0 + dt.timedelta(minutes=12), tick=False):
        services.support_arrive(actor=officer, request=s)
    with time_machine.travel(t0 + dt.timedelta(minutes=40), tick=False):
        services.support_done(actor=officer, request=s, outcome="已陪同入户,完成登记")
    s = fresh(s)
    assert s.status == "done" and s.accepted_by == officer
    assert s.accepted_at == t0 + dt.timedelta(minutes=3)
    assert s.arrived_at == t0 + dt.timedelta(minutes=12)
    assert s.done_at == t0 + dt.timedelta(minutes=40)
    assert s.outcome == "已陪同入户,完成登记"
    actions = list(
        AuditEntry.objects.filter(object_id=s.pk, action__startswith="fangyi.supportrequest.")
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == [
        "fangyi.supportrequest.create",
        "fangyi.supportrequest.accept",
        "fangyi.supportrequest.arrive",
        "fangyi.supportrequest.done",
    ]


@pytest.mark.parametrize(
    "status,step",
    [
        ("open", "arrive"),
        ("open", "done"),
        ("accepted", "accept"),
        ("accepted", "done"),
        ("arrived", "accept"),
        ("arrived", "arrive"),
        ("arrived", "decline"),
        ("done", "accept"),
        ("done", "done"),
        ("declined", "accept"),
        ("cancelled", "arrive"),
    ],
)
def test_steps_out_of_order_are_refused(grid_worker, officer, household, status, step):
    s = ask(grid_worker, household=household)
    SupportRequest.objects.filter(pk=s.pk).update(status=status)
    s = fresh(s)
    extra = {"decline": {"reason": "忙"}, "done": {"outcome": "已处置"}}.get(step, {})
    fn = getattr(services, f"support_{step}")
    audits = AuditEntry.objects.count()
    with pytest.raises(Conflict) as exc:
        fn(actor=officer, request=s, **extra)
    assert "status" in exc.value.errors
    assert fresh(s).status == status and AuditEntry.objects.count() == audits


def test_a_stale_copy_cannot_step_twice(grid_worker, officer, auxiliary, household):
    s = ask(grid_worker, household=household)
    mine, theirs = fresh(s), fresh(s)
    services.support_accept(actor=officer, request=mine)
    with pytest.raises(Conflict):
        services.support_accept(actor=auxiliary, request=theirs)
    assert fresh(s).accepted_by == officer


def test_decline_needs_a_reason_and_done_an_outcome(grid_worker, officer, household):
    s = ask(grid_worker, household=household)
    with pytest.raises(DomainError) as exc:
        services.support_decline(actor=officer, request=s, reason="  ")
    assert "reason" in exc.value.errors and fresh(s).status == "open"
    services.support_accept(actor=officer, request=s)
    services.support_arrive(actor=officer, request=s)
    with pytest.raises(DomainError) as exc:
        services.support_done(actor=officer, request=s, outcome="")
    assert "outcome" in exc.value.errors and fresh(s).status == "arrived"
    s2 = ask(grid_worker, household=household)
    services.support_decline(actor=officer, request=s2, reason="警力正在处置聚集")
    s2 = fresh(s2)
    assert s2.status == "declined" and s2.declined_at and s2.decline_reason == "警力正在处置聚集"


def test_cancel_by_the_requester_or_a_supervisor_only(
    grid_worker, community_staff, officer, supervisor, household
):
    s = ask(grid_worker, household=household)
    with pytest.raises(Forbidden):
        services.support_cancel(actor=community_staff, request=s)
    with pytest.raises(Forbidden):
        services.support_cancel(actor=officer, request=s)
    services.support_cancel(actor=grid_worker, request=s)
    assert fresh(s).status == "cancelled" and fresh(s).cancelled_at
    s2 = ask(grid_worker, household=household)
    services.support_cancel(actor=supervisor, request=s2)
    assert fresh(s2).status == "cancelled"
    s3 = ask(grid_worker, household=household)
    services.support_accept(actor=officer, request=s3)
    services.support_arrive(actor=officer, request=s3)
    with pytest.raises(Conflict):
        services.support_cancel(actor=grid_worker, request=s3)


# --- who answers -------------------------------------------------------------------------------


def test_another_agency_gets_403_with_the_message_and_nothing_changes(
    grid_worker, health, community_staff, household
):
    s = ask(grid_worker, household=household, agency="police")
    audits = AuditEntry.objects.count()
    for user in (health, community_staff, grid_worker):
        with pytest.raises(Forbidden) as exc:
            services.support_accept(actor=user, request=s)
        assert exc.value.message == "This request is addressed to the police."
        assert exc.value.status == 403
    # through the page and the API: the same refusal
    page = english_login(health).post(f"/support/{s.pk}/accept/")
    assert page.status_code == 403
    assert "This request is addressed to the police." in page.content.decode()
    api = english_login(health).post(f"/api/support-requests/{s.pk}/accept")
    assert api.status_code == 403
    assert api.json()["detail"] == "This request is addressed to the police."
    s = fresh(s)
    assert s.status == "open" and s.accepted_at is None and s.accepted_by is None
    assert AuditEntry.objects.count() == audits


def test_health_answers_a_request_to_health(community_staff, health, officer, household):
    s = ask(community_staff, household=household, agency="health", urgency="urgent")
    with pytest.raises(Forbidden) as exc:
        services.support_accept(actor=officer, request=s)
    assert exc.value.message == "This request is addressed to health staff."
    services.support_accept(actor=health, request=s)
    assert fresh(s).accepted_by == health


def test_a_named_user_answers_alone_or_a_supervisor(
    grid_worker, officer, auxiliary, supervisor, household
):
    s = ask(grid_worker, household=household, agency="user", target_user=officer)
    with pytest.raises(Forbidden) as exc:
        services.support_accept(actor=auxiliary, request=s)
    assert exc.value.message == f"This request is addressed to {officer.display_name}."
    services.support_accept(actor=supervisor, request=s)
    services.support_arrive(actor=officer, request=s)
    assert fresh(s).status == "arrived"


def test_a_supervisor_answers_for_every_agency_of_his_area(grid_worker, supervisor, household):
    s = ask(grid_worker, household=household, agency="health")
    services.support_accept(actor=supervisor, request=s)
    assert fresh(s).accepted_by == supervisor


def test_outside_the_jurisdiction_answers_404(grid_worker, outsider, household):
    s = ask(grid_worker, household=household)
    with pytest.raises(NotFound):
        services.support_accept(actor=outsider, request=s)
    client = login(outsider)
    assert client.post(f"/support/{s.pk}/accept/").status_code == 404
    assert client.get(f"/support/{s.pk}/").status_code == 404
    a = client.post(f"/api/support-requests/{s.pk}/accept")
    b = client.post("/api/support-requests/987654321/accept")
    assert a.status_code == b.status_code == 404 and a.json() == b.json()
    assert fresh(s).status == "open"


def test_the_requester_sees_his_request_outside_his_jurisdiction(
    grid_worker, health, outsider, beihu_household
):
    """Health staff of the district ask the 北湖 police; the requester keeps seeing it, the 北湖
    officer answers it, the Wuliting grid worker does not see it."""
    s = ask(health, household=beihu_household)
    assert s.from_node.name == "西乡塘区"
    assert selectors.support_get(health, s.pk) == s
    with pytest.raises(NotFound):
        selectors.support_get(grid_worker, s.pk)
    services.support_accept(actor=outsider, request=s)
    assert s.pk in {r.pk for r in selectors.support_list(health, mine=True)}


# --- escalation --------------------------------------------------------------------------------


def test_overdue_requests_are_escalated_once(grid_worker, officer, supervisor, household):
    t0 = timezone.now()
    with time_machine.travel(t0, tick=False):
        late = ask(grid_worker, household=household, urgency="urgent")  # 10 minutes
        there = ask(grid_worker, household=household, urgency="urgent")
        services.support_accept(actor=officer, request=there)
        services.support_arrive(actor=officer, request=there)
        waiting = ask(grid_worker, household=household, urgency="normal")  # 120 minutes
    with time_machine.travel(t0 + dt.timedelta(minutes=9), tick=False):
        services.support_escalate_overdue()  # (the demo's own waiting request may be due)
        assert fresh(late).escalated_at is None
    at = t0 + dt.timedelta(minutes=11)
    with time_machine.travel(at, tick=False):
        n = services.support_escalate_overdue()
        assert n >= 1
        assert fresh(late).escalated_at == at
        assert fresh(there).escalated_at is None  # arrived: its timer stopped
        assert fresh(waiting).escalated_at is None
        assert (
            AuditEntry.objects.filter(
                action="fangyi.supportrequest.escalate", object_id=late.pk
            ).count()
            == 1
        )
        assert services.support_escalate_overdue() == 0  # idempotent
        assert (
            AuditEntry.objects.filter(
                action="fangyi.supportrequest.escalate", object_id=late.pk
            ).count()
            == 1
        )
        # the supervisor's day list shows it in red; the board marks it overdue
        section = selectors.daylist_section(supervisor, timezone.localdate())
        item = next(i for i in section.items if i.pk == late.pk)
        assert item.badge_css == "err" and section.badge_css == "err"
        station = Node.objects.get(name="五里亭派出所")
        row = next(r for r in selectors.board(officer, station).requests if r["pk"] == late.pk)
        assert row["overdue"] and row["left"] < 0


def test_escalation_passes_now_explicitly(grid_worker, household):
    s = ask(grid_worker, household=household, urgency="urgent")
    assert services.support_escalate_overdue(now=s.created_at) == 0
    assert services.support_escalate_overdue(now=s.due_at + dt.timedelta(seconds=1)) >= 1
    assert fresh(s).escalated_at == s.due_at + dt.timedelta(seconds=1)


def test_the_worker_loop_escalates_and_survives_a_failure(monkeypatch):
    from fangyi import cli

    calls = []
    stop = threading.Event()

    def fake(now=None):
        calls.append(now)
        if len(calls) == 1:
            raise RuntimeError("database is locked")
        if len(calls) >= 3:
            stop.set()
        return 1

    monkeypatch.setattr(services, "support_escalate_overdue", fake)
    cli._support_loop(stop, interval=0.01)
    assert len(calls) == 3


def test_the_worker_starts_the_escalation_loop(monkeypatch):
    from fangyi import cli

    started = []

    class FakeThread:
        def __init__(self, target, args, name, daemon):
            started.append(name)

        def start(self):
            pass

    monkeypatch.setattr(threading, "Thread", FakeThread)
    monkeypatch.setattr(cli, "_manage", lambda *a, **k: None)
    cli.cmd_worker(None)
    assert "support-escalation" in started and "daily-rounds" in started


# --- the day list ------------------------------------------------------------------------------


def test_the_day_list_shows_requests_to_me_or_my_agency(
    grid_worker, community_staff, health, officer, household, beihu_household, outsider
):
    t0 = timezone.now()
    normal = ask(grid_worker, household=household, urgency="normal")
    urgent = ask(grid_worker, household=household, urgency="urgent")
    accepted = ask(grid_worker, household=household, urgency="urgent")
    services.support_accept(actor=officer, request=accepted)
    to_health = ask(community_staff, household=household, agency="health")
    named = ask(grid_worker, household=household, agency="user", target_user=health)
    day = timezone.localdate(t0)

    police = [i.pk for i in selectors.daylist_section(officer, day).items]
    assert urgent.pk in police and normal.pk in police
    assert police.index(urgent.pk) < police.index(normal.pk)  # most urgent first
    assert accepted.pk not in police  # no longer waiting
    assert to_health.pk not in police and named.pk not in police
    mine = [i.pk for i in selectors.daylist_section(health, day).items]
    assert to_health.pk in mine and named.pk in mine and urgent.pk not in mine
    assert urgent.pk not in [i.pk for i in selectors.daylist_section(outsider, day).items]
    section = selectors.daylist_section(officer, day)
    assert section.key == "support" and section.count == len(section.items)
    item = next(i for i in section.items if i.pk == urgent.pk)
    assert item.kind == "support" and item.url == f"/support/{urgent.pk}/"
    assert item.title == household.address
    assert selectors.daylist_section(User.objects.get(username="admin"), day) is None


def test_the_home_page_lists_the_request(grid_worker, officer, household):
    s = ask(grid_worker, household=household, urgency="urgent")
    page = english_login(officer).get("/").content.decode()
    assert f'href="/support/{s.pk}/"' in page
    assert "support request" in page


# --- the dispatch board ------------------------------------------------------------------------


def _fill(station_compound, grid_worker, n: int, tag: str) -> None:
    from fangyi.tips.models import Tip, TipCategory

    category = TipCategory.objects.order_by("pk").first()
    now = timezone.now()
    Tip.objects.bulk_create(
        [
            Tip(
                code=f"{tag}{i:05d}",
                category=category,
                node=station_compound,
                description="聚集",
                source="phone",
                status="new",
                urgent=i % 3 == 0,
                received_at=now - dt.timedelta(minutes=i),
                due_at=now + dt.timedelta(minutes=30 - i),
            )
            for i in range(n)
        ]
    )
    household = Household.objects.filter(node=station_compound).first()
    SupportRequest.objects.bulk_create(
        [
            SupportRequest(
                node=station_compound,
                from_node=station_compound,
                agency="police",
                requested_by=grid_worker,
                household=household,
                need=f"{tag} {i}",
                urgency="high",
                target_minutes=30,
                status=("open", "accepted", "arrived")[i % 3],
                created_at=now - dt.timedelta(minutes=i),
                due_at=now + dt.timedelta(minutes=30 - i),
            )
            for i in range(n)
        ]
    )


# the user's nodes, the tips, the requests, a count of each when capped, and the names of the
# shown requests' households, persons, tips and users (9); the other apps' panels: the patrols
# under way (1), the duty posts and their shifts (4)
BOARD_QUERIES = 14


@pytest.mark.parametrize("size", [3, 150])
def test_the_board_is_a_fixed_number_of_queries(
    officer, grid_worker, jiwu, size, django_assert_max_num_queries
):
    _fill(jiwu, grid_worker, size, f"B{size}")
    station = Node.objects.get(name="五里亭派出所")
    officer._fangyi_paths = None
    with django_assert_max_num_queries(BOARD_QUERIES):
        board = selectors.board(officer, station)
    assert len(board.tips) == min(board.tips_count, selectors.BOARD_LIMIT)
    assert board.tips_count >= size and board.requests_count >= size
    client = login(officer)
    client.get(f"/dispatch/{station.pk}/live/")
    # the live fragment: the session (read; a poll does not save it), the user, the stations,
    # the board
    with django_assert_max_num_queries(BOARD_QUERIES + 3):
        response = client.get(f"/dispatch/{station.pk}/live/")
    assert response.status_code == 200


def test_the_board_lists_urgent_first_overdue_flagged_and_capped(officer, grid_worker, jiwu):
    _fill(jiwu, grid_worker, 40, "C")
    station = Node.objects.get(name="五里亭派出所")
    board = selectors.board(officer, station, limit=10)
    assert len(board.tips) == 10 and board.tips_more == board.tips_count - 10
    assert [t["urgent"] for t in board.tips] == sorted(
        [t["urgent"] for t in board.tips], reverse=True
    )
    running = [r for r in board.requests if r["is_running"]]
    assert running == board.requests[: len(running)]  # running first
    lates = [r for r in running if r["overdue"]]
    assert lates and all(r["left"] < 0 for r in lates)
    html = login(officer).get(f"/dispatch/{station.pk}/").content.decode()
    assert 'class="b-row u-high over"' in html
    assert 'hx-trigger="every 5s"' in html and f"/dispatch/{station.pk}/live/" in html


def test_the_board_shows_only_the_users_jurisdiction(community_staff, grid_worker, nantie4):
    _fill(nantie4, grid_worker, 2, "N")  # 南鐵北四區: in the station, not in 機務社區
    boards = selectors.board_stations(community_staff)
    assert [b.name for b in boards] == ["机务社区"]
    board = selectors.board(community_staff, boards[0])
    assert not any(r["need"].startswith("N ") for r in board.requests)
    station = Node.objects.get(name="五里亭派出所")
    assert login(community_staff).get(f"/dispatch/{station.pk}/").status_code == 404


def test_the_dispatch_page_goes_straight_to_the_only_station(officer, jiwu):
    station = Node.objects.get(name="五里亭派出所")
    response = login(officer).get("/dispatch/")
    assert response.status_code == 302 and response["Location"] == f"/dispatch/{station.pk}/"
    chief = User.objects.create(username="fenju", role="police")
    chief.nodes.set([Node.objects.get(name="西乡塘区")])
    page = login(chief).get("/dispatch/").content.decode()
    assert "五里亭派出所" in page and "北湖派出所" in page


def test_the_demo_board_shows_the_waiting_request_with_a_timer(officer):
    station = Node.objects.get(name="五里亭派出所")
    board = selectors.board(officer, station)
    waiting = [r for r in board.requests if r["agency"] == "health" and r["status"] == "open"]
    assert waiting and waiting[0]["urgency"] == "urgent"
    there = [r for r in board.requests if r["assignment_id"]]
    assert there and there[0]["status"] == "arrived"
    html = english_login(officer).get(f"/dispatch/{station.pk}/live/").content.decode()
    assert "data-due=" in html and "data-timers" in html


# --- the pages ---------------------------------------------------------------------------------


def test_the_list_has_its_tabs(grid_worker, officer, community_staff, household):
    mine = ask(grid_worker, household=household)
    other = ask(community_staff, household=household, agency="health")
    client = login(grid_worker)
    asked = client.get("/support/?tab=mine").content.decode()
    assert f"/support/{mine.pk}/" in asked and f"/support/{other.pk}/" not in asked
    to_police = login(officer).get("/support/?tab=to_me").content.decode()
    assert f"/support/{mine.pk}/" in to_police and f"/support/{other.pk}/" not in to_police
    every = login(officer).get("/support/?tab=all").content.decode()
    assert f"/support/{other.pk}/" in every
    services.support_cancel(actor=grid_worker, request=mine)
    assert f"/support/{mine.pk}/" not in client.get("/support/?tab=mine").content.decode()
    closed = client.get("/support/?tab=mine&status=closed").content.decode()
    assert f"/support/{mine.pk}/" in closed


def test_the_form_is_prefilled_and_keeps_what_was_typed(grid_worker, household):
    client = english_login(grid_worker)
    page = client.get(f"/support/new/?household={household.pk}").content.decode()
    assert household.address in page and f'value="{household.pk}"' in page
    before = SupportRequest.objects.count()
    response = client.post(
        "/support/new/",
        {"household": household.pk, "agency": "user", "urgency": "high", "need": "请帮忙<b>"},
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "Choose the person to ask." in html
    assert "请帮忙&lt;b&gt;" in html  # kept, escaped
    assert SupportRequest.objects.count() == before
    response = client.post(
        "/support/new/",
        {"household": household.pk, "agency": "police", "urgency": "high", "need": ""},
    )
    assert response.status_code == 400 and "This field is required." in response.content.decode()


def test_a_subject_outside_answers_404_on_the_form(grid_worker, beihu_household):
    client = login(grid_worker)
    assert client.get(f"/support/new/?household={beihu_household.pk}").status_code == 404
    response = client.post(
        "/support/new/",
        {"household": beihu_household.pk, "agency": "police", "urgency": "high", "need": "x"},
    )
    assert response.status_code == 404


def test_the_detail_page_walks_every_step(grid_worker, officer, household):
    s = ask(grid_worker, household=household)
    client = english_login(officer)
    reads = AccessLog.objects.count()
    page = client.get(f"/support/{s.pk}/").content.decode()
    assert AccessLog.objects.count() == reads + 1
    assert "Accept" in page and f'action="/support/{s.pk}/accept/"' in page
    assert f'action="/support/{s.pk}/arrive/"' not in page
    assert client.post(f"/support/{s.pk}/accept/").status_code == 302
    page = client.get(f"/support/{s.pk}/").content.decode()
    assert f'action="/support/{s.pk}/arrive/"' in page
    assert client.post(f"/support/{s.pk}/arrive/").status_code == 302
    bad = client.post(f"/support/{s.pk}/done/", {"outcome": ""})
    assert bad.status_code == 400 and "This field is required." in bad.content.decode()
    assert client.post(f"/support/{s.pk}/done/", {"outcome": "已入户"}).status_code == 302
    page = client.get(f"/support/{s.pk}/").content.decode()
    assert page.count("<li><time") == 4  # asked, accepted, arrived, done
    assert "已入户" in page
    # a step out of order: a message, nothing changed
    again = client.post(f"/support/{s.pk}/accept/", follow=True)
    assert "cannot be accepted now" in again.content.decode()


def test_the_requester_sees_cancel_not_accept(grid_worker, household):
    s = ask(grid_worker, household=household)
    page = english_login(grid_worker).get(f"/support/{s.pk}/").content.decode()
    assert f'action="/support/{s.pk}/cancel/"' in page
    assert f'action="/support/{s.pk}/accept/"' not in page


def test_decline_without_a_reason_shows_the_error(grid_worker, officer, household):
    s = ask(grid_worker, household=household)
    response = english_login(officer).post(f"/support/{s.pk}/decline/", {"reason": ""})
    assert response.status_code == 400
    assert "This field is required." in response.content.decode()
    assert fresh(s).status == "open"


def test_the_administrator_edits_the_targets(admin):
    client = english_login(admin)
    assert client.get("/support/targets/").status_code == 200
    bad = client.post("/support/targets/", {"urgent": "0", "high": "30", "normal": "120"})
    assert bad.status_code == 400
    assert ResponseTarget.objects.get(urgency="urgent").minutes == 10
    ok = client.post("/support/targets/", {"urgent": "8", "high": "30", "normal": "120"})
    assert ok.status_code == 302
    assert ResponseTarget.objects.get(urgency="urgent").minutes == 8
    assert AuditEntry.objects.filter(action="fangyi.responsetarget.update").count() == 1


def test_the_tip_panel_lists_its_requests(grid_worker, officer, jiwu, beihu_compound):
    from fangyi.tips.models import Tip, TipCategory

    category = TipCategory.objects.first()
    tip = Tip.objects.create(
        code="LKPANEL1", category=category, node=jiwu, description="聚集", source="phone"
    )
    s = ask(grid_worker, tip=tip)
    html = english_login(officer).get(f"/tips/{tip.pk}/support/").content.decode()
    assert f"/support/{s.pk}/" in html and f"/support/new/?tip={tip.pk}" in html
    theirs = Tip.objects.create(
        code="LKPANEL2", category=category, node=beihu_compound, description="x", source="phone"
    )
    assert login(officer).get(f"/tips/{theirs.pk}/support/").status_code == 404


def test_household_and_person_pages_link_to_asking(grid_worker, admin, household, jiwu_person):
    client = login(grid_worker)
    assert (
        f"/support/new/?household={household.pk}"
        in client.get(f"/households/{household.pk}/").content.decode()
    )
    assert (
        f"/support/new/?person={jiwu_person.pk}"
        in client.get(f"/people/{jiwu_person.pk}/").content.decode()
    )


def test_the_demo_door_request_was_answered_within_the_target(officer, grid_worker):
    from fangyi.screening.demo import PURPOSE

    s = SupportRequest.objects.get(assignment__sweep__purpose=PURPOSE, requested_by=grid_worker)
    assert s.agency == "police" and s.accepted_by == officer and s.status == "arrived"
    assert s.arrived_at <= s.due_at
    assert Sweep.objects.filter(purpose=PURPOSE).exists()
