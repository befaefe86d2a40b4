"""The REST API of fangyi.guests: hotel guest reports, registration and referral."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["guests"])
