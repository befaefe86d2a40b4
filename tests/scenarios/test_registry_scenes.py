"""The seed's scenes, as far as the registry carries them (the workflows build on these)."""

import pytest

from fangyi.core.models import AccessLog, AuditEntry
from fangyi.core.validators import id_check_digit
from fangyi.people.models import Household, Person, Place
from tests.conftest import node

pytestmark = pytest.mark.django_db


def test_the_grid_worker_registers_a_household_in_jiwu_and_the_officer_finds_it(
    grid_worker, officer, as_user, jiwu
):
    """Door-to-door screening starts from the register: a new household in 机务小区."""
    worker = as_user(grid_worker)
    r = worker.post("/households/new/", {"node": jiwu.pk, "address": "机务小区12栋1单元302室"})
    assert r.status_code == 302
    household = Household.objects.get(address="机务小区12栋1单元302室")
    first17 = "45010719520304002"
    r = worker.post(
        f"/people/new/?household={household.pk}",
        {
            "name": "覃秀英",
            "id_type": "resident",
            "id_number": first17 + id_check_digit(first17),
            "phone": "0771-3856123",
            "household": household.pk,
            "relation": "户主",
            "client_id": "1b3c3f5e-9a7d-4d1e-8f2a-1234567890ab",
        },
    )
    assert r.status_code == 302
    # The station's officer finds her by initials and opens her record; the read is logged.
    police = as_user(officer)
    r = police.get("/people/", {"q": "qxy"})
    assert "覃秀英" in r.content.decode()
    person = Person.objects.get(name="覃秀英")
    assert police.get(f"/people/{person.pk}/").status_code == 200
    assert AccessLog.objects.filter(user=officer, object_id=person.pk).exists()
    # The outsider officer of 北湖 station does not.
    from fangyi.core.models import User

    other = as_user(User.objects.get(username="beihu"))
    assert "覃秀英" not in other.get("/people/", {"q": "qxy"}).content.decode()
    assert other.get(f"/people/{person.pk}/").status_code == 404


def test_the_officer_registers_the_two_wuhan_travellers_at_the_hotel_on_beida_road(
    officer, as_user, hotel
):
    """暖心服务: two Wuhan residents at the hotel on 北大路 are in the register, by name and ID."""
    client = as_user(officer)
    for name in ("陈志强", "刘丽"):
        r = client.get("/people/", {"q": name})
        assert name in r.content.decode()
    traveller = Person.objects.get(name="陈志强")
    assert traveller.id_number.startswith("420106")  # 武漢市武昌區
    assert traveller.node.name == "北大路沿街"
    assert traveller.household is None
    # The hotel is in the station's jurisdiction, and its clerk sees only the hotel.
    assert hotel.node.is_within(node("五里亭派出所"))
    from fangyi.core.models import User

    clerk = as_user(User.objects.get(username="jiudian"))
    assert clerk.get("/").status_code == 302
    page = clerk.get("/places/").content.decode()
    assert "北大路宾馆" in page and "定点酒店" not in page
    assert clerk.get(f"/people/{traveller.pk}/").status_code == 403


def test_the_designated_hotel_and_the_quarantine_point_have_capacity(supervisor, as_user):
    designated = Place.objects.get(kind="designated_hotel")
    quarantine = Place.objects.get(kind="quarantine_site")
    assert designated.capacity == 60 and quarantine.capacity == 120
    client = as_user(supervisor)
    # A supervisor adds a second quarantine point; a bed count is required.
    station = node("五里亭派出所")
    data = {
        "kind": "quarantine_site",
        "name": "五里亭临时隔离点",
        "node": station.pk,
        "address": "五里亭路1号",
        "phone": "",
        "capacity": "",
        "notes": "",
        "is_active": "on",
    }
    r = client.post("/places/new/", data)
    assert r.status_code == 200 and "errorlist" in r.content.decode()
    r = client.post("/places/new/", {**data, "capacity": "40"})
    assert r.status_code == 302
    place = Place.objects.get(name="五里亭临时隔离点")
    assert AuditEntry.objects.filter(action="fangyi.place.created", object_id=place.pk).exists()


def test_the_supervisor_sees_the_stations_households_per_community(supervisor, as_user):
    r = as_user(supervisor).get("/")
    page = r.content.decode()
    for community in ("机务社区", "南铁社区", "北大社区"):
        assert community in page
    assert "北湖社区" not in page
    jiwu_households = Household.objects.filter(node__name__in=["机务小区", "机务新村"]).count()
    assert f"<td>{jiwu_households}</td>" in page


def test_the_administrator_creates_an_account_for_a_new_grid_worker(admin, as_user):
    client = as_user(admin)
    grid = node("南铁第一网格")
    r = client.post(
        "/users/new/",
        {
            "username": "nantie_grid",
            "password": "short",
            "role": "grid_worker",
            "nodes": [grid.pk],
            "is_active": "on",
        },
    )
    assert r.status_code == 200 and "errorlist" in r.content.decode()
    r = client.post(
        "/users/new/",
        {
            "username": "nantie_grid",
            "password": "南铁北四区-网格-2020",
            "role": "grid_worker",
            "nodes": [grid.pk],
            "is_active": "on",
        },
    )
    assert r.status_code == 302
    from fangyi.core.models import User

    user = User.objects.get(username="nantie_grid")
    assert list(user.nodes.all()) == [grid]
    entry = AuditEntry.objects.get(action="fangyi.user.created", object_id=user.pk)
    assert "password" not in entry.changes
    assert client.get("/users/").status_code == 200
