"""What a review of issue 5 (quarantine sites, placements, refusals, hotel guests, and the
follow-ups of people in quarantine) found, pinned down: two officers acting on one guest at
once, ID numbers that cannot be probed, referrals followed through a transfer, the police's
state kept off the hotel's pages, who reads the names at a site, reads that reach the access
log, arrival times, and where the follow-ups of a person who left a site go."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from fangyi.care import flows
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
        guests.guest_clear(actor=officer, report=second, reason="核实非风险")
    assert "status" in exc.value.errors
    report.refresh_from_db()
    assert report.status == GuestStatus.REFERRED and report.placement_id is not None
    assert Placement.objects.get(pk=report.placement_id).status == PlacementStatus.RESERVED


def test_a_referral_on_a_stale_copy_after_a_clear_reserves_no_bed(hotel_clerk, officer):
    site = designated_site()
    report = registered(hotel_clerk, officer)
    first = GuestReport.objects.get(pk=report.pk)
    second = GuestReport.objects.get(pk=report.pk)
    guests.guest_clear(actor=officer, report=first, reason="核实非风险")
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
    point = Site.objects.get(place__name="西乡塘区集中隔离点")
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


# --- 4. an administrator reads the counts of a site, not the names ---------------------------


def hotel_site() -> Site:
    return Site.objects.get(place__name="湖北籍旅客定点酒店")


def holders(site: Site) -> list[str]:
    held = Placement.objects.filter(site=site, status__in=["reserved", "active"])
    return list(held.values_list("person__name", flat=True))


def test_an_administrator_sees_no_names_on_a_site_page(admin, health):
    from fangyi.core import access

    site = hotel_site()
    names = holders(site)
    assert names and access.can(health, "placement.view")
    assert access.can(admin, "site.view") and not access.can(admin, "placement.view")
    page = login(admin).get(f"/sites/{site.pk}/")
    assert page.status_code == 200
    body = page.content.decode()
    assert not [n for n in names if n in body]
    assert 'id="rooms"' in body
    seen = login(health).get(f"/sites/{site.pk}/").content.decode()
    assert [n for n in names if n in seen]


# --- 6. the refusal form's read reaches the access log ---------------------------------------


def test_reading_the_refusal_form_is_logged(officer):
    from fangyi.core.models import AccessLog

    placement = Placement.objects.filter(status="reserved").select_related("person").first()
    before = AccessLog.objects.filter(object_type="placement", object_id=placement.pk).count()
    page = login(officer).get(f"/placements/{placement.pk}/refuse/")
    assert page.status_code == 200 and placement.person.name in page.content.decode()
    logged = AccessLog.objects.filter(object_type="placement", object_id=placement.pk, via="ui")
    assert logged.count() == before + 1


# --- 9. an arrival cannot be dated before the reservation ------------------------------------


def test_an_arrival_before_the_reservation_is_refused(health):
    from fangyi.core.models import User
    from fangyi.quarantine import services as quarantine

    staff = User.objects.get(username="dingdian")
    placement = Placement.objects.filter(status="reserved", site__place_id=staff.place_id).first()
    with pytest.raises(DomainError) as exc:
        quarantine.placement_arrive(
            actor=staff, placement=placement, at=placement.reserved_at - dt.timedelta(days=1)
        )
    assert set(exc.value.errors) == {"at"}
    placement.refresh_from_db()
    assert placement.status == PlacementStatus.RESERVED and placement.arrived_at is None
    assert Bed.objects.get(pk=placement.bed_id).state == "reserved"
    # a minute of clock difference between the devices is allowed
    quarantine.placement_arrive(
        actor=staff, placement=placement, at=placement.reserved_at - dt.timedelta(minutes=1)
    )
    placement.refresh_from_db()
    assert placement.status == PlacementStatus.ACTIVE


# --- 3. an observation moved home or referred ends the site placement with it -----------------


def active_at_hotel() -> Placement:
    return (
        Placement.objects.filter(site=hotel_site(), status="active")
        .select_related("person", "observation")
        .first()
    )


def test_an_observation_moved_home_frees_the_site_placement(health):
    placement = active_at_hotel()
    nxt = flows.observation_transfer(
        actor=health, observation=placement.observation, kind="home", note="回家"
    )
    placement.refresh_from_db()
    assert placement.status == PlacementStatus.TRANSFERRED
    assert Bed.objects.get(pk=placement.bed_id).state == "cleaning"
    assert nxt.kind == "home" and nxt.status == "active"
    assert AuditEntry.objects.filter(action="fangyi.placement.transferred").exists()


def test_an_observation_referred_to_a_clinic_frees_the_site_placement(health):
    placement = active_at_hotel()
    flows.observation_refer(actor=health, observation=placement.observation, note="发热")
    placement.refresh_from_db()
    assert placement.status == PlacementStatus.TRANSFERRED
    assert Bed.objects.get(pk=placement.bed_id).state == "cleaning"


def test_a_release_does_not_end_an_observation_running_elsewhere(health):
    """A placement left holding (as before the fix) is released without ending the person's
    home observation."""
    from fangyi.observation.models import Observation
    from fangyi.quarantine import services as quarantine

    placement = active_at_hotel()
    obs = placement.observation
    Observation.objects.filter(pk=obs.pk).update(kind="home", place=None)
    placement = Placement.objects.get(pk=placement.pk)
    quarantine.placement_release(actor=health, placement=placement)
    obs.refresh_from_db()
    assert obs.status == "active" and placement.status == PlacementStatus.RELEASED


# --- 2. site staff stop following up a person who left their site ----------------------------


def site_staff():
    from fangyi.core.models import User

    return User.objects.get(username="dingdian")


def moved_away(health) -> tuple[Placement, Placement]:
    from fangyi.quarantine import services as quarantine
    from fangyi.quarantine.models import Group

    point = Site.objects.get(place__name="西乡塘区集中隔离点")
    point.groups.add(*Group.objects.all())
    placement = active_at_hotel()
    return placement, quarantine.placement_transfer(actor=health, placement=placement, site=point)


def test_allowed_home_after_refusing_a_transfer_the_hotel_no_longer_follows_up(health):
    from fangyi.core.errors import NotFound
    from fangyi.observation import selectors as osel
    from fangyi.observation import services as observation
    from fangyi.observation.models import Observation
    from fangyi.quarantine import refusals

    old, new = moved_away(health)
    refusal = refusals.refusal_record(actor=health, placement=new, reason="不去")
    refusals.refusal_allow_home(actor=health, refusal=refusal, reason="居家")
    obs = Observation.objects.get(pk=old.observation_id)
    assert obs.status == "active" and obs.kind == "home" and obs.place_id is None
    staff = site_staff()
    assert obs.responsible != staff
    assert not osel.followup_list(staff, observation=obs).exists()
    due = obs.followups.filter(status="due").first()
    with pytest.raises(NotFound):
        observation.followup_record(actor=staff, followup=due, status="seen_well")
    assert osel.followup_list(health, observation=obs).exists()


def test_a_transfer_cancelled_moves_the_observation_home(health):
    from fangyi.observation import selectors as osel
    from fangyi.observation.models import Observation
    from fangyi.quarantine import services as quarantine

    old, new = moved_away(health)
    staff = site_staff()
    obs = Observation.objects.get(pk=old.observation_id)
    # on the way to the other site, the hotel's staff no longer see the person they let go
    assert not osel.followup_list(staff, observation=obs).exists()
    quarantine.placement_cancel(actor=health, placement=new, reason="不转了")
    obs.refresh_from_db()
    assert obs.kind == "home" and obs.place_id is None and obs.status == "active"


def test_the_site_staff_still_follow_up_the_people_there(health):
    from fangyi.observation import selectors as osel

    placement = active_at_hotel()
    staff = site_staff()
    assert osel.followup_list(staff, observation=placement.observation).exists()
    page = login(staff).get(f"/followups/{osel.followup_list(staff).first().pk}/")
    assert page.status_code == 200
