"""Patrols in Chromium on a 360 px phone: the seed's morning patrol started, a gathering
dispersed in a few taps, the route taken from the phone's position, the patrol ended; no
sideways scroll on any of its pages."""

from __future__ import annotations

import pytest

from tests.browser.test_browser import assert_no_horizontal_scroll, log_in

pytestmark = pytest.mark.browser


def test_a_patrol_event_in_few_taps_on_a_phone(phone_page, shot):
    from fangyi.core.models import Node
    from fangyi.patrols.models import Patrol, PatrolEvent, RoutePoint

    page = phone_page
    page.context.grant_permissions(["geolocation"])
    page.context.set_geolocation({"latitude": 22.8171, "longitude": 108.3662, "accuracy": 9})
    jiwu = Node.objects.get(name="机务小区")
    log_in(page, "xuhongxin")
    page.goto(f"/patrols/new/?node={jiwu.pk}")
    assert_no_horizontal_scroll(page, "the patrol start")
    page.locator("label.choice", has_text="黄明").first.tap()  # the auxiliary goes along
    with page.expect_navigation():
        page.locator("button[type=submit].big").tap()
    patrol = Patrol.objects.filter(leader__username="xuhongxin", ended_at__isnull=True).get()
    assert page.url.endswith(f"/patrols/{patrol.pk}/")
    assert_no_horizontal_scroll(page, "the patrol page")
    shot(page, "patrol-01-under-way-phone")
    # patrols.js sends the phone's position as the first route point
    page.wait_for_function(
        "() => document.getElementById('route-state').dataset.sent === '1'", timeout=10_000
    )
    assert RoutePoint.objects.filter(patrol=patrol).exists()

    # A gathering dispersed: one tap for the kind, a number, two choices, save. Nothing else
    # is asked (time, compound and position fill themselves): the event below is stored from
    # exactly these.
    with page.expect_navigation():
        page.locator("a.kind.k-gathering").tap()
    assert_no_horizontal_scroll(page, "the event form")
    assert page.locator("#id_node option:checked").inner_text() == "机务小区"  # the one compound
    page.fill("#id_people", "4")
    page.locator("#fg-activity label.choice").first.tap()  # playing cards
    page.locator("#fg-outcome label.choice").first.tap()  # went home
    shot(page, "patrol-02-gathering-phone")
    with page.expect_navigation():
        page.locator("button[type=submit].big").tap()
    event = PatrolEvent.objects.get(patrol=patrol)
    assert (event.kind, event.people, event.activity, event.outcome) == (
        "gathering",
        4,
        "cards",
        "went_home",
    )
    assert event.latitude is not None  # the position the phone gave
    assert page.locator("ol.events li").count() == 1

    page.fill("#id_summary", "机务小区巡逻一圈")
    with page.expect_navigation():
        page.locator("form[action$='/end/'] button").tap()
    patrol.refresh_from_db()
    assert patrol.ended_at is not None
    assert_no_horizontal_scroll(page, "the ended patrol")
    shot(page, "patrol-03-ended-phone")
