"""The REST API of the outbox's delivery (filled in by its work)."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["delivery"])
