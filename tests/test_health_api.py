"""The health API, operation by operation: one walk over every operation of the tag, then the
bad input and the jurisdiction cases."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from fangyi.core.models import AccessLog
from fangyi.health.models import Decision, Declaration, RiskArea, RiskSettings, SelfReportLink
from fangyi.observation.models import Observation
from fangyi.people.models import Person, Place
from tests.conftest import login as conftest_login
from tests.test_api import call, schema_operations

pytestmark = pytest.mark.django_db


def login(user):
    """A logged-in client that asks for English pages (the assertions read English text)."""
    return english(conftest_login(user))


def english(client: Client) -> Client:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


MISSING = 987_654_321


def ago(days: int) -> str:
    return (timezone.localdate() - dt.timedelta(days=days)).isoformat()


def fields(data: dict) -> set[str]:
    return {e["field"] for e in data.get("errors", [])}


def test_every_operation_of_the_health_tag(admin, officer, grid_worker, health, jiwu_person):
    seen: set[tuple[str, str]] = set()
    adm, off, gw, hs, anon = (
        login(admin),
        login(officer),
        login(grid_worker),
        login(health),
        english(Client()),
    )

    def c(client, method, template, expect=200, body=None, params=None, **ids):
        return call(client, method, template, expect, body, params, seen, **ids)

    # the rules: everyone reads, the administrator writes
    assert "湖北省" in [a["name"] for a in c(off, "GET", "/api/risk-areas")["items"]]
    area = c(
        adm,
        "POST",
        "/api/risk-areas",
        201,
        {"name": "北京市", "aliases": "北京", "counts_from": "2020-06-11"},
    )
    c(
        adm,
        "PUT",
        "/api/risk-areas/{area_id}",
        body={"name": "北京市", "aliases": "北京, 北京市丰台区", "counts_from": "2020-06-11"},
        area_id=area["id"],
    )
    assert RiskArea.objects.get(pk=area["id"]).aliases == "北京, 北京市丰台区"
    c(adm, "DELETE", "/api/risk-areas/{area_id}", 204, area_id=area["id"])
    assert not RiskArea.objects.filter(pk=area["id"]).exists()
    assert "fever" in [s["code"] for s in c(off, "GET", "/api/symptoms")["items"]]
    symptom = c(
        adm, "POST", "/api/symptoms", 201, {"code": "runny_nose", "name": "流涕", "order": 90}
    )
    c(
        adm,
        "PUT",
        "/api/symptoms/{symptom_id}",
        body={"code": "runny_nose", "name": "流鼻涕", "order": 90, "is_active": False},
        symptom_id=symptom["id"],
    )
    settings = c(off, "GET", "/api/risk-settings")
    assert settings["observation_days"] == 14
    c(adm, "PUT", "/api/risk-settings", body={**settings, "travel_since": "2020-01-10"})
    assert RiskSettings.current().travel_since == dt.date(2020, 1, 10)

    # a declaration by the grid worker; the proposal comes back with its reason
    key = str(uuid.uuid4())
    body = {
        "person_id": jiwu_person.pk,
        "client_id": key,
        "temperature": "36.6",
        "temperature_method": "forehead",
        "travel_since": "2020-01-10",
        "travel": [{"place": "武汉市", "from": ago(8), "to": ago(5), "transport": "高铁"}],
        "contacts": [{"kind": "confirmed", "who": "同事", "date": ago(4)}],
    }
    proposed = c(gw, "POST", "/api/declarations/propose", 200, body)
    assert proposed["proposal"] == "central" and "武汉市" in proposed["reason"]
    decl = c(gw, "POST", "/api/declarations", 201, body)
    assert decl["proposal"] == "central"
    assert f"back from 武汉市 on {ago(5)}" in decl["proposal_reason"]
    assert decl["last_exposure"] == ago(4)
    assert c(gw, "POST", "/api/declarations", 201, body)["id"] == decl["id"]  # sent twice
    listed = c(hs, "GET", "/api/declarations", params={"awaiting": "decision"})
    assert decl["id"] in [d["id"] for d in listed["items"]]
    reads = AccessLog.objects.count()
    got = c(hs, "GET", "/api/declarations/{declaration_id}", declaration_id=decl["id"])
    assert got["travel"][0]["place"] == "武汉市"
    assert AccessLog.objects.count() == reads + 1

    # a self-report link, the public endpoints, the confirmation
    link = c(gw, "POST", "/api/self-report-links", 201, {"person_id": jiwu_person.pk})
    token = link["url"].rstrip("/").rsplit("/", 1)[1]
    assert link["url"].startswith("http") and f"/r/{token}/" in link["url"]
    assert not SelfReportLink.objects.filter(digest=token).exists()
    form = c(anon, "GET", "/api/self-report/{token}", token=token)
    assert form["given_name"] == jiwu_person.name[1:]
    assert jiwu_person.name not in str(form)
    assert "fever" in [s["code"] for s in form["symptoms"]]
    sent = c(
        anon,
        "POST",
        "/api/self-report/{token}",
        201,
        {"temperature": "36.4", "temperature_method": "armpit"},
        token=token,
    )
    assert sent["status"] == "pending"
    pending = c(gw, "GET", "/api/declarations", params={"awaiting": "confirmation"})
    assert sent["id"] in [d["id"] for d in pending["items"]]
    confirmed = c(
        gw,
        "POST",
        "/api/declarations/{declaration_id}/confirm",
        body={"correction": {"temperature": "36.9", "temperature_method": "ear"}},
        declaration_id=sent["id"],
    )
    assert (confirmed["status"], confirmed["temperature"], confirmed["confirmed_by_id"]) == (
        "confirmed",
        "36.9",
        grid_worker.pk,
    )

    # health staff decide: centralised observation at the district's quarantine point
    site = Place.objects.get(name="西乡塘区集中隔离点")
    decision = c(
        hs,
        "POST",
        "/api/decisions",
        201,
        {
            "person_id": jiwu_person.pk,
            "declaration_id": decl["id"],
            "outcome": "central",
            "place_id": site.pk,
            "client_id": str(uuid.uuid4()),
        },
    )
    assert (decision["proposal"], decision["outcome"], decision["decided_by_id"]) == (
        "central",
        "central",
        health.pk,
    )
    obs = Observation.objects.get(decision_id=decision["id"])
    assert obs.ends == dt.date.fromisoformat(ago(4)) + dt.timedelta(days=14)
    decisions = c(hs, "GET", "/api/decisions", params={"person_id": jiwu_person.pk})
    assert [d["id"] for d in decisions["items"]] == [decision["id"]]
    listed = c(hs, "GET", "/api/declarations", params={"awaiting": "decision"})
    assert decl["id"] not in [d["id"] for d in listed["items"]]

    assert seen == schema_operations(off, {"health"})


# --- bad input ---------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["3.5", "375"])
def test_an_impossible_temperature_names_the_field(grid_worker, jiwu_person, value):
    before = Declaration.objects.count()
    data = call(
        login(grid_worker),
        "POST",
        "/api/declarations",
        400,
        {"person_id": jiwu_person.pk, "temperature": value, "temperature_method": "ear"},
    )
    assert fields(data) == {"temperature"}
    assert Declaration.objects.count() == before


def test_travel_dates_are_checked_naming_the_row(grid_worker, jiwu_person):
    tomorrow = (timezone.localdate() + dt.timedelta(days=1)).isoformat()
    data = call(
        login(grid_worker),
        "POST",
        "/api/declarations",
        400,
        {
            "person_id": jiwu_person.pk,
            "temperature": "36.5",
            "temperature_method": "ear",
            "travel": [
                {"place": "桂林", "from": ago(3), "to": ago(1)},
                {"place": "武汉", "from": ago(2), "to": tomorrow},
                {"place": "温州", "from": ago(1), "to": ago(4)},
            ],
            "contacts": [{"kind": "suspected", "date": tomorrow}],
        },
    )
    assert fields(data) == {"travel.1.to", "travel.2.to", "contacts.0.date"}
    # A date that is no date at all is refused by the schema, naming the row too.
    data = call(
        login(grid_worker),
        "POST",
        "/api/declarations",
        422,
        {"person_id": jiwu_person.pk, "travel": [{"place": "桂林", "from": "2020-02-30"}]},
    )
    assert fields(data) == {"travel.0.from"}


def test_a_visit_of_another_household_names_the_person(grid_worker, jiwu_household, jiwu_person):
    from tests.test_health import _visit

    other = jiwu_household.node.households.exclude(pk=jiwu_household.pk).first()
    visit = _visit(grid_worker, other)
    data = call(
        login(grid_worker),
        "POST",
        "/api/declarations",
        400,
        {"person_id": jiwu_person.pk, "visit_id": visit.pk},
    )
    assert fields(data) == {"person"}
    own = _visit(grid_worker, jiwu_household)
    data = call(
        login(grid_worker),
        "POST",
        "/api/declarations",
        201,
        {
            "person_id": jiwu_person.pk,
            "visit_id": own.pk,
            "temperature": "36.5",
            "temperature_method": "ear",
        },
    )
    assert (data["visit_id"], data["source"]) == (own.pk, "visit")


def test_central_without_a_place_and_a_change_without_a_reason(health, grid_worker, jiwu_person):
    decl = call(
        login(grid_worker),
        "POST",
        "/api/declarations",
        201,
        {
            "person_id": jiwu_person.pk,
            "temperature": "36.5",
            "temperature_method": "ear",
            "contacts": [{"kind": "confirmed", "date": ago(1)}],
        },
    )
    hs = login(health)
    base = {"person_id": jiwu_person.pk, "declaration_id": decl["id"]}
    assert fields(call(hs, "POST", "/api/decisions", 400, {**base, "outcome": "central"})) == {
        "place"
    }
    assert fields(call(hs, "POST", "/api/decisions", 400, {**base, "outcome": "cleared"})) == {
        "reason"
    }
    assert not Decision.objects.filter(person=jiwu_person).exists()


def test_risk_configuration_is_validated(admin):
    adm = login(admin)
    data = call(
        adm,
        "POST",
        "/api/risk-areas",
        400,
        {"name": "", "counts_from": "2020-02-01", "counts_until": "2020-01-01"},
    )
    assert fields(data) == {"name", "counts_until"}
    data = call(adm, "POST", "/api/symptoms", 400, {"code": "Not a slug!", "name": "x"})
    assert fields(data) == {"code"}
    data = call(
        adm, "PUT", "/api/risk-settings", 400, {"observation_days": 0, "fever_threshold": 35}
    )
    assert fields(data) == {"observation_days", "fever_threshold"}
    assert RiskSettings.current().observation_days == 14


# --- who may do what ---------------------------------------------------------------------------


def test_only_administrators_configure(officer, health, supervisor):
    for user in (officer, health, supervisor):
        client = login(user)
        call(client, "POST", "/api/risk-areas", 403, {"name": "x", "counts_from": "2020-01-01"})
        area = RiskArea.objects.first()
        call(client, "DELETE", f"/api/risk-areas/{area.pk}", 403)
        call(client, "PUT", "/api/risk-settings", 403, {"observation_days": 7})
    assert RiskSettings.current().observation_days == 14


def test_only_health_staff_decide(officer, supervisor, jiwu_person):
    for user in (officer, supervisor):
        call(
            login(user),
            "POST",
            "/api/decisions",
            403,
            {"person_id": jiwu_person.pk, "outcome": "cleared", "reason": "x"},
        )


def test_outside_the_jurisdiction_is_not_found(outsider, health, officer, jiwu_person):
    decl = Declaration.objects.filter(person__node__name="机务小区").first()
    out = login(outsider)
    a = call(out, "GET", f"/api/declarations/{decl.pk}", 404)
    b = call(out, "GET", f"/api/declarations/{MISSING}", 404)
    assert a == b
    assert decl.pk not in [d["id"] for d in call(out, "GET", "/api/declarations")["items"]]
    call(out, "POST", "/api/declarations", 404, {"person_id": jiwu_person.pk})
    call(out, "POST", "/api/self-report-links", 404, {"person_id": jiwu_person.pk})
    pending = Declaration.objects.filter(status="pending").first()
    call(out, "POST", f"/api/declarations/{pending.pk}/confirm", 404, {})
    # Health staff hold the district, not 中山小區 in 青秀區.
    zhongshan = Person.objects.filter(node__name="中山小区").first()
    data = call(
        login(health),
        "POST",
        "/api/decisions",
        404,
        {"person_id": zhongshan.pk, "outcome": "cleared", "reason": "x"},
    )
    assert fields(data) == {"person_id"}


def test_a_bad_public_link_answers_404_the_same_way(officer, jiwu_person):
    client = login(officer)
    first = call(client, "POST", "/api/self-report-links", 201, {"person_id": jiwu_person.pk})
    call(client, "POST", "/api/self-report-links", 201, {"person_id": jiwu_person.pk})
    old = first["url"].rstrip("/").rsplit("/", 1)[1]
    anon = english(Client())
    before = Declaration.objects.count()
    a = call(anon, "GET", f"/api/self-report/{old}", 404)
    b = call(anon, "GET", "/api/self-report/nothing-like-a-token-at-all", 404)
    assert a == b
    call(
        anon,
        "POST",
        f"/api/self-report/{old}",
        404,
        {"temperature": "36.5", "temperature_method": "ear"},
    )
    assert Declaration.objects.count() == before
