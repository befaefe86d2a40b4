"""The occupancy board and a site's page in Chromium on a 360 px phone: no sideways scroll, and
the designated hotel's staff confirm an arrival with one tap (the bed turns occupied)."""

from __future__ import annotations

import re

import pytest

from tests.browser.test_browser import assert_no_horizontal_scroll, log_in, path_of

pytestmark = pytest.mark.browser


def test_the_site_staff_confirm_an_arrival_with_one_tap(phone_page, shot):
    from fangyi.quarantine.models import Placement, Site

    page = phone_page
    site = Site.objects.get(place__name="湖北籍旅客定点酒店")
    placement = Placement.objects.get(site=site, status="reserved")
    log_in(page, "dingdian")
    # Their home is their site's page.
    assert path_of(page) == f"/sites/{site.pk}/"
    assert page.locator(".bed").count() == 60
    assert_no_horizontal_scroll(page, "the site page")
    shot(page, "quarantine-01-site-phone")
    button = page.locator(f"#arrive-{placement.pk}")
    assert button.is_visible()
    box = button.bounding_box()
    assert box["height"] >= 44  # big enough for a thumb
    with page.expect_navigation():
        button.tap()
    assert path_of(page) == f"/sites/{site.pk}/"
    assert page.locator(f"#arrive-{placement.pk}").count() == 0
    placement.refresh_from_db()
    assert placement.status == "active"
    assert placement.bed.state == "occupied"
    assert page.locator("#people li").count() == 4
    assert_no_horizontal_scroll(page, "the site page after the arrival")


def test_the_occupancy_board_on_a_phone(phone_page, shot):
    page = phone_page
    log_in(page, "weijian")
    page.goto("/occupancy/")
    page.locator("#occ-total").wait_for()
    assert page.locator("section.occ").count() == 3  # two sites and the total
    total = page.locator("#occ-total")
    assert total.locator(".n-occupied").inner_text() == "4"  # 3 at the hotel, 1 at the point
    assert re.search(r"180", total.inner_text())
    assert_no_horizontal_scroll(page, "the occupancy board")
    shot(page, "quarantine-02-occupancy-phone")
    # The HTMX poll swaps the live part in place (asked for now instead of in 30 s).
    page.evaluate("htmx.ajax('GET', '/occupancy/live/', '#occupancy')")
    page.locator("#occ-total").wait_for()
    assert page.locator("section.occ").count() == 3
    assert_no_horizontal_scroll(page, "the occupancy board after a refresh")
