"""The door's next state after a visit, as a table (screening.services.door_next_state is a
pure function: no database)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from fangyi.screening.services import door_next_state

SH = ZoneInfo("Asia/Shanghai")
AT = dt.datetime(2020, 2, 3, 22, 30, tzinfo=SH)  # late at night: the next day is the 4th
EARLIER = AT - dt.timedelta(hours=3)
NEXT = dt.date(2020, 2, 4)


@pytest.mark.parametrize(
    "outcome, last, expected",
    [
        ("nobody_home", None, {"status": "nobody_home", "last_attempt": AT, "revisit_due": NEXT}),
        (
            "refused",
            EARLIER,
            {"status": "refused", "last_attempt": AT, "revisit_due": NEXT, "needs_police": True},
        ),
        (
            "visited",
            EARLIER,
            {"status": "visited", "last_attempt": AT, "revisit_due": None, "needs_police": False},
        ),
        (
            "moved_away",
            None,
            {
                "status": "moved_away",
                "last_attempt": AT,
                "revisit_due": None,
                "needs_police": False,
            },
        ),
        # The same moment twice: the later record still counts.
        (
            "visited",
            AT,
            {"status": "visited", "last_attempt": AT, "revisit_due": None, "needs_police": False},
        ),
        # A visit recorded offline and sent after a later one: it changes nothing.
        ("refused", AT + dt.timedelta(minutes=1), {}),
    ],
)
def test_the_door_follows_the_latest_visit(settings, outcome, last, expected):
    settings.TIME_ZONE = "Asia/Shanghai"
    assert door_next_state(outcome, AT, last) == expected
