"""The quarantine API: every operation of the tag answers, errors name their fields, scoping."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.utils import timezone

from fangyi.core.models import AccessLog, User
from fangyi.observation.models import FollowUp, Observation
from fangyi.people.models import Person
from fangyi.quarantine.models import Bed, Placement, Site
from tests.conftest import login
from tests.test_api import call, field_names, schema_operations

pytestmark = pytest.mark.django_db


@pytest.fixture
def dingdian(db) -> User:
    return User.objects.get(username="dingdian")


def test_every_quarantine_operation_answers(health, admin, dingdian):
    seen: set[tuple[str, str]] = set()
    h, a, d = login(health), login(admin), login(dingdian)

    def c(client, method, template, expect=200, body=None, params=None, **ids):
        return call(client, method, template, expect, body, params, seen, **ids)

    hotel = Site.objects.get(place__name="湖北籍旅客定点酒店")
    point = Site.objects.get(place__name="西乡塘区集中隔离点")
    sites = c(h, "GET", "/api/sites")
    assert {s["name"] for s in sites} == {"湖北籍旅客定点酒店", "西乡塘区集中隔离点"}
    one = c(h, "GET", "/api/sites/{site_id}", site_id=hotel.pk)
    assert one["groups"] == ["hubei"] and one["occupied"] == 3
    c(
        a,
        "PUT",
        "/api/sites/{site_id}",
        body={"groups": ["close_contact", "hubei"], "latitude": "22.8", "longitude": "108.3"},
        site_id=point.pk,
    )
    made = c(
        a,
        "POST",
        "/api/sites/{site_id}/rooms",
        201,
        {"rooms": [{"number": "801", "floor": 8, "beds": 3}]},
        site_id=point.pk,
    )
    assert made == {"rooms": 1, "beds": 3}
    beds = c(d, "GET", "/api/sites/{site_id}/beds", site_id=hotel.pk)
    assert len(beds) == 60
    cleaning = next(b for b in beds if b["state"] == "cleaning")
    assert (
        c(d, "POST", "/api/beds/{bed_id}/state", body={"state": "free"}, bed_id=cleaning["id"])[
            "state"
        ]
        == "free"
    )
    traveller = Person.objects.get(name="陈志强")
    choices = c(
        h, "GET", "/api/sites/choices", params={"group": "hubei", "person_id": traveller.pk}
    )
    assert [x["name"] for x in choices][0] == "西乡塘区集中隔离点"  # most free beds first
    placed = c(
        h,
        "POST",
        "/api/placements",
        201,
        {
            "person_id": traveller.pk,
            "kind": "site",
            "site_id": hotel.pk,
            "group": "hubei",
            "transport": "转运车",
            "client_id": str(uuid.uuid4()),
        },
    )
    assert placed["status"] == "reserved" and placed["bed"]
    assert c(h, "GET", "/api/placements/{placement_id}", placement_id=placed["id"])["id"]
    steps = c(h, "GET", "/api/placements/{placement_id}/steps", placement_id=placed["id"])
    assert steps == {"status": "reserved", "allowed_steps": ["arrive", "transfer", "cancel"]}
    assert any(p["id"] == placed["id"] for p in c(d, "GET", "/api/placements")["items"])
    arrived = c(
        d, "POST", "/api/placements/{placement_id}/arrive", body={}, placement_id=placed["id"]
    )
    assert arrived["status"] == "active" and arrived["observation_id"]
    moved = c(
        h,
        "POST",
        "/api/placements/{placement_id}/transfer",
        body={"site_id": point.pk, "transport": "救护车"},
        placement_id=placed["id"],
    )
    assert moved["site_id"] == point.pk and moved["previous_id"] == placed["id"]
    cancelled = c(
        h,
        "POST",
        "/api/placements/{placement_id}/cancel",
        body={"reason": "改为居家"},
        placement_id=moved["id"],
    )
    assert cancelled["status"] == "cancelled"
    # Release: someone in quarantine at the hotel whose observation has run its course.
    p = Placement.objects.filter(site=hotel, status="active").select_related("observation").first()
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    Observation.objects.filter(pk=p.observation_id).update(ends=yesterday)
    FollowUp.objects.filter(observation=p.observation).update(status="seen_well")
    released = c(h, "POST", "/api/placements/{placement_id}/release", placement_id=p.pk)
    assert released["status"] == "released"
    assert Bed.objects.get(pk=p.bed_id).state == "cleaning"
    board = c(h, "GET", "/api/occupancy")
    assert board[-1]["site_id"] is None and board[-1]["beds"] == 183
    assert seen == schema_operations(h, {"quarantine"})


def test_errors_name_their_fields(health):
    client = login(health)
    hotel = Site.objects.get(place__name="湖北籍旅客定点酒店")
    point = Site.objects.get(place__name="西乡塘区集中隔离点")
    traveller = Person.objects.get(name="陈志强")
    body = {"person_id": traveller.pk, "kind": "site", "site_id": point.pk, "group": "hubei"}
    data = call(client, "POST", "/api/placements", 400, body)
    assert field_names(data) == {"site_id"}
    data = call(client, "POST", "/api/placements", 400, {**body, "site_id": hotel.pk, "group": "x"})
    assert field_names(data) == {"group"}
    Bed.objects.filter(site=hotel, state="free").update(state="out_of_service")
    data = call(client, "POST", "/api/placements", 400, {**body, "site_id": hotel.pk})
    assert field_names(data) == {"site_id"}
    assert not Placement.objects.filter(person=traveller).exists()
    p = Placement.objects.filter(site=hotel, status="active").first()
    data = call(client, "POST", f"/api/placements/{p.pk}/release", 400)
    assert field_names(data) == {"ends"}
    bed = Bed.objects.filter(site=hotel, state="occupied").first()
    sup = login(User.objects.get(username="dingdian"))
    data = call(sup, "POST", f"/api/beds/{bed.pk}/state", 400, {"state": "free"})
    assert field_names(data) == {"state"}


def test_another_sites_records_answer_like_missing_ones(hotel_clerk):
    client = login(hotel_clerk)
    hotel = Site.objects.get(place__name="湖北籍旅客定点酒店")
    p = Placement.objects.filter(site=hotel).first()
    logged = AccessLog.objects.count()
    for path in (f"/api/sites/{hotel.pk}", f"/api/placements/{p.pk}"):
        a, b = client.get(path), client.get(path.rsplit("/", 1)[0] + "/987654321")
        assert a.status_code == b.status_code == 404
        assert a.json() == b.json()
    assert AccessLog.objects.count() == logged
    assert client.get("/api/sites").json() == []
    assert client.get("/api/occupancy").json()[-1]["beds"] == 0
