"""The screening API, operation by operation, asserting on what is stored as well as statuses."""

from __future__ import annotations

import datetime as dt
import json
import uuid

import pytest
from django.utils import timezone

from fangyi.core.models import AccessLog, AuditEntry, Node
from fangyi.health.models import Declaration
from fangyi.people.models import Household, Person
from fangyi.screening.models import Assignment, DoorVisit, Sweep
from tests.conftest import english_login as login  # the assertions read English
from tests.test_api import call, field_names, schema_operations

pytestmark = pytest.mark.django_db

MISSING = 987_654_321


def today() -> dt.date:
    return timezone.localdate()


def test_every_screening_operation_answers(supervisor, grid_worker, officer, jiwu, jiwu_household):
    seen: set[tuple[str, str]] = set()
    sup, gw = login(supervisor), login(grid_worker)

    def c(client, method, template, expect=200, body=None, params=None, **ids):
        return call(client, method, template, expect, body, params, seen, **ids)

    sweep = c(
        sup,
        "POST",
        "/api/sweeps",
        201,
        {
            "node_id": jiwu.pk,
            "purpose": "全面入户排查",
            "starts": today().isoformat(),
            "ends": (today() + dt.timedelta(days=5)).isoformat(),
        },
    )
    n = Household.objects.filter(node=jiwu).count()
    assert sweep["households"] == n and sweep["done"] == 0 and sweep["node_name"] == jiwu.name
    assert Sweep.objects.get(pk=sweep["id"]).created_by == supervisor
    listed = c(gw, "GET", "/api/sweeps", params={"status": "open"})
    assert sweep["id"] in [s["id"] for s in listed["items"]]
    assert c(gw, "GET", "/api/sweeps/{sweep_id}", sweep_id=sweep["id"])["purpose"] == "全面入户排查"

    doors = c(
        gw,
        "GET",
        "/api/sweeps/{sweep_id}/assignments",
        params={"mine": "true", "status": "pending"},
        sweep_id=sweep["id"],
    )
    assert doors["count"] == n
    first = (
        next(d for d in doors["items"] if d["household_id"] == jiwu_household.pk)
        if any(d["household_id"] == jiwu_household.pk for d in doors["items"])
        else doors["items"][0]
    )
    reads = AccessLog.objects.count()
    one = c(gw, "GET", "/api/assignments/{assignment_id}", assignment_id=first["id"])
    assert one["assignee_name"] == grid_worker.display_name and one["status"] == "pending"
    assert AccessLog.objects.count() == reads + 1

    household = Household.objects.get(pk=first["household_id"])
    member = household.members.order_by("pk").first()
    key = str(uuid.uuid4())
    body = {
        "outcome": "visited",
        "latitude": "22.817",
        "longitude": "108.367",
        "accuracy": 10,
        "notes": "全户在家",
        "client_id": key,
        "declarations": [
            {
                "person_id": member.pk,
                "temperature": "36.6",
                "temperature_method": "forehead",
                "travel": [
                    {"place": "武汉市", "from": (today() - dt.timedelta(days=5)).isoformat()}
                ],
            }
        ],
    }
    visit = c(
        gw, "POST", "/api/assignments/{assignment_id}/visits", 201, body, assignment_id=first["id"]
    )
    assert visit["outcome"] == "visited" and visit["by_id"] == grid_worker.pk
    assert len(visit["declaration_ids"]) == 1
    decl = Declaration.objects.get(pk=visit["declaration_ids"][0])
    assert decl.person == member and decl.visit_id == visit["id"]
    assert decl.proposal != "cleared"  # back from a risk area five days ago
    again = c(
        gw, "POST", "/api/assignments/{assignment_id}/visits", 201, body, assignment_id=first["id"]
    )
    assert again["id"] == visit["id"]
    assert DoorVisit.objects.filter(assignment_id=first["id"]).count() == 1
    assert Declaration.objects.filter(visit_id=visit["id"]).count() == 1
    visits = c(gw, "GET", "/api/assignments/{assignment_id}/visits", assignment_id=first["id"])
    assert [v["id"] for v in visits] == [visit["id"]]

    cov = c(
        gw, "GET", "/api/sweeps/{sweep_id}/coverage", params={"level": "grid"}, sweep_id=sweep["id"]
    )
    assert cov[0]["node_id"] == jiwu.parent_id and cov[0]["visited"] == 1
    assert cov[-1]["node_id"] is None and cov[-1]["households"] == n
    assert cov[-1]["percent"] == round(100 / n, 1)

    moved = c(
        sup,
        "POST",
        "/api/sweeps/{sweep_id}/reassign",
        body={"assignee_id": officer.pk, "grid_id": jiwu.parent_id},
        sweep_id=sweep["id"],
    )
    assert moved == {"reassigned": n}
    one_back = c(
        sup,
        "POST",
        "/api/sweeps/{sweep_id}/reassign",
        body={"assignee_id": grid_worker.pk, "assignment_ids": [first["id"]]},
        sweep_id=sweep["id"],
    )
    assert one_back == {"reassigned": 1}
    assert Assignment.objects.filter(sweep_id=sweep["id"], assignee=officer).count() == n - 1

    closed = c(sup, "POST", "/api/sweeps/{sweep_id}/close", sweep_id=sweep["id"])
    assert closed["status"] == "closed" and closed["closed"]

    assert seen == schema_operations(sup, {"screening"})


