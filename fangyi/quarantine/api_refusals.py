"""The REST API of refusals, persuasion attempts and the quarantine notice."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["refusals"])
