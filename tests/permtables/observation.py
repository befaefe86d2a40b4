"""Permission-table rows for fangyi.observation."""

from __future__ import annotations

from tests.permtables import ANY, PUBLIC, Endpoint  # noqa: F401

PAGES: list[Endpoint] = []
API: list[Endpoint] = []
REFS: dict = {}
