"""The observation API, operation by operation: the walk calls every operation of the tag
and checks that none is left out; the other tests look at one behaviour each."""

from __future__ import annotations

import datetime as dt
import json
import uuid

import pytest
from django.test import Client

from fangyi.core.models import AccessLog, AuditEntry
from fangyi.health.services import selfreport_link_create
from fangyi.observation.models import Alert, FollowUp, Observation
from fangyi.people.models import Place
from tests.conftest import login
from tests.test_api import call, schema_operations
from tests.test_observation import DAY0, at, fresh_person

pytestmark = pytest.mark.django_db


def test_every_observation_operation_answers(health, supervisor, grid_worker, jiwu, time_machine):
    time_machine.move_to(at(DAY0, 8), tick=False)
    seen: set[tuple[str, str]] = set()
    hc, sc, gc, public = login(health), login(supervisor), login(grid_worker), Client()

    def c(client, method, template, expect=200, body=None, params=None, **ids):
        return call(client, method, template, expect, body, params, seen, **ids)

    person = fresh_person(jiwu, "接口观察")
    cid = str(uuid.uuid4())
    body = {
        "person_id": person.pk,
        "kind": "home",
        "last_exposure": (DAY0 - dt.timedelta(days=2)).isoformat(),
        "client_id": cid,
    }
    obs = c(hc, "POST", "/api/observations", 201, body)
    assert c(hc, "POST", "/api/observations", 201, body)["id"] == obs["id"]  # a retry
    assert obs["ends"] == (DAY0 + dt.timedelta(days=12)).isoformat()
    assert obs["responsible_id"] == grid_worker.pk
    listed = c(gc, "GET", "/api/observations", params={"status": "active", "q": "接口观察"})
    assert [o["id"] for o in listed["items"]] == [obs["id"]]
    logged = AccessLog.objects.count()
    got = c(gc, "GET", "/api/observations/{observation_id}", observation_id=obs["id"])
    assert got["person_name"] == "接口观察"
    assert AccessLog.objects.count() == logged + 1

    # the grid worker's day: today's follow-up appears (generated on demand)
    day = c(gc, "GET", "/api/daylist")
    item = next(i for i in day["items"] if i["title"] == "接口观察")
    assert item["kind"] == "followup" and item["url"] == f"/followups/{item['pk']}/"
    mine = c(gc, "GET", "/api/followups", params={"mine": "true", "due": DAY0.isoformat()})
    assert item["pk"] in [f["id"] for f in mine["items"]]
    assert c(gc, "GET", "/api/followups/{followup_id}", followup_id=item["pk"])["status"] == "due"
    recorded = c(
        gc,
        "POST",
        "/api/followups/{followup_id}/record",
        body={"status": "seen_well", "temperature": 37.6, "symptoms": ["dry_cough"]},
        followup_id=item["pk"],
    )
    assert recorded["status"] == "seen_unwell"
    assert recorded["temperature"] == 37.6

    # health staff see the alert, on the board and in the list, and handle it
    board = c(hc, "GET", "/api/board", params={"tab": "symptomatic", "node_id": jiwu.pk})
    assert obs["id"] in [o["id"] for o in board["items"]]
    assert board["count"] == board["counts"]["symptomatic"]
    alerts = c(hc, "GET", "/api/alerts", params={"kind": "fever"})
    alert = next(a for a in alerts["items"] if a["observation_id"] == obs["id"])
    assert alert["proposal"] == "fever_clinic"
    done = c(
        hc,
        "POST",
        "/api/alerts/{alert_id}/resolve",
        body={"resolution": "电话随访,体温已降"},
        alert_id=alert["id"],
    )
    assert done["resolved_at"] and done["resolved_by_id"] == health.pk

    # a new exposure extends; a transfer to the quarantine point continues it there
    ext = c(
        hc,
        "POST",
        "/api/observations/{observation_id}/extend",
        body={"last_exposure": DAY0.isoformat()},
        observation_id=obs["id"],
    )
    assert ext["ends"] == (DAY0 + dt.timedelta(days=14)).isoformat()
    site = Place.objects.get(name="西乡塘区集中隔离点")
    nxt = c(
        sc,
        "POST",
        "/api/observations/{observation_id}/transfer",
        201,
        {"kind": "place", "place_id": site.pk, "note": "集中观察"},
        observation_id=obs["id"],
    )
    assert nxt["place_id"] == site.pk and nxt["last_exposure"] == DAY0.isoformat()
    assert Observation.objects.get(pk=obs["id"]).transferred_to_id == nxt["id"]

    # the person reports by their link (no login), through the API
    _link, token = selfreport_link_create(actor=grid_worker, person=person)
    time_machine.move_to(at(DAY0 + dt.timedelta(days=1), 20), tick=False)
    report = c(
        public,
        "POST",
        "/api/self-report/{token}/daily",
        body={"temperature": 36.7, "symptoms": []},
        token=token,
    )
    assert report["status"] == "self_reported"
    assert FollowUp.objects.get(observation_id=nxt["id"], status="self_reported")
    # the public answer names the person by the given name only, and no internal id
    assert report["given_name"] == person.name[1:]
    assert set(report) == {"given_name", "due", "status", "temperature", "symptoms"}
    assert person.name not in json.dumps(report, ensure_ascii=False)

    # released at the end date with a clean last follow-up (this very self-report)
    time_machine.move_to(at(DAY0 + dt.timedelta(days=14), 18), tick=False)
    hc = login(health)  # sessions end; a new day, a new login
    FollowUp.objects.filter(observation_id=nxt["id"], status="due").delete()
    released = c(
        hc,
        "POST",
        "/api/observations/{observation_id}/release",
        body={"note": "期满"},
        observation_id=nxt["id"],
    )
    assert released["status"] == "released" and released["ended_by_id"] == health.pk
    assert released["ended_at"]

    # a second person: referred
    other = c(
        hc,
        "POST",
        "/api/observations",
        201,
        {
            "person_id": fresh_person(jiwu, "转诊者").pk,
            "kind": "home",
            "last_exposure": "2020-02-14",
        },
    )
    referred = c(
        hc,
        "POST",
        "/api/observations/{observation_id}/refer",
        body={"note": "发热转诊"},
        observation_id=other["id"],
    )
    assert referred["status"] == "referred"

    assert seen == schema_operations(hc, {"observation"})


