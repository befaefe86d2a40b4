"""The duty post's shift log in Chromium on a 360 px phone (issue 17): checking in and counting
with the big + buttons in few taps, in place (HTMX), with no sideways scroll; the registration
form fits the screen too."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.browser.test_browser import assert_no_horizontal_scroll, log_in

pytestmark = pytest.mark.browser


@pytest.fixture
def beida_shift(demo_city):
    """A shift running now at a post on 北大路 with the auxiliary police officer on it, not taken."""
    from django.utils import timezone

    from fangyi.core.models import Node, User
    from fangyi.patrols import posts
    from fangyi.patrols.models import DutyShift

    DutyShift.objects.all().delete()  # the demo's own shifts: 黃明 is on one on 北大路 now

    boss = User.objects.get(username="suozhang")
    post = posts.post_create(
        actor=boss,
        data=posts.PostInput(
            node=Node.objects.get(name="北大路沿街"),
            name="北大路路口卡点",
            kind="road",
            staffed_from=dt.time(0, 0),
            staffed_to=dt.time(0, 0),
        ),
    )
    start = timezone.now().replace(microsecond=0) - dt.timedelta(minutes=10)
    return posts.shift_plan(
        actor=boss,
        post=post,
        starts=start,
        ends=start + dt.timedelta(hours=4),
        staff=[User.objects.get(username="fujing")],
    )


def test_a_shift_is_taken_and_counted_in_few_taps_on_a_phone(phone_page, beida_shift, shot):
    from fangyi.patrols import posts

    page = phone_page
    log_in(page, "fujing")
    page.goto(f"/shifts/{beida_shift.pk}/")
    assert_no_horizontal_scroll(page, "the shift page")
    with page.expect_navigation():
        page.locator("#take").tap()  # one tap: on duty
    counter = page.locator("#c-persons")
    plus = counter.locator("button.plus")
    box = plus.bounding_box()
    assert box["height"] >= 56 and box["x"] >= 0 and box["x"] + box["width"] <= 360.5
    url = page.url
    for n in (1, 2, 3):
        page.locator("#c-persons button.plus").tap()
        page.wait_for_function(
            "n => document.querySelector('#c-persons .c-count').textContent.trim() == String(n)",
            arg=n,
        )
    page.locator("#c-persons button.minus").tap()  # a wrong tap corrected
    page.wait_for_function(
        "() => document.querySelector('#c-persons .c-count').textContent.trim() == '2'"
    )
    page.locator("#c-vehicles button.plus").tap()
    page.wait_for_function(
        "() => document.querySelector('#c-vehicles .c-count').textContent.trim() == '1'"
    )
    assert page.url == url  # counted in place, no page load
    assert page.js_errors == []
    assert_no_horizontal_scroll(page, "the shift page with its counters")
    counts = posts.shift_counts(beida_shift)
    assert counts["persons"] == 2 and counts["vehicles"] == 1
    shot(page, "posts-01-shift-log-phone")

    with page.expect_navigation():
        page.locator("#register").tap()
    assert_no_horizontal_scroll(page, "the registration form")
    shot(page, "posts-02-register-phone")


def test_the_posts_list_and_a_post_fit_a_phone(phone_page, beida_shift, shot):
    page = phone_page
    log_in(page, "fujing")
    page.goto("/posts/")
    assert page.locator(f"a[href='/shifts/{beida_shift.pk}/']").count() == 1
    assert_no_horizontal_scroll(page, "the posts list")
    page.goto(f"/posts/{beida_shift.post_id}/")
    assert page.locator(f"#shift-{beida_shift.pk}").is_visible()
    assert_no_horizontal_scroll(page, "a post's page")
    shot(page, "posts-03-post-phone")
