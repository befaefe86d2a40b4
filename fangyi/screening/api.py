"""The REST API of fangyi.screening."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["screening"])
