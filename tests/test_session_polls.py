"""A page's own polls (the dispatch board, the coverage table) are not the user's activity: they
do not renew the idle timeout and do not write the session. Any other request does."""

from __future__ import annotations

import datetime as dt

import time_machine
from django.contrib.sessions.models import Session
from django.test import Client

from fangyi.core.models import Node
from tests.conftest import PASSWORD


def _logged_in() -> Client:
    client = Client()
    client.post("/login/", {"username": "xuhongxin", "password": PASSWORD})
    return client


def _expiry(client: Client) -> dt.datetime:
    return Session.objects.get(session_key=client.cookies["sessionid"].value).expire_date


def test_polling_the_board_does_not_keep_a_session_alive(officer, settings):
    station = Node.objects.get(name="五里亭派出所")
    client = _logged_in()
    assert client.get("/").status_code == 200
    start = dt.datetime.now(dt.UTC)
    before = _expiry(client)
    live = f"/dispatch/{station.pk}/live/"
    for minutes in (5, 10, 20):
        with time_machine.travel(start + dt.timedelta(minutes=minutes)):
            assert client.get(live, headers={"HX-Request": "true"}).status_code == 200
    assert _expiry(client) == before  # nothing written by the polls
    idle = dt.timedelta(seconds=settings.SESSION_COOKIE_AGE + 60)
    with time_machine.travel(start + idle):
        r = client.get(live, headers={"HX-Request": "true"})
    # The poll sends the whole page to the login form instead of swapping it into the board.
    assert r.status_code == 204 and r["HX-Redirect"].startswith("/login/")


def test_a_person_s_request_renews_the_idle_timeout(officer, settings):
    client = _logged_in()
    start = dt.datetime.now(dt.UTC)
    before = _expiry(client)
    with time_machine.travel(start + dt.timedelta(minutes=20)):
        assert client.get("/").status_code == 200
    assert _expiry(client) > before
    with time_machine.travel(start + dt.timedelta(minutes=40)):
        assert client.get("/").status_code == 200  # 20 minutes idle, not 40
