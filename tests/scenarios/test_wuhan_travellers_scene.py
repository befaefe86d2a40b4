"""The seed's scene: on the afternoon of 4 February 2020 a hotel on 北大路 calls Wuliting
station: two travellers from Wuhan, stranded in Guangxi after a holiday in Vietnam, want to
check in. Officer 徐紅心 comes, registers them and takes their temperatures, and they go on
their own to the designated hotel for travellers from Hubei, which confirms their arrival;
fourteen days of checks there, then release, and the beds go to cleaning.

Through the pages where there is one (the hotel's report, the officer's day list, the
registration and the referral), through the services for the designated hotel's side."""

from __future__ import annotations

import datetime as dt
import uuid
from zoneinfo import ZoneInfo

import pytest
import time_machine

from fangyi.core.models import User
from fangyi.guests.models import GuestReport, GuestStatus
from fangyi.guests.services import guests_check
from fangyi.health.models import Declaration, RiskArea
from fangyi.observation.models import FollowUp, FollowUpStatus, ObservationStatus
from fangyi.observation.services import daily_rounds, followup_record
from fangyi.people.models import Person
from fangyi.quarantine.models import BedState, PlacementStatus
from fangyi.quarantine.services import placement_arrive, placement_release
from tests.conftest import english_login, login
from tests.test_guests import designated_site

pytestmark = pytest.mark.django_db

TZ = ZoneInfo("Asia/Shanghai")
CALL = dt.datetime(2020, 2, 4, 15, 0, tzinfo=TZ)  # "2月4日下午"
LEFT_WUHAN = dt.date(2020, 1, 22)  # the day before the city closed
NAMES = ("陈志强", "刘丽")


def test_two_wuhan_travellers_from_the_hotel_on_beida_road_to_release(hotel_clerk, officer, health):
    dingdian = User.objects.get(username="dingdian")
    travellers = {p.name: p for p in Person.objects.filter(name__in=NAMES, notes__contains="武汉")}
    assert set(travellers) == set(NAMES)
    # The demo reported them today; the scene replays the report on the day of the story.
    GuestReport.objects.filter(name__in=NAMES).delete()

    with time_machine.travel(CALL, tick=False) as traveller:
        RiskArea.objects.create(
            name="湖北", aliases="湖北省, 武汉, 武汉, 武汉市", counts_from=dt.date(2020, 1, 1)
        )
        site = designated_site(free=4)
        free_before = site.beds.filter(state=BedState.FREE).count()

        # The hotel's clerk reports both at the front desk, on her phone.
        desk = english_login(hotel_clerk)
        for room, name in (("305", "陈志强"), ("306", "刘丽")):
            person = travellers[name]
            r = desk.post(
                "/guests/",
                {
                    "name": name,
                    "id_type": "resident",
                    "id_number": person.id_number,
                    "phone": person.phone,
                    "from_where": "湖北省武汉市",
                    "travel_since": LEFT_WUHAN.isoformat(),
                    "arrived_on": "2020-02-04",
                    "room": room,
                    "client_id": str(uuid.uuid4()),
                },
                follow=True,
            )
            assert r.status_code == 200 and "flagged" in r.content.decode()
        reports = {g.name: g for g in GuestReport.objects.filter(name__in=NAMES)}
        assert all(g.flagged and g.status == GuestStatus.FLAGGED for g in reports.values())
        assert all("湖北" in g.flag_reason for g in reports.values())

        # The officer sees them on his day list.
        cop = english_login(officer)
        home = cop.get("/").content.decode()
        for name, g in reports.items():
            assert name in home and f"/guests/{g.pk}/" in home

        # He comes, registers them (the registry has them) and takes their temperatures.
        traveller.shift(dt.timedelta(minutes=40))
        cop = english_login(officer)  # a new session: the first one went idle on the way
        for (name, g), temp in zip(reports.items(), ("36.4", "36.7"), strict=True):
            page = cop.get(f"/guests/{g.pk}/").content.decode()
            assert travellers[name].id_number in page
            r = cop.post(
                f"/guests/{g.pk}/register/",
                {
                    "name": name,
                    "id_type": "resident",
                    "id_number": travellers[name].id_number,
                    "temperature": temp,
                    "temperature_method": "forehead",
                },
            )
            assert r.status_code == 302, r.content.decode()[:500]
            g.refresh_from_db()
            assert g.person == travellers[name] and g.status == GuestStatus.REGISTERED
            decl = Declaration.objects.filter(person=g.person).latest("pk")
            assert str(decl.temperature) == temp and decl.travel[0]["place"] == "湖北省武汉市"

        # ... and refers them to the designated hotel with free beds; they go on their own.
        for g in reports.values():
            page = cop.get(f"/guests/{g.pk}/").content.decode()
            assert "湖北籍旅客定点酒店" in page and "free beds" in page
            r = cop.post(f"/guests/{g.pk}/refer/", {"site": site.pk, "transport": ""})
            assert r.status_code == 302, r.content.decode()[:500]
            g.refresh_from_db()
            assert g.status == GuestStatus.REFERRED
            assert g.placement.transport == "自行前往" and g.placement.group.code == "hubei"
        assert site.beds.filter(state=BedState.FREE).count() == free_before - 2

        # The designated hotel confirms both arrivals within the hour.
        traveller.shift(dt.timedelta(minutes=50))
        for g in reports.values():
            placement_arrive(actor=dingdian, placement=g.placement)
        assert guests_check()["arrived"] == 2
        for g in reports.values():
            g.refresh_from_db()
            assert g.status == GuestStatus.ARRIVED and g.overdue_at is None
        home = english_login(officer).get("/").content.decode()
        assert not any(f"/guests/{g.pk}/" in home for g in reports.values())

    # Fourteen days of checks at the site: the site's staff's follow-ups, recorded each day.
    placements = [g.placement for g in reports.values()]
    observations = []
    for p in placements:
        p.refresh_from_db()
        assert p.status == PlacementStatus.ACTIVE and p.observation is not None
        observations.append(p.observation)
    ends = {o.ends for o in observations}
    assert ends == {dt.date(2020, 2, 18)}
    day = CALL.date()
    recorded = 0
    while day <= dt.date(2020, 2, 18):
        with time_machine.travel(dt.datetime.combine(day, dt.time(9, 0), tzinfo=TZ), tick=False):
            daily_rounds(day)
            due = FollowUp.objects.filter(
                observation__in=observations, due=day, status=FollowUpStatus.DUE
            )
            assert due.count() >= 2
            assert set(due.values_list("assignee", flat=True)) == {dingdian.pk}
            for f in due:
                followup_record(actor=health, followup=f, status="seen_well", temperature="36.5")
                recorded += 1
        day += dt.timedelta(days=1)
    assert recorded >= 2 * 15

    # Release on the last day: the beds go to cleaning.
    with time_machine.travel(dt.datetime(2020, 2, 18, 16, 0, tzinfo=TZ), tick=False):
        for p in placements:
            placement_release(actor=health, placement=p)
            p.refresh_from_db()
            assert p.status == PlacementStatus.RELEASED
            assert p.bed.state == BedState.CLEANING
            p.observation.refresh_from_db()
            assert p.observation.status == ObservationStatus.RELEASED
    assert login(officer).get(f"/guests/{placements[0].guest_reports.get().pk}/").status_code == 200
