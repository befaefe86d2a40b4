"""The station's dispatch board in Chromium: the timers tick in the browser every second, the
HTMX poll brings a request made meanwhile on the server within a few seconds, and the page
never scrolls sideways on a 360 px phone; on a desk the two lists stand side by side."""

from __future__ import annotations

import re
import time

import pytest

from tests.browser.test_browser import assert_no_horizontal_scroll, log_in, path_of

pytestmark = pytest.mark.browser


def _ask(urgency: str, need: str):
    from fangyi.core.models import User
    from fangyi.linkage.services import support_request_create
    from fangyi.people.models import Household

    household = Household.objects.filter(node__name="机务小区").order_by("-pk").first()
    return support_request_create(
        actor=User.objects.get(username="wanggeyuan"),
        agency="police",
        urgency=urgency,
        need=need,
        household=household,
    )


def _station():
    from fangyi.core.models import Node

    return Node.objects.get(name="五里亭派出所")


def test_the_board_ticks_and_polls_on_a_phone(phone_page, shot):
    page = phone_page
    first = _ask("urgent", "发热老人需民警协助送医")
    log_in(page, "xuhongxin")
    with page.expect_navigation(url=re.compile(r"/dispatch/\d+/$")):
        page.goto("/dispatch/")  # one station: straight to its board
    assert path_of(page) == f"/dispatch/{_station().pk}/"
    row = page.locator(f"li[data-request='{first.pk}']")
    row.wait_for()
    timer = row.locator(".timer")
    before = timer.inner_text()
    assert re.search(r"\d+:\d\d", before), before
    # the browser ticks it: within about two seconds the text changes
    page.wait_for_function(
        "([sel, text]) => document.querySelector(sel).textContent !== text",
        arg=[f"li[data-request='{first.pk}'] .timer", before],
        timeout=2500,
    )
    assert_no_horizontal_scroll(page, "the dispatch board")
    shot(page, "dispatch-01-phone")

    # a request made on the server meanwhile shows up with the next poll (every 5 s)
    started = time.monotonic()
    second = _ask("high", "住户拒不开门,请民警协助")
    page.locator(f"li[data-request='{second.pk}']").wait_for(timeout=7000)
    assert time.monotonic() - started < 7
    assert_no_horizontal_scroll(page, "the dispatch board after a poll")
    # the timers of the new lists tick too
    text = page.locator(f"li[data-request='{second.pk}'] .timer").inner_text()
    page.wait_for_function(
        "([sel, text]) => document.querySelector(sel).textContent !== text",
        arg=[f"li[data-request='{second.pk}'] .timer", text],
        timeout=2500,
    )
    assert not page.js_errors, page.js_errors

    # the request's page: its timer, the officer accepts and arrives, one tap each
    with page.expect_navigation(url=re.compile(rf"/support/{second.pk}/$")):
        page.locator(f"li[data-request='{second.pk}'] a").click()
    assert_no_horizontal_scroll(page, "a support request")
    with page.expect_navigation():
        page.click(f"form[action='/support/{second.pk}/accept/'] button")
    with page.expect_navigation():
        page.click(f"form[action='/support/{second.pk}/arrive/'] button")
    assert page.locator("#timeline li").count() == 3
    assert_no_horizontal_scroll(page, "an answered support request")
    shot(page, "dispatch-03-request")
    second.refresh_from_db()
    assert second.status == "arrived" and second.accepted_by.username == "xuhongxin"
    with page.expect_navigation():
        page.goto("/support/?tab=all&status=any")
    assert page.locator(f"a[href='/support/{second.pk}/']").count() == 1
    assert_no_horizontal_scroll(page, "the support requests")
    assert not page.js_errors, page.js_errors


def _refused_door():
    from fangyi.core.models import User
    from fangyi.screening.models import Assignment
    from fangyi.screening.services import door_visit_record

    worker = User.objects.get(username="wanggeyuan")
    door = Assignment.objects.filter(
        assignee=worker, status="pending", sweep__status="open"
    ).first()
    door_visit_record(actor=worker, assignment=door, outcome="refused", notes="不开门")
    return door


def test_one_tap_from_a_refused_door_reaches_the_board(browser, live_server, phone_page, shot):
    from fangyi.linkage.models import SupportRequest
    from tests.browser.conftest import _phone_page

    door = _refused_door()
    page = phone_page
    log_in(page, "wanggeyuan")
    with page.expect_navigation():
        page.goto(f"/doors/{door.pk}/")
    with page.expect_navigation(url=re.compile(r"/support/\d+/$")):
        page.click("#ask-police")
    s = SupportRequest.objects.get(assignment=door)
    assert (s.agency, s.urgency) == ("police", "high")
    assert_no_horizontal_scroll(page, "the request just asked")
    with page.expect_navigation():
        page.goto(f"/doors/{door.pk}/")
    assert page.locator("#ask-police").count() == 0
    card = page.locator("#door-support")
    assert card.locator(".timer[data-due]").count() == 1
    assert_no_horizontal_scroll(page, "the refused door with its request")
    shot(page, "dispatch-04-door")

    # the officer's board, open on another phone, shows it
    context, police = _phone_page(browser, live_server.url)
    try:
        log_in(police, "xuhongxin")
        with police.expect_navigation():
            police.goto(f"/dispatch/{_station().pk}/")
        police.locator(f"li[data-request='{s.pk}']").wait_for()
        assert door.household.address in police.locator(f"li[data-request='{s.pk}']").inner_text()
    finally:
        context.close()
    assert not page.js_errors, page.js_errors


def test_the_board_has_two_columns_on_a_desk(browser, live_server, demo_city, shot):
    context = browser.new_context(
        viewport={"width": 1280, "height": 800}, locale="zh-CN", base_url=live_server.url
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        first = _ask("urgent", "聚集聚餐需民警到场")
        log_in(page, "xuhongxin")
        with page.expect_navigation():
            page.goto(f"/dispatch/{_station().pk}/")
        requests_box = page.locator("#board-requests").bounding_box()
        tips_box = page.locator("#board-tips").bounding_box()
        assert abs(requests_box["y"] - tips_box["y"]) < 2  # side by side
        assert tips_box["x"] > requests_box["x"] + requests_box["width"] - 1
        timer = page.locator(f"li[data-request='{first.pk}'] .timer")
        before = timer.inner_text()
        page.wait_for_function(
            "([sel, text]) => document.querySelector(sel).textContent !== text",
            arg=[f"li[data-request='{first.pk}'] .timer", before],
            timeout=2500,
        )
        shot(page, "dispatch-02-desk")
        assert not errors, errors
    finally:
        context.close()
