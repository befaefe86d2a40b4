"""The SMS gateway's callbacks: residents' replies and stop requests (filled in by its work)."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["inbound"])
