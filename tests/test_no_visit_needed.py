"""Nothing waits for someone to open a page (issue 12, item 11).

A quarantine site registered by the administrator could not be set up until one of its staff
had opened a page (its Site row was made on first use); a new observation got today's
follow-up only when its worker opened the day list.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from fangyi.observation.models import FollowUp
from fangyi.observation.services import observation_start_unchecked
from fangyi.quarantine.models import Site
from tests.conftest import english_login

pytestmark = pytest.mark.django_db


def test_a_new_quarantine_point_is_configured_at_once_by_the_administrator(admin, jiwu):
    client = english_login(admin)
    place = client.post(
        "/api/places",
        {
            "kind": "quarantine_site",
            "name": "新隔离点",
            "node_id": jiwu.pk,
            "address": "新路1号",
            "capacity": 20,
        },
        content_type="application/json",
    )
    assert place.status_code == 201, place.content
    site = Site.objects.get(place_id=place.json()["id"])  # nobody has opened a page
    assert site.node_id == jiwu.pk
    configured = client.put(
        f"/api/sites/{site.pk}",
        {"groups": ["close_contact"], "latitude": "22.8", "longitude": "108.3"},
        content_type="application/json",
    )
    assert configured.status_code == 200, configured.content
    assert configured.json()["groups"] == ["close_contact"]
    rooms = client.post(
        f"/api/sites/{site.pk}/rooms",
        {"rooms": [{"number": "101", "beds": 2}]},
        content_type="application/json",
    )
    assert rooms.status_code == 201, rooms.content
    assert site.pk in [s["id"] for s in client.get("/api/sites").json()]


def test_an_ordinary_place_gets_no_site(admin, jiwu):
    response = english_login(admin).post(
        "/api/places",
        {"kind": "fever_clinic", "name": "新门诊", "node_id": jiwu.pk, "address": "门诊路3号"},
        content_type="application/json",
    )
    assert response.status_code == 201
    assert not Site.objects.filter(place_id=response.json()["id"]).exists()


def test_a_new_observation_has_todays_follow_up_before_anyone_opens_the_day_list(
    grid_worker, jiwu_person
):
    today = timezone.localdate()
    observation = observation_start_unchecked(
        actor=None,
        person=jiwu_person,
        kind="home",
        last_exposure=today - dt.timedelta(days=1),
        responsible=grid_worker,
    )
    due = FollowUp.objects.filter(observation=observation, due=today)
    assert due.count() == observation.per_day
    assert {f.status for f in due} == {"due"}


def test_a_place_moved_to_another_node_moves_its_site(admin, jiwu, nantie4):
    from fangyi.people.models import Place

    place = Place.objects.create(kind="quarantine_site", name="搬迁点", node=jiwu, address="x")
    place.node = nantie4
    place.save()
    assert Site.objects.get(place=place).node_id == nantie4.pk
