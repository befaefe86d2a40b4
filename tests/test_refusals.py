"""Refusals of a quarantine placement: each rule, bad input (the field named, nothing stored),
the pages and their forms, scoping, the day list."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.utils import timezone

from fangyi.core.errors import Conflict, DomainError, Forbidden, NotFound
from fangyi.core.models import AuditEntry, Node
from fangyi.enforcement.models import EnforcementRecord, LegalBasis
from fangyi.linkage.models import SupportRequest
from fangyi.people.models import Place
from fangyi.quarantine import refusals
from fangyi.quarantine.models import (
    Bed,
    Group,
    Persuasion,
    Placement,
    Refusal,
    Room,
    Site,
)
from tests.conftest import english_login, login

pytestmark = pytest.mark.django_db


# --- helpers (also used by the API, notice and scenario tests) ---------------------------------


def make_site(name: str = "测试隔离点", beds: int = 2, group_code: str = "close_contact"):
    """A quarantine point of the district with `beds` free beds, taking the group."""
    district = Node.objects.get(name="西乡塘区")
    place = Place.objects.create(
        kind="quarantine_site", name=name, node=district, address=f"{name}路1号"
    )
    site = Site.objects.get(place=place)
    group, _made = Group.objects.get_or_create(code=group_code, defaults={"name": "密切接触者"})
    site.groups.add(group)
    room = Room.objects.create(site=site, number="101", floor=1)
    for i in range(beds):
        Bed.objects.create(room=room, site=site, label=str(i + 1))
    return site, group


def reserve(person, site, group, actor) -> Placement:
    from fangyi.quarantine.services import placement_reserve

    return placement_reserve(actor=actor, person=person, site=site, group=group, source="decision")


def fill(site, group, health) -> None:
    """Take every free bed of the site, for other people."""
    from fangyi.people.models import Person

    taken = set(Placement.objects.values_list("person_id", flat=True))
    people = Person.objects.filter(node__name="机务小区").exclude(pk__in=taken).order_by("-pk")
    free = site.beds.filter(state="free").count()
    for person in people[:free]:
        reserve(person, site, group, health)
    assert not site.beds.filter(state="free").exists()


@pytest.fixture
def site(db):
    return make_site()


@pytest.fixture
def placement(site, jiwu_person, health):
    return reserve(jiwu_person, *site, health)


@pytest.fixture
def refusal(placement, grid_worker):
    return refusals.refusal_record(actor=grid_worker, placement=placement, reason="家里有老人")


# --- recording a refusal -------------------------------------------------------------------------


def test_a_refusal_frees_the_bed_at_once(placement, grid_worker):
    bed = placement.bed
    assert bed.state == "reserved"
    refusal = refusals.refusal_record(
        actor=grid_worker, placement=placement, reason="  不想去隔离点  "
    )
    placement.refresh_from_db()
    bed.refresh_from_db()
    assert placement.status == "refused" and bed.state == "free"
    assert refusal.status == "open" and refusal.reason == "不想去隔离点"
    assert refusal.person_id == placement.person_id and refusal.node_id == placement.node_id
    assert refusal.by == grid_worker
    assert AuditEntry.objects.filter(action="fangyi.refusal.created", object_id=refusal.pk).exists()


def test_a_refusal_needs_a_reason_and_stores_nothing_without(placement, grid_worker):
    with pytest.raises(DomainError) as err:
        refusals.refusal_record(actor=grid_worker, placement=placement, reason="   ")
    assert "reason" in err.value.errors
    placement.refresh_from_db()
    assert placement.status == "reserved" and placement.bed.state == "reserved"
    assert not Refusal.objects.filter(placement=placement).exists()


def test_only_a_reserved_placement_can_be_refused(placement, grid_worker, health, jiwu_person):
    from fangyi.quarantine.services import placement_arrive

    placement_arrive(actor=health, placement=placement)
    with pytest.raises(Conflict) as err:
        refusals.refusal_record(actor=grid_worker, placement=placement, reason="不去")
    assert "placement" in err.value.errors and "arrived" in err.value.message
    assert not Refusal.objects.filter(placement=placement).exists()


def test_a_refused_placement_cannot_be_refused_twice(refusal, grid_worker):
    with pytest.raises(Conflict):
        refusals.refusal_record(actor=grid_worker, placement=refusal.placement, reason="再拒")
    assert Refusal.objects.filter(placement=refusal.placement).count() == 1


def test_the_same_client_id_stores_one_refusal(placement, grid_worker, officer):
    key = uuid.uuid4()
    one = refusals.refusal_record(
        actor=grid_worker, placement=placement, reason="不去", client_id=key
    )
    two = refusals.refusal_record(
        actor=grid_worker, placement=placement, reason="不去", client_id=key
    )
    assert one.pk == two.pk and Refusal.objects.filter(placement=placement).count() == 1
    with pytest.raises(Conflict) as err:
        refusals.refusal_record(actor=officer, placement=placement, reason="不去", client_id=key)
    assert "client_id" in err.value.errors


def test_a_placement_outside_is_not_found(placement, outsider):
    with pytest.raises(NotFound):
        refusals.refusal_record(actor=outsider, placement=placement, reason="不去")
    assert not Refusal.objects.filter(placement=placement).exists()


# --- persuasion ------------------------------------------------------------------------------


def test_persuasion_attempts_are_kept_in_order(refusal, grid_worker, officer):
    now = timezone.now()
    first = refusals.persuasion_record(
        actor=grid_worker, refusal=refusal, at=now, explained="讲了规定", outcome="still_refuses"
    )
    second = refusals.persuasion_record(
        actor=officer, refusal=refusal, at=now, explained="讲了法律", outcome="agreed"
    )
    assert [a.pk for a in refusals.attempts_of(refusal)] == [first.pk, second.pk]
    assert second.by == officer
    refusal.refresh_from_db()
    # "agreed" in an attempt does not by itself place the person.
    assert refusal.status == "open" and refusal.new_placement is None
    made = AuditEntry.objects.filter(
        action="fangyi.persuasion.created", object_id__in=[first.pk, second.pk]
    )
    assert made.count() == 2


@pytest.mark.parametrize(
    "at,explained,outcome,field",
    [
        (dt.timedelta(hours=1), "讲了规定", "still_refuses", "at"),
        (None, "讲了规定", "still_refuses", "at"),
        (dt.timedelta(0), "   ", "still_refuses", "explained"),
        (dt.timedelta(0), "讲了规定", "maybe", "outcome"),
        (dt.timedelta(0), "长" * 2001, "agreed", "explained"),
    ],
)
def test_a_bad_attempt_names_its_field(refusal, grid_worker, at, explained, outcome, field):
    when = None if at is None else timezone.now() + at
    with pytest.raises(DomainError) as err:
        refusals.persuasion_record(
            actor=grid_worker, refusal=refusal, at=when, explained=explained, outcome=outcome
        )
    assert field in err.value.errors
    assert not Persuasion.objects.filter(refusal=refusal).exists()


# --- how a refusal ends --------------------------------------------------------------------------


def test_agreed_places_the_person_again_at_the_same_site(refusal, grid_worker, site):
    new = refusals.refusal_agree(actor=grid_worker, refusal=refusal)
    refusal.refresh_from_db()
    assert refusal.status == "agreed" and refusal.new_placement == new
    assert refusal.ended_by == grid_worker and refusal.ended_at
    assert new.status == "reserved" and new.site == site[0] and new.group == site[1]
    assert new.source == "refusal" and new.person_id == refusal.person_id
    assert new.bed.state == "reserved"


def test_agreed_at_a_full_site_names_the_site_and_stores_nothing(
    refusal, grid_worker, site, health
):
    fill(*site, health)
    placements = Placement.objects.count()
    with pytest.raises(DomainError) as err:
        refusals.refusal_agree(actor=grid_worker, refusal=refusal)
    assert "site" in err.value.errors
    refusal.refresh_from_db()
    assert refusal.status == "open" and refusal.new_placement is None
    assert Placement.objects.count() == placements
    # Another site with a free bed takes the person.
    other, _group = make_site("第二隔离点", beds=1)
    new = refusals.refusal_agree(actor=grid_worker, refusal=refusal, site=other)
    assert new.site == other


def test_home_quarantine_only_by_health_staff(refusal, officer, health):
    with pytest.raises(Forbidden):
        refusals.refusal_allow_home(actor=officer, refusal=refusal, reason="独居")
    with pytest.raises(DomainError) as err:
        refusals.refusal_allow_home(actor=health, refusal=refusal, reason=" ")
    assert "reason" in err.value.errors
    refusal.refresh_from_db()
    assert refusal.status == "open"
    home = refusals.refusal_allow_home(actor=health, refusal=refusal, reason="独居,条件符合")
    refusal.refresh_from_db()
    assert refusal.status == "home_allowed" and refusal.new_placement == home
    assert home.kind == "home" and home.status == "active" and refusal.outcome_note


def test_referral_only_by_police(refusal, grid_worker, officer):
    law = LegalBasis.objects.filter(title__contains="传染病防治法").get()
    records = EnforcementRecord.objects.count()
    with pytest.raises(Forbidden):
        refusals.refusal_refer(
            actor=grid_worker, refusal=refusal, measure="order_isolate", legal_bases=[law]
        )
    with pytest.raises(DomainError) as err:
        refusals.refusal_refer(actor=officer, refusal=refusal, measure="education")
    assert "measure" in err.value.errors
    with pytest.raises(DomainError) as err:
        refusals.refusal_refer(actor=officer, refusal=refusal, measure="order_isolate")
    assert "legal_bases" in err.value.errors
    assert EnforcementRecord.objects.count() == records
    record = refusals.refusal_refer(
        actor=officer, refusal=refusal, measure="order_isolate", legal_bases=[law]
    )
    refusal.refresh_from_db()
    assert refusal.status == "enforcement" and refusal.enforcement_record == record
    assert record.person_id == refusal.person_id and record.measure == "order_isolate"
    assert list(record.legal_bases.all()) == [law] and record.facts


def test_police_support_is_called_once_while_it_runs(refusal, grid_worker):
    first = refusals.refusal_call_police(actor=grid_worker, refusal=refusal)
    assert first.agency == "police" and first.urgency == "high"
    assert first.person_id == refusal.person_id and first.need
    again = refusals.refusal_call_police(actor=grid_worker, refusal=refusal)
    assert again.pk == first.pk
    assert SupportRequest.objects.filter(person=refusal.person).count() == 1
    refusal.refresh_from_db()
    assert refusal.support_request == first
    SupportRequest.objects.filter(pk=first.pk).update(status="done")
    refusal.refresh_from_db()
    third = refusals.refusal_call_police(actor=grid_worker, refusal=refusal)
    assert third.pk != first.pk


def test_an_ended_refusal_takes_no_more_steps(refusal, grid_worker, health, officer):
    refusals.refusal_agree(actor=grid_worker, refusal=refusal)
    refusal.refresh_from_db()
    for step in (
        lambda: refusals.refusal_agree(actor=grid_worker, refusal=refusal),
        lambda: refusals.refusal_allow_home(actor=health, refusal=refusal, reason="独居"),
        lambda: refusals.persuasion_record(
            actor=grid_worker,
            refusal=refusal,
            at=timezone.now(),
            explained="再讲",
            outcome="agreed",
        ),
        lambda: refusals.refusal_call_police(actor=grid_worker, refusal=refusal),
    ):
        with pytest.raises(Conflict):
            step()
    assert Placement.objects.filter(person=refusal.person, status="reserved").count() == 1


# --- pages ---------------------------------------------------------------------------------------


def test_the_refuse_page_records_a_refusal(placement, grid_worker):
    client = english_login(grid_worker)
    page = client.get(f"/placements/{placement.pk}/refuse/")
    assert page.status_code == 200 and placement.person.name in page.content.decode()
    empty = client.post(f"/placements/{placement.pk}/refuse/", {"reason": ""})
    assert empty.status_code == 400
    assert "This field is required." in empty.content.decode()
    assert not Refusal.objects.filter(placement=placement).exists()
    key = str(uuid.uuid4())
    done = client.post(
        f"/placements/{placement.pk}/refuse/", {"reason": "要照顾老人", "client_id": key}
    )
    refusal = Refusal.objects.get(placement=placement)
    assert done.status_code == 302 and done["Location"] == f"/refusals/{refusal.pk}/"
    again = client.post(
        f"/placements/{placement.pk}/refuse/", {"reason": "要照顾老人", "client_id": key}
    )
    assert again.status_code == 302
    assert Refusal.objects.filter(placement=placement).count() == 1


def test_the_refusal_page_shows_the_attempts_and_keeps_what_was_typed(refusal, grid_worker):
    refusals.persuasion_record(
        actor=grid_worker,
        refusal=refusal,
        at=timezone.now(),
        explained="讲解了隔离规定",
        outcome="still_refuses",
    )
    client = english_login(grid_worker)
    page = client.get(f"/refusals/{refusal.pk}/").content.decode()
    assert "讲解了隔离规定" in page and grid_worker.display_name in page
    assert "Still refuses" in page and "Call police support" in page
    # Home quarantine is health staff's; a referral is the police's.
    assert "Allow home quarantine" not in page and "Refer for enforcement" not in page
    future = (timezone.localtime() + dt.timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M")
    bad = client.post(
        f"/refusals/{refusal.pk}/attempts/",
        {"at": future, "explained": "我打的字", "outcome": "agreed"},
    )
    assert bad.status_code == 400
    body = bad.content.decode()
    assert "The time cannot be in the future." in body and "我打的字" in body
    assert Persuasion.objects.filter(refusal=refusal).count() == 1


def test_the_pages_take_each_ending(refusal, grid_worker, health, officer, site):
    page = english_login(health).get(f"/refusals/{refusal.pk}/").content.decode()
    assert "Allow home quarantine" in page
    page = english_login(officer).get(f"/refusals/{refusal.pk}/").content.decode()
    assert "Refer for enforcement" in page
    assert (
        english_login(officer).post(f"/refusals/{refusal.pk}/home/", {"reason": "x"}).status_code
        == 403
    )
    assert (
        english_login(grid_worker)
        .post(f"/refusals/{refusal.pk}/refer/", {"measure": "order_isolate"})
        .status_code
        == 403
    )
    called = login(grid_worker).post(f"/refusals/{refusal.pk}/call-police/")
    refusal.refresh_from_db()
    assert called.status_code == 302 and refusal.support_request_id
    page = english_login(grid_worker).get(f"/refusals/{refusal.pk}/").content.decode()
    assert f"/support/{refusal.support_request_id}/" in page and 'role="timer"' in page
    assert 'id="call-police"' not in page  # the running request instead of a second call
    fill(*site, health)
    full = english_login(grid_worker).post(f"/refusals/{refusal.pk}/agree/", {})
    assert full.status_code == 400 and "errorlist" in full.content.decode()
    other, _group = make_site("第三隔离点", beds=1)
    agreed = login(grid_worker).post(f"/refusals/{refusal.pk}/agree/", {"site": other.pk})
    assert agreed.status_code == 302
    refusal.refresh_from_db()
    assert refusal.status == "agreed" and refusal.new_placement.site == other


def test_the_list_puts_open_refusals_first(refusal, grid_worker, site, health, jiwu):
    from fangyi.people.models import Person

    other = Person.objects.filter(node=jiwu).exclude(pk=refusal.person_id).order_by("pk")[1]
    second = refusals.refusal_record(
        actor=grid_worker, placement=reserve(other, *site, health), reason="不去"
    )
    refusals.refusal_agree(actor=grid_worker, refusal=refusal)
    page = english_login(grid_worker).get("/refusals/").content.decode()
    assert page.index(f"/refusals/{second.pk}/") < page.index(f"/refusals/{refusal.pk}/")
    only_open = english_login(grid_worker).get("/refusals/?status=open").content.decode()
    assert f"/refusals/{refusal.pk}/" not in only_open


def test_outside_the_jurisdiction_is_not_found(refusal, outsider):
    client = login(outsider)
    assert client.get(f"/refusals/{refusal.pk}/").status_code == 404
    assert client.get(f"/placements/{refusal.placement_id}/refuse/").status_code == 404
    assert client.post(f"/refusals/{refusal.pk}/call-police/").status_code == 404
    assert f"/refusals/{refusal.pk}/" not in client.get("/refusals/").content.decode()
    assert not SupportRequest.objects.filter(person=refusal.person).exists()


def test_open_refusals_are_on_the_day_list(refusal, grid_worker, health, outsider):
    from fangyi.observation.selectors import daylist

    for user in (grid_worker, health):
        day = daylist(user)
        section = next(s for s in day.sections if s.key == "refusals")
        mine = [i for i in section.items if i.url == f"/refusals/{refusal.pk}/"]
        assert len(mine) == 1 and mine[0].kind == "refusal" and section.count >= 1
        assert refusal.person.name == mine[0].title
    assert "refusals" not in [s.key for s in daylist(outsider).sections]
    refusals.refusal_agree(actor=grid_worker, refusal=refusal)
    urls = [i.url for s in daylist(grid_worker).sections for i in s.items]
    assert f"/refusals/{refusal.pk}/" not in urls
