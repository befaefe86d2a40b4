"""Open311 GeoReport v2 (https://wiki.open311.org/GeoReport_v2/): the service list, creating
and reading requests, for other city systems. JSON only."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["open311"])
