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


def test_the_placement_page_on_a_phone(phone_page, shot):
    """Item 13: thumb-sized choices, the group from the decision, a submit that says what it
    does."""
    from fangyi.health.models import Declaration
    from fangyi.quarantine.models import Group

    page = phone_page
    declaration = Declaration.objects.filter(proposal="central").order_by("pk").first()
    group = Group.objects.get(code="close_contact")
    log_in(page, "weijian")
    page.goto(f"/placements/new/?person={declaration.person_id}&group={group.pk}")
    assert_no_horizontal_scroll(page, "the placement page")
    choices = page.locator("fieldset.choices label.choice")
    assert choices.count() >= 2
    for i in range(choices.count()):
        box = choices.nth(i).bounding_box()
        assert box["height"] >= 44 and box["x"] + box["width"] <= 360.5
    assert "场所" not in page.locator("#place-submit").inner_text()
    shot(page, "placement-01-form-phone")


def test_a_free_bed_is_taken_out_of_service_only_deliberately(phone_page, shot):
    """Item 16: no one-tap ×; a bed opens to its actions, and out of service needs a tick."""
    from fangyi.quarantine.models import Bed, Site

    page = phone_page
    site = Site.objects.get(place__name="湖北籍旅客定点酒店")
    bed = Bed.objects.filter(site=site, state="free").order_by("pk").first()
    log_in(page, "dingdian")
    assert page.locator("#rooms").inner_text().count("×") == 0
    page.locator(f"#bed-{bed.pk} > summary").tap()
    panel = page.locator(f"#bed-{bed.pk} .bed-panel")
    assert panel.is_visible()
    box = panel.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 360.5
    shot(page, "beds-01-panel-phone")
    panel.locator("button[value=out_of_service]").tap()  # not ticked: the browser refuses
    bed.refresh_from_db()
    assert bed.state == "free"
    panel.locator("input[name=confirm]").check()
    with page.expect_navigation():
        panel.locator("button[value=out_of_service]").tap()
    bed.refresh_from_db()
    assert bed.state == "out_of_service"


def test_the_tip_page_shows_the_next_step_on_a_phone(phone_page, shot):
    """Item 15: the next step first, the others folded."""
    from fangyi.tips.models import Tip

    page = phone_page
    tip = Tip.objects.filter(status="assigned").order_by("pk").first()
    log_in(page, "xuhongxin")
    page.goto(f"/tips/{tip.pk}/")
    assert page.locator("#next-steps button").first.is_visible()
    other = page.locator("#other-steps")
    if other.count():
        assert not other.locator("form").first.is_visible()  # folded until opened
    assert_no_horizontal_scroll(page, "the tip page")
    shot(page, "tips-10-next-step-phone")


def test_the_hotel_picks_the_guests_origin_by_typing_yichang(phone_page, shot):
    """Item 1: an origin is picked from the divisions; typing yichang offers 湖北省宜昌市."""
    page = phone_page
    log_in(page, "jiudian")
    field = page.locator("#id_from_where")
    field.fill("yichang")
    page.wait_for_function(
        "() => [...document.querySelectorAll('#divisions option')]"
        ".some(o => o.value === '湖北省宜昌市')"
    )
    assert field.get_attribute("list") == "divisions"
    assert_no_horizontal_scroll(page, "the hotel's page")
