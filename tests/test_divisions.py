"""Risk areas are GB/T 2260 divisions (issue 12, item 1).

A field trial found a hotel guest from 宜昌 judged 无风险 because only 湖北, 武汉, 孝感 and 黄冈
were listed as names. Now 湖北省 is the division 420000 and covers every prefecture and county
under it; an origin is picked from the list (宜昌, yichang); the ID number's region code is a
signal for the officer. The rules and the guest checks use the one matcher.
"""

from __future__ import annotations

import datetime as dt
import importlib

import pytest
from django.utils import timezone

from fangyi.core import divisions
from fangyi.guests import services as guests
from fangyi.guests.models import GuestStatus
from fangyi.health.models import RiskArea
from fangyi.health.services import rules_config, rules_evaluate
from fangyi.health.services.rules import AreaRule, id_region_signal
from tests.conftest import english_login
from tests.test_guests import guest, resident_id

D = dt.date


# --- the matcher --------------------------------------------------------------------------------

RESOLVE = [
    # typed place, the codes it names
    ("湖北省宜昌市", {"420500"}),
    ("宜昌", {"420500"}),
    ("yichang", {"420500"}),
    ("Yi Chang", {"420500"}),
    ("宜昌市夷陵区", {"420506"}),
    ("荊州區", {"421003"}),  # Traditional script; the county, not 荆州 + 区
    ("湖北省荆州市公安县", {"421022"}),
    ("公安县", {"421022"}),
    ("石首", {"421081"}),
    ("十堰", {"420300"}),
    ("湖北省武汉市", {"420100"}),
    ("Wuhan", {"420100"}),
    ("湖北", {"420000"}),
    ("长阳", {"420528"}),  # 长阳土家族自治县
    ("恩施州", {"422800"}),
    ("朝阳区", {"110105", "220104"}),  # two namesakes, both answered
    ("北京朝阳区", {"110105"}),  # the stated city picks one
    ("上海东路", {"310000"}),  # not 海东
    ("南宁市西乡塘区", {"450107"}),
    ("", set()),
    ("火星", set()),
]


@pytest.mark.parametrize(("place", "codes"), RESOLVE, ids=[p or "empty" for p, _ in RESOLVE])
def test_a_typed_place_resolves_to_the_divisions_it_names(place, codes):
    assert {d.code for d in divisions.resolve(place)} == codes


def test_a_division_covers_what_lies_under_it():
    hubei, yichang, jingzhou = (divisions.get(c) for c in ("420000", "420500", "421000"))
    assert hubei.level == "province" and yichang.level == "prefecture"
    assert hubei.covers("420506") and hubei.covers("421022") and not hubei.covers("430100")
    assert jingzhou.covers("421081") and not jingzhou.covers("420500")
    assert divisions.get("421022").full_name == "湖北省荆州市公安县"
    assert divisions.get("420500").label == "420500 宜昌市 (湖北省)"
    assert divisions.get("420500").name_hant == "宜昌市"
    assert divisions.get("421000").name_hant == "荊州市"


def test_the_list_is_the_whole_country():
    current = [d for d in divisions._table().values() if d.current]
    assert len(current) > 3000
    provinces = {d.code[:2] for d in current if d.level == "province"}
    assert len(provinces) == 34  # 31 provinces and municipalities, Taiwan, Hong Kong, Macao


@pytest.mark.parametrize(
    ("typed", "first"),
    [("yichang", "420500"), ("宜昌", "420500"), ("4205", "420500"), ("湖北", "420000")],
)
def test_the_picker_finds_a_division_by_name_pinyin_or_code(typed, first):
    assert divisions.search(typed)[0].code == first


def test_an_id_number_names_the_division_that_issued_it():
    assert divisions.id_region(resident_id("19900101", region="420502")).code == "420502"
    # 110228 密云县 became 110118 密云区 in 2015; IDs issued before still carry the old code.
    old = divisions.id_region(resident_id("19700101", region="110228"))
    assert old.name == "密云县" and not old.current
    # An unknown county code answers its prefecture.
    assert divisions.id_region("420599199001010000").code == "420500"
    assert divisions.id_region("ABC") is None and divisions.id_region("") is None


# --- the rules ------------------------------------------------------------------------------------

HUBEI = AreaRule("湖北省", ("湖北省",), D(2020, 1, 10), None, "420000")


@pytest.mark.parametrize(
    "place", ["宜昌", "湖北省宜昌市", "yichang", "十堰市", "荆州市", "湖北省荆州市公安县", "石首市"]
)
def test_every_place_under_hubei_is_in_the_area(place):
    assert HUBEI.matches(place)


@pytest.mark.parametrize("place", ["南宁", "湖南省长沙市", "广西壮族自治区", "北京朝阳区", ""])
def test_a_place_outside_hubei_is_not(place):
    assert not HUBEI.matches(place)


def test_an_area_without_a_division_still_matches_its_names():
    market = AreaRule("华南海鲜市场", ("华南海鲜市场",), D(2020, 1, 1))
    assert market.matches("武汉华南海鲜市场") and not market.matches("宜昌")


