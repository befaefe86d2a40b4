"""Background tasks of the duty posts (django-tasks).

`shifts_escalate` marks the unstaffed shifts (fangyi.patrols.posts.unstaffed_q) escalated, once
each, with an audit row. It is idempotent and cheap: the worker's minute loop runs it beside
the escalation of overdue support requests, and it can be enqueued from anywhere (a cron line,
`shifts_escalate.enqueue()`)."""

from __future__ import annotations

import datetime as dt

from django_tasks import task

from .posts import shifts_escalate as run


@task()
def shifts_escalate(now: str | None = None) -> int:
    """`now` as an ISO date-time (task arguments travel as JSON); the current time when left
    out. Answers how many shifts were marked."""

    return run(dt.datetime.fromisoformat(now) if now else None)
