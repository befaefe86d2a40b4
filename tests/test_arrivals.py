"""Every reserved placement appears under the site's expected arrivals (issue 12, item 3).

The field trial referred a guest to the designated hotel late in the evening: his expected
arrival fell on the next day, so the hotel's home page (arrivals of *today*) did not show him.
Now the site page lists every reservation not yet arrived, marks those whose time has passed,
and health staff see the overdue ones on their day list too.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import timezone

from fangyi.core.models import User
from fangyi.guests import services
from fangyi.guests.models import GuestSettings
from fangyi.quarantine import selectors
from tests.conftest import english_login
from tests.test_guests import designated_site, guest

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def designated_clerk(db):
    return User.objects.get(username="dingdian")


def _item(html: str, name: str) -> str:
    """The <li> of the expected arrivals that names `name` ("" when there is none)."""
    arrivals = html[html.index('id="arrivals"') :].split("</ul>")[0]
    return next((li for li in arrivals.split("<li")[1:] if name in li), "")


def _late_referral(hotel_clerk, officer):
    settings = GuestSettings.get()
    settings.confirm_hours = 4
    settings.save()
    site = designated_site()
    report = services.guest_report(actor=hotel_clerk, data=guest(name="晚到客"))
    services.guest_register(actor=officer, report=report, temperature="36.5")
    return site, services.guest_refer(actor=officer, report=report, site=site)


def test_a_guest_referred_at_night_is_on_the_designated_hotels_home_page(
    hotel_clerk, officer, designated_clerk, health
):
    evening = dt.datetime.combine(timezone.localdate(), dt.time(22, 30), tzinfo=SH)
    with time_machine.travel(evening, tick=False):
        site, report = _late_referral(hotel_clerk, officer)
        expected = timezone.localtime(report.placement.expected_at)
        assert expected.date() > evening.date()  # tomorrow, 02:30
        page = english_login(designated_clerk).get("/", follow=True)
        assert page.redirect_chain and f"/sites/{site.pk}/" in page.redirect_chain[-1][0]
        html = page.content.decode()
        mine = _item(html, "晚到客")
        assert expected.strftime("%m-%d %H:%M") in mine and "overdue" not in mine

    # Past 02:30 and not arrived: overdue on the site's page and on health staff's day list.
    with time_machine.travel(expected + dt.timedelta(minutes=30), tick=False):
        rows = selectors.expected_arrivals(site)
        assert [p.overdue for p in rows if p.person.name == "晚到客"] == [True]
        html = english_login(designated_clerk).get(f"/sites/{site.pk}/").content.decode()
        assert "overdue" in _item(html, "晚到客")
        items = selectors.daylist_section(health, timezone.localdate()).items
        assert any("晚到客" in i.title for i in items)


def test_a_reservation_days_ahead_is_listed_too(hotel_clerk, officer, designated_clerk):
    site, report = _late_referral(hotel_clerk, officer)
    placement = report.placement
    placement.expected_at = timezone.now() + dt.timedelta(days=3)
    placement.save(update_fields=["expected_at"])
    rows = [p for p in selectors.expected_arrivals(site) if p.pk == placement.pk]
    assert len(rows) == 1 and rows[0].later and not rows[0].overdue