@pytest.mark.django_db
def test_a_declaration_from_a_county_of_jingzhou_proposes_observation():
    config = rules_config()  # the demo's 湖北省 is the division 420000, with no other names
    assert [a.division for a in config.areas if a.name == "湖北省"] == ["420000"]
    day = timezone.localdate()
    back = str(day - dt.timedelta(days=3))
    proposal = rules_evaluate(
        declared_on=day,
        temperature="36.5",
        symptoms=[],
        travel=[{"place": "湖北省荆州市公安县", "from": back, "to": back}],
        contacts=[],
        config=config,
    )
    assert proposal.outcome == "home", proposal
    assert "公安县" in proposal.reason


# --- the hotel's guests ---------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("place", ["宜昌", "湖北省荆州市公安县", "yichang"])
def test_a_guest_from_anywhere_in_hubei_is_flagged_for_the_hubei_group(hotel_clerk, place):
    report = guests.guest_report(actor=hotel_clerk, data=guest(from_where=place))
    assert report.flagged and report.status == GuestStatus.FLAGGED, report.flag_reason
    assert "湖北省" in report.flag_reason
    assert guests.default_group(report) == "hubei"


@pytest.mark.django_db
def test_the_hotel_api_flags_the_guest_from_yichang(hotel_clerk):
    client = english_login(hotel_clerk)
    day = timezone.localdate()
    response = client.post(
        "/api/guest-reports",
        {
            "name": "宜昌旅客",
            "id_type": "resident",
            "id_number": resident_id("19860707", region="420502"),
            "from_where": "湖北省宜昌市",
            "travel_since": (day - dt.timedelta(days=2)).isoformat(),
            "room": "301",
        },
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["flagged"] is True


@pytest.mark.django_db
def test_the_officer_sees_where_the_id_was_issued(hotel_clerk, officer):
    report = guests.guest_report(
        actor=hotel_clerk,
        data=guest(id_number=resident_id("19860707", region="420502"), from_where="南宁"),
    )
    assert not report.flagged  # he says he comes from 南宁: the ID is a signal, not a flag
    page = english_login(officer).get(f"/guests/{report.pk}/").content.decode()
    assert "ID issued in 420502 西陵区 (湖北省宜昌市)" in page
    assert "inside risk area 湖北省" in page
    signal = id_region_signal(report.id_number)
    assert signal.area == "湖北省" and signal.code == "420502"
    # The hotel's own page does not show it: the clerk is no officer.
    assert (
        "ID issued in"
        not in english_login(hotel_clerk).get(f"/guests/{report.pk}/").content.decode()
    )


# --- configuring the areas --------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_risk_area_is_picked_as_a_division_from_the_api(admin):
    client = english_login(admin)
    made = client.post(
        "/api/risk-areas",
        {"division": "420500", "counts_from": "2020-01-10"},
        content_type="application/json",
    )
    assert made.status_code == 201, made.content
    assert made.json()["name"] == "宜昌市" and made.json()["division"] == "420500"
    count = RiskArea.objects.count()
    bad = client.post(
        "/api/risk-areas",
        {"division": "429999", "counts_from": "2020-01-10"},
        content_type="application/json",
    )
    assert bad.status_code in (400, 422)
    assert [e["field"] for e in bad.json()["errors"]] == ["division"]
    assert RiskArea.objects.count() == count  # a refusal stores nothing


@pytest.mark.django_db
def test_a_risk_area_is_picked_as_a_division_on_the_rules_page(admin):
    client = english_login(admin)
    again = client.post(
        "/rules/",
        {"form": "area", "division": "330300 温州市", "counts_from": "2020-01-20"},
    )
    assert "A risk area for this division exists already." in again.content.decode()
    response = client.post(
        "/rules/",
        {
            "form": "area",
            "division": "420500 宜昌市",
            "name": "",
            "counts_from": "2020-01-20",
            "is_active": "on",
        },
    )
    assert response.status_code in (200, 302), response.content[:500]
    assert RiskArea.objects.get(division="420500").name == "宜昌市"


@pytest.mark.django_db
def test_the_migration_names_only_an_area_named_exactly_as_a_division():
    from django.apps import apps

    migration = importlib.import_module("fangyi.health.migrations.0004_riskarea_division")
    exact = RiskArea.objects.create(name="十堰市", counts_from="2020-01-10")
    market = RiskArea.objects.create(name="北京新发地", counts_from="2020-06-10")
    migration.name_the_divisions(apps, None)
    exact.refresh_from_db()
    market.refresh_from_db()
    assert exact.division == "420300" and market.division == ""  # a market, not all Beijing


@pytest.mark.django_db
def test_the_picked_full_name_is_taken_by_the_risk_area_form(admin):
    client = english_login(admin)
    response = client.post(
        "/rules/",
        {
            "form": "area",
            "division": "湖北省十堰市",
            "counts_from": "2020-01-20",
            "is_active": "on",
        },
    )
    assert response.status_code == 302, response.content[:300]
    assert RiskArea.objects.get(division="420300").name == "十堰市"


# --- the picker's endpoints -------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_picker_offers_yichang_to_anyone(client):
    page = client.get("/divisions/options/", {"q": "yichang"})
    assert page.status_code == 200
    assert '<option value="湖北省宜昌市">420500 · yichang</option>' in page.content.decode()
    api = client.get("/api/divisions", {"q": "yichang"}).json()
    assert api[0]["code"] == "420500" and api[0]["full_name"] == "湖北省宜昌市"
    assert client.get("/api/divisions/110228").json()["current"] is False
    assert client.get("/api/divisions/999999").status_code == 404
    assert client.get("/api/divisions", {"q": "x" * 51}).status_code == 422
