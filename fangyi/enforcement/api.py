"""The REST API of fangyi.enforcement: records, legal bases, evidence photos."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["enforcement"])
