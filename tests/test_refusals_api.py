"""The refusals API, operation by operation, asserting on what is stored as well as statuses."""

from __future__ import annotations

import uuid

import pytest
from django.utils import timezone

from fangyi.core.models import AccessLog
from fangyi.enforcement.models import LegalBasis
from fangyi.quarantine.models import Persuasion, Placement, Refusal
from tests.conftest import english_login as login  # the assertions read English
from tests.test_api import call, field_names, schema_operations
from tests.test_refusals import fill, make_site, reserve

pytestmark = pytest.mark.django_db


def _people(jiwu, count):
    from fangyi.people.models import Person

    taken = set(Placement.objects.values_list("person_id", flat=True))
    return list(Person.objects.filter(node=jiwu).exclude(pk__in=taken).order_by("pk")[:count])


def test_every_refusals_operation_answers(grid_worker, officer, health, supervisor, jiwu):
    seen: set[tuple[str, str]] = set()
    gw, police, doc = login(grid_worker), login(officer), login(health)
    site, group = make_site("接口隔离点", beds=4)
    one, two, three = (reserve(p, site, group, health) for p in _people(jiwu, 3))

    def c(client, method, template, expect=200, body=None, params=None, **ids):
        return call(client, method, template, expect, body, params, seen, **ids)

    key = str(uuid.uuid4())
    body = {"reason": "家中有老人需要照顾", "client_id": key}
    made = c(gw, "POST", "/api/placements/{placement_id}/refusals", 201, body, placement_id=one.pk)
    assert made["status"] == "open" and made["placement_id"] == one.pk
    assert made["site_name"] == "接口隔离点" and made["person_name"] == one.person.name
    again = c(gw, "POST", "/api/placements/{placement_id}/refusals", 201, body, placement_id=one.pk)
    assert again["id"] == made["id"] and Refusal.objects.filter(client_id=key).count() == 1
    one.refresh_from_db()
    assert one.status == "refused" and one.bed.state == "free"
    rid = made["id"]

    listed = c(gw, "GET", "/api/refusals", params={"status": "open"})
    assert rid in [r["id"] for r in listed["items"]]

    attempt = c(
        gw,
        "POST",
        "/api/refusals/{refusal_id}/attempts",
        201,
        {"at": timezone.now().isoformat(), "explained": "讲解了规定", "outcome": "still_refuses"},
        refusal_id=rid,
    )
    assert attempt["by_id"] == grid_worker.pk and attempt["outcome"] == "still_refuses"

    called = c(gw, "POST", "/api/refusals/{refusal_id}/call-police", body={}, refusal_id=rid)
    assert called["status"] == "open"
    twice = c(gw, "POST", "/api/refusals/{refusal_id}/call-police", body={}, refusal_id=rid)
    assert twice["id"] == called["id"]

    reads = AccessLog.objects.count()
    detail = c(gw, "GET", "/api/refusals/{refusal_id}", refusal_id=rid)
    assert AccessLog.objects.count() == reads + 1
    assert [a["explained"] for a in detail["attempts"]] == ["讲解了规定"]
    assert detail["support_request_id"] == called["id"] and detail["support_status"] == "open"

    placed = c(gw, "POST", "/api/refusals/{refusal_id}/agree", body={}, refusal_id=rid)
    assert placed["status"] == "reserved" and placed["site_id"] == site.pk
    assert Refusal.objects.get(pk=rid).new_placement_id == placed["id"]

    second = c(
        gw,
        "POST",
        "/api/placements/{placement_id}/refusals",
        201,
        {"reason": "不去"},
        placement_id=two.pk,
    )
    home = c(
        doc,
        "POST",
        "/api/refusals/{refusal_id}/allow-home",
        body={"reason": "独居,条件符合"},
        refusal_id=second["id"],
    )
    assert home["kind"] == "home" and home["status"] == "active"

    third = c(
        gw,
        "POST",
        "/api/placements/{placement_id}/refusals",
        201,
        {"reason": "不去"},
        placement_id=three.pk,
    )
    law = LegalBasis.objects.filter(title__contains="传染病防治法").get()
    referred = c(
        police,
        "POST",
        "/api/refusals/{refusal_id}/refer",
        body={"measure": "order_isolate", "legal_basis_ids": [law.pk]},
        refusal_id=third["id"],
    )
    assert referred["measure"] == "order_isolate"
    assert Refusal.objects.get(pk=third["id"]).status == "enforcement"

    notice = c(gw, "POST", "/api/placements/{placement_id}/notice", placement_id=placed["id"])
    assert notice["name"] == one.person.name and notice["place_name"] == "接口隔离点"
    assert notice["selfreport_url"].startswith("http://testserver/r/")
    assert "传染病防治法" in notice["legal_bases"][0]["title"]
    token = notice["selfreport_url"].rsplit("/r/", 1)[1].strip("/")
    assert login(grid_worker).get(f"/r/{token}/").status_code == 200

    assert seen == schema_operations(login(supervisor), {"refusals"})


