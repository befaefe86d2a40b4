"""The work-log API (issue 17 item 5), operation by operation: my own log, a supervisor's
reading of his officer, his people's totals; 404 for anyone else's log, field errors for a bad
period, the access log for a read of someone else's."""

from __future__ import annotations

import datetime as dt

import pytest

from fangyi.core.models import AccessLog
from fangyi.worklog.selectors import SOURCES, subject_get, worklog
from tests.conftest import english_login as login  # the assertions read English
from tests.test_api import call, field_names, schema_operations
from tests.test_worklog import END, START, Records, officer_twenty_days

pytestmark = pytest.mark.django_db

PERIOD = {"start": START.isoformat(), "end": END.isoformat()}


@pytest.fixture
def twenty_days(jiwu, officer, auxiliary, supervisor, beihu_compound) -> Records:
    r = Records(jiwu)
    officer_twenty_days(r, officer, auxiliary, supervisor, beihu_compound)
    return r


def test_every_worklog_operation_answers(twenty_days, officer, supervisor):
    seen: set[tuple[str, str]] = set()
    cop, boss = login(officer), login(supervisor)

    def c(client, method, template, expect=200, params=None, **ids):
        return call(client, method, template, expect, None, params, seen, **ids)

    mine = c(cop, "GET", "/api/worklog", params=PERIOD)
    log = worklog(officer, officer, START, END)
    assert mine["user_id"] == officer.pk and mine["user_name"] == "徐红心"
    assert (mine["start"], mine["end"]) == (START.isoformat(), END.isoformat())
    assert [k["key"] for k in mine["kinds"]] == [s.key for s in SOURCES]
    assert len(mine["days"]) == 20 and mine["days"][0]["date"] == START.isoformat()
    assert [d["counts"] for d in mine["days"]] == [d.counts for d in log.days]
    assert mine["totals"] == log.totals and mine["totals"]["patrols_led"] == 20
    assert mine["support_median_minutes"] == 6.0 and mine["support_timed"] == 3
    assert mine["summary"] == log.summary

    reads = AccessLog.objects.filter(via="api", object_type="user").count()
    theirs = c(boss, "GET", "/api/worklog/{user_id}", params=PERIOD, user_id=officer.pk)
    boss_log = worklog(supervisor, subject_get(supervisor, officer.pk), START, END)
    assert theirs["totals"] == boss_log.totals
    assert theirs["totals"]["doors"] == mine["totals"]["doors"] - 2  # not his 北湖 doors
    assert AccessLog.objects.filter(via="api", object_type="user").count() == reads + 1

    people = c(boss, "GET", "/api/worklog/team", params=PERIOD)
    row = next(p for p in people["people"] if p["user_id"] == officer.pk)
    assert row["totals"] == theirs["totals"] and row["role"] == "police"
    assert row["support_median_minutes"] == 6.0
    assert people["totals"]["doors"] == sum(p["totals"]["doors"] for p in people["people"])

    assert seen == schema_operations(cop, {"worklog"})


def test_the_default_period_is_the_last_twenty_days(officer):
    from django.utils import timezone

    data = login(officer).get("/api/worklog").json()
    today = timezone.localdate()
    assert data["end"] == today.isoformat()
    assert data["start"] == (today - dt.timedelta(days=19)).isoformat()
    assert len(data["days"]) == 20


def test_someone_elses_log_is_not_found(officer, auxiliary, outsider, supervisor):
    for client, user in ((login(officer), auxiliary), (login(outsider), officer)):
        response = client.get(f"/api/worklog/{user.pk}")
        assert response.status_code == 404
        assert response.json()["detail"] == "No such user."
    missing = login(supervisor).get("/api/worklog/987654321").json()
    theirs = login(supervisor).get(f"/api/worklog/{outsider.pk}").json()
    assert missing == theirs  # another station's officer looks like nobody
    assert login(officer).get(f"/api/worklog/{officer.pk}").status_code == 200


def test_the_team_is_a_supervisors(officer):
    response = login(officer).get("/api/worklog/team")
    assert response.status_code == 403


@pytest.mark.parametrize(
    "params, fields",
    [
        ({"start": "2020-02-30"}, {"start"}),
        ({"start": "2020-02-10", "end": "2020-02-01"}, {"end"}),
        ({"start": "2019-01-01", "end": "2020-02-20"}, {"start"}),
        ({"end": "2999-01-01"}, {"end"}),
        ({"start": "bad", "end": "worse"}, {"start", "end"}),
    ],
)
def test_a_bad_period_is_a_field_error(officer, supervisor, params, fields):
    for client, path in (
        (login(officer), "/api/worklog"),
        (login(supervisor), "/api/worklog/team"),
        (login(supervisor), f"/api/worklog/{officer.pk}"),
    ):
        response = client.get(path, params)
        assert response.status_code == 400, response.content
        assert field_names(response.json()) == fields
