"""Door-to-door sweeps: opening, assigning, every attempt at a door, coverage, and the pages."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from fangyi.core.errors import Conflict, DomainError, Forbidden, NotFound
from fangyi.core.models import AccessLog, AuditEntry, Node, User
from fangyi.health.models import Declaration
from fangyi.health.services import DeclarationInput
from fangyi.people.models import Household, Person
from fangyi.screening import selectors, services
from fangyi.screening.demo import PURPOSE
from fangyi.screening.models import Assignment, DoorStatus, DoorVisit, Sweep, SweepStatus
from tests.conftest import english_login as login  # the assertions read English

pytestmark = pytest.mark.django_db

MISSING = 987_654_321


def today() -> dt.date:
    return timezone.localdate()


def open_sweep(supervisor, node, *, starts=None, ends=None, purpose="全面入户排查") -> Sweep:
    starts = starts or today()
    return services.sweep_open(
        actor=supervisor,
        node=node,
        purpose=purpose,
        starts=starts,
        ends=ends or starts + dt.timedelta(days=7),
    )


def door(sweep: Sweep, household: Household) -> Assignment:
    return Assignment.objects.select_related("sweep", "node", "household").get(
        sweep=sweep, household=household
    )


def field_errors(exc: DomainError) -> set[str]:
    return set(exc.errors)


@pytest.fixture
def sweep(supervisor, jiwu) -> Sweep:
    return open_sweep(supervisor, jiwu)


@pytest.fixture
def wlt(db) -> Node:
    return Node.objects.get(name="五里亭派出所")


@pytest.fixture
def community(db) -> Node:
    return Node.objects.get(name="机务社区")


# --- opening a sweep ---------------------------------------------------------------------------


def test_opening_a_sweep_gives_every_household_to_the_grid_worker(supervisor, grid_worker, jiwu):
    households = Household.objects.filter(node=jiwu)
    sweep = open_sweep(supervisor, jiwu)
    rows = Assignment.objects.filter(sweep=sweep)
    assert rows.count() == households.count() > 100
    assert set(rows.values_list("household", flat=True)) == set(
        households.values_list("pk", flat=True)
    )
    assert set(rows.values_list("assignee", flat=True)) == {grid_worker.pk}
    assert set(rows.values_list("grid", flat=True)) == {jiwu.parent_id}
    assert set(rows.values_list("node", flat=True)) == {jiwu.pk}
    assert set(rows.values_list("status", flat=True)) == {DoorStatus.PENDING}
    entry = AuditEntry.objects.get(action="fangyi.sweep.opened", object_id=sweep.pk)
    assert entry.changes["households"] == [None, households.count()]
    assert entry.node_path == jiwu.path
    assert entry.actor == supervisor
    # one audit row for the sweep, not one per household
    assert AuditEntry.objects.filter(action__startswith="fangyi.assignment").count() == 0


def test_a_grid_without_a_grid_worker_goes_to_the_officer(
    supervisor, officer, grid_worker, community
):
    sweep = open_sweep(supervisor, community)
    grid2 = Node.objects.get(name="机务第二网格")
    g1 = Assignment.objects.filter(sweep=sweep, grid=community.children.get(name="机务第一网格"))
    g2 = Assignment.objects.filter(sweep=sweep, grid=grid2)
    assert g1.count() and set(g1.values_list("assignee", flat=True)) == {grid_worker.pk}
    assert g2.count() and set(g2.values_list("assignee", flat=True)) == {officer.pk}


def test_opening_asks_for_workers_once_per_grid_not_per_household(supervisor, jiwu, wlt):
    with CaptureQueriesContext(connection) as small:
        open_sweep(supervisor, jiwu)  # 180 households, one grid
    with CaptureQueriesContext(connection) as large:
        sweep = open_sweep(supervisor, wlt)  # every household of the station, four grids
    assert Assignment.objects.filter(sweep=sweep).count() > 400
    grids = Assignment.objects.filter(sweep=sweep).values("grid").distinct().count()
    assert grids == 4
    assert len(large.captured_queries) <= len(small.captured_queries) + (grids - 1) + 1


def test_opening_a_sweep_refuses_bad_input_and_stores_nothing(
    supervisor, officer, jiwu, beihu_compound
):
    before = (Sweep.objects.count(), Assignment.objects.count(), AuditEntry.objects.count())
    with pytest.raises(Forbidden):
        open_sweep(officer, jiwu)
    with pytest.raises(NotFound) as exc:
        open_sweep(supervisor, beihu_compound)
    assert field_errors(exc.value) == {"node"}
    with pytest.raises(DomainError) as exc:
        services.sweep_open(
            actor=supervisor,
            node=jiwu,
            purpose="  ",
            starts=today(),
            ends=today() - dt.timedelta(days=1),
        )
    assert field_errors(exc.value) == {"purpose", "ends"}
    with pytest.raises(DomainError) as exc:
        open_sweep(supervisor, jiwu, starts=today() - dt.timedelta(days=90))
    assert "starts" in field_errors(exc.value)
    with pytest.raises(DomainError) as exc:
        services.sweep_open(actor=supervisor, node=jiwu, purpose="x", starts=None, ends=None)
    assert field_errors(exc.value) == {"starts", "ends"}
    with pytest.raises(DomainError) as exc:
        open_sweep(supervisor, jiwu, ends=today() + dt.timedelta(days=400))
    assert field_errors(exc.value) == {"ends"}
    assert (Sweep.objects.count(), Assignment.objects.count(), AuditEntry.objects.count()) == before


def test_a_node_without_households_cannot_be_swept(supervisor, jiwu):
    from fangyi.core.services import node_create

    empty = node_create(actor=None, kind="compound", name="空小区", parent=jiwu.parent)
    with pytest.raises(DomainError) as exc:
        open_sweep(supervisor, empty)
    assert field_errors(exc.value) == {"node"}


# --- door visits -------------------------------------------------------------------------------


def test_every_attempt_is_kept_and_the_door_follows_the_latest(
    sweep, grid_worker, officer, jiwu_household
):
    a = door(sweep, jiwu_household)
    now = timezone.now()
    v1 = services.door_visit_record(
        actor=grid_worker, assignment=a, outcome="nobody_home", at=now - dt.timedelta(minutes=30)
    )
    a.refresh_from_db()
    assert (a.status, a.attempts) == (DoorStatus.NOBODY_HOME, 1)
    assert a.revisit_due == timezone.localtime(v1.at).date() + dt.timedelta(days=1)
    assert not a.needs_police

    services.door_visit_record(
        actor=grid_worker, assignment=a, outcome="refused", at=now - dt.timedelta(minutes=20)
    )
    a.refresh_from_db()
    assert (a.status, a.attempts, a.needs_police) == (DoorStatus.REFUSED, 2, True)
    assert a.revisit_due is not None

    # anyone whose jurisdiction holds the household may knock: here the officer
    v3 = services.door_visit_record(
        actor=officer,
        assignment=a,
        outcome="visited",
        latitude="22.817012",
        longitude=108.366901,
        accuracy=12.4,
        notes="民警到场后开门配合",
    )
    a.refresh_from_db()
    assert (a.status, a.attempts, a.needs_police, a.revisit_due) == (
        DoorStatus.VISITED,
        3,
        False,
        None,
    )
    assert a.last_attempt == v3.at
    v3.refresh_from_db()
    assert (v3.latitude, v3.longitude, v3.accuracy) == (
        Decimal("22.817012"),
        Decimal("108.366901"),
        12,
    )
    assert v3.by == officer
    assert list(a.visits.values_list("outcome", flat=True)) == ["visited", "refused", "nobody_home"]
    entries = AuditEntry.objects.filter(action="fangyi.doorvisit.created", object_id=v3.pk)
    assert entries.count() == 1
    assert entries[0].changes["door_status"] == ["refused", "visited"]
    assert entries[0].node_path == jiwu_household.node.path


def test_moved_away_is_done(sweep, grid_worker, jiwu_household):
    a = door(sweep, jiwu_household)
    services.door_visit_record(actor=grid_worker, assignment=a, outcome="moved_away")
    a.refresh_from_db()
    assert a.status == DoorStatus.MOVED_AWAY and a.revisit_due is None


def test_a_late_upload_does_not_overrule_a_later_attempt(sweep, grid_worker, jiwu_household):
    a = door(sweep, jiwu_household)
    now = timezone.now()
    services.door_visit_record(actor=grid_worker, assignment=a, outcome="visited", at=now)
    # the phone that was offline sends an earlier attempt afterwards (of the same local day:
    # the sweep starts today, and just after midnight two hours ago is yesterday)
    midnight = timezone.make_aware(dt.datetime.combine(timezone.localdate(now), dt.time()))
    earlier = max(now - dt.timedelta(hours=2), midnight + (now - midnight) / 2)
    services.door_visit_record(actor=grid_worker, assignment=a, outcome="nobody_home", at=earlier)
    a.refresh_from_db()
    assert (a.status, a.attempts, a.last_attempt) == (DoorStatus.VISITED, 2, now)


def test_the_same_submission_twice_is_stored_once(sweep, grid_worker, jiwu_household):
    a = door(sweep, jiwu_household)
    key = uuid.uuid4()
    first = services.door_visit_record(
        actor=grid_worker, assignment=a, outcome="visited", client_id=key
    )
    again = services.door_visit_record(
        actor=grid_worker, assignment=a, outcome="visited", client_id=key
    )
    assert first.pk == again.pk
    a.refresh_from_db()
    assert a.attempts == 1
    assert DoorVisit.objects.filter(assignment=a).count() == 1
    other = (
        Assignment.objects.filter(sweep=sweep)
        .exclude(pk=a.pk)
        .select_related("sweep", "node")
        .first()
    )
    with pytest.raises(Conflict):
        services.door_visit_record(
            actor=grid_worker, assignment=other, outcome="visited", client_id=key
        )


def _nothing_stored(a: Assignment, visits: int = 0) -> None:
    a2 = Assignment.objects.get(pk=a.pk)
    assert a2.attempts == visits
    assert DoorVisit.objects.filter(assignment=a).count() == visits


def test_bad_visits_name_the_field_and_store_nothing(sweep, grid_worker, jiwu_household):
    a = door(sweep, jiwu_household)
    now = timezone.now()
    audit = AuditEntry.objects.count()
    cases = [
        ({"at": now + dt.timedelta(hours=1)}, {"at"}),
        ({"at": now - dt.timedelta(days=2)}, {"at"}),  # before the sweep starts (today)
        ({"latitude": 123, "longitude": 108.3}, {"latitude"}),
        ({"latitude": 22.8, "longitude": -181}, {"longitude"}),
        ({"latitude": 22.8}, {"longitude"}),
        ({"latitude": "north", "longitude": 1}, {"latitude"}),
        ({"accuracy": -5}, {"accuracy"}),
        ({"notes": "长" * 2001}, {"notes"}),
    ]
    for extra, fields in cases:
        with pytest.raises(DomainError) as exc:
            services.door_visit_record(actor=grid_worker, assignment=a, outcome="visited", **extra)
        assert field_errors(exc.value) == fields, extra
    with pytest.raises(DomainError) as exc:
        services.door_visit_record(actor=grid_worker, assignment=a, outcome="burgled")
    assert field_errors(exc.value) == {"outcome"}
    assert "Visited" in exc.value.errors["outcome"][0]
    _nothing_stored(a)
    assert AuditEntry.objects.count() == audit


def test_a_visit_before_the_sweep_started_is_refused(supervisor, grid_worker, jiwu, jiwu_household):
    sweep = open_sweep(supervisor, jiwu, starts=today() - dt.timedelta(days=2))
    a = door(sweep, jiwu_household)
    with pytest.raises(DomainError) as exc:
        services.door_visit_record(
            actor=grid_worker,
            assignment=a,
            outcome="visited",
            at=timezone.now() - dt.timedelta(days=3),
        )
    assert "starts" in exc.value.errors["at"][0]
    ok = services.door_visit_record(
        actor=grid_worker, assignment=a, outcome="visited", at=timezone.now() - dt.timedelta(days=1)
    )
    assert ok.pk


def test_a_door_outside_the_workers_grid_is_not_found(
    supervisor, grid_worker, wlt, nantie4, outsider, jiwu_household
):
    sweep = open_sweep(supervisor, wlt)
    theirs = door(sweep, Household.objects.filter(node=nantie4).first())
    with pytest.raises(NotFound):
        services.door_visit_record(actor=grid_worker, assignment=theirs, outcome="visited")
    with pytest.raises(NotFound):
        services.door_visit_record(
            actor=outsider, assignment=door(sweep, jiwu_household), outcome="visited"
        )
    _nothing_stored(theirs)
    with pytest.raises(NotFound):
        selectors.assignment_get(grid_worker, theirs.pk)
    with pytest.raises(NotFound):
        selectors.assignment_get(grid_worker, MISSING)


def test_a_closed_sweep_takes_no_visits(sweep, supervisor, grid_worker, jiwu_household):
    services.sweep_close(actor=supervisor, sweep=sweep)
    a = door(sweep, jiwu_household)
    with pytest.raises(Conflict) as exc:
        services.door_visit_record(actor=grid_worker, assignment=a, outcome="visited")
    assert "closed" in exc.value.message
    _nothing_stored(a)
    with pytest.raises(Conflict):
        services.sweep_close(actor=supervisor, sweep=sweep)
    assert AuditEntry.objects.filter(action="fangyi.sweep.closed", object_id=sweep.pk).count() == 1


def test_roles_that_may_not_record_are_refused(sweep, hotel_clerk, admin, jiwu_household):
    a = door(sweep, jiwu_household)
    for user in (hotel_clerk, admin):
        with pytest.raises(Forbidden):
            services.door_visit_record(actor=user, assignment=a, outcome="visited")
    _nothing_stored(a)


# --- declarations at the door --------------------------------------------------------------------


def _decl(**kw) -> DeclarationInput:
    return DeclarationInput(
        declared_on=kw.pop("declared_on", today()),
        temperature=kw.pop("temperature", Decimal("36.5")),
        temperature_method=kw.pop("temperature_method", "forehead"),
        **kw,
    )


def test_declarations_are_stored_with_the_visit(sweep, grid_worker, jiwu_household):
    a = door(sweep, jiwu_household)
    members = list(jiwu_household.members.order_by("pk"))
    assert members
    key = uuid.uuid4()
    visit = services.door_visit_record(
        actor=grid_worker,
        assignment=a,
        outcome="visited",
        declarations=[(m, _decl()) for m in members],
        client_id=key,
    )
    stored = Declaration.objects.filter(visit=visit)
    assert sorted(stored.values_list("person", flat=True)) == [m.pk for m in members]
    assert set(stored.values_list("recorded_by", flat=True)) == {grid_worker.pk}
    # the retry stores nothing more
    services.door_visit_record(
        actor=grid_worker,
        assignment=a,
        outcome="visited",
        declarations=[(m, _decl()) for m in members],
        client_id=key,
    )
    assert Declaration.objects.filter(visit__assignment=a).count() == len(members)


def test_a_declaration_for_someone_outside_the_household_stores_nothing(
    sweep, grid_worker, jiwu_household, jiwu
):
    a = door(sweep, jiwu_household)
    neighbour = Person.objects.filter(node=jiwu).exclude(household=jiwu_household).first()
    member = jiwu_household.members.first()
    before = Declaration.objects.count()
    with pytest.raises(DomainError) as exc:
        services.door_visit_record(
            actor=grid_worker,
            assignment=a,
            outcome="visited",
            declarations=[(member, _decl()), (neighbour, _decl())],
        )
    assert field_errors(exc.value) == {"declarations[1].person"}
    assert neighbour.name in exc.value.errors["declarations[1].person"][0]
    _nothing_stored(a)
    assert Declaration.objects.count() == before


def test_a_bad_declaration_names_its_field_and_stores_nothing(sweep, grid_worker, jiwu_household):
    a = door(sweep, jiwu_household)
    member = jiwu_household.members.first()
    before = Declaration.objects.count()
    with pytest.raises(DomainError) as exc:
        services.door_visit_record(
            actor=grid_worker,
            assignment=a,
            outcome="visited",
            declarations=[(member, _decl(temperature="375"))],
        )
    assert "declarations[0].temperature" in field_errors(exc.value)
    with pytest.raises(DomainError) as exc:
        services.door_visit_record(
            actor=grid_worker,
            assignment=a,
            outcome="nobody_home",
            declarations=[(member, _decl())],
        )
    assert field_errors(exc.value) == {"declarations"}
    _nothing_stored(a)
    assert Declaration.objects.count() == before


# --- reassigning ---------------------------------------------------------------------------------


def test_reassigning_a_grid(sweep, supervisor, officer, grid_worker, jiwu):
    n = services.assignments_reassign(
        actor=supervisor, assignee=officer, sweep=sweep, grid=jiwu.parent
    )
    total = Assignment.objects.filter(sweep=sweep).count()
    assert n == total
    assert set(Assignment.objects.filter(sweep=sweep).values_list("assignee", flat=True)) == {
        officer.pk
    }
    entries = AuditEntry.objects.filter(action="fangyi.assignment.reassigned")
    assert entries.count() == total
    assert entries.first().changes == {"assignee": [grid_worker.pk, officer.pk]}
    # giving them to the one who has them changes nothing
    assert (
        services.assignments_reassign(
            actor=supervisor, assignee=officer, sweep=sweep, grid=jiwu.parent
        )
        == 0
    )


def test_reassigning_one_door(sweep, supervisor, auxiliary, jiwu_household):
    a = door(sweep, jiwu_household)
    assert services.assignments_reassign(actor=supervisor, assignee=auxiliary, assignments=[a]) == 1
    a.refresh_from_db()
    assert a.assignee == auxiliary
    assert Assignment.objects.filter(sweep=sweep, assignee=auxiliary).count() == 1


def test_reassigning_refuses_workers_who_do_not_hold_the_households(
    sweep, supervisor, outsider, grid_worker, hotel_clerk, jiwu, nantie4, jiwu_household
):
    a = door(sweep, jiwu_household)
    nantie_worker = User.objects.create(username="nantie-gw", role="grid_worker")
    nantie_worker.nodes.set([nantie4.parent])
    for who in (outsider, nantie_worker, hotel_clerk):
        with pytest.raises(DomainError) as exc:
            services.assignments_reassign(actor=supervisor, assignee=who, assignments=[a])
        assert field_errors(exc.value) == {"assignee"}
    grid_worker.is_active = False
    grid_worker.save()
    with pytest.raises(DomainError):
        services.assignments_reassign(actor=supervisor, assignee=grid_worker, assignments=[a])
    with pytest.raises(Forbidden):
        services.assignments_reassign(actor=grid_worker, assignee=grid_worker, assignments=[a])
    services.sweep_close(actor=supervisor, sweep=sweep)
    officer = User.objects.get(username="xuhongxin")
    with pytest.raises(Conflict):
        services.assignments_reassign(actor=supervisor, assignee=officer, assignments=[a])
    assert not AuditEntry.objects.filter(action="fangyi.assignment.reassigned").exists()


# --- coverage and lists --------------------------------------------------------------------------


def test_coverage_by_grid_community_and_station(supervisor, grid_worker, officer, community):
    sweep = open_sweep(supervisor, community)
    g1 = list(
        Assignment.objects.filter(sweep=sweep, assignee=grid_worker).select_related(
            "sweep", "node"
        )[:4]
    )
    services.door_visit_record(actor=grid_worker, assignment=g1[0], outcome="visited")
    services.door_visit_record(actor=grid_worker, assignment=g1[1], outcome="moved_away")
    services.door_visit_record(actor=grid_worker, assignment=g1[2], outcome="nobody_home")
    services.door_visit_record(actor=grid_worker, assignment=g1[3], outcome="refused")
    g2 = (
        Assignment.objects.filter(sweep=sweep, assignee=officer)
        .select_related("sweep", "node")
        .first()
    )
    services.door_visit_record(actor=officer, assignment=g2, outcome="visited")

    rows = selectors.coverage(supervisor, sweep, level="grid")
    assert [r.node.name for r in rows[:-1]] == ["机务第一网格", "机务第二网格"]
    first, second, total = rows
    n1 = Household.objects.filter(node__name="机务小区").count()
    n2 = Household.objects.filter(node__name="机务新村").count()
    assert (
        first.households,
        first.visited,
        first.moved_away,
        first.nobody_home,
        first.refused,
    ) == (
        n1,
        1,
        1,
        1,
        1,
    )
    assert first.pending == n1 - 4 and first.needs_police == 1
    assert first.revisits_due == 0  # due tomorrow
    assert (second.households, second.visited, second.pending) == (n2, 1, n2 - 1)
    assert total.node is None and total.households == n1 + n2 and total.done == 3
    assert total.percent == round(100 * 3 / (n1 + n2), 1)
    tomorrow = today() + dt.timedelta(days=1)
    assert selectors.coverage(supervisor, sweep, day=tomorrow)[-1].revisits_due == 2

    (c, ctotal) = selectors.coverage(supervisor, sweep, level="community")
    assert c.node == community and c.households == ctotal.households == n1 + n2
    (s, _t) = selectors.coverage(supervisor, sweep, level="station")
    assert s.node.name == "五里亭派出所" and s.done == 3
    (d, _t) = selectors.coverage(supervisor, sweep, level="district")
    assert d.node.name == "西乡塘区"
    # the grid worker sees his grid only
    mine = selectors.coverage(grid_worker, sweep)
    assert [r.node.name for r in mine[:-1]] == ["机务第一网格"] and mine[-1].households == n1
    with pytest.raises(DomainError) as exc:
        selectors.coverage(supervisor, sweep, level="planet")
    assert field_errors(exc.value) == {"level"}


def test_sweeps_are_seen_by_those_who_take_part(supervisor, grid_worker, outsider, wlt, nantie4):
    station = open_sweep(supervisor, wlt)
    nantie = open_sweep(supervisor, nantie4)
    mine = {s.pk: s for s in selectors.sweep_list(grid_worker)}
    assert station.pk in mine and nantie.pk not in mine
    # his share only
    assert (
        mine[station.pk].households
        == Assignment.objects.filter(sweep=station, grid__in=grid_worker.nodes.all()).count()
    )
    assert station.pk not in {s.pk for s in selectors.sweep_list(outsider)}
    with pytest.raises(NotFound):
        selectors.sweep_get(outsider, station.pk)
    with pytest.raises(NotFound):
        selectors.sweep_get(grid_worker, nantie.pk)


def test_door_lists_filter_by_status_and_mine(
    sweep, supervisor, grid_worker, officer, jiwu_household
):
    rows = list(Assignment.objects.filter(sweep=sweep).select_related("sweep", "node")[:3])
    services.door_visit_record(actor=grid_worker, assignment=rows[0], outcome="refused")
    services.door_visit_record(actor=grid_worker, assignment=rows[1], outcome="nobody_home")
    services.door_visit_record(actor=grid_worker, assignment=rows[2], outcome="visited")
    services.assignments_reassign(actor=supervisor, assignee=officer, assignments=[rows[2]])
    ids = lambda **kw: {a.pk for a in selectors.assignment_list(grid_worker, sweep, **kw)}  # noqa: E731
    assert ids(status="refused") == {rows[0].pk}
    assert ids(status="nobody_home") == {rows[1].pk}
    assert ids(status="done") == {rows[2].pk}
    assert ids(status="revisits") == set()
    assert ids(status="revisits", day=today() + dt.timedelta(days=1)) == {rows[0].pk, rows[1].pk}
    assert rows[2].pk not in ids(mine=True)
    assert rows[2].pk in {a.pk for a in selectors.assignment_list(officer, sweep, mine=True)}
    assert len(ids(status="pending")) == Assignment.objects.filter(sweep=sweep).count() - 3
    with pytest.raises(DomainError):
        selectors.assignment_list(grid_worker, sweep, status="lost")


# --- the demo ---------------------------------------------------------------------------------


def test_the_demo_sweep(grid_worker):
    sweep = Sweep.objects.get(purpose=PURPOSE)
    assert sweep.status == SweepStatus.OPEN
    assert sweep.starts == today() - dt.timedelta(days=3)
    doors = Assignment.objects.filter(sweep=sweep)
    total = doors.count()
    visited = doors.filter(status=DoorStatus.VISITED).count()
    assert abs(visited - total / 2) <= 1
    nobody = doors.filter(status=DoorStatus.NOBODY_HOME)
    assert nobody.count() == 2 and set(nobody.values_list("revisit_due", flat=True)) == {today()}
    refused = doors.get(status=DoorStatus.REFUSED)
    assert refused.needs_police and refused.revisit_due == today()
    assert DoorVisit.objects.filter(assignment__sweep=sweep).count() == visited + 3
    due = list(selectors.doors_due(grid_worker, today())[:3])
    assert due[0].status == DoorStatus.REFUSED


# --- pages ------------------------------------------------------------------------------------


def test_pages_open_a_sweep_with_the_errors_next_to_the_fields(supervisor, jiwu):
    client = login(supervisor)
    page = client.get("/sweeps/new/")
    assert page.status_code == 200
    assert "春节以来返邕人员排查" in page.content.decode()
    bad = client.post(
        "/sweeps/new/",
        {
            "node": jiwu.pk,
            "purpose": "楼栋排查",
            "starts": today().isoformat(),
            "ends": (today() - dt.timedelta(days=2)).isoformat(),
        },
    )
    assert bad.status_code == 200
    html = bad.content.decode()
    assert "cannot end before it starts" in html and "楼栋排查" in html
    assert not Sweep.objects.filter(purpose="楼栋排查").exists()
    ok = client.post(
        "/sweeps/new/",
        {
            "node": jiwu.pk,
            "purpose": "楼栋排查",
            "starts": today().isoformat(),
            "ends": (today() + dt.timedelta(days=2)).isoformat(),
        },
    )
    sweep = Sweep.objects.get(purpose="楼栋排查")
    assert ok.status_code == 302 and ok["Location"] == f"/sweeps/{sweep.pk}/"
    listing = client.get("/sweeps/").content.decode()
    assert "楼栋排查" in listing and PURPOSE in listing


def test_the_coverage_page_polls_its_fragment(supervisor, sweep):
    client = login(supervisor)
    page = client.get(f"/sweeps/{sweep.pk}/")
    html = page.content.decode()
    assert page.status_code == 200
    assert f'hx-get="/sweeps/{sweep.pk}/coverage/?level=grid"' in html
    assert 'hx-trigger="every 15s"' in html
    assert "机务第一网格" in html
    assert f"/sweeps/{sweep.pk}/reassign/?grid=" in html
    frag = client.get(f"/sweeps/{sweep.pk}/coverage/?level=station", HTTP_HX_REQUEST="true")
    assert frag.status_code == 200
    assert "<html" not in frag.content.decode() and "五里亭派出所" in frag.content.decode()


def test_the_door_page_records_an_attempt(grid_worker, sweep, jiwu_household):
    a = door(sweep, jiwu_household)
    client = login(grid_worker)
    reads = AccessLog.objects.count()
    page = client.get(f"/doors/{a.pk}/")
    html = page.content.decode()
    assert page.status_code == 200
    assert jiwu_household.address in html and 'name="outcome" value="refused"' in html
    assert grid_worker.display_name in html  # who it is assigned to
    assert AccessLog.objects.count() == reads + 1
    key = str(uuid.uuid4())
    posted = client.post(
        f"/doors/{a.pk}/",
        {
            "outcome": "visited",
            "notes": "全家在家",
            "latitude": "22.8",
            "longitude": "108.3",
            "accuracy": "15",
            "client_id": key,
        },
    )
    assert posted.status_code == 302 and posted["Location"] == f"/doors/{a.pk}/"
    again = client.post(f"/doors/{a.pk}/", {"outcome": "visited", "client_id": key})
    assert again.status_code == 302
    visit = DoorVisit.objects.get(assignment=a)
    assert (visit.outcome, visit.notes, visit.by, visit.accuracy) == (
        "visited",
        "全家在家",
        grid_worker,
        15,
    )
    after = client.get(f"/doors/{a.pk}/").content.decode()
    member = jiwu_household.members.first()
    assert f"/declarations/new/?person={member.pk}&amp;visit={visit.pk}" in after
    # the health app's form opens from that link
    form = client.get(f"/declarations/new/?person={member.pk}&visit={visit.pk}")
    assert form.status_code == 200 and member.name in form.content.decode()


def test_the_door_page_keeps_what_was_typed_on_error(grid_worker, sweep, jiwu_household):
    a = door(sweep, jiwu_household)
    client = login(grid_worker)
    bad = client.post(
        f"/doors/{a.pk}/",
        {"outcome": "visited", "notes": "门口留言", "latitude": "123", "longitude": "108"},
    )
    assert bad.status_code == 400
    html = bad.content.decode()
    assert "between -90 and 90" in html and "门口留言" in html
    htmx = client.post(f"/doors/{a.pk}/", {"outcome": "flew", "notes": "x"}, HTTP_HX_REQUEST="true")
    assert htmx.status_code == 200 and "errorlist" in htmx.content.decode()
    assert not DoorVisit.objects.filter(assignment=a).exists()


def test_the_door_page_of_a_closed_sweep(supervisor, grid_worker, sweep, jiwu_household):
    a = door(sweep, jiwu_household)
    login(supervisor).post(f"/sweeps/{sweep.pk}/close/")
    assert Sweep.objects.get(pk=sweep.pk).status == SweepStatus.CLOSED
    response = login(grid_worker).post(f"/doors/{a.pk}/", {"outcome": "visited"})
    assert response.status_code == 409
    assert "This sweep is closed" in response.content.decode()
    assert not DoorVisit.objects.filter(assignment=a).exists()


def test_a_door_not_yours_is_the_not_found_page(grid_worker, supervisor, wlt, nantie4):
    sweep = open_sweep(supervisor, wlt)
    theirs = door(sweep, Household.objects.filter(node=nantie4).first())
    client = login(grid_worker)
    a = client.get(f"/doors/{theirs.pk}/")
    b = client.get(f"/doors/{MISSING}/")
    assert a.status_code == b.status_code == 404
    assert client.post(f"/doors/{theirs.pk}/", {"outcome": "visited"}).status_code == 404
    assert not DoorVisit.objects.filter(assignment=theirs).exists()


def test_the_doors_list_filters(grid_worker, sweep):
    rows = list(Assignment.objects.filter(sweep=sweep).select_related("sweep", "node")[:2])
    services.door_visit_record(actor=grid_worker, assignment=rows[0], outcome="refused")
    client = login(grid_worker)
    html = client.get(f"/sweeps/{sweep.pk}/doors/?status=refused&mine=1").content.decode()
    assert rows[0].household.address in html and rows[1].household.address not in html
    assert "Needs police" in html


def test_reassign_pages(supervisor, officer, sweep, jiwu, jiwu_household):
    client = login(supervisor)
    form = client.get(f"/sweeps/{sweep.pk}/reassign/?grid={jiwu.parent_id}")
    assert form.status_code == 200 and officer.display_name in form.content.decode()
    done = client.post(
        f"/sweeps/{sweep.pk}/reassign/", {"grid": jiwu.parent_id, "assignee": officer.pk}
    )
    assert done.status_code == 302
    assert set(Assignment.objects.filter(sweep=sweep).values_list("assignee", flat=True)) == {
        officer.pk
    }
    a = door(sweep, jiwu_household)
    aux = User.objects.get(username="fujing")
    one = client.post(f"/doors/{a.pk}/reassign/", {"assignee": aux.pk})
    assert one.status_code == 302
    assert Assignment.objects.get(pk=a.pk).assignee == aux
    outsider = User.objects.get(username="beihu")
    bad = client.post(f"/doors/{a.pk}/reassign/", {"assignee": outsider.pk})
    assert bad.status_code == 200 and "errorlist" in bad.content.decode()
    assert Assignment.objects.get(pk=a.pk).assignee == aux
