"""The designated hotel's side of the seed's scene, through its pages: the two travellers from
Wuhan, referred by the station's officer from the hotel on 北大路 (fangyi.guests' referral,
which reserves their beds through placement_reserve), arrive at 湖北籍旅客定點酒店 on the
afternoon of 4 February 2020. The hotel's staff `dingdian` confirm each arrival with one tap on
their site page; fourteen days of checks follow there (the site's daily checks are the
people's follow-ups, assigned to the site's staff); a release the day before the end date is
refused naming the date; on the last day health staff release them from the placement page,
the beds go to cleaning, and the staff put them back to free.

Who records the checks: health staff here. Site staff hold the follow-ups but the access
policy does not let site staff record follow-ups (`followup.record` is for field roles)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine

from fangyi.core.models import User
from fangyi.guests.services import guest_refer, guest_register, guest_report
from fangyi.health.models import RiskArea
from fangyi.observation.models import FollowUp, FollowUpStatus
from fangyi.observation.services import daily_rounds, followup_record
from fangyi.people.models import Person
from fangyi.quarantine.models import Bed, Placement, Site
from fangyi.quarantine.selectors import occupancy
from tests.conftest import english_login, login

pytestmark = pytest.mark.django_db

TZ = ZoneInfo("Asia/Shanghai")
CALL = dt.datetime(2020, 2, 4, 15, 0, tzinfo=TZ)
NAMES = ("陈志强", "刘丽")


def _at(day: dt.date, hour: int) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=TZ)


def test_the_designated_hotel_receives_keeps_and_releases_the_two_travellers(
    hotel_clerk, officer, health
):
    dingdian = User.objects.get(username="dingdian")
    site = Site.objects.get(place__name="湖北籍旅客定点酒店")
    travellers = [Person.objects.get(name=n, notes__contains="武汉") for n in NAMES]
    from fangyi.guests.models import GuestReport

    GuestReport.objects.filter(name__in=NAMES).delete()  # the demo's, reported today

    with time_machine.travel(CALL, tick=False) as clock:
        RiskArea.objects.create(
            name="湖北", aliases="湖北省, 武汉, 武汉市", counts_from=dt.date(2020, 1, 1)
        )
        before = {r.site_id: r for r in occupancy(dingdian, CALL.date())}[site.pk]
        placements = []
        for i, person in enumerate(travellers):
            report = guest_report(
                actor=hotel_clerk,
                data={
                    "name": person.name,
                    "id_type": "resident",
                    "id_number": person.id_number,
                    "phone": person.phone,
                    "from_where": "湖北省武汉市",
                    "travel_since": "2020-01-22",
                    "arrived_on": "2020-02-04",
                    "room": f"30{i + 5}",
                },
            )
            guest_register(actor=officer, report=report, temperature="36.5")
            report.refresh_from_db()
            guest_refer(actor=officer, report=report, site=site)
            report.refresh_from_db()
            placements.append(report.placement)
        assert all(p.status == "reserved" and p.site == site for p in placements)
        now = {r.site_id: r for r in occupancy(dingdian, CALL.date())}[site.pk]
        assert now.reserved == before.reserved + 2 and now.free == before.free - 2

        # The hotel's staff see them among today's arrivals and confirm each with one tap.
        clock.shift(dt.timedelta(minutes=50))
        staff = english_login(dingdian)
        page = staff.get(f"/sites/{site.pk}/").content.decode()
        for p in placements:
            assert f'id="arrive-{p.pk}"' in page
            r = staff.post(f"/placements/{p.pk}/arrive/")
            assert r.status_code == 302 and r.url == f"/sites/{site.pk}/"
        page = staff.get(f"/sites/{site.pk}/").content.decode()
        for p in placements:
            p.refresh_from_db()
            assert p.status == "active" and p.bed.state == "occupied"
            assert p.observation.place_id == site.place_id
            assert p.observation.responsible == dingdian
            assert f'id="arrive-{p.pk}"' not in page
            assert p.person.name in page.split('id="people"')[1]
        ends = {p.observation.ends for p in placements}
        assert ends == {dt.date(2020, 2, 18)}
        assert "2020-02-18" in page

    # Fourteen days of checks at the site: each day's follow-ups, assigned to the site's staff.
    day = CALL.date() + dt.timedelta(days=1)
    observations = [p.observation for p in placements]
    while day <= dt.date(2020, 2, 18):
        with time_machine.travel(_at(day, 9), tick=False):
            daily_rounds(day)
            due = FollowUp.objects.filter(
                observation__in=observations, due=day, status=FollowUpStatus.DUE
            )
            assert due.count() == 2
            assert set(due.values_list("assignee", flat=True)) == {dingdian.pk}
            if day == dt.date(2020, 2, 10):
                # The site page shows today's check as due, then as recorded.
                page = english_login(dingdian).get(f"/sites/{site.pk}/").content.decode()
                assert page.count("check: Due") >= 2
            for f in due:
                followup_record(actor=health, followup=f, status="seen_well", temperature="36.6")
            if day == dt.date(2020, 2, 17):
                # The day before the end date: the release is refused, naming the date.
                r = english_login(health).post(f"/placements/{placements[0].pk}/release/")
                assert r.status_code == 400
                assert "2020-02-18" in r.content.decode()
                assert Placement.objects.get(pk=placements[0].pk).status == "active"
        day += dt.timedelta(days=1)

    # The last day: released from the placement page; the beds go to cleaning, then free.
    with time_machine.travel(_at(dt.date(2020, 2, 18), 16), tick=False):
        releases = {r.site_id: r for r in occupancy(dingdian, dt.date(2020, 2, 18))}[site.pk]
        assert releases.releases >= 2
        doctor = login(health)
        for p in placements:
            r = doctor.post(f"/placements/{p.pk}/release/")
            assert r.status_code == 302
            p.refresh_from_db()
            assert p.status == "released" and p.bed.state == "cleaning"
            assert p.observation.status == "released"
        staff = login(dingdian)
        for p in placements:
            r = staff.post(f"/beds/{p.bed_id}/state/", {"state": "free"})
            assert r.status_code == 302
            assert Bed.objects.get(pk=p.bed_id).state == "free"
