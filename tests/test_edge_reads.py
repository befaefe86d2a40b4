"""Views and API endpoints read records through selectors, never through `.objects.`.

Each referenced record has a scoped selector (`<entity>_get(user, pk, field=...)`, built on
`fangyi.core.scoping.scoped_get` where it is plain), so that a page and the endpoint for the
same thing look it up the same way and a 404 names the field. An edge module that reaches for
`Model.objects` re-derives the domain, and the copies drift (the placement page and the
placement API each had their own). `.objects.none()` is allowed: it is a form field's empty
queryset, filled by a selector in the form's constructor.

`ALLOWED` lists what remained when this check was added, by file and count. It may only
shrink: a new `.objects.` fails, and so does one removed without removing it here.
"""

from __future__ import annotations

import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parent.parent / "fangyi"
OBJECTS = re.compile(r"\.objects\.(?!none\(\))")

ALLOWED = {
    # Two-factor devices of the account page (three: django-otp's model, the user's own
    # rows) and the home page's child nodes of the user's jurisdictions (one).
    "fangyi/core/views.py": 4,
    # Support asked of a named user: the user is looked up to say why they cannot answer.
    "fangyi/linkage/api.py": 1,
    # The assignee picker: a field worker whose jurisdiction meets the actor's.
    "fangyi/screening/api.py": 1,
    # The public tip form's compounds (no user: the public picks any compound).
    "fangyi/tips/api.py": 1,
    "fangyi/tips/views.py": 2,
}


def _edge_files():
    for path in sorted(ROOT.rglob("*.py")):
        stem = path.stem
        if stem in ("views", "api") or stem.startswith(("views_", "api_")):
            yield path


def counts() -> dict[str, int]:
    found = {}
    for path in _edge_files():
        n = len(OBJECTS.findall(path.read_text()))
        if n:
            found[str(path.relative_to(ROOT.parent))] = n
    return found


def test_views_and_apis_read_through_selectors_and_the_allowance_only_shrinks():
    assert counts() == ALLOWED


def test_the_pattern_finds_a_read_and_spares_an_empty_form_queryset():
    assert OBJECTS.findall("Tip.objects.filter(pk=1)\nNode.objects.none()\n") == [".objects."]
