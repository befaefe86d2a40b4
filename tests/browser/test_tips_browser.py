"""A resident on a 360 px phone reports free-range poultry on the public page, without an
account, and opens the tracking page with the code she was given; then the community worker
sees the tip on her phone. Never a sideways scroll."""

from __future__ import annotations

import re

import pytest

from tests.browser.test_browser import assert_no_horizontal_scroll, log_in, path_of

pytestmark = pytest.mark.browser


def test_a_resident_reports_poultry_and_tracks_it(phone_page, shot):
    from fangyi.tips.models import Tip, TipCategory

    page = phone_page
    poultry = TipCategory.objects.get(code="poultry")
    with page.expect_navigation():
        page.goto("/report/")
    assert_no_horizontal_scroll(page, "the report page")
    shot(page, "tips-01-categories")
    # the categories are big buttons
    button = page.locator("a.cat[href='?category=poultry']")
    assert button.bounding_box()["height"] >= 48
    with page.expect_navigation(url=re.compile(r"category=poultry")):
        button.click()
    assert_no_horizontal_scroll(page, "the poultry form")
    # the honeypot is off the screen, out of the tab order
    box = page.locator("input[name=website]").bounding_box()
    assert box is None or box["x"] + box["width"] <= 0
    assert page.locator("input[name=website]").get_attribute("tabindex") == "-1"
    page.check("input[name='answers.kind'][value='鸡']")
    page.fill("textarea[name=description]", "3栋后面空地有人散养鸡鸭,到处跑。")
    page.select_option("select[name=node]", label="机务小区")
    page.fill("input[name=reporter_phone]", "13877112233")
    shot(page, "tips-02-form")
    with page.expect_navigation():
        page.click("form.report-form button[type=submit]")
    code = page.locator("#tracking-code").inner_text().strip()
    assert re.fullmatch(r"[A-Z0-9]{10}", code)
    assert_no_horizontal_scroll(page, "the thank-you page")
    shot(page, "tips-03-code")
    tip = Tip.objects.get(code=code)
    assert tip.node.name == "机务小区" and tip.answers == {"kind": "鸡"}

    with page.expect_navigation(url=re.compile(rf"/track/{code}/$")):
        page.click(f"a[href='/track/{code}/']")
    assert_no_horizontal_scroll(page, "the tracking page")
    text = page.content()
    assert poultry.name in text and "机务小区" in text
    assert "13877112233" not in text and "散养鸡鸭" not in text
    assert page.locator("#tip-status").inner_text().strip()
    shot(page, "tips-04-track")

    # the code typed by hand, lower case with a dash, finds it too
    with page.expect_navigation():
        page.goto("/track/")
    page.fill("input[name=code]", f"{code[:5].lower()}-{code[5:]}")
    with page.expect_navigation(url=re.compile(rf"/track/{code}/$")):
        page.click("main form button[type=submit]")
    assert path_of(page) == f"/track/{code}/"

    # the community worker has it on her phone
    log_in(page, "shequ")
    with page.expect_navigation():
        page.goto(f"/tips/{tip.pk}/")
    assert_no_horizontal_scroll(page, "the staff tip page")
    assert "13877112233" in page.content()
    shot(page, "tips-05-staff")
    with page.expect_navigation():
        page.goto("/tips/")
    assert_no_horizontal_scroll(page, "the staff tip list")
    assert not page.js_errors