def test_bad_input_names_its_field_and_stores_nothing(grid_worker, officer, health, jiwu):
    client = login(grid_worker)
    site, group = make_site("坏输入隔离点", beds=1)
    (person,) = _people(jiwu, 1)
    placement = reserve(person, site, group, health)
    empty = client.post(
        f"/api/placements/{placement.pk}/refusals", {"reason": " "}, content_type="application/json"
    )
    assert empty.status_code == 400 and field_names(empty.json()) == {"reason"}
    made = client.post(
        f"/api/placements/{placement.pk}/refusals",
        {"reason": "不去"},
        content_type="application/json",
    ).json()
    refused = client.post(
        f"/api/placements/{placement.pk}/refusals",
        {"reason": "不去"},
        content_type="application/json",
    )
    assert refused.status_code == 409 and field_names(refused.json()) == {"placement"}
    future = (timezone.now() + timezone.timedelta(hours=2)).isoformat()
    bad = client.post(
        f"/api/refusals/{made['id']}/attempts",
        {"at": future, "explained": "", "outcome": "agreed"},
        content_type="application/json",
    )
    assert bad.status_code == 400 and field_names(bad.json()) == {"at", "explained"}
    assert not Persuasion.objects.filter(refusal_id=made["id"]).exists()
    assert (
        client.post(
            f"/api/refusals/{made['id']}/allow-home",
            {"reason": "x"},
            content_type="application/json",
        ).status_code
        == 403
    )
    assert (
        client.post(
            f"/api/refusals/{made['id']}/refer",
            {"measure": "order_isolate", "legal_basis_ids": []},
            content_type="application/json",
        ).status_code
        == 403
    )
    no_basis = login(officer).post(
        f"/api/refusals/{made['id']}/refer",
        {"measure": "order_isolate", "legal_basis_ids": [987654]},
        content_type="application/json",
    )
    assert no_basis.status_code == 400 and field_names(no_basis.json()) == {"legal_basis_ids"}
    fill(site, group, health)
    full = client.post(f"/api/refusals/{made['id']}/agree", {}, content_type="application/json")
    assert full.status_code == 400 and field_names(full.json()) == {"site"}
    assert Refusal.objects.get(pk=made["id"]).status == "open"
    assert not Placement.objects.filter(person=person, status="reserved").exists()


def test_outside_answers_like_missing(grid_worker, outsider, health, jiwu):
    site, group = make_site("范围隔离点", beds=1)
    (person,) = _people(jiwu, 1)
    placement = reserve(person, site, group, health)
    made = (
        login(grid_worker)
        .post(
            f"/api/placements/{placement.pk}/refusals",
            {"reason": "不去"},
            content_type="application/json",
        )
        .json()
    )
    other = login(outsider)
    a, b = other.get(f"/api/refusals/{made['id']}"), other.get("/api/refusals/987654321")
    assert a.status_code == b.status_code == 404 and a.json() == b.json()
    listed = other.get("/api/refusals").json()
    assert made["id"] not in [r["id"] for r in listed["items"]]
    notice = other.post(f"/api/placements/{placement.pk}/notice")
    assert notice.status_code == 404
