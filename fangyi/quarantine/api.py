"""The REST API of fangyi.quarantine: sites, rooms and beds, placements, the occupancy board."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["quarantine"])
