"""The REST API of the work log (工作日志): my own log, a supervisor's reading of one of his
people, and his people's totals. `start` and `end` are local days (YYYY-MM-DD, both included,
at most 366 days; by default the last 20 days ending today); a bad one answers 400 with the
field's error."""

from __future__ import annotations

import datetime as dt

from ninja import Field, Query, Router, Schema

from fangyi.core.api import ERRORS

from . import selectors

router = Router(tags=["worklog"])


START = Query("", description="First day, YYYY-MM-DD (default: 19 days before the end).")
END = Query("", description="Last day, YYYY-MM-DD, not after today (default: today).")


class WorklogKindOut(Schema):
    key: str = Field(..., examples=["doors"])
    label: str = Field(..., examples=["上门排查"])


class WorklogDayOut(Schema):
    date: dt.date
    counts: dict[str, int] = Field(..., description="Kind key → what was done that day.")


class WorklogOut(Schema):
    user_id: int
    user_name: str = Field(..., examples=["徐红心"])
    start: dt.date
    end: dt.date
    kinds: list[WorklogKindOut]
    days: list[WorklogDayOut] = Field(..., description="Every day of the period, oldest first.")
    totals: dict[str, int] = Field(..., description="Kind key → the period's sum of the days.")
    support_median_minutes: float | None = Field(
        ...,
        description="Median minutes from a support request asked to on scene, over the "
        "requests answered in the period that have an arrival.",
    )
    support_timed: int = Field(..., description="The requests that median is taken over.")
    summary: str = Field(..., examples=["20天：巡逻41次，上门236户，线索17条"])


class WorklogPersonOut(Schema):
    user_id: int
    name: str
    role: str
    totals: dict[str, int]
    support_median_minutes: float | None


class WorklogTeamOut(Schema):
    start: dt.date
    end: dt.date
    kinds: list[WorklogKindOut]
    people: list[WorklogPersonOut]
    totals: dict[str, int]


def _kinds(sources) -> list[dict]:
    return [{"key": s.key, "label": str(s.label)} for s in sources]


def _log_out(log: selectors.WorkLog) -> dict:
    return {
        "user_id": log.subject.pk,
        "user_name": log.subject.display_name,
        "start": log.start,
        "end": log.end,
        "kinds": _kinds(log.sources),
        "days": [{"date": d.date, "counts": d.counts} for d in log.days],
        "totals": log.totals,
        "support_median_minutes": (
            None if log.support_minutes is None else round(log.support_minutes, 1)
        ),
        "support_timed": log.support_timed,
        "summary": log.summary,
    }


def _log(request, user_id: int | None, start: str, end: str) -> dict:
    subject = selectors.subject_get(request.user, user_id)
    first, last = selectors.period_clean(start, end)
    return _log_out(selectors.worklog(request.user, subject, first, last, via="api"))


@router.get("/worklog", response={200: WorklogOut, **ERRORS})
def worklog_mine(request, start: str = START, end: str = END):
    """The caller's own work log: per day and kind what he did, the period's sums and the
    support's median response time. Every record he did counts, wherever it lies."""
    return _log(request, None, start, end)


@router.get("/worklog/team", response={200: WorklogTeamOut, **ERRORS})
def worklog_team(request, start: str = START, end: str = END):
    """A supervisor's people (active users under his jurisdiction who keep a log) with their
    period's totals; only records inside his jurisdiction count. 403 for other roles.
    Each person listed is written to the access log."""
    selectors.team_require(request.user)
    first, last = selectors.period_clean(start, end)
    team = selectors.team(request.user, first, last, via="api")
    return {
        "start": team.start,
        "end": team.end,
        "kinds": _kinds(team.sources),
        "people": [
            {
                "user_id": r.user.pk,
                "name": r.user.display_name,
                "role": r.user.role,
                "totals": r.totals,
                "support_median_minutes": (
                    None if r.support_minutes is None else round(r.support_minutes, 1)
                ),
            }
            for r in team.rows
        ],
        "totals": team.totals,
    }


@router.get("/worklog/{user_id}", response={200: WorklogOut, **ERRORS})
def worklog_user(request, user_id: int, start: str = START, end: str = END):
    """One person's work log: one's own, or (for a supervisor) someone under him, counting
    only the records inside the supervisor's jurisdiction. Anyone else's answers 404.
    Reading another person's log is written to the access log."""
    return _log(request, user_id, start, end)
