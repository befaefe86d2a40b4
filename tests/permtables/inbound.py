"""Permission-table rows for inbound (see tests/permtables/__init__.py for what a row is)."""

from __future__ import annotations

from tests.permtables import ANY, PUBLIC, Endpoint  # noqa: F401

REFS: dict = {}
PAGES: list[Endpoint] = []
API: list[Endpoint] = []
