"""The linkage API, operation by operation, asserting on what is stored as well as statuses."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.utils import timezone

from fangyi.core.models import AccessLog, AuditEntry, Node
from fangyi.linkage.models import ResponseTarget, SupportRequest
from tests.conftest import english_login as login  # the assertions read English
from tests.test_api import call, field_names, schema_operations

pytestmark = pytest.mark.django_db

MISSING = 987_654_321


def test_every_linkage_operation_answers(
    grid_worker, officer, supervisor, admin, health, jiwu_household
):
    seen: set[tuple[str, str]] = set()
    gw, police, sup, adm = login(grid_worker), login(officer), login(supervisor), login(admin)

    def c(client, method, template, expect=200, body=None, params=None, **ids):
        return call(client, method, template, expect, body, params, seen, **ids)

    key = str(uuid.uuid4())
    body = {
        "household_id": jiwu_household.pk,
        "agency": "police",
        "urgency": "high",
        "need": "住户拒不开门,请民警协助",
        "client_id": key,
    }
    made = c(gw, "POST", "/api/support-requests", 201, body)
    assert made["status"] == "open" and made["target_minutes"] == 30
    assert made["requested_by_id"] == grid_worker.pk and made["requester_agency"] == "community"
    assert 0 < made["seconds_left"] <= 30 * 60 and made["overdue"] is False
    again = c(gw, "POST", "/api/support-requests", 201, body)
    assert again["id"] == made["id"]
    assert SupportRequest.objects.filter(client_id=key).count() == 1
    rid = made["id"]

    listed = c(police, "GET", "/api/support-requests", params={"to_me": "true"})
    assert rid in [r["id"] for r in listed["items"]]
    mine = c(gw, "GET", "/api/support-requests", params={"mine": "true", "status": "active"})
    assert [r["id"] for r in mine["items"]].count(rid) == 1
    reads = AccessLog.objects.count()
    one = c(police, "GET", "/api/support-requests/{request_id}", request_id=rid)
    assert one["need"] == body["need"] and AccessLog.objects.count() == reads + 1

    station = Node.objects.get(name="五里亭派出所")
    board = c(police, "GET", "/api/dispatch/{station_id}", station_id=station.pk)
    assert board["station_name"] == "五里亭派出所"
    row = next(r for r in board["requests"] if r["id"] == rid)
    assert row["status"] == "open" and row["seconds_left"] > 0
    assert board["requests_count"] >= len(board["requests"])

    # The buttons of the page, for a program: police may answer, the asker may cancel.
    asked = c(police, "GET", "/api/support-requests/{request_id}/steps", request_id=rid)
    assert asked == {"status": "open", "allowed_steps": ["accept", "decline"]}
    own = c(gw, "GET", "/api/support-requests/{request_id}/steps", request_id=rid)
    assert own["allowed_steps"] == ["cancel"]
    accepted = c(police, "POST", "/api/support-requests/{request_id}/accept", request_id=rid)
    assert accepted["status"] == "accepted" and accepted["accepted_by_id"] == officer.pk
    arrived = c(
        police, "POST", "/api/support-requests/{request_id}/arrive", body={}, request_id=rid
    )
    assert arrived["status"] == "arrived" and arrived["arrived_at"]
    assert arrived["seconds_left"] is None
    done = c(
        police,
        "POST",
        "/api/support-requests/{request_id}/done",
        body={"outcome": "已入户"},
        request_id=rid,
    )
    assert done["status"] == "done" and done["outcome"] == "已入户"

    other = c(gw, "POST", "/api/support-requests", 201, {**body, "client_id": None})
    declined = c(
        police,
        "POST",
        "/api/support-requests/{request_id}/decline",
        body={"reason": "警力不足"},
        request_id=other["id"],
    )
    assert declined["status"] == "declined" and declined["decline_reason"] == "警力不足"
    third = c(gw, "POST", "/api/support-requests", 201, {**body, "client_id": None})
    cancelled = c(gw, "POST", "/api/support-requests/{request_id}/cancel", request_id=third["id"])
    assert cancelled["status"] == "cancelled"

    targets = c(gw, "GET", "/api/response-targets")
    assert {t["urgency"]: t["minutes"] for t in targets} == {
        "urgent": 10,
        "high": 30,
        "normal": 120,
    }
    changed = c(adm, "PUT", "/api/response-targets", body={"urgent": 8})
    assert {t["urgency"]: t["minutes"] for t in changed}["urgent"] == 8
    assert ResponseTarget.objects.get(urgency="urgent").minutes == 8

    assert seen == schema_operations(sup, {"linkage"})


def test_another_agency_is_refused_with_the_message(grid_worker, health, jiwu_household):
    made = login(grid_worker).post(
        "/api/support-requests",
        {"household_id": jiwu_household.pk, "agency": "police", "need": "协助"},
        content_type="application/json",
    )
    rid = made.json()["id"]
    audits = AuditEntry.objects.count()
    response = login(health).post(f"/api/support-requests/{rid}/accept")
    assert response.status_code == 403
    assert response.json()["detail"] == "This request is addressed to the police."
    assert SupportRequest.objects.get(pk=rid).status == "open"
    assert AuditEntry.objects.count() == audits


def test_bad_input_names_its_field(grid_worker, officer, jiwu_household, beihu_household):
    client = login(grid_worker)
    before = SupportRequest.objects.count()

    def post(body):
        return client.post("/api/support-requests", body, content_type="application/json")

    r = post({"household_id": jiwu_household.pk, "agency": "user", "need": "协助"})
    assert r.status_code == 400 and "target_user_id" in field_names(r.json())
    r = post({"household_id": jiwu_household.pk, "agency": "fire", "need": "协助"})
    assert r.status_code == 422 and "agency" in field_names(r.json())
    r = post({"agency": "police", "need": "协助"})
    assert r.status_code == 400 and "subject" in field_names(r.json())
    r = post({"household_id": jiwu_household.pk, "agency": "police", "need": ""})
    assert r.status_code == 400 and "need" in field_names(r.json())
    r = post({"household_id": beihu_household.pk, "agency": "police", "need": "协助"})
    assert r.status_code == 404 and "household_id" in field_names(r.json())
    r = post({"household_id": MISSING, "agency": "police", "need": "协助"})
    assert r.status_code == 404
    r = post(
        {
            "household_id": jiwu_household.pk,
            "agency": "user",
            "target_user_id": MISSING,
            "need": "协助",
        }
    )
    assert r.status_code == 400 and "target_user_id" in field_names(r.json())
    assert SupportRequest.objects.count() == before

    rid = post({"household_id": jiwu_household.pk, "agency": "police", "need": "协助"}).json()["id"]
    police = login(officer)
    early = police.post(f"/api/support-requests/{rid}/arrive", {}, "application/json")
    assert early.status_code == 409 and "status" in field_names(early.json())
    empty = police.post(f"/api/support-requests/{rid}/decline", {"reason": " "}, "application/json")
    assert empty.status_code == 400 and "reason" in field_names(empty.json())
    police.post(f"/api/support-requests/{rid}/accept")
    future = (timezone.now() + dt.timedelta(hours=1)).isoformat()
    late = police.post(f"/api/support-requests/{rid}/arrive", {"at": future}, "application/json")
    assert late.status_code == 400 and "at" in field_names(late.json())
    assert SupportRequest.objects.get(pk=rid).status == "accepted"


def test_the_one_tap_through_the_api(grid_worker):
    from fangyi.screening.models import Assignment, DoorStatus
    from fangyi.screening.services import door_visit_record

    door = Assignment.objects.filter(
        assignee=grid_worker, status=DoorStatus.PENDING, sweep__status="open"
    ).first()
    door_visit_record(actor=grid_worker, assignment=door, outcome="refused")
    client = login(grid_worker)
    r = client.post(
        "/api/support-requests",
        {"assignment_id": door.pk, "agency": "police"},
        content_type="application/json",
    )
    assert r.status_code == 201, r.content
    assert r.json()["assignment_id"] == door.pk and r.json()["household_id"] == door.household_id
    twice = client.post(
        "/api/support-requests",
        {"assignment_id": door.pk, "agency": "police"},
        content_type="application/json",
    )
    assert twice.status_code == 409 and twice.json()["details"]["id"] == r.json()["id"]


def test_only_administrators_change_the_targets(officer, admin):
    r = login(officer).put("/api/response-targets", {"urgent": 1}, "application/json")
    assert r.status_code == 403
    bad = login(admin).put("/api/response-targets", {"urgent": 0}, "application/json")
    assert bad.status_code == 400 and "urgent" in field_names(bad.json())
    assert ResponseTarget.objects.get(urgency="urgent").minutes == 10
