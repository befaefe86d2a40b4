"""The permission table's rows for each later app, and what a row is.

tests/test_permissions.py walks every row of every module listed in MODULES for every role of
the cast. A module defines PAGES and API (lists of Endpoint) and REFS: {name: function(refs)}
that makes, on first use, the record a URL template such as {sweep} names, inside or outside
the role's jurisdiction (refs.compound is the compound, refs.user the caller, refs["household"]
the household there, and so on; see Refs in test_permissions).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any

PUBLIC = "public"  # anyone, logged in or not
ANY = "any"  # anyone logged in


@dataclass
class Endpoint:
    method: str
    path: str  # a template: {person}, {household}, ... are filled from Refs
    who: str  # a POLICY action, ANY or PUBLIC
    ok: int = 200
    body: Any = None  # a dict, or a function of Refs (and the role) giving one
    ok_for: dict[str, int] = field(default_factory=dict)
    anon: int | None = None  # what an anonymous caller gets, where not the default
    elsewhere: int = 404  # what an allowed role gets for a record outside or missing
    reads_only: bool = False  # a POST that asks, and changes nothing

    @property
    def writes(self) -> bool:
        return self.method != "GET" and self.who != PUBLIC and not self.reads_only

    @property
    def api(self) -> bool:
        return self.path.startswith("/api/")

    @property
    def scoped(self) -> bool:
        """Does the request name a record (in the URL or the body)?"""
        return "{" in self.path or callable(self.body)


MODULES = [
    importlib.import_module(f"tests.permtables.{name}")
    for name in (
        "health",
        "screening",
        "observation",
        "transfer",
        "tips",
        "open311",
        "linkage",
        "enforcement",
        "quarantine",
        "refusals",
        "guests",
        "patrols",
        "posts",
        "worklog",
        "notify",
        "delivery",
        "inbound",
    )
]
