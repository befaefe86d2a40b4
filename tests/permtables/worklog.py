"""Permission-table rows for worklog (see tests/permtables/__init__.py for what a row is).

{user} is an account whose jurisdiction is the role's compound (inside, near or outside):
someone who keeps a work log. Each person reads his own log (/worklog/, /api/worklog); a
supervisor reads the log of anyone under him and his people's totals. Every other role that
keeps a log gets 404 for another person's log, like a user that does not exist, and 403 for
the people's page, which is a supervisor's only."""

from __future__ import annotations

from tests.permtables import ANY, PUBLIC, Endpoint  # noqa: F401

# The roles that keep a work log but are no supervisor.
FIELD = ("officer", "auxiliary", "grid_worker", "community_staff", "health", "outsider")
NOT_THEIRS = {role: 404 for role in FIELD}
SUPERVISORS_ONLY = {role: 403 for role in FIELD}

REFS: dict = {}
PAGES: list[Endpoint] = [
    Endpoint("GET", "/worklog/", "worklog.view"),
    Endpoint("GET", "/worklog/?start=2020-02-01&end=2020-02-20", "worklog.view"),
    Endpoint("GET", "/worklog/xlsx/", "worklog.view"),
    Endpoint("GET", "/worklog/team/", "worklog.view", ok_for=SUPERVISORS_ONLY),
    Endpoint("GET", "/worklog/{user}/", "worklog.view", ok_for=NOT_THEIRS),
    Endpoint("GET", "/worklog/{user}/xlsx/", "worklog.view", ok_for=NOT_THEIRS),
]
API: list[Endpoint] = [
    Endpoint("GET", "/api/worklog", "worklog.view"),
    Endpoint("GET", "/api/worklog/team", "worklog.view", ok_for=SUPERVISORS_ONLY),
    Endpoint("GET", "/api/worklog/{user}", "worklog.view", ok_for=NOT_THEIRS),
]
