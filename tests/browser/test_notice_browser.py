"""The refusal and the quarantine notice on a 360 px phone, and the notice printed to an A4 PDF
by Chromium: no navigation on paper, one page, the QR code on it."""

from __future__ import annotations

import re

import pytest

from tests.browser.test_browser import assert_no_horizontal_scroll, log_in, path_of

pytestmark = pytest.mark.browser


def test_the_notice_prints_to_one_a4_page_and_fits_a_phone(phone_page, shot):
    from fangyi.core.models import User
    from fangyi.people.models import Person
    from fangyi.quarantine.models import Placement, Refusal
    from tests.test_refusals import make_site, reserve

    page = phone_page
    health = User.objects.get(username="weijian")
    site, group = make_site("浏览器隔离点", beds=2)
    taken = set(Placement.objects.values_list("person_id", flat=True))
    person = (
        Person.objects.filter(node__name="机务小区", household__isnull=False)
        .exclude(pk__in=taken)
        .order_by("pk")
        .first()
    )
    placement = reserve(person, site, group, health)

    log_in(page, "wanggeyuan")
    # The refusal, recorded on the phone.
    with page.expect_navigation():
        page.goto(f"/placements/{placement.pk}/refuse/")
    assert_no_horizontal_scroll(page, "the refusal form")
    page.fill("textarea[name=reason]", "家中有老人需要照顾,不愿前往隔离点")
    with page.expect_navigation(url=re.compile(r"/refusals/\d+/$")):
        page.click("main form button.go-ok")
    refusal = Refusal.objects.get(placement=placement)
    assert path_of(page) == f"/refusals/{refusal.pk}/"
    assert_no_horizontal_scroll(page, "the refusal")
    with page.expect_navigation():
        page.click("#call-police")
    assert page.locator("#support-status").count() == 1
    assert_no_horizontal_scroll(page, "the refusal with police called")
    shot(page, "refusal-01-police-called")
    with page.expect_navigation():
        page.goto("/refusals/")
    assert_no_horizontal_scroll(page, "the refusals")

    # The notice: shown, then issued with its QR code.
    with page.expect_navigation():
        page.goto(f"/placements/{placement.pk}/notice/")
    assert page.locator("#notice svg").count() == 0
    assert_no_horizontal_scroll(page, "the notice before issuing")
    with page.expect_navigation():
        page.click("#issue")
    assert page.locator("#qr svg").count() == 1
    assert person.name in page.locator("#n-name").inner_text()
    assert "浏览器隔离点" in page.locator("#n-place").inner_text()
    url = page.locator("#n-url").inner_text()
    assert re.search(r"/r/[^/]+/$", url)
    assert_no_horizontal_scroll(page, "the issued notice")
    shot(page, "notice-01-phone")

    # On paper: no header, no navigation, no buttons.
    page.emulate_media(media="print")
    assert not page.locator("nav.main").is_visible()
    assert not page.locator("header.top").is_visible()
    assert not page.locator("#print").is_visible()
    assert page.locator("#qr svg").is_visible()
    page.emulate_media(media="screen")
    assert page.js_errors == []

    # Printed from a desktop browser (the office's printer): one A4 page with the QR code.
    # (Chromium's mobile emulation lays a print out at the phone's scale, over two pages; a
    # phone hands printing to the system, so the desktop print is the one measured here.)
    desk = page.context.browser.new_context(
        storage_state=page.context.storage_state(),
        base_url=re.sub(r"(https?://[^/]+).*", r"\1", page.url),
    )
    try:
        dp = desk.new_page()
        dp.goto(f"/placements/{placement.pk}/notice/")
        with dp.expect_navigation():
            dp.click("#issue")
        assert dp.locator("#qr svg").count() == 1
        pdf = dp.pdf(format="A4", print_background=True)
    finally:
        desk.close()
    assert pdf.startswith(b"%PDF")
    pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf))
    assert pages == 1, f"the notice prints on {pages} pages"
    assert len(pdf) > 10_000  # text, table and the QR code's paths