@pytest.fixture
def sweep(supervisor, jiwu):
    from fangyi.screening.services import sweep_open

    return sweep_open(
        actor=supervisor,
        node=jiwu,
        purpose="全面入户排查",
        starts=today(),
        ends=today() + dt.timedelta(days=3),
    )


@pytest.fixture
def a(sweep, jiwu_household) -> Assignment:
    return Assignment.objects.get(sweep=sweep, household=jiwu_household)


VISITS = "/api/assignments/{assignment_id}/visits"


def _nothing(a: Assignment) -> None:
    assert not DoorVisit.objects.filter(assignment=a).exists()
    assert Assignment.objects.get(pk=a.pk).attempts == 0


def test_bad_visits_answer_with_the_field(grid_worker, a):
    client = login(grid_worker)
    now = timezone.now()
    for body, status, field in [
        ({"outcome": "visited", "at": (now + dt.timedelta(hours=2)).isoformat()}, 400, "at"),
        ({"outcome": "visited", "at": (now - dt.timedelta(days=3)).isoformat()}, 400, "at"),
        ({"outcome": "visited", "latitude": 123, "longitude": 108}, 400, "latitude"),
        ({"outcome": "burgled"}, 422, "outcome"),
        ({"outcome": "visited", "accuracy": -3}, 400, "accuracy"),
    ]:
        data = call(client, "POST", VISITS, status, body, assignment_id=a.pk)
        assert field in field_names(data), (body, data)
    _nothing(a)


def test_a_declaration_for_someone_outside_the_household(grid_worker, a, jiwu, jiwu_household):
    neighbour = Person.objects.filter(node=jiwu).exclude(household=jiwu_household).first()
    before = Declaration.objects.count()
    data = call(
        login(grid_worker),
        "POST",
        VISITS,
        400,
        {"outcome": "visited", "declarations": [{"person_id": neighbour.pk}]},
        assignment_id=a.pk,
    )
    assert field_names(data) == {"declarations[0].person"}
    assert neighbour.name in data["detail"]
    _nothing(a)
    assert Declaration.objects.count() == before


def test_a_declaration_for_someone_not_visible(grid_worker, a, beihu_person):
    data = call(
        login(grid_worker),
        "POST",
        VISITS,
        404,
        {"outcome": "visited", "declarations": [{"person_id": beihu_person.pk}]},
        assignment_id=a.pk,
    )
    assert field_names(data) == {"declarations[0].person_id"}
    _nothing(a)


