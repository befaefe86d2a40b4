"""The work log (工作日志) in Chromium on a 360 px phone: the officer opens his log, reads the
period's sentence and sums and the days, picks a shorter period with the date inputs, gets a
clear error for an impossible one, and nothing scrolls sideways."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from fangyi.core.models import Node, User
from tests.browser.test_browser import assert_no_horizontal_scroll, log_in, path_of, tr
from tests.test_worklog import Records

pytestmark = pytest.mark.browser


def test_the_officer_reads_his_work_log_on_a_phone(phone_page, shot):
    page = phone_page
    officer = User.objects.get(username="xuhongxin")
    auxiliary = User.objects.get(username="fujing")
    r = Records(Node.objects.get(name="机务小区"))
    tz = timezone.get_default_timezone()
    today = timezone.localdate()

    def at(days_ago: int, hour: int) -> dt.datetime:
        return dt.datetime.combine(today - dt.timedelta(days=days_ago), dt.time(hour), tzinfo=tz)

    for d in range(1, 6):
        r.patrol(officer, at(d, 8), companions=[auxiliary], events=2)
        for h in (9, 10, 11):
            r.door(officer, at(d, h))
    r.support(officer, at(2, 14), 6)
    r.enforcement([officer, auxiliary], at(3, 20))

    log_in(page, "xuhongxin")
    page.goto("/worklog/")
    lang = page.get_attribute("html", "lang")
    assert page.locator("ul.days li[data-day]").count() == 20
    sentence = page.locator("#worklog-summary .sentence").inner_text()
    assert sentence.startswith("20")
    doors = page.locator('#worklog-summary dl.kinds [data-kind="doors"] dd').inner_text()
    assert int(doors) >= 15
    day = (today - dt.timedelta(days=2)).isoformat()
    chips = page.locator(f'ul.days li[data-day="{day}"] .chip')
    assert chips.count() >= 3  # patrol, its events, doors, support
    assert_no_horizontal_scroll(page, "the work log")
    for box in (page.locator("#id_start").bounding_box(), page.locator("#id_end").bounding_box()):
        assert box["x"] >= 0 and box["x"] + box["width"] <= 360.5 and box["height"] >= 40
    shot(page, "worklog-01-phone")

    # A shorter period, picked with the date inputs.
    start = (today - dt.timedelta(days=4)).isoformat()
    page.fill("#id_start", start)
    page.fill("#id_end", today.isoformat())
    with page.expect_navigation():
        page.locator("form.period button[type=submit]").tap()
    assert path_of(page).startswith("/worklog/?")
    assert page.locator("ul.days li[data-day]").count() == 5
    assert page.locator("#worklog-summary .sentence").inner_text().startswith("5")

    # An end before the start: the field's error, no log, no sideways scroll.
    page.fill("#id_start", today.isoformat())
    page.fill("#id_end", (today - dt.timedelta(days=3)).isoformat())
    with page.expect_navigation():
        page.locator("form.period button[type=submit]").tap()
    error = page.locator("#fg-end .errorlist")
    assert error.is_visible()
    assert error.inner_text().strip() == tr("The end must not be before the start.", lang)
    assert page.locator("ul.days").count() == 0
    assert_no_horizontal_scroll(page, "the work log's error")
    shot(page, "worklog-02-error-phone")
