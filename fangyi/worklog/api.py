"""The REST API of the worklog part (filled in by its work)."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["worklog"])