def test_a_door_not_yours_answers_like_one_that_is_not_there(supervisor, grid_worker, nantie4):
    from fangyi.screening.services import sweep_open

    station = Node.objects.get(name="五里亭派出所")
    sweep = sweep_open(
        actor=supervisor, node=station, purpose="全面入户排查", starts=today(), ends=today()
    )
    theirs = Assignment.objects.filter(sweep=sweep, node=nantie4).first()
    client = login(grid_worker)
    for template in ("/api/assignments/{assignment_id}", VISITS):
        x = client.get(template.format(assignment_id=theirs.pk))
        y = client.get(template.format(assignment_id=MISSING))
        assert x.status_code == y.status_code == 404
        assert x.json() == y.json()
    post = call(client, "POST", VISITS, 404, {"outcome": "visited"}, assignment_id=theirs.pk)
    assert "detail" in post
    _nothing(theirs)
    outsider_view = call(
        login(grid_worker), "GET", "/api/sweeps/{sweep_id}/coverage", sweep_id=sweep.pk
    )
    assert [r["node_name"] for r in outsider_view[:-1]] == ["机务第一网格"]


def test_a_closed_sweep_answers_409(supervisor, grid_worker, sweep, a):
    call(login(supervisor), "POST", "/api/sweeps/{sweep_id}/close", sweep_id=sweep.pk)
    data = call(login(grid_worker), "POST", VISITS, 409, {"outcome": "visited"}, assignment_id=a.pk)
    assert "closed" in data["detail"]
    _nothing(a)
    again = call(login(supervisor), "POST", "/api/sweeps/{sweep_id}/close", 409, sweep_id=sweep.pk)
    assert "already closed" in again["detail"]


def test_opening_with_bad_input(supervisor, officer, jiwu, beihu_compound):
    sup = login(supervisor)
    before = Sweep.objects.count()
    body = {
        "node_id": jiwu.pk,
        "purpose": "x",
        "starts": today().isoformat(),
        "ends": (today() - dt.timedelta(days=1)).isoformat(),
    }
    assert field_names(call(sup, "POST", "/api/sweeps", 400, body)) == {"ends"}
    body = {**body, "ends": today().isoformat(), "node_id": beihu_compound.pk}
    assert field_names(call(sup, "POST", "/api/sweeps", 404, body)) == {"node_id"}
    assert call(login(officer), "POST", "/api/sweeps", 403, {**body, "node_id": jiwu.pk})
    assert Sweep.objects.count() == before
    assert field_names(call(sup, "GET", "/api/sweeps", 400, params={"status": "maybe"})) == {
        "status"
    }


def test_bad_filters_and_levels(grid_worker, sweep):
    client = login(grid_worker)
    data = call(
        client,
        "GET",
        "/api/sweeps/{sweep_id}/coverage",
        400,
        params={"level": "city"},
        sweep_id=sweep.pk,
    )
    assert field_names(data) == {"level"}
    data = call(
        client,
        "GET",
        "/api/sweeps/{sweep_id}/assignments",
        400,
        params={"status": "lost"},
        sweep_id=sweep.pk,
    )
    assert field_names(data) == {"status"}


def test_reassigning_with_bad_input(supervisor, outsider, sweep, a, grid_worker):
    client = login(supervisor)
    template = "/api/sweeps/{sweep_id}/reassign"
    # A worker of another station answers exactly like an id that does not exist: a
    # supervisor cannot walk user ids to learn names and roles elsewhere.
    theirs = call(
        client,
        "POST",
        template,
        404,
        {"assignee_id": outsider.pk, "assignment_ids": [a.pk]},
        sweep_id=sweep.pk,
    )
    data = call(
        client,
        "POST",
        template,
        404,
        {"assignee_id": MISSING, "assignment_ids": [a.pk]},
        sweep_id=sweep.pk,
    )
    assert field_names(data) == {"assignee_id"}
    assert theirs == data
    assert outsider.display_name not in json.dumps(theirs, ensure_ascii=False)
    data = call(
        client,
        "POST",
        template,
        404,
        {"assignee_id": grid_worker.pk, "assignment_ids": [MISSING]},
        sweep_id=sweep.pk,
    )
    assert field_names(data) == {"assignment_ids"}
    data = call(client, "POST", template, 400, {"assignee_id": grid_worker.pk}, sweep_id=sweep.pk)
    assert field_names(data) == {"assignment_ids"}
    call(
        login(grid_worker),
        "POST",
        template,
        403,
        {"assignee_id": grid_worker.pk, "assignment_ids": [a.pk]},
        sweep_id=sweep.pk,
    )
    assert not AuditEntry.objects.filter(action="fangyi.assignment.reassigned").exists()
