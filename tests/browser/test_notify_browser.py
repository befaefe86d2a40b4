"""The bell in Chromium (issue 15): the officer has a page open; a notification is emitted for
him; the bell's count goes up without a reload, at 360 px and at 1,280 px, and the bell leads
to the inbox, whose item opens the record and is then read."""

from __future__ import annotations

import pytest

from fangyi.core.models import Node, User
from fangyi.notify import services
from fangyi.notify.registry import KINDS, Kind, register
from fangyi.people.models import Household
from tests.browser.test_browser import assert_no_horizontal_scroll, log_in, path_of

pytestmark = pytest.mark.browser

KIND = Kind("test_browser_household", "A household (browser test)", action="household.view")


@pytest.fixture(autouse=True)
def kind(settings):
    settings.FANGYI_BELL_SECONDS = 1  # the page polls every second here (a minute in use)
    register(KIND)
    yield
    KINDS.pop(KIND.key, None)


def _emit(officer: User, household: Household, tag: str) -> None:
    services.emit(
        KIND.key,
        recipients=[officer],
        obj=household,
        message="A household to visit: %(address)s",
        params={"address": household.address},
        url=f"/households/{household.pk}/",
        dedupe=f"browser:{tag}",
    )


def _count(page) -> int:
    return int(page.get_attribute("#bell", "data-unread") or 0)


def _bell_updates_without_reload(page, tag: str) -> None:
    officer = User.objects.get(username="xuhongxin")
    households = list(Household.objects.filter(node=Node.objects.get(name="机务小区"))[:2])
    log_in(page, "xuhongxin")
    page.goto("/people/")
    page.wait_for_selector("#bell[data-unread]")
    before = _count(page)
    page.evaluate("window.__same_page = true")
    _emit(officer, households[0], f"{tag}-1")
    _emit(officer, households[1], f"{tag}-2")
    page.wait_for_function(
        f"Number(document.querySelector('#bell').dataset.unread) === {before + 2}",
        timeout=10_000,
    )
    assert page.evaluate("window.__same_page") is True  # no reload
    assert page.locator("#bell .count").inner_text().strip() == str(min(before + 2, 99))
    box = page.locator("#bell").bounding_box()
    width = page.viewport_size["width"]
    assert box["x"] >= 0 and box["x"] + box["width"] <= width and box["height"] >= 36
    if width <= 360:
        assert_no_horizontal_scroll(page, "a page with the bell")

    # The bell leads to the inbox; the item opens the record and is read after.
    with page.expect_navigation():
        page.locator("#bell").click()
    assert path_of(page).startswith("/notifications/")
    item = page.locator("ul.inbox li.unread button.item").first
    assert households[1].address in item.inner_text()
    with page.expect_navigation():
        item.click()
    assert path_of(page) == f"/households/{households[1].pk}/"
    page.wait_for_function(
        f"Number(document.querySelector('#bell').dataset.unread) === {before + 1}"
    )


def test_the_bell_updates_without_a_reload_on_a_phone(phone_page, shot):
    _bell_updates_without_reload(phone_page, "phone")
    shot(phone_page, "notify-01-bell-phone")


def test_the_bell_updates_without_a_reload_at_1280(browser, live_server, demo_city, shot):
    context = browser.new_context(
        viewport={"width": 1280, "height": 800}, locale="zh-CN", base_url=live_server.url
    )
    context.set_default_timeout(10_000)
    try:
        page = context.new_page()
        _bell_updates_without_reload(page, "desktop")
        shot(page, "notify-02-bell-desktop")
    finally:
        context.close()
