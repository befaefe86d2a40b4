"""The daily checks at a quarantine site are the person's follow-ups, and the site's staff
record them: those of the people at their own site, and nobody else's."""

from __future__ import annotations

from django.utils import timezone

from fangyi.core.models import User
from fangyi.observation.models import FollowUp, FollowUpStatus, ObservationStatus
from fangyi.observation.services import followups_generate
from tests.conftest import login


def _due_at(place_name: str | None) -> FollowUp:
    today = timezone.localdate()
    qs = FollowUp.objects.filter(
        observation__status=ObservationStatus.ACTIVE, due=today, status=FollowUpStatus.DUE
    )
    qs = (
        qs.filter(observation__place__name=place_name)
        if place_name
        else qs.filter(observation__place__isnull=True)
    )
    return qs.select_related("observation").first()


def test_site_staff_record_the_checks_of_people_at_their_site(db):
    followups_generate(timezone.localdate())
    dingdian = User.objects.get(username="dingdian")
    at_site = _due_at(dingdian.place.name)
    at_home = _due_at(None)
    assert at_site is not None and at_home is not None
    client = login(dingdian)

    page = client.get(f"/followups/{at_site.pk}/")
    assert page.status_code == 200
    r = client.post(f"/followups/{at_site.pk}/", {"status": "seen_well", "temperature": "36.6"})
    assert r.status_code == 302
    at_site.refresh_from_db()
    assert at_site.status == FollowUpStatus.SEEN_WELL and at_site.recorded_by == dingdian

    # Someone observed at home is not the site's: it answers like a missing follow-up.
    assert client.get(f"/followups/{at_home.pk}/").status_code == 404
    r = client.post(f"/followups/{at_home.pk}/", {"status": "seen_well", "temperature": "36.6"})
    assert r.status_code == 404
    at_home.refresh_from_db()
    assert at_home.status == FollowUpStatus.DUE

    # The API lists only the site's people.
    listed = client.get("/api/followups?limit=500").json()["items"]
    assert listed and all(
        FollowUp.objects.get(pk=f["id"]).observation.place_id == dingdian.place_id for f in listed
    )
    assert client.get(f"/api/followups/{at_home.pk}").status_code == 404
    # ...and nothing else of the person: the observation itself stays out of reach.
    assert client.get(f"/observations/{at_site.observation_id}/").status_code == 403


def test_the_ordinary_hotel_s_clerk_records_nothing(db):
    followups_generate(timezone.localdate())
    clerk = User.objects.get(username="jiudian")
    any_due = FollowUp.objects.filter(due=timezone.localdate()).first()
    client = login(clerk)
    assert client.get("/api/followups").json()["count"] == 0
    assert client.get(f"/followups/{any_due.pk}/").status_code == 404
