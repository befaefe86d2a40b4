"""The REST API of fangyi.transfer."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["transfer"])
