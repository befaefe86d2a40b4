"""Quarantine sites, beds and placements: the services' rules and bad input, scoping (site staff
see their own site only), the pages, the occupancy board's queries at two sizes."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.utils import timezone

from fangyi.core.errors import Conflict, DomainError, Forbidden, NotFound
from fangyi.core.models import AuditEntry, Role, User
from fangyi.observation.models import FollowUp, Observation
from fangyi.people.models import Person, Place
from fangyi.quarantine import selectors, services
from fangyi.quarantine.models import Bed, Group, Placement, Site
from tests.conftest import english_login, login

pytestmark = pytest.mark.django_db


@pytest.fixture
def dingdian(db) -> User:
    return User.objects.get(username="dingdian")


@pytest.fixture
def hotel_site(db) -> Site:
    return Site.objects.get(place__name="湖北籍旅客定点酒店")


@pytest.fixture
def point(db) -> Site:
    return Site.objects.get(place__name="西乡塘区集中隔离点")


@pytest.fixture
def hubei(db) -> Group:
    return Group.objects.get(code="hubei")


@pytest.fixture
def close_contact(db) -> Group:
    return Group.objects.get(code="close_contact")


@pytest.fixture
def traveller(db) -> Person:
    return Person.objects.get(name="陈志强")


@pytest.fixture
def point_staff(point) -> User:
    return User.objects.create(username="geli", role=Role.SITE_STAFF, place=point.place)


def _fill(site: Site, leave: int = 0) -> None:
    """Every free bed of the site taken out of service, but `leave` of them."""
    free = list(site.beds.filter(state="free").order_by("pk").values_list("pk", flat=True))
    Bed.objects.filter(pk__in=free[leave:]).update(state="out_of_service")


# --- the demo ------------------------------------------------------------------------------


def test_the_demo_has_the_two_sites_with_their_beds(hotel_site, point):
    assert hotel_site.beds.count() == 60
    assert point.beds.count() == 120
    assert list(hotel_site.groups.values_list("code", flat=True)) == ["hubei"]
    assert set(point.groups.values_list("code", flat=True)) == {
        "close_contact",
        "risk_area",
        "inbound",
    }
    assert hotel_site.beds.filter(state="occupied").count() == 3
    assert hotel_site.beds.filter(state="reserved").count() == 1
    assert Bed.objects.filter(state="out_of_service").count() == 1
    assert Bed.objects.filter(state="cleaning").exists()


# --- reserving -----------------------------------------------------------------------------


def test_reserve_takes_one_free_bed_with_its_audit_row(health, traveller, hotel_site, hubei):
    free = hotel_site.beds.filter(state="free").count()
    p = services.placement_reserve(
        actor=health, person=traveller, site=hotel_site, group=hubei, transport="转运车"
    )
    assert p.status == "reserved" and p.bed.site_id == hotel_site.pk
    assert Bed.objects.get(pk=p.bed_id).state == "reserved"
    assert hotel_site.beds.filter(state="free").count() == free - 1
    assert AuditEntry.objects.filter(action="fangyi.placement.reserved", object_id=p.pk).exists()


def test_a_full_site_names_the_field_and_stores_nothing(health, traveller, hotel_site, hubei):
    _fill(hotel_site)
    with pytest.raises(DomainError) as exc:
        services.placement_reserve(actor=health, person=traveller, site=hotel_site, group=hubei)
    assert exc.value.errors == {"site": ["This site has no free bed."]}
    assert not Placement.objects.filter(person=traveller).exists()


def test_a_site_that_does_not_take_the_group_names_the_field(health, traveller, point, hubei):
    with pytest.raises(DomainError) as exc:
        services.placement_reserve(actor=health, person=traveller, site=point, group=hubei)
    assert list(exc.value.errors) == ["site"]
    assert "does not take" in exc.value.message
    assert not Placement.objects.filter(person=traveller).exists()


def test_no_group_names_the_field(health, traveller, hotel_site):
    with pytest.raises(DomainError) as exc:
        services.placement_reserve(actor=health, person=traveller, site=hotel_site, group=None)
    assert list(exc.value.errors) == ["group"]


def test_a_person_already_placed_is_a_conflict(health, traveller, hotel_site, hubei):
    services.placement_reserve(actor=health, person=traveller, site=hotel_site, group=hubei)
    with pytest.raises(Conflict) as exc:
        services.placement_reserve(actor=health, person=traveller, site=hotel_site, group=hubei)
    assert list(exc.value.errors) == ["person"]
    with pytest.raises(Conflict):
        services.placement_home(actor=health, person=traveller)
    assert Placement.objects.filter(person=traveller).count() == 1


def test_the_same_client_id_twice_stores_one(health, traveller, hotel_site, hubei, jiwu_person):
    cid = uuid.uuid4()
    a = services.placement_reserve(
        actor=health, person=traveller, site=hotel_site, group=hubei, client_id=cid
    )
    b = services.placement_reserve(
        actor=health, person=traveller, site=hotel_site, group=hubei, client_id=cid
    )
    assert a.pk == b.pk
    with pytest.raises(Conflict) as exc:
        services.placement_reserve(
            actor=health, person=jiwu_person, site=hotel_site, group=hubei, client_id=cid
        )
    assert list(exc.value.errors) == ["client_id"]


def test_a_person_outside_the_jurisdiction_is_not_found(health, hotel_site, hubei):
    outside = Person.objects.filter(node__name="中山小区").first()
    with pytest.raises(NotFound):
        services.placement_reserve(actor=health, person=outside, site=hotel_site, group=hubei)


def test_only_health_staff_and_supervisors_place(officer, traveller, hotel_site, hubei):
    with pytest.raises(Forbidden):
        services.placement_reserve(actor=officer, person=traveller, site=hotel_site, group=hubei)


def test_transport_too_long_names_the_field(health, traveller, hotel_site, hubei):
    with pytest.raises(DomainError) as exc:
        services.placement_reserve(
            actor=health, person=traveller, site=hotel_site, group=hubei, transport="车" * 201
        )
    assert list(exc.value.errors) == ["transport"]


def test_site_choices_most_free_first_then_nearest(close_contact, point):
    second = Site.objects.get(
        place=Place.objects.create(
            kind="quarantine_site", name="第二隔离点", node=point.node, address="x"
        )
    )
    second.groups.add(close_contact)
    assert [c.site for c in services.site_choices(group=close_contact)] == [point]  # no beds
    choices = services.site_choices(group=close_contact, origin=(point.latitude, point.longitude))
    assert choices[0].site == point and choices[0].distance_km == 0.0
    assert choices[0].free == point.beds.filter(state="free").count()


# --- arriving ------------------------------------------------------------------------------


def test_arrival_by_the_sites_staff_observes_the_person_there(
    health, dingdian, traveller, hotel_site, hubei
):
    p = services.placement_reserve(actor=health, person=traveller, site=hotel_site, group=hubei)
    services.placement_arrive(actor=dingdian, placement=p)
    p.refresh_from_db()
    assert p.status == "active" and p.arrival_confirmed_by == dingdian
    assert Bed.objects.get(pk=p.bed_id).state == "occupied"
    obs = p.observation
    assert obs.kind == "place" and obs.place_id == hotel_site.place_id
    assert obs.responsible == dingdian
    # Today's check at the site is the person's follow-up, assigned to the site's staff.
    today = FollowUp.objects.get(observation=obs, due=timezone.localdate(), slot=1)
    assert today.assignee == dingdian


def test_arrival_moves_a_running_observation_to_the_site(
    health, dingdian, traveller, hotel_site, hubei
):
    from fangyi.observation.services import observation_start

    obs = observation_start(
        actor=health,
        person=traveller,
        kind="home",
        last_exposure=timezone.localdate() - dt.timedelta(days=3),
    )
    p = services.placement_reserve(actor=health, person=traveller, site=hotel_site, group=hubei)
    services.placement_arrive(actor=dingdian, placement=p)
    obs.refresh_from_db()
    assert obs.status == "active" and obs.kind == "place"
    assert obs.place_id == hotel_site.place_id and obs.responsible == dingdian
    assert Observation.objects.filter(person=traveller, status="active").count() == 1
    assert AuditEntry.objects.filter(action="fangyi.observation.moved", object_id=obs.pk).exists()


def test_arrival_confirmed_by_another_sites_staff_is_not_found_and_changes_nothing(
    health, point_staff, hotel_clerk, traveller, hotel_site, hubei
):
    p = services.placement_reserve(actor=health, person=traveller, site=hotel_site, group=hubei)
    for other in (point_staff, hotel_clerk):
        with pytest.raises(NotFound):
            services.placement_arrive(actor=other, placement=p)
        response = login(other).post(f"/placements/{p.pk}/arrive/")
        assert response.status_code == 404
        api = login(other).post(f"/api/placements/{p.pk}/arrive", "{}", "application/json")
        assert api.status_code == 404
    p.refresh_from_db()
    assert p.status == "reserved" and Bed.objects.get(pk=p.bed_id).state == "reserved"


def test_arrival_twice_names_the_status(health, dingdian, traveller, hotel_site, hubei):
    p = services.placement_reserve(actor=health, person=traveller, site=hotel_site, group=hubei)
    services.placement_arrive(actor=dingdian, placement=p)
    with pytest.raises(DomainError) as exc:
        services.placement_arrive(actor=dingdian, placement=p)
    assert list(exc.value.errors) == ["status"]


# --- release, transfer, cancel ---------------------------------------------------------------


def _arrived(health, dingdian, person, site, group):
    p = services.placement_reserve(actor=health, person=person, site=site, group=group)
    services.placement_arrive(actor=dingdian, placement=p)
    p.refresh_from_db()
    return p


def test_release_before_the_end_date_names_the_field(
    health, dingdian, traveller, hotel_site, hubei
):
    p = _arrived(health, dingdian, traveller, hotel_site, hubei)
    with pytest.raises(DomainError) as exc:
        services.placement_release(actor=health, placement=p)
    assert list(exc.value.errors) == ["ends"]
    p.refresh_from_db()
    assert p.status == "active" and Bed.objects.get(pk=p.bed_id).state == "occupied"
    response = english_login(health).post(f"/placements/{p.pk}/release/")
    assert response.status_code == 400
    assert "Observation runs until" in response.content.decode()


def test_release_on_the_end_date_puts_the_bed_to_cleaning(
    health, dingdian, traveller, hotel_site, hubei
):
    import time_machine

    p = _arrived(health, dingdian, traveller, hotel_site, hubei)
    ends = p.observation.ends
    with time_machine.travel(timezone.make_aware(dt.datetime.combine(ends, dt.time(10)))):
        f = FollowUp.objects.filter(observation=p.observation).order_by("due").first()
        FollowUp.objects.filter(pk=f.pk).update(status="seen_well", temperature="36.4")
        services.placement_release(actor=health, placement=p)
    p.refresh_from_db()
    assert p.status == "released"
    assert Bed.objects.get(pk=p.bed_id).state == "cleaning"
    assert Observation.objects.get(pk=p.observation_id).status == "released"


def test_transfer_frees_the_old_bed_and_reserves_at_the_other_site(
    health, dingdian, traveller, hotel_site, hubei
):
    other = Site.objects.get(place__name="西乡塘区集中隔离点")
    other.groups.add(hubei)
    p = _arrived(health, dingdian, traveller, hotel_site, hubei)
    new = services.placement_transfer(actor=health, placement=p, site=other, transport="救护车")
    p.refresh_from_db()
    assert p.status == "transferred" and Bed.objects.get(pk=p.bed_id).state == "cleaning"
    assert new.status == "reserved" and new.site == other and new.previous == p
    assert new.source == "transfer"
    with pytest.raises(DomainError) as exc:
        services.placement_transfer(actor=health, placement=new, site=other)
    assert list(exc.value.errors) == ["site"]


def test_transfer_to_a_site_not_taking_the_group_names_the_field(
    health, traveller, hotel_site, point, hubei
):
    p = services.placement_reserve(actor=health, person=traveller, site=hotel_site, group=hubei)
    with pytest.raises(DomainError) as exc:
        services.placement_transfer(actor=health, placement=p, site=point)
    assert list(exc.value.errors) == ["site"]
    assert Placement.objects.get(pk=p.pk).status == "reserved"


def test_cancel_frees_the_bed_and_needs_a_reason(health, traveller, hotel_site, hubei):
    p = services.placement_reserve(actor=health, person=traveller, site=hotel_site, group=hubei)
    with pytest.raises(DomainError) as exc:
        services.placement_cancel(actor=health, placement=p, reason=" ")
    assert list(exc.value.errors) == ["reason"]
    services.placement_cancel(actor=health, placement=p, reason="改为居家")
    assert Bed.objects.get(pk=p.bed_id).state == "free"
    assert Placement.objects.get(pk=p.pk).status == "cancelled"


def test_mark_refused_frees_the_bed(health, traveller, hotel_site, hubei):
    p = services.placement_reserve(actor=health, person=traveller, site=hotel_site, group=hubei)
    services.placement_mark_refused(p)
    assert Placement.objects.get(pk=p.pk).status == "refused"
    assert Bed.objects.get(pk=p.bed_id).state == "free"
    with pytest.raises(DomainError):
        services.placement_mark_refused(p)


def test_home_placement_is_active_without_a_site(health, traveller):
    p = services.placement_home(actor=health, person=traveller)
    assert p.kind == "home" and p.status == "active" and p.site is None


# --- beds and sites --------------------------------------------------------------------------


def test_bed_states_by_the_sites_staff(dingdian, point_staff, hotel_site):
    bed = hotel_site.beds.filter(state="cleaning").first()
    with pytest.raises(NotFound):
        services.bed_set_state(actor=point_staff, bed=bed, state="free")
    services.bed_set_state(actor=dingdian, bed=bed, state="free")
    services.bed_set_state(actor=dingdian, bed=bed, state="out_of_service")
    services.bed_set_state(actor=dingdian, bed=bed, state="free")
    assert Bed.objects.get(pk=bed.pk).state == "free"


@pytest.mark.parametrize("state,target", [("reserved", "free"), ("occupied", "cleaning")])
def test_reserved_and_occupied_beds_are_not_changed_by_hand(dingdian, hotel_site, state, target):
    bed = hotel_site.beds.filter(state=state).first()
    with pytest.raises(DomainError) as exc:
        services.bed_set_state(actor=dingdian, bed=bed, state=target)
    assert list(exc.value.errors) == ["state"]
    assert Bed.objects.get(pk=bed.pk).state == state


def test_an_unknown_state_names_the_field(dingdian, hotel_site):
    bed = hotel_site.beds.filter(state="free").first()
    with pytest.raises(DomainError) as exc:
        services.bed_set_state(actor=dingdian, bed=bed, state="broken")
    assert list(exc.value.errors) == ["state"]


def test_admin_configures_and_adds_rooms(admin, point):
    services.site_configure(
        actor=admin, site=point, groups=["close_contact"], latitude="22.8", longitude="108.3"
    )
    assert list(point.groups.values_list("code", flat=True)) == ["close_contact"]
    with pytest.raises(DomainError) as exc:
        services.site_configure(actor=admin, site=point, groups=["nope"])
    assert list(exc.value.errors) == ["groups"]
    with pytest.raises(DomainError) as exc:
        services.site_configure(actor=admin, site=point, groups=[], latitude="91", longitude="1")
    assert list(exc.value.errors) == ["latitude"]
    services.rooms_add(actor=admin, site=point, rooms=[("901", 9, 3), ("902", 9, 1)])
    assert point.beds.count() == 124
    with pytest.raises(DomainError) as exc:
        services.rooms_add(actor=admin, site=point, rooms=[("901", 9, 2)])
    assert list(exc.value.errors) == ["rooms"]
    with pytest.raises(DomainError) as exc:
        services.rooms_add(actor=admin, site=point, rooms=[("903", 9, 0)])
    assert list(exc.value.errors) == ["beds"]
    assert point.beds.count() == 124


# --- scoping -------------------------------------------------------------------------------


def test_the_ordinary_hotels_clerk_sees_no_site(hotel_clerk, hotel_site):
    assert list(selectors.site_list(hotel_clerk)) == []
    assert selectors.placement_list(hotel_clerk).count() == 0
    assert selectors.occupancy(hotel_clerk)[:-1] == []
    client = login(hotel_clerk)
    assert client.get(f"/sites/{hotel_site.pk}/").status_code == 404
    assert client.get("/").url == "/guests/"


def test_dingdian_sees_only_the_designated_hotel(dingdian, hotel_site, point):
    assert [s.pk for s in selectors.site_list(dingdian)] == [hotel_site.pk]
    assert {p.site_id for p in selectors.placement_list(dingdian)} == {hotel_site.pk}
    rows = selectors.occupancy(dingdian)
    assert [r.site_id for r in rows] == [hotel_site.pk, None]
    client = login(dingdian)
    assert client.get(f"/sites/{point.pk}/").status_code == 404
    assert client.get("/").url == f"/sites/{hotel_site.pk}/"
    assert client.get("/sites/").url == f"/sites/{hotel_site.pk}/"


def test_health_staff_see_both_sites_and_the_outsider_none(health, outsider):
    assert selectors.site_list(health).count() == 2
    assert selectors.site_list(outsider).count() == 0


# --- pages ---------------------------------------------------------------------------------


def test_the_site_page_shows_beds_arrivals_and_people(dingdian, hotel_site):
    response = english_login(dingdian).get(f"/sites/{hotel_site.pk}/")
    body = response.content.decode()
    assert response.status_code == 200
    assert body.count('class="bed bs-') == 60
    assert "Confirm arrival" in body
    assert body.count("Today&#x27;s check") + body.count("Today's check") == 3


def test_one_tap_arrival_on_the_site_page(dingdian, hotel_site):
    p = Placement.objects.get(site=hotel_site, status="reserved")
    response = login(dingdian).post(f"/placements/{p.pk}/arrive/")
    assert response.status_code == 302 and response.url == f"/sites/{hotel_site.pk}/"
    p.refresh_from_db()
    assert p.status == "active"


def test_the_placement_form_lists_sites_and_keeps_what_was_typed(health, traveller, hubei):
    client = english_login(health)
    response = client.get(f"/placements/new/?person={traveller.pk}&group={hubei.pk}")
    assert "湖北籍旅客定点酒店" in response.content.decode()
    assert "西乡塘区集中隔离点" not in response.content.decode().split("site-choices")[1]
    response = client.post(
        "/placements/new/",
        {"person": traveller.pk, "group": hubei.pk, "where": "site", "transport": "救护车A"},
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "Choose a site." in body and "救护车A" in body
    assert not Placement.objects.filter(person=traveller).exists()


def test_placing_through_the_form(health, traveller, hubei, hotel_site):
    response = login(health).post(
        "/placements/new/",
        {
            "person": traveller.pk,
            "group": hubei.pk,
            "where": "site",
            "site": hotel_site.pk,
            "client_id": str(uuid.uuid4()),
        },
    )
    p = Placement.objects.get(person=traveller)
    assert response.status_code == 302 and response.url == f"/placements/{p.pk}/"


def test_the_form_says_where_a_placement_comes_from_as_the_api_does(
    health, traveller, hubei, hotel_site
):
    client = login(health)
    page = client.get(f"/placements/new/?person={traveller.pk}&group={hubei.pk}&source=referral")
    assert 'value="referral" selected' in page.content.decode()
    response = client.post(
        "/placements/new/",
        {
            "person": traveller.pk,
            "group": hubei.pk,
            "where": "site",
            "site": hotel_site.pk,
            "source": "referral",
        },
    )
    assert response.status_code == 302
    assert Placement.objects.get(person=traveller).source == "referral"


def test_the_form_refuses_a_source_it_does_not_offer(health, traveller, hubei, hotel_site):
    body = {"person": traveller.pk, "group": hubei.pk, "where": "site", "site": hotel_site.pk}
    response = login(health).post("/placements/new/", {**body, "source": "transfer"})
    assert response.status_code == 400
    assert not Placement.objects.filter(person=traveller).exists()


def test_a_full_site_on_the_form_shows_the_error_next_to_the_site(
    health, traveller, hubei, hotel_site
):
    _fill(hotel_site)
    response = english_login(health).post(
        "/placements/new/",
        {"person": traveller.pk, "group": hubei.pk, "where": "site", "site": hotel_site.pk},
    )
    assert response.status_code == 400
    assert "This site has no free bed." in response.content.decode()


def test_bed_state_page_refuses_an_occupied_bed(dingdian, hotel_site):
    bed = hotel_site.beds.filter(state="occupied").first()
    response = login(dingdian).post(f"/beds/{bed.pk}/state/", {"state": "free"})
    assert response.status_code == 400
    assert Bed.objects.get(pk=bed.pk).state == "occupied"


def test_a_bed_goes_out_of_service_only_when_the_box_is_ticked(dingdian, hotel_site):
    """Issue 12, item 16: one stray tap on a free bed's × took it out of service."""
    bed = hotel_site.beds.filter(state="free").first()
    client = login(dingdian)
    response = client.post(f"/beds/{bed.pk}/state/", {"state": "out_of_service"})
    assert response.status_code == 400
    assert Bed.objects.get(pk=bed.pk).state == "free"  # a refusal changes nothing
    ticked = client.post(f"/beds/{bed.pk}/state/", {"state": "out_of_service", "confirm": "1"})
    assert ticked.status_code == 302 and Bed.objects.get(pk=bed.pk).state == "out_of_service"
    page = client.get(f"/sites/{hotel_site.pk}/").content.decode()
    grid = page[page.index('id="rooms"') :]
    assert "×" not in grid
    # An occupied bed is a plain status, never a control.
    occupied = hotel_site.beds.filter(state="occupied").first()
    assert f'id="bed-{occupied.pk}"' not in grid and f'id="bed-{bed.pk}"' in grid


