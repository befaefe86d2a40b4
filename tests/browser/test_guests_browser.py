"""The hotel clerk on a 360 px phone at the front desk: a guest from 武漢 checks in, she reports
him and sees him flagged in today's list, without the page ever scrolling sideways."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.browser.test_browser import assert_no_horizontal_scroll, log_in, path_of

pytestmark = pytest.mark.browser


def test_hotel_clerk_reports_a_guest_from_wuhan_on_a_phone(phone_page, shot):
    from django.utils import timezone

    from fangyi.core.validators import id_check_digit
    from fangyi.guests.models import GuestReport

    page = phone_page
    log_in(page, "jiudian")
    with page.expect_navigation():
        page.goto("/guests/")
    assert path_of(page) == "/guests/"
    assert_no_horizontal_scroll(page, "the hotel's guest page")
    shot(page, "guests-01-desk")

    first17 = "42010219870512031"
    number = first17 + id_check_digit(first17)
    # A wrong check digit first: the error sits next to the number, what was typed is kept.
    page.fill("#id_name", "张汉生")
    page.select_option("#id_id_type", "resident")
    page.fill("#id_id_number", number[:17] + ("0" if number[17] != "0" else "1"))
    page.locator("#id_id_number").press("End")  # a key typed: the live check answers
    page.locator("#id-check .errorlist").wait_for()
    page.fill("#id_phone", "13907715678")
    page.fill("#id_from_where", "湖北省武汉市")
    page.fill("#id_travel_since", (timezone.localdate() - dt.timedelta(days=6)).isoformat())
    page.fill("#id_room", "512")
    with page.expect_navigation():
        page.click("form.guest-form button[type=submit]")
    assert page.locator("#fg-id_number .errorlist").count() == 1
    assert page.input_value("#id_name") == "张汉生"
    assert page.input_value("#id_from_where") == "湖北省武汉市"
    assert_no_horizontal_scroll(page, "the form with an error")
    assert not GuestReport.objects.filter(name="张汉生").exists()

    page.fill("#id_id_number", number)
    with page.expect_navigation():
        page.click("form.guest-form button[type=submit]")
    assert path_of(page) == "/guests/"
    row = page.locator("ul.guests li", has_text="张汉生")
    assert row.count() == 1
    assert row.locator(".gstatus.s-flagged").count() == 1
    assert page.locator("ul.messages li.warning", has_text="张汉生").count() == 1
    assert_no_horizontal_scroll(page, "today's guests")
    shot(page, "guests-02-flagged")
    report = GuestReport.objects.get(name="张汉生")
    assert report.flagged and report.status == "flagged" and report.room == "512"
    assert page.js_errors == []
