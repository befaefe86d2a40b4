"""The REST API of fangyi.linkage: support requests, their steps, the dispatch board."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["linkage"])
