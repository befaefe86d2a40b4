"""The guests API: every operation of the tag walked, bad fields named by their API names."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.utils import timezone

from fangyi.core.models import AccessLog
from fangyi.guests.models import GuestReport, GuestSettings
from fangyi.people.models import Person
from tests.conftest import english_login as login
from tests.test_api import call, field_names, schema_operations
from tests.test_guests import designated_site, resident_id

pytestmark = pytest.mark.django_db


def body(**over) -> dict:
    data = {
        "name": "接口旅客",
        "id_type": "resident",
        "id_number": resident_id("19860707"),
        "phone": "13907719999",
        "from_where": "武汉市",
        "travel_since": (timezone.localdate() - dt.timedelta(days=3)).isoformat(),
        "room": "512",
    }
    data.update(over)
    return data


def test_every_guests_operation_answers(hotel_clerk, officer, admin):
    seen: set[tuple[str, str]] = set()
    desk, cop, boss = login(hotel_clerk), login(officer), login(admin)
    site = designated_site()

    def c(client, method, template, expect=200, payload=None, params=None, **ids):
        return call(client, method, template, expect, payload, params, seen, **ids)

    key = str(uuid.uuid4())
    made = c(desk, "POST", "/api/guest-reports", 201, body(client_id=key))
    assert made["flagged"] is True and made["status"] == "flagged"
    assert made["arrived_on"] == timezone.localdate().isoformat()
    assert made["flag_reason"] is None  # the hotel sees flagged yes/no only
    again = c(desk, "POST", "/api/guest-reports", 201, body(client_id=key))
    assert again["id"] == made["id"] and GuestReport.objects.filter(client_id=key).count() == 1
    plain = c(desk, "POST", "/api/guest-reports", 201, body(name="本地客", from_where="南宁市"))
    assert plain["flagged"] is False and plain["status"] == "reported"

    mine = c(desk, "GET", "/api/guest-reports", params={"day": timezone.localdate().isoformat()})
    assert {made["id"], plain["id"]} <= {r["id"] for r in mine["items"]}
    todo = c(cop, "GET", "/api/guest-reports", params={"todo": "true"})
    ids = [r["id"] for r in todo["items"]]
    assert made["id"] in ids and plain["id"] not in ids
    reads = AccessLog.objects.filter(object_type="guestreport", via="api").count()
    one = c(cop, "GET", "/api/guest-reports/{report_id}", report_id=made["id"])
    assert "湖北省" in one["flag_reason"]
    assert AccessLog.objects.filter(object_type="guestreport", via="api").count() == reads + 1

    registered = c(
        cop,
        "POST",
        "/api/guest-reports/{report_id}/register",
        payload={"temperature": 36.7, "temperature_method": "ear"},
        report_id=made["id"],
    )
    assert registered["status"] == "registered" and registered["person_id"]
    referred = c(
        cop,
        "POST",
        "/api/guest-reports/{report_id}/refer",
        payload={"site_id": site.pk, "transport": "社区专车"},
        report_id=made["id"],
    )
    assert referred["status"] == "referred" and referred["site_id"] == site.pk
    assert referred["confirm_by"] and referred["placement_id"]

    cleared = c(
        cop,
        "POST",
        "/api/guest-reports/{report_id}/clear",
        payload={"reason": "经核实从未离开南宁"},
        report_id=c(desk, "POST", "/api/guest-reports", 201, body(name="误报客"))["id"],
    )
    assert cleared["status"] == "cleared"

    settings = c(boss, "GET", "/api/guest-settings")
    assert settings == {
        "retention_days": GuestSettings.get().retention_days,
        "confirm_hours": GuestSettings.get().confirm_hours,
    }
    changed = c(
        boss, "PUT", "/api/guest-settings", payload={"retention_days": 10, "confirm_hours": 4}
    )
    assert changed == {"retention_days": 10, "confirm_hours": 4}

    assert seen == schema_operations(cop, {"guests"})


def test_bad_fields_are_named_and_nothing_is_stored(hotel_clerk, officer):
    desk = login(hotel_clerk)
    before = GuestReport.objects.count()

    def post(payload, expect):
        r = desk.post("/api/guest-reports", payload, content_type="application/json")
        assert r.status_code == expect, r.content
        return field_names(r.json())

    number = resident_id("19860707")
    wrong = number[:17] + ("1" if number[17] != "1" else "2")
    assert post(body(id_number=wrong), 400) == {"id_number"}
    tomorrow = (timezone.localdate() + dt.timedelta(days=1)).isoformat()
    assert post(body(arrived_on=tomorrow), 400) == {"arrived_on"}
    assert post(
        body(
            travel_since=timezone.localdate().isoformat(),
            arrived_on=(timezone.localdate() - dt.timedelta(days=1)).isoformat(),
        ),
        400,
    ) == {"travel_since"}
    assert post(body(from_where=""), 400) == {"from_where"}
    assert GuestReport.objects.count() == before

    cop = login(officer)
    assert (
        cop.post("/api/guest-reports", body(), content_type="application/json").status_code == 403
    )
    made = desk.post("/api/guest-reports", body(), content_type="application/json").json()
    r = cop.post(
        f"/api/guest-reports/{made['id']}/register",
        {"temperature": 50},
        content_type="application/json",
    )
    assert r.status_code == 400 and field_names(r.json()) == {"temperature"}
    assert not Person.objects.filter(id_number=made["id_number"]).exists()  # rolled back
    r = cop.post(
        f"/api/guest-reports/{made['id']}/refer",
        {"site_id": designated_site().pk},
        content_type="application/json",
    )
    assert r.status_code == 400 and field_names(r.json()) == {"person"}
    assert GuestReport.objects.get(pk=made["id"]).status == "flagged"
