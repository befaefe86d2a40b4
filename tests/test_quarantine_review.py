"""What a review of issue 5 (quarantine sites, placements, refusals, hotel guests, and the
follow-ups of people in quarantine) found, pinned down: two officers acting on one guest at
once, ID numbers that cannot be probed, referrals followed through a transfer, the police's
state kept off the hotel's pages, who reads the names at a site, reads that reach the access
log, arrival times, and where the follow-ups of a person who left a site go."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from fangyi.core.errors import Conflict, DomainError
from fangyi.core.models import AuditEntry
from fangyi.guests import services as guests
from fangyi.guests.models import GuestReport, GuestStatus
from fangyi.people.models import Person
from fangyi.quarantine.models import Bed, Placement, PlacementStatus, Site
from tests.conftest import english_login, login
from tests.test_guests import designated_site, guest, resident_id

pytestmark = pytest.mark.django_db


def registered(hotel_clerk, officer) -> GuestReport:
    report = guests.guest_report(actor=hotel_clerk, data=guest())
    guests.guest_register(actor=officer, report=report, temperature="36.6")
    return report


# --- 1. a clear racing a referral does not lose the referral ---------------------------------


def test_a_clear_on_a_stale_copy_after_a_referral_is_refused(hotel_clerk, officer):
    site = designated_site()
    report = registered(hotel_clerk, officer)
    first = GuestReport.objects.get(pk=report.pk)  # two requests load the report at once
    second = GuestReport.objects.get(pk=report.pk)
    guests.guest_refer(actor=officer, report=first, site=site)
    with pytest.raises(Conflict) as exc:
        guests.guest_clear(actor=officer, report=second, reason="核實非風險")
    assert "status" in exc.value.errors
    report.refresh_from_db()
    assert report.status == GuestStatus.REFERRED and report.placement_id is not None
    assert Placement.objects.get(pk=report.placement_id).status == PlacementStatus.RESERVED


def test_a_referral_on_a_stale_copy_after_a_clear_reserves_no_bed(hotel_clerk, officer):
    site = designated_site()
    report = registered(hotel_clerk, officer)
    first = GuestReport.objects.get(pk=report.pk)
    second = GuestReport.objects.get(pk=report.pk)
    guests.guest_clear(actor=officer, report=first, reason="核實非風險")
    with pytest.raises(Conflict):
        guests.guest_refer(actor=officer, report=second, site=site)
    report.refresh_from_db()
    assert report.status == GuestStatus.CLEARED and report.placement_id is None
    assert not Placement.objects.filter(person=report.person).exists()


def test_a_second_registration_on_a_stale_copy_is_refused(hotel_clerk, officer):
    report = guests.guest_report(actor=hotel_clerk, data=guest())
    stale = GuestReport.objects.get(pk=report.pk)
    guests.guest_register(actor=officer, report=report, temperature="36.6")
    with pytest.raises(Conflict):
        guests.guest_register(actor=officer, report=stale, temperature="36.6")


# --- 5. an officer cannot probe ID numbers through the registration ---------------------------


def elsewhere(officer) -> Person:
    path = officer.nodes.first().path
    return (
        Person.objects.filter(id_type="resident")
        .exclude(id_number="")
        .exclude(node__path__startswith=path)
        .first()
    )


def test_a_wrong_temperature_is_refused_before_the_registry_is_looked_at(hotel_clerk, officer):
    other = elsewhere(officer)
    report = guests.guest_report(actor=hotel_clerk, data=guest())
    answers = set()
    for number in (other.id_number, resident_id("19700101")):
        with pytest.raises(DomainError) as exc:
            guests.guest_register(actor=officer, report=report, temperature="99", id_number=number)
        answers.add((type(exc.value), tuple(exc.value.errors)))
    assert answers == {(DomainError, ("temperature",))}


def test_a_person_of_another_jurisdiction_is_not_named_as_such(hotel_clerk, officer):
    other = elsewhere(officer)
    report = guests.guest_report(actor=hotel_clerk, data=guest())
    people = Person.objects.count()
    with pytest.raises(DomainError) as exc:
        guests.guest_register(
            actor=officer, report=report, temperature="36.6", id_number=other.id_number
        )
    assert type(exc.value) is DomainError and set(exc.value.errors) == {"id_number"}
    assert "jurisdiction" not in str(exc.value.errors).lower()
    report.refresh_from_db()
    assert report.status == GuestStatus.FLAGGED and report.person is None
    assert Person.objects.count() == people
    assert AuditEntry.objects.filter(action="fangyi.guestreport.register_refused").count() == 1


# --- 7. a referral transferred to another site still arrives --------------------------------


def test_a_referral_transferred_and_arrived_elsewhere_is_not_overdue(
    hotel_clerk, officer, supervisor
):
    from fangyi.quarantine import services as quarantine

    site = designated_site()
    report = registered(hotel_clerk, officer)
    guests.guest_refer(actor=officer, report=report, site=site)
    report.refresh_from_db()
    point = Site.objects.get(place__name="西鄉塘區集中隔離點")
    point.groups.add(report.placement.group)
    moved = quarantine.placement_transfer(actor=supervisor, placement=report.placement, site=point)
    quarantine.placement_arrive(actor=supervisor, placement=moved)
    out = guests.guests_check(timezone.now() + dt.timedelta(hours=10))
    report.refresh_from_db()
    assert report.status == GuestStatus.ARRIVED and report.overdue_at is None
    assert out["arrived"] == 1 and out["overdue"] == 0


# --- 8. the hotel does not see the police's follow-up state ----------------------------------


def test_the_hotel_does_not_see_that_the_arrival_was_not_confirmed(hotel_clerk, officer):
    site = designated_site()
    report = registered(hotel_clerk, officer)
    guests.guest_refer(actor=officer, report=report, site=site)
    guests.guests_check(timezone.now() + dt.timedelta(hours=10))
    report.refresh_from_db()
    assert report.overdue_at
    badge = "Arrival not confirmed in time"
    desk = english_login(hotel_clerk)
    assert badge not in desk.get(f"/guests/{report.pk}/").content.decode()
    assert badge not in desk.get("/guests/").content.decode()
    cop = english_login(officer)
    assert badge in cop.get(f"/guests/{report.pk}/").content.decode()
    assert badge in cop.get("/guests/").content.decode()
