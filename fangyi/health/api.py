"""The REST API of fangyi.health."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["health"])
