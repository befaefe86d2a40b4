"""Hotel guest reports through the pages and the services: bad input, the rules' flag, scoping,
registration, referral to a designated hotel, the worker's checks and the purge."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
import time_machine
from django.utils import timezone

from fangyi.core.errors import Conflict, DomainError, Forbidden, NotFound
from fangyi.core.models import AuditEntry, Role, User
from fangyi.core.validators import id_check_digit
from fangyi.guests import selectors, services
from fangyi.guests.models import GuestReport, GuestSettings, GuestStatus
from fangyi.health.models import Declaration, RiskArea
from fangyi.people.models import Person, Place
from tests.conftest import english_login, login

pytestmark = pytest.mark.django_db


def today() -> dt.date:
    return timezone.localdate()


def resident_id(born: str, seq: str = "013", region: str = "420106") -> str:
    first17 = f"{region}{born}{seq}"
    return first17 + id_check_digit(first17)


def guest(**over) -> dict:
    data = {
        "name": "王武汉",
        "id_type": "resident",
        "id_number": resident_id("19850304"),
        "phone": "13907710001",
        "from_where": "湖北省武汉市",
        "travel_since": today() - dt.timedelta(days=5),
        "arrived_on": today(),
        "room": "808",
    }
    data.update(over)
    return data


def designated_site(free: int = 3):
    """The demo's designated hotel as a quarantine site taking travellers from Hubei and other
    risk areas, with at least `free` free beds."""
    from fangyi.quarantine.models import Bed, BedState, Group, Room
    from fangyi.quarantine.services import site_for_place

    site = site_for_place(Place.objects.get(name="湖北籍旅客定点酒店"))
    site.groups.add(*Group.objects.filter(code__in=["hubei", "risk_area"]))
    have = Bed.objects.filter(site=site, state=BedState.FREE).count()
    if have < free:
        room = Room.objects.create(site=site, number=f"T{uuid.uuid4().hex[:6]}", floor=9)
        for i in range(free - have):
            Bed.objects.create(room=room, site=site, label=str(i + 1))
    return site


def fill(site) -> None:
    from fangyi.quarantine.models import Bed, BedState

    Bed.objects.filter(site=site, state=BedState.FREE).update(state=BedState.OUT_OF_SERVICE)


@pytest.fixture
def designated_clerk(db):
    return User.objects.get(username="dingdian")


@pytest.fixture
def other_hotel_clerk(db, hotel_clerk):
    """The clerk of a second ordinary hotel, at 机务小区."""
    from fangyi.core.models import Node

    place = Place.objects.create(
        kind="hotel", name="机务招待所", node=Node.objects.get(name="机务小区"), address="机务路1号"
    )
    return User.objects.create(username="zhaodai", role=Role.SITE_STAFF, place=place)


# --- bad input ---------------------------------------------------------------------------------


def test_a_wrong_check_digit_is_refused_on_id_number_and_nothing_is_stored(hotel_clerk):
    before = GuestReport.objects.count()
    number = resident_id("19850304")
    wrong = number[:17] + ("0" if number[17] != "0" else "1")
    with pytest.raises(DomainError) as exc:
        services.guest_report(actor=hotel_clerk, data=guest(id_number=wrong))
    assert "id_number" in exc.value.errors
    response = english_login(hotel_clerk).post(
        "/guests/", {**guest(id_number=wrong), "client_id": str(uuid.uuid4())}
    )
    assert response.status_code == 400
    assert "check digit" in response.content.decode()
    assert b'id="fg-id_number"' in response.content and wrong.encode() in response.content
    assert GuestReport.objects.count() == before


def test_each_wrong_field_is_named(hotel_clerk):
    with pytest.raises(DomainError) as exc:
        services.guest_report(
            actor=hotel_clerk,
            data=guest(
                name="",
                phone="12345",
                from_where="",
                travel_since=today() + dt.timedelta(days=1),
                arrived_on=today() + dt.timedelta(days=1),
            ),
        )
    assert {"name", "phone", "from_where", "travel_since", "arrived_on"} <= set(exc.value.errors)
    with pytest.raises(DomainError) as exc:
        services.guest_report(
            actor=hotel_clerk,
            data=guest(
                travel_since=today() - dt.timedelta(days=1),
                arrived_on=today() - dt.timedelta(days=3),
            ),
        )
    assert set(exc.value.errors) == {"travel_since"}
    with pytest.raises(DomainError) as exc:
        services.guest_report(actor=hotel_clerk, data=guest(id_type="passport", id_number="E1?"))
    assert set(exc.value.errors) == {"id_number"}
    with pytest.raises(DomainError) as exc:
        services.guest_report(actor=hotel_clerk, data=guest(id_type="none", id_number=""))
    assert set(exc.value.errors) == {"id_type", "id_number"}
    assert not GuestReport.objects.filter(name="王武汉").exists()


def test_a_passport_and_today_as_the_arrival_are_fine(hotel_clerk):
    report = services.guest_report(
        actor=hotel_clerk,
        data=guest(id_type="passport", id_number="e 1234567 8", travel_since=None),
    )
    assert report.id_number == "E12345678" and report.arrived_on == today()


def test_the_staff_of_a_designated_hotel_cannot_report_guests(designated_clerk):
    with pytest.raises(Forbidden):
        services.guest_report(actor=designated_clerk, data=guest())
    client = login(designated_clerk)
    assert client.post("/guests/", guest()).status_code == 403
    assert client.get("/guests/").status_code == 403
    r = client.post("/api/guest-reports", guest(), content_type="application/json")
    assert r.status_code == 403
    assert not GuestReport.objects.filter(name="王武汉").exists()


def test_the_same_client_id_stores_one_report(hotel_clerk, other_hotel_clerk):
    key = uuid.uuid4()
    one = services.guest_report(actor=hotel_clerk, data=guest(), client_id=key)
    two = services.guest_report(actor=hotel_clerk, data=guest(), client_id=key)
    assert one.pk == two.pk and GuestReport.objects.filter(client_id=key).count() == 1
    with pytest.raises(Conflict) as exc:
        services.guest_report(actor=other_hotel_clerk, data=guest(), client_id=key)
    assert "client_id" in exc.value.errors


# --- the rules ---------------------------------------------------------------------------------


def test_a_guest_from_wuhan_is_flagged_with_the_reason_one_from_nanning_is_not(hotel_clerk):
    wuhan = services.guest_report(actor=hotel_clerk, data=guest(from_where="武汉"))
    assert wuhan.flagged and wuhan.status == GuestStatus.FLAGGED
    assert "湖北省" in wuhan.flag_reason and "武汉" in wuhan.flag_reason
    assert wuhan.node == hotel_clerk.place.node
    nanning = services.guest_report(
        actor=hotel_clerk,
        data=guest(
            name="黄南宁", id_number=resident_id("19900101", region="450103"), from_where="南宁市"
        ),
    )
    assert not nanning.flagged and nanning.status == GuestStatus.REPORTED
    assert nanning.flag_reason == ""


def test_an_inactive_area_or_an_old_journey_does_not_flag(hotel_clerk):
    old = services.guest_report(
        actor=hotel_clerk,
        data=guest(
            travel_since=today() - dt.timedelta(days=20), arrived_on=today() - dt.timedelta(days=1)
        ),
    )
    assert not old.flagged
    RiskArea.objects.filter(name="湖北省").update(is_active=False)
    off = services.guest_report(actor=hotel_clerk, data=guest(name="李武汉"))
    assert not off.flagged and off.status == GuestStatus.REPORTED


def test_the_officer_sees_a_flagged_guest_on_the_day_list(hotel_clerk, officer, outsider):
    report = services.guest_report(actor=hotel_clerk, data=guest())
    section = selectors.daylist_section(officer, today())
    assert report.pk in [i.pk for i in section.items]
    assert section.key == "guests" and section.items[0].kind == "guest"
    assert report.pk not in [i.pk for i in selectors.daylist_section(outsider, today()).items]
    assert selectors.daylist_section(hotel_clerk, today()) is None
    page = english_login(officer).get("/")
    assert page.status_code == 200 and "王武汉" in page.content.decode()


# --- scoping -------------------------------------------------------------------------------------


def test_hotel_staff_see_only_their_hotel_and_not_why(hotel_clerk, other_hotel_clerk):
    mine = services.guest_report(actor=hotel_clerk, data=guest())
    theirs = services.guest_report(
        actor=other_hotel_clerk, data=guest(name="赵客", id_number=resident_id("19700101"))
    )
    assert set(selectors.guest_list(hotel_clerk)) >= {mine}
    assert theirs not in selectors.guest_list(hotel_clerk)
    client = english_login(hotel_clerk)
    home = client.get("/guests/").content.decode()
    assert "王武汉" in home and "赵客" not in home and "Flagged" in home
    assert client.get(f"/guests/{theirs.pk}/").status_code == 404
    detail = client.get(f"/guests/{mine.pk}/").content.decode()
    assert "Flagged" in detail and "risk area" not in detail and "Register" not in detail
    api = client.get(f"/api/guest-reports/{mine.pk}").json()
    assert api["flagged"] is True and api["flag_reason"] is None and api["person_id"] is None
    assert client.get(f"/api/guest-reports/{theirs.pk}").status_code == 404


def test_another_stations_police_get_404(hotel_clerk, officer, outsider):
    report = services.guest_report(actor=hotel_clerk, data=guest())
    assert login(outsider).get(f"/guests/{report.pk}/").status_code == 404
    r = login(outsider).post(f"/guests/{report.pk}/register/", {"temperature": "36.5"})
    assert r.status_code == 404
    with pytest.raises(NotFound):
        selectors.guest_get(outsider, report.pk)
    assert report not in selectors.guest_list(outsider)
    page = login(officer).get("/guests/")
    assert page.status_code == 200 and "王武汉" in page.content.decode()


def test_a_detail_read_is_logged(hotel_clerk, officer):
    from fangyi.core.models import AccessLog

    report = services.guest_report(actor=hotel_clerk, data=guest())
    login(officer).get(f"/guests/{report.pk}/")
    assert AccessLog.objects.filter(object_type="guestreport", object_id=report.pk, via="ui")


# --- the officer -------------------------------------------------------------------------------


def test_register_finds_the_registry_person_and_records_the_temperature(hotel_clerk, officer):
    chen = Person.objects.get(name="陈志强", notes__contains="武汉籍")
    report = services.guest_report(
        actor=hotel_clerk, data=guest(name=chen.name, id_number=chen.id_number)
    )
    client = login(officer)
    bad = client.post(
        f"/guests/{report.pk}/register/", {"id_type": "resident", "temperature": "45"}
    )
    assert bad.status_code == 400
    report.refresh_from_db()
    assert report.person is None and report.status == GuestStatus.FLAGGED
    ok = client.post(
        f"/guests/{report.pk}/register/",
        {
            "name": chen.name,
            "id_type": "resident",
            "id_number": chen.id_number,
            "temperature": "36.6",
            "temperature_method": "forehead",
        },
    )
    assert ok.status_code == 302
    report.refresh_from_db()
    assert report.person == chen and report.status == GuestStatus.REGISTERED
    assert report.registered_by == officer
    decl = Declaration.objects.filter(person=chen).latest("pk")
    assert str(decl.temperature) == "36.6" and decl.travel[0]["place"] == "湖北省武汉市"
    assert decl.proposal == "home"  # the rules see the journey from Wuhan
    section = selectors.daylist_section(officer, today())
    assert [i.badge for i in section.items if i.pk == report.pk]


def test_register_creates_a_new_person_at_the_hotels_node(hotel_clerk, officer):
    report = services.guest_report(actor=hotel_clerk, data=guest())
    services.guest_register(actor=officer, report=report, temperature="36.8")
    person = report.person
    assert person.node == hotel_clerk.place.node and person.household is None
    assert person.id_number == guest()["id_number"]
    with pytest.raises(Conflict):
        services.guest_register(actor=officer, report=report, temperature="36.8")


def test_refer_needs_registration_then_reserves_a_bed(hotel_clerk, officer):
    site = designated_site()
    report = services.guest_report(actor=hotel_clerk, data=guest())
    with pytest.raises(DomainError) as exc:
        services.guest_refer(actor=officer, report=report, site=site)
    assert "person" in exc.value.errors
    services.guest_register(actor=officer, report=report, temperature="36.5")
    r = login(officer).post(f"/guests/{report.pk}/refer/", {"site": site.pk, "transport": ""})
    assert r.status_code == 302, r.content
    report.refresh_from_db()
    assert report.status == GuestStatus.REFERRED and report.placement.site == site
    assert report.placement.group.code == "hubei" and report.placement.transport == "自行前往"
    hours = GuestSettings.get().confirm_hours
    assert abs((report.confirm_by - report.referred_at) - dt.timedelta(hours=hours)) < dt.timedelta(
        seconds=1
    )
    assert report.placement.bed.state == "reserved"


def test_a_referral_to_a_full_designated_hotel_is_refused_on_site(hotel_clerk, officer):
    site = designated_site()
    report = services.guest_report(actor=hotel_clerk, data=guest())
    services.guest_register(actor=officer, report=report, temperature="36.5")
    fill(site)
    response = english_login(officer).post(f"/guests/{report.pk}/refer/", {"site": site.pk})
    assert response.status_code == 400
    assert b'id="fg-site"' in response.content and b"no free bed" in response.content
    r = login(officer).post(
        f"/api/guest-reports/{report.pk}/refer",
        {"site_id": site.pk},
        content_type="application/json",
    )
    assert r.status_code == 400 and {e["field"] for e in r.json()["errors"]} == {"site_id"}
    report.refresh_from_db()
    assert report.status == GuestStatus.REGISTERED and report.placement is None


def test_a_referral_to_a_quarantine_point_or_nothing_is_refused(hotel_clerk, officer):
    from fangyi.quarantine.services import site_for_place

    point = site_for_place(Place.objects.get(name="西乡塘区集中隔离点"))
    report = services.guest_report(actor=hotel_clerk, data=guest())
    services.guest_register(actor=officer, report=report, temperature="36.5")
    for site in (point, None):
        with pytest.raises(DomainError) as exc:
            services.guest_refer(actor=officer, report=report, site=site)
        assert "site" in exc.value.errors


def test_clear_needs_a_reason(hotel_clerk, officer):
    report = services.guest_report(actor=hotel_clerk, data=guest())
    client = login(officer)
    assert client.post(f"/guests/{report.pk}/clear/", {"reason": ""}).status_code == 400
    assert client.post(f"/guests/{report.pk}/clear/", {"reason": "本地居民"}).status_code == 302
    report.refresh_from_db()
    assert report.status == GuestStatus.CLEARED and "本地居民" in report.notes
    assert report.pk not in [i.pk for i in selectors.daylist_section(officer, today()).items]


# --- the worker ----------------------------------------------------------------------------------


def _referred(hotel_clerk, officer):
    site = designated_site()
    report = services.guest_report(actor=hotel_clerk, data=guest())
    services.guest_register(actor=officer, report=report, temperature="36.5")
    return services.guest_refer(actor=officer, report=report, site=site)


def test_a_referral_not_confirmed_in_time_is_flagged_once(hotel_clerk, officer, supervisor):
    report = _referred(hotel_clerk, officer)
    assert services.guests_check(timezone.now()) == {"arrived": 0, "overdue": 0}
    hours = GuestSettings.get().confirm_hours
    with time_machine.travel(timezone.now() + dt.timedelta(hours=hours, minutes=1), tick=False):
        assert services.guests_check(timezone.now())["overdue"] == 1
        assert services.guests_check(timezone.now())["overdue"] == 0
        report.refresh_from_db()
        assert report.overdue_at is not None and report.status == GuestStatus.REFERRED
        assert AuditEntry.objects.filter(action="fangyi.guestreport.overdue", object_id=report.pk)
        for user in (officer, supervisor):
            items = selectors.daylist_section(user, timezone.localdate()).items
            assert [i.badge_css for i in items if i.pk == report.pk] == ["warn"]


def test_an_arrival_confirmed_makes_the_guest_arrived(hotel_clerk, officer, designated_clerk):
    from fangyi.quarantine.services import placement_arrive

    report = _referred(hotel_clerk, officer)
    placement_arrive(actor=designated_clerk, placement=report.placement)
    assert services.guests_check(timezone.now()) == {"arrived": 1, "overdue": 0}
    report.refresh_from_db()
    assert report.status == GuestStatus.ARRIVED
    hours = GuestSettings.get().confirm_hours
    later = timezone.now() + dt.timedelta(hours=hours + 1)
    assert services.guests_check(later) == {"arrived": 0, "overdue": 0}


def test_the_purge_deletes_only_unflagged_old_reports(hotel_clerk, officer):
    days = GuestSettings.get().retention_days
    long_ago = timezone.now() - dt.timedelta(days=days + 2)
    with time_machine.travel(long_ago, tick=False):
        old_plain = services.guest_report(
            actor=hotel_clerk, data=guest(name="旧客", from_where="南宁市")
        )
        old_flagged = services.guest_report(actor=hotel_clerk, data=guest(name="旧旗"))
        old_cleared = services.guest_report(actor=hotel_clerk, data=guest(name="旧清"))
        services.guest_clear(actor=officer, report=old_cleared, reason="核实无风险")
    new_plain = services.guest_report(
        actor=hotel_clerk, data=guest(name="新客", from_where="南宁市")
    )
    assert services.guests_purge(today()) >= 1
    left = set(GuestReport.objects.values_list("pk", flat=True))
    assert old_plain.pk not in left
    assert {old_flagged.pk, old_cleared.pk, new_plain.pk} <= left
    entry = AuditEntry.objects.filter(action="fangyi.guestreport.purged").latest("pk")
    assert entry.changes["deleted"][1] >= 1
    assert services.guests_purge(today()) == 0


# --- settings -------------------------------------------------------------------------------------


def test_settings_are_the_administrators(admin, officer):
    client = login(admin)
    assert 'href="/guests/settings/"' in client.get("/account/").content.decode()  # the menu
    assert client.get("/guests/settings/").status_code == 200
    bad = client.post("/guests/settings/", {"retention_days": "0", "confirm_hours": "3"})
    assert bad.status_code == 400
    ok = client.post("/guests/settings/", {"retention_days": "7", "confirm_hours": "2"})
    assert ok.status_code == 302
    s = GuestSettings.get()
    assert (s.retention_days, s.confirm_hours) == (7, 2)
    assert login(officer).get("/guests/settings/").status_code == 403


def test_the_demo_reports_the_seeds_travellers_flagged(officer):
    reports = GuestReport.objects.filter(place__name="北大路宾馆", reported_by__username="jiudian")
    flagged = {r.name for r in reports if r.flagged}
    assert {"陈志强", "刘丽"} <= flagged
    assert reports.filter(flagged=False, from_where__contains="南宁").exists()
    names = {i.title for i in selectors.daylist_section(officer, today()).items}
    assert {"陈志强", "刘丽"} <= names


def test_the_day_list_section_is_one_query_two_when_full(
    hotel_clerk, officer, django_assert_num_queries
):
    from fangyi.observation.selectors import DAYLIST_LIMIT

    access_paths = officer.nodes.count()  # the officer's paths are read once and cached
    assert access_paths
    selectors.daylist_section(officer, today())
    with django_assert_num_queries(1):
        section = selectors.daylist_section(officer, today())
    assert section.count == len(section.items) < DAYLIST_LIMIT
    for i in range(DAYLIST_LIMIT):
        services.guest_report(
            actor=hotel_clerk,
            data=guest(name=f"客{i}", id_number=resident_id("19800101", f"{i + 100:03d}")),
        )
    with django_assert_num_queries(2):
        section = selectors.daylist_section(officer, today())
    assert len(section.items) == DAYLIST_LIMIT and section.count > DAYLIST_LIMIT


def test_the_live_id_check_says_valid_or_why_not(hotel_clerk, designated_clerk, officer):
    number = resident_id("19850304")
    wrong = number[:17] + ("0" if number[17] != "0" else "1")
    client = english_login(hotel_clerk)
    ok = client.get("/guests/check-id/", {"id_number": number, "id_type": "resident"})
    assert ok.status_code == 200 and "born 1985-03-04" in ok.content.decode()
    bad = client.get("/guests/check-id/", {"id_number": wrong, "id_type": "resident"})
    assert "check digit" in bad.content.decode()
    chen = Person.objects.get(name="陈志强", notes__contains="武汉籍")
    known = client.get("/guests/check-id/", {"id_number": chen.id_number}).content.decode()
    assert "陈志强" not in known and "/people/" not in known  # the registry is not told
    assert login(officer).get("/guests/check-id/", {"id_number": number}).status_code == 403


def _queries(client, path: str) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        assert client.get(path).status_code == 200
    return len(ctx.captured_queries)


def test_the_lists_cost_the_same_queries_at_two_sizes(hotel_clerk, officer):
    desk, cop = login(hotel_clerk), login(officer)
    _queries(desk, "/guests/"), _queries(cop, "/guests/")  # sessions and caches warm
    small = (_queries(desk, "/guests/"), _queries(cop, "/guests/"))
    for i in range(25):
        services.guest_report(
            actor=hotel_clerk,
            data=guest(name=f"列{i}", id_number=resident_id("19800101", f"{i + 300:03d}")),
        )
    assert (_queries(desk, "/guests/"), _queries(cop, "/guests/")) == small
