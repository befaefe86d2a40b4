"""The REST API of the posts part (filled in by its work)."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["posts"])
