"""Every account sees the few places it works in, the rest under More, and never a link that
is refused (issue 12, item 14). The field trial found 18 tabs in one row, the designated
hotel's 旅客 tab answering 403 and the hotel clerk shown empty quarantine tabs."""

from __future__ import annotations

import re

import pytest

from fangyi.core.models import User
from fangyi.core.templatetags.nav import ITEMS, PRIMARY
from tests.conftest import english_login

pytestmark = pytest.mark.django_db

ACCOUNTS = [
    "officer",
    "auxiliary",
    "grid_worker",
    "community_staff",
    "health",
    "supervisor",
    "admin",
    "hotel_clerk",
    "designated",
]


def _account(request, name):
    if name == "designated":
        return User.objects.get(username="dingdian")
    return request.getfixturevalue(name)


def _links(html: str) -> dict[str, str]:
    nav = html[html.index('<nav class="main"') : html.index("</nav>")]
    return dict(re.findall(r'<a href="([^"]+)" data-nav="([^"]+)"', nav)[::1])


@pytest.mark.parametrize("name", ACCOUNTS)
def test_every_link_shown_opens(request, name):
    user = _account(request, name)
    client = english_login(user)
    home = client.get("/", follow=True)
    assert home.status_code == 200
    html = home.content.decode()
    links = _links(html)
    assert links, "no navigation"
    for href, key in links.items():
        response = client.get(href, follow=True)
        assert response.status_code == 200, (name, key, href, response.status_code)
    nav = html[html.index('<nav class="main"') : html.index("</nav>")]
    tabs = nav[: nav.index('class="more"')] if 'class="more"' in nav else nav
    assert len(re.findall(r"data-nav=", tabs)) <= 6
    assert 'action="/logout/"' in nav


def test_the_designated_hotel_sees_its_site_and_no_guest_desk(request):
    html = english_login(_account(request, "designated")).get("/", follow=True).content.decode()
    keys = set(_links(html).values())
    assert "sites" in keys and "guests" not in keys


def test_the_hotel_clerk_sees_the_guest_desk_and_no_quarantine_tabs(hotel_clerk):
    html = english_login(hotel_clerk).get("/", follow=True).content.decode()
    keys = set(_links(html).values())
    assert "guests" in keys and not keys & {"sites", "occupancy"}


def test_the_primary_row_names_only_known_places():
    known = {item.key for item in ITEMS}
    for role, keys in PRIMARY.items():
        assert set(keys) <= known, role
        assert len(keys) <= 6, role


def test_only_the_most_specific_place_is_current(admin):
    html = english_login(admin).get("/guests/settings/").content.decode()
    nav = html[html.index('<nav class="main"') : html.index("</nav>")]
    assert len(re.findall(r'aria-current="page"', nav)) == 1
