"""The REST API of fangyi.notify (filled in by its work)."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["notify"])