def test_bad_input_names_the_field(health, grid_worker, jiwu, time_machine):
    time_machine.move_to(at(DAY0, 8), tick=False)
    hc, gc = login(health), login(grid_worker)
    person = fresh_person(jiwu, "坏输入")
    future = call(
        hc,
        "POST",
        "/api/observations",
        400,
        {"person_id": person.pk, "kind": "home", "last_exposure": "2020-03-01"},
    )
    assert future["errors"][0]["field"] == "last_exposure"
    place = call(
        hc,
        "POST",
        "/api/observations",
        400,
        {"person_id": person.pk, "kind": "place", "last_exposure": "2020-01-30"},
    )
    assert place["errors"][0]["field"] == "place"
    assert not Observation.objects.filter(person=person).exists()
    obs = call(
        hc,
        "POST",
        "/api/observations",
        201,
        {"person_id": person.pk, "kind": "home", "last_exposure": "2020-01-30"},
    )
    followup = call(gc, "GET", "/api/daylist")["items"]
    fid = next(i["pk"] for i in followup if i["title"] == "坏输入")
    for temperature in (3.5, 375):
        bad = call(
            gc,
            "POST",
            "/api/followups/{followup_id}/record",
            400,
            {"status": "seen_well", "temperature": temperature},
            followup_id=fid,
        )
        assert [e["field"] for e in bad["errors"]] == ["temperature"]
    bad = call(
        gc,
        "POST",
        "/api/followups/{followup_id}/record",
        422,
        {"status": "self_reported"},
        followup_id=fid,
    )
    assert bad["errors"][0]["field"] == "status"
    assert FollowUp.objects.get(pk=fid).status == "due"
    early = call(
        hc,
        "POST",
        "/api/observations/{observation_id}/release",
        400,
        {"note": ""},
        observation_id=obs["id"],
    )
    assert early["errors"][0]["field"] == "ends"
    assert Observation.objects.get(pk=obs["id"]).status == "active"


def test_a_grid_worker_may_not_manage_and_an_outsider_sees_nothing(
    health, grid_worker, outsider, jiwu, time_machine
):
    time_machine.move_to(at(DAY0, 8), tick=False)
    obs = call(
        login(health),
        "POST",
        "/api/observations",
        201,
        {"person_id": fresh_person(jiwu, "权限").pk, "kind": "home", "last_exposure": "2020-01-31"},
    )
    gc, oc = login(grid_worker), login(outsider)
    call(
        gc,
        "POST",
        "/api/observations/{observation_id}/refer",
        403,
        {"note": "x"},
        observation_id=obs["id"],
    )
    call(gc, "GET", "/api/board", 403)
    missing = call(oc, "GET", "/api/observations/{observation_id}", 404, observation_id=987654321)
    theirs = call(oc, "GET", "/api/observations/{observation_id}", 404, observation_id=obs["id"])
    assert missing == theirs
    assert obs["id"] not in [o["id"] for o in call(oc, "GET", "/api/observations")["items"]]


def test_a_link_not_in_force_answers_like_none(grid_worker, jiwu, health, time_machine):
    time_machine.move_to(at(DAY0, 8), tick=False)
    person = fresh_person(jiwu, "旧链接")
    call(
        login(health),
        "POST",
        "/api/observations",
        201,
        {"person_id": person.pk, "kind": "home", "last_exposure": "2020-01-31"},
    )
    _l, old = selfreport_link_create(actor=grid_worker, person=person)
    _l, new = selfreport_link_create(actor=grid_worker, person=person)
    public = Client()
    body = {"temperature": 36.5}
    replaced = call(public, "POST", "/api/self-report/{token}/daily", 404, body, token=old)
    never = call(public, "POST", "/api/self-report/{token}/daily", 404, body, token="x" * 32)
    assert replaced == never
    time_machine.move_to(at(DAY0 + dt.timedelta(days=40)), tick=False)
    expired = call(public, "POST", "/api/self-report/{token}/daily", 404, body, token=new)
    assert expired == never
    assert not FollowUp.objects.filter(observation__person=person, status="self_reported").exists()
    assert not AuditEntry.objects.filter(action="fangyi.followup.self_reported").exists()
    assert not Alert.objects.filter(observation__person=person).exists()
