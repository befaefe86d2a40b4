"""The field trial's usability fixes in Chromium (issue 12, items 13-16), at 360 px and 1,280 px.

- the menu: a row of the role's own places, the rest under More, logout always on screen;
"""

from __future__ import annotations

import pytest

from tests.browser.test_browser import assert_no_horizontal_scroll, log_in, switch_language

pytestmark = pytest.mark.browser


def _desk_page(browser, live_server):
    context = browser.new_context(
        viewport={"width": 1280, "height": 800}, locale="en-GB", base_url=live_server.url
    )
    context.set_default_timeout(10_000)
    return context, context.new_page()


def _logout_on_screen(page, width: int) -> None:
    box = page.locator("nav.main .logout button").bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width + 0.5, box


def test_the_menu_on_a_phone_keeps_logout_and_opens_more(phone_page, shot):
    page = phone_page
    log_in(page, "weijian")  # health staff: the most places of a field role
    assert page.locator("nav.main .tabs a").count() <= 6
    _logout_on_screen(page, 360)
    assert_no_horizontal_scroll(page, "the menu")
    more = page.locator("nav.main details.more")
    more.locator("summary").tap()
    first = more.locator(".menu a").first
    assert first.is_visible()
    box = more.locator(".menu").bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 360.5
    shot(page, "nav-01-more-phone")
    with page.expect_navigation():
        first.tap()
    assert page.locator("nav.main summary.on").count() == 1  # More marks the current place


def test_the_menu_at_1280_in_english_shows_logout(browser, live_server, demo_city, shot):
    context, page = _desk_page(browser, live_server)
    try:
        log_in(page, "weijian")
        switch_language(page, "en")
        _logout_on_screen(page, 1280)
        tabs = page.locator("nav.main .tabs")
        assert tabs.evaluate("el => el.scrollWidth <= el.clientWidth")  # no hidden tab
        shot(page, "nav-02-desk-en")
    finally:
        context.close()
