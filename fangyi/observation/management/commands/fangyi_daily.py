"""The daily job of medical observation: mark yesterday's open follow-ups missed (escalating
those missed in a row) and generate today's. Idempotent: run it as often as you like."""

from __future__ import annotations

import datetime as dt
import json

from django.core.management.base import BaseCommand, CommandError

from fangyi.observation import services, tasks


class Command(BaseCommand):
    help = "Mark missed follow-ups and generate today's (medical observation)."

    def add_arguments(self, parser):
        parser.add_argument("--day", help="YYYY-MM-DD instead of today")
        parser.add_argument(
            "--enqueue",
            action="store_true",
            help="queue the work for the background worker instead of running it here",
        )

    def handle(self, *args, day=None, enqueue=False, **options):
        if day:
            try:
                dt.date.fromisoformat(day)
            except ValueError as exc:
                raise CommandError(f"--day: {exc}") from None
        if enqueue:
            result = tasks.daily_rounds.enqueue(day)
            self.stdout.write(f"queued {result.id}")
            return

        result = services.daily_rounds(dt.date.fromisoformat(day) if day else None)
        self.stdout.write(json.dumps(result))
