"""The grid worker's night round on a 360 px phone: her doors, a visited door and one where
nobody is home, recorded with the phone's position, without the page ever scrolling sideways."""

from __future__ import annotations

import re

import pytest

from tests.browser.test_browser import assert_no_horizontal_scroll, log_in, path_of

pytestmark = pytest.mark.browser

POSITION = {"latitude": 22.817012, "longitude": 108.366901, "accuracy": 15}


def _open_first_pending_door(page, sweep_pk: int) -> int:
    with page.expect_navigation():
        page.goto(f"/sweeps/{sweep_pk}/doors/?mine=1&status=pending")
    assert_no_horizontal_scroll(page, "my pending doors")
    first = page.locator("#doors a.item").first
    href = first.get_attribute("href")
    with page.expect_navigation(url=re.compile(r"/doors/\d+/$")):
        first.click()
    assert_no_horizontal_scroll(page, "a door")
    return int(href.strip("/").split("/")[-1])


def test_grid_worker_records_door_visits_on_a_phone(phone_page, shot):
    from fangyi.core.models import User
    from fangyi.screening.demo import PURPOSE
    from fangyi.screening.models import Assignment, DoorVisit, Sweep

    page = phone_page
    page.context.grant_permissions(["geolocation"])
    page.context.set_geolocation(POSITION)
    worker = User.objects.get(username="wanggeyuan")
    sweep = Sweep.objects.get(purpose=PURPOSE)

    log_in(page, "wanggeyuan")
    with page.expect_navigation():
        page.goto("/sweeps/")
    assert PURPOSE in page.content()
    assert_no_horizontal_scroll(page, "the sweeps")
    with page.expect_navigation(url=re.compile(r"/doors/\?mine=1")):
        page.locator(f"a[href='/sweeps/{sweep.pk}/doors/?mine=1']").first.click()
    assert_no_horizontal_scroll(page, "my doors")
    # the refused door (police support) and the revisits due today come first in the day
    assert page.locator("#doors a.item").count() > 0
    shot(page, "screening-01-my-doors")

    # A door where the family opens: "visited", with the phone's position.
    pk = _open_first_pending_door(page, sweep.pk)
    assert page.locator("#door-status").inner_text().strip() != ""
    # The position arrives in the hidden fields; the form never waits for it.
    page.wait_for_function("document.querySelector('input[name=latitude]').value !== ''")
    shot(page, "screening-02-door")
    page.fill("textarea[name=notes]", "全家三人在家,均无发热")
    page.click("button[name=outcome][value=visited]")
    page.locator("p.last-attempt").wait_for()
    page.wait_for_function("document.querySelector('#door-status').classList.contains('s-visited')")
    assert path_of(page) == f"/doors/{pk}/"  # updated in place
    assert page.locator(".attempts li.attempt").count() == 1
    # after "visited" every member has a link to declare at this visit
    visit = DoorVisit.objects.get(assignment_id=pk)
    declare = page.locator(f"a[href*='&visit={visit.pk}']")
    assert declare.count() == visit.household.members.count() > 0
    assert_no_horizontal_scroll(page, "a visited door")
    shot(page, "screening-03-visited")
    assert (visit.outcome, visit.by_id, visit.notes) == (
        "visited",
        worker.pk,
        "全家三人在家,均无发热",
    )
    assert visit.latitude is not None and abs(float(visit.latitude) - POSITION["latitude"]) < 1e-5
    assert visit.accuracy == 15
    assert Assignment.objects.get(pk=pk).status == "visited"

    # The next door: nobody home.
    pk2 = _open_first_pending_door(page, sweep.pk)
    assert pk2 != pk
    page.click("button[name=outcome][value=nobody_home]")
    page.wait_for_function(
        "document.querySelector('#door-status').classList.contains('s-nobody_home')"
    )
    assert page.locator(".door-state .badge").count() >= 1  # revisit due
    assert_no_horizontal_scroll(page, "a door where nobody was home")
    shot(page, "screening-04-nobody-home")
    door = Assignment.objects.get(pk=pk2)
    assert (door.status, door.attempts) == ("nobody_home", 1)
    assert door.revisit_due is not None
    assert (
        DoorVisit.objects.filter(assignment_id=pk2, outcome="nobody_home", by=worker).count() == 1
    )

    # The coverage page of the sweep fits the phone too.
    with page.expect_navigation():
        page.goto(f"/sweeps/{sweep.pk}/")
    assert page.locator("#coverage table.coverage").is_visible()
    assert_no_horizontal_scroll(page, "coverage")
    shot(page, "screening-05-coverage")
    assert page.js_errors == []
