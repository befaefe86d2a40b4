"""The app in a real browser, on a phone screen: login, 2FA, language, search, a person's page,
and the new-person form's errors. Screenshots go to screenshots/ for a human to look at."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import translation

from fangyi.core.models import AccessLog
from fangyi.core.validators import id_check_digit
from fangyi.people.models import Person
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


def tr(message: str, lang: str) -> str:
    """What the page should say for `message` in `lang`, whatever the catalogues hold."""
    with translation.override(lang):
        return translation.gettext(message)


def path_of(page_or_response) -> str:
    return re.sub(r"^https?://[^/]+", "", page_or_response.url)


def scroll_width(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth")


def assert_no_horizontal_scroll(page, what: str) -> None:
    width = scroll_width(page)
    assert width <= 360, f"{what}: the page is {width}px wide on a 360px phone"


def log_in(page, username: str) -> None:
    page.goto("/")
    assert path_of(page).startswith("/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    with page.expect_navigation():
        page.click("main form button[type=submit]")


def switch_language(page, code: str) -> None:
    with page.expect_navigation():
        page.select_option("header select[name=language]", code)
    page.wait_for_load_state()
    assert page.get_attribute("html", "lang") == code
    assert page.input_value("header select[name=language]") == code


def totp_token(username: str, offset_steps: int = 0) -> str:
    from django_otp.oath import TOTP
    from django_otp.plugins.otp_totp.models import TOTPDevice

    d = TOTPDevice.objects.get(user__username=username)
    totp = TOTP(d.bin_key, d.step, d.t0, d.digits, d.drift)
    totp.time += offset_steps * d.step
    return f"{totp.token():0{d.digits}d}"


def assert_assets_loaded(page, statuses: dict) -> None:
    """The stylesheet and htmx are served and applied (both were 404 before STATICFILES_DIRS)."""
    assert statuses.get("/static/fangyi/app.css") == 200, statuses
    assert statuses.get("/static/vendor/htmx.min.js") == 200, statuses
    assert page.evaluate("typeof window.htmx") == "object"
    background = page.evaluate(
        "getComputedStyle(document.querySelector('header.top')).backgroundColor"
    )
    assert background not in ("rgba(0, 0, 0, 0)", "transparent"), background


def test_officer_on_a_phone_language_search_and_person_page(phone_page, shot):
    page = phone_page
    statuses: dict[str, int] = {}
    page.on("response", lambda r: statuses.__setitem__(path_of(r), r.status))
    page.goto("/")
    page.wait_for_load_state("networkidle")
    assert_assets_loaded(page, statuses)
    shot(page, "01-login")

    log_in(page, "xuhongxin")
    assert path_of(page) == "/"
    assert page.locator("nav.main").is_visible()
    shot(page, "02-home-zh-hans")
    assert_no_horizontal_scroll(page, "home page")

    # English from the header's language menu.
    switch_language(page, "en")
    assert path_of(page) == "/"
    people_link = page.locator("nav.main a[href='/people/']")
    assert people_link.inner_text().strip() == "People"
    assert page.locator("nav.main a[href='/']").inner_text().strip() == "Home"
    shot(page, "03-home-en")
    assert_no_horizontal_scroll(page, "home page (en)")

    # Then traditional Chinese; the nav says what the zh-hant catalogue says for "People".
    switch_language(page, "zh-hant")
    assert path_of(page) == "/"
    assert people_link.inner_text().strip() == tr("People", "zh-hant")
    shot(page, "04-home-zh-hant")
    assert_no_horizontal_scroll(page, "home page (zh-hant)")

    # Search 徐 in the people search box and press Enter.
    with page.expect_navigation():
        people_link.click()
    assert path_of(page) == "/people/"
    box = page.locator("form.search input[name=q]")
    box.fill("徐")
    with page.expect_navigation(url=re.compile(r"/people/\?q=")):
        box.press("Enter")
    page.wait_for_load_state()
    assert page.input_value("form.search input[name=q]") == "徐"
    results = page.locator("#person-rows a.item")
    assert results.count() > 0, "searching 徐 found nobody"
    names = [n.strip() for n in results.locator("b").all_inner_texts()]
    assert all(n.startswith("徐") for n in names), names
    shot(page, "05-search-xu")
    assert_no_horizontal_scroll(page, "search results")

    # Open the first result.
    first = results.first
    name = first.locator("b").inner_text().strip()
    with page.expect_navigation(url=re.compile(r"/people/\d+/$")):
        first.click()
    pk = int(re.search(r"/people/(\d+)/$", page.url).group(1))
    person = Person.objects.get(pk=pk)
    assert person.name == name
    assert page.locator("main h1").inner_text().strip() == person.name
    if person.id_number:
        assert person.id_number in page.locator("dl.facts").inner_text()
    assert page.get_attribute("html", "lang") == "zh-hant"
    shot(page, "06-person")
    assert_no_horizontal_scroll(page, "person page")

    # Reading the record was written to the access log, as a page view.
    log = AccessLog.objects.filter(object_type="person", object_id=pk, via="ui")
    assert log.filter(user__username="xuhongxin", user_name="xuhongxin").count() == 1
    assert not page.js_errors, page.js_errors


def test_supervisor_two_factor_login(phone_page, shot):
    page = phone_page
    log_in(page, "suozhang")

    # The password was right: now the page asks for the code, and nothing else opens.
    assert path_of(page).startswith("/login/otp/")
    token_box = page.locator("input[name=token]")
    assert token_box.is_visible()
    assert token_box.get_attribute("autocomplete") == "one-time-code"
    shot(page, "07-otp-asked")
    # The page shows the main nav already (see the report), but every link leads back here.
    page.goto("/people/")
    assert path_of(page).startswith("/login/otp/")

    # A wrong code: one no window around now would accept.
    near = {totp_token("suozhang", k) for k in (-2, -1, 0, 1, 2)}
    wrong = next(c for c in ("000000", "111111", "123456", "999999") if c not in near)
    token_box.fill(wrong)
    with page.expect_navigation():
        page.click("main form button[type=submit]")
    assert path_of(page).startswith("/login/otp/")
    error = page.locator("main .errorlist")
    assert error.first.is_visible()
    assert tr("This code is not right, or has expired.", "zh-hans") in error.first.inner_text()
    shot(page, "08-otp-wrong-code")

    # django-otp throttles a device for 1 s after a failure; a person takes longer than that.
    page.wait_for_timeout(1500)
    page.fill("input[name=token]", totp_token("suozhang"))
    with page.expect_navigation():
        page.click("main form button[type=submit]")
    assert path_of(page) == "/", page.locator("main").inner_text()
    audit = page.locator("nav.main a[href='/audit/']")
    if not audit.is_visible():  # under More: one tap opens it
        page.locator("nav.main details.more summary").click()
    assert audit.is_visible()
    shot(page, "09-supervisor-home")
    assert_no_horizontal_scroll(page, "supervisor home page")


def _free_resident_id(region: str = "450107", born: dt.date = dt.date(1991, 4, 23)) -> str:
    for seq in range(101, 999, 2):  # odd: male
        first17 = f"{region}{born:%Y%m%d}{seq:03d}"
        number = first17 + id_check_digit(first17)
        if not Person.objects.filter(id_number=number).exists():
            return number
    raise AssertionError("no free ID number")


def _free_phone() -> str:
    for n in range(100):
        phone = f"1397712{n:04d}"
        if not Person.objects.filter(phone=phone).exists():
            return phone
    raise AssertionError("no free phone")


def test_new_person_form_keeps_input_and_names_bad_fields(phone_page, shot):
    page = phone_page
    log_in(page, "xuhongxin")
    assert path_of(page) == "/"

    name = "韦浏览器"
    assert not Person.objects.filter(name=name).exists()
    good_id = _free_resident_id()
    last = good_id[-1]
    bad_id = good_id[:-1] + ("1" if last != "1" else "2")
    good_phone = _free_phone()

    page.goto("/people/new/")
    assert path_of(page) == "/people/new/"
    page.fill("#id_name", name)
    # Typed key by key, as on a phone, so the live ID check runs as well.
    page.locator("#id_id_number").press_sequentially(bad_id, delay=10)
    page.fill("#id_phone", "139abc12345")
    node_value = page.evaluate(
        """() => [...document.querySelectorAll('#id_node option')]
               .find(o => o.textContent.trim() === '机务小区').value"""
    )
    page.select_option("#id_node", node_value)
    check_msg = tr(
        "The check digit of this ID number is wrong: please check each digit.", "zh-hans"
    )
    # The live check under the field (htmx) says so before anything is submitted.
    page.locator("#id-check .errorlist").wait_for()
    assert check_msg in page.locator("#id-check").inner_text()
    shot(page, "10-new-person-typing")

    with page.expect_navigation():
        page.click("main form button[type=submit]")
    assert path_of(page) == "/people/new/"
    assert not Person.objects.filter(name=name).exists()

    # Errors name the two fields; everything typed is still there.
    id_group = page.locator(".fg", has=page.locator("#id_id_number"))
    phone_group = page.locator(".fg", has=page.locator("#id_phone"))
    assert "field-error" in id_group.get_attribute("class")
    assert "field-error" in phone_group.get_attribute("class")
    assert page.get_attribute("#id_id_number", "aria-invalid") == "true"
    assert page.get_attribute("#id_phone", "aria-invalid") == "true"
    assert check_msg in id_group.locator(".errorlist").inner_text()
    assert tr("Phone", "zh-hans") in phone_group.locator("label").inner_text()
    assert phone_group.locator(".errorlist").inner_text().strip()
    name_group = page.locator(".fg", has=page.locator("#id_name"))
    assert "field-error" not in name_group.get_attribute("class")
    assert page.input_value("#id_name") == name
    assert page.input_value("#id_id_number") == bad_id
    assert page.input_value("#id_phone") == "139abc12345"
    assert page.input_value("#id_node") == node_value
    shot(page, "11-new-person-errors")
    assert_no_horizontal_scroll(page, "new person form with errors")

    # Fix both and save.
    page.fill("#id_id_number", good_id)
    page.fill("#id_phone", good_phone)
    with page.expect_navigation(url=re.compile(r"/people/\d+/$")):
        page.click("main form button[type=submit]")
    pk = int(re.search(r"/people/(\d+)/$", page.url).group(1))
    person = Person.objects.get(pk=pk)
    assert person.name == name
    assert person.id_number == good_id
    assert person.phone == good_phone
    assert person.birth_date == dt.date(1991, 4, 23)
    assert person.sex == "M"
    assert person.node.name == "机务小区"
    assert page.locator("main h1").inner_text().strip() == name
    assert name in page.locator("ul.messages").inner_text()
    shot(page, "12-new-person-saved")
    assert_no_horizontal_scroll(page, "new person's page")
    assert not page.js_errors, page.js_errors
