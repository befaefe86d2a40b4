"""Background tasks of fangyi.observation (django-tasks).

`daily_rounds` is enqueued once a day (by `manage.py fangyi_daily --enqueue`, a cron line or the
worker's scheduler): yesterday's open follow-ups become missed, today's are generated."""

from __future__ import annotations

import datetime as dt

from django_tasks import task

from .services import daily_rounds as run


@task()
def daily_rounds(day: str | None = None) -> dict[str, int]:
    """`day` as YYYY-MM-DD (task arguments travel as JSON); today when left out."""

    return run(dt.date.fromisoformat(day) if day else None)
