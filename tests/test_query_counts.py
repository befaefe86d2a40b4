"""How many queries each list and board costs, asserted: a list that starts to query once per
row (an N+1) fails here before it reaches a station with a thousand households.

Each row is a page or an endpoint as one role that may see it, on the demo city (1,421 persons,
480 households, a few of each record), measured on the second request (the first fills the
session and the caches). The API lists are also asked with `limit=1`: a list whose cost grows
with the rows it returns answers the two with different counts. A change that adds a query on
purpose updates its number here, in the same commit, and says why.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.conftest import login

# The roles are fixtures read inside the tests: the mark keeps these tests among the database
# tests, before the browser tests empty the tables.
pytestmark = pytest.mark.django_db

PAGES = [
    # +2 the patrol under way and the overdue compounds; +3 the shifts to take and the posts
    # left unstaffed (issue 17)
    ("officer", "/", 26),
    ("grid_worker", "/", 19),  # +1 the shifts to take (issue 17)
    ("supervisor", "/", 11),
    ("hotel_clerk", "/guests/", 7),
    ("hotel_clerk", "/placements/", 7),  # +1: the menu reads the clerk's place
    ("officer", "/people/", 8),
    ("officer", "/households/", 8),
    ("officer", "/places/", 7),
    ("officer", "/declarations/", 9),
    ("officer", "/observations/", 9),
    ("health", "/board/", 10),
    ("officer", "/sweeps/", 7),
    ("officer", "/tips/", 9),
    ("officer", "/support/", 8),
    ("officer", "/enforcement/", 9),
    ("officer", "/sites/", 7),
    ("officer", "/placements/", 8),
    ("officer", "/occupancy/", 9),
    ("officer", "/refusals/", 8),
    ("officer", "/guests/", 8),
    ("officer", "/imports/", 8),
    ("admin", "/users/", 10),
    ("supervisor", "/audit/", 9),
    ("officer", "/jurisdictions/", 7),
    ("officer", "/patrols/", 8),
    ("officer", "/patrols/coverage/", 7),
    ("officer", "/posts/", 11),
    ("officer", "/worklog/", 24),  # one aggregate per kind of work (18), one for response times
    ("officer", "/notifications/", 11),  # one EXISTS per kind of record, not one per row
    ("admin", "/deliveries/", 9),
    ("supervisor", "/worklog/team/", 29),
]

APIS = [
    ("officer", "/api/nodes", 8),
    ("officer", "/api/patrols", 10),
    ("officer", "/api/patrol-coverage", 7),
    ("officer", "/api/duty-posts", 8),
    ("officer", "/api/duty-shifts", 9),
    ("officer", "/api/worklog", 24),
    ("supervisor", "/api/worklog/team", 29),
    ("officer", "/api/notifications", 9),
    ("admin", "/api/deliveries", 9),
    ("admin", "/api/users", 10),
    ("supervisor", "/api/audit", 9),
    ("supervisor", "/api/access-log", 9),
    ("officer", "/api/persons", 8),
    ("officer", "/api/households", 8),
    ("officer", "/api/places", 8),
    ("officer", "/api/risk-areas", 7),
    ("officer", "/api/symptoms", 7),
    ("officer", "/api/declarations", 8),
    ("officer", "/api/decisions", 8),
    ("officer", "/api/sweeps", 8),
    ("officer", "/api/observations", 8),
    ("officer", "/api/followups", 8),
    ("health", "/api/alerts", 8),
    ("officer", "/api/daylist", 26),  # +5 as the day list page (issue 17)
    ("health", "/api/board", 8),
    ("officer", "/api/imports", 8),
    ("officer", "/api/tips", 8),
    ("officer", "/api/tip-categories", 6),
    ("officer", "/api/support-requests", 8),
    ("officer", "/api/response-targets", 6),
    ("officer", "/api/enforcement-records", 12),
    ("officer", "/api/legal-bases", 6),
    ("officer", "/api/sites", 7),
    ("officer", "/api/placements", 8),
    ("officer", "/api/occupancy", 9),
    ("officer", "/api/refusals", 8),
    ("officer", "/api/guest-reports", 8),
]


def _cost(client, url: str) -> tuple[int, int]:
    client.get(url)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    return response.status_code, len(ctx)


@pytest.mark.parametrize("role, url, queries", PAGES, ids=[f"{r}{u}" for r, u, _ in PAGES])
def test_a_page_costs_its_queries(request, role, url, queries):
    client = login(request.getfixturevalue(role))
    assert _cost(client, url) == (200, queries)


@pytest.mark.parametrize("role, url, queries", APIS, ids=[f"{r}{u}" for r, u, _ in APIS])
def test_an_api_list_costs_its_queries_whatever_the_rows_it_returns(request, role, url, queries):
    client = login(request.getfixturevalue(role))
    assert _cost(client, url) == (200, queries)
    sep = "&" if "?" in url else "?"
    assert _cost(client, f"{url}{sep}limit=1") == (200, queries)
    assert _cost(client, f"{url}{sep}limit=100") == (200, queries)


def test_the_dispatch_board_costs_the_same_for_a_station_with_more_tips(officer, jiwu):
    """The board of Wuliting station, before and after three more tips come in."""
    from fangyi.tips import services as tips
    from fangyi.tips.models import TipCategory
    from tests.conftest import node

    station = node("五里亭派出所")
    client = login(officer)
    status, before = _cost(client, f"/dispatch/{station.pk}/")
    assert status == 200
    shown = client.get(f"/dispatch/{station.pk}/").content.decode().count('href="/tips/')
    category = TipCategory.objects.order_by("order").first()
    for i in range(3):
        data = tips.TipInput(category=category, description=f"楼道里有人聚集打牌 {i}", node=jiwu)
        tips.tip_submit_public(data=data, ip=f"10.0.0.{i}")
    assert _cost(client, f"/dispatch/{station.pk}/") == (200, before)
    after = client.get(f"/dispatch/{station.pk}/").content.decode().count('href="/tips/')
    assert after >= shown + 3  # the board shows them