def test_the_occupancy_board_counts(health, hotel_site):
    rows = {r.site_id: r for r in selectors.occupancy(health)}
    hotel = rows[hotel_site.pk]
    assert (hotel.occupied, hotel.reserved, hotel.arrivals) == (3, 1, 1)
    assert hotel.beds == 60
    assert rows[None].beds == 180
    body = english_login(health).get("/occupancy/").content.decode()
    assert "Occupancy board" in body and 'hx-get="/occupancy/live/"' in body


def _populate(site: Site, group: Group, health, n: int) -> None:
    node = site.node
    for i in range(n):
        person = Person.objects.create(
            name=f"占床{i}", name_norm=f"占床{i}", id_type="none", node=node
        )
        services.placement_reserve(actor=health, person=person, site=site, group=group)


def _queries(user, django_assert_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    user = User.objects.get(pk=user.pk)
    with CaptureQueriesContext(connection) as ctx:
        selectors.occupancy(user)
    return len(ctx.captured_queries)


def test_the_occupancy_board_is_a_fixed_number_of_queries(
    health, close_contact, point, django_assert_num_queries
):
    small = _queries(health, django_assert_num_queries)
    _populate(point, close_contact, health, 30)
    big = _queries(health, django_assert_num_queries)
    assert small == big <= 4
    client = login(health)
    client.get("/occupancy/live/")
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        client.get("/occupancy/live/")
    before = len(ctx.captured_queries)
    _populate(point, close_contact, health, 10)
    with CaptureQueriesContext(connection) as ctx:
        client.get("/occupancy/live/")
    assert len(ctx.captured_queries) == before


def test_the_day_list_shows_arrivals_expected_for_health_staff(health, grid_worker):
    section = selectors.daylist_section(health, timezone.localdate())
    assert section is not None and section.count == 1 and section.key == "placements"
    assert selectors.daylist_section(grid_worker, timezone.localdate()) is None


def test_a_centralised_decision_links_to_placing_and_the_person_to_placements(health, point):
    from fangyi.care.flows import decision_make
    from fangyi.health.models import Declaration

    d = Declaration.objects.filter(proposal="central").order_by("pk").first()
    decision = decision_make(
        actor=health,
        person=d.person,
        outcome="central",
        declaration=d,
        last_exposure=timezone.localdate() - dt.timedelta(days=2),
        place=point.place,
    )
    client = english_login(health)
    body = client.get(f"/declarations/{d.pk}/").content.decode()
    assert f"/placements/new/?person={d.person_id}&amp;decision={decision.pk}" in body
    assert (
        f"/placements/?person={d.person_id}"
        in client.get(f"/people/{d.person_id}/").content.decode()
    )
    # The form opens for that person and decision, the quarantine point listed for the group.
    cc = Group.objects.get(code="close_contact")
    page = client.get(f"/placements/new/?person={d.person_id}&decision={decision.pk}&group={cc.pk}")
    assert page.status_code == 200 and "西乡塘区集中隔离点" in page.content.decode()


def test_the_decision_presets_the_group_and_the_site_it_chose(health, point):
    """Issue 12, item 13: the group had to be picked by hand, and the decision's site was not
    preselected."""
    import re

    from fangyi.care.flows import decision_make
    from fangyi.health.models import Declaration

    d = Declaration.objects.filter(proposal="central").order_by("pk").first()
    assert any(c.get("kind") == "confirmed" for c in d.contacts)  # a close contact
    decision = decision_make(
        actor=health,
        person=d.person,
        outcome="central",
        declaration=d,
        last_exposure=timezone.localdate() - dt.timedelta(days=2),
        place=point.place,
    )
    page = (
        english_login(health)
        .get(f"/placements/new/?person={d.person_id}&decision={decision.pk}")
        .content.decode()
    )
    cc = Group.objects.get(code="close_contact")
    assert re.search(rf'<option value="{cc.pk}" selected>', page)
    assert "from the decision" in page
    checked = re.search(r'<input type="radio" name="site" value="(\d+)" checked>', page)
    assert checked and int(checked.group(1)) == point.pk
    assert 'id="place-submit"' in page and "Confirm the placement" in page
