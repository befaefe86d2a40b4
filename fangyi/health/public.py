"""What the public self-report pages and endpoints share: the link's URL, the given name."""

from __future__ import annotations

import re

from django.urls import reverse

from fangyi.core.web import public_url
from fangyi.people.services import COMPOUND_SURNAMES, normalize_name

_HAN = re.compile(r"^[\u3400-\u9fff]+$")


def given_name(full: str) -> str:
    """The given name alone, the only personal data a public page shows: 徐紅心 → 紅心,
    歐陽小明 → 小明, "Anna Smith" → Anna."""
    name = (full or "").strip()
    if _HAN.match(name):
        # The registry's list of two-character surnames, read in either script.
        if len(name) >= 3 and normalize_name(name[:2]) in COMPOUND_SURNAMES:
            return name[2:]
        return name[1:] if len(name) >= 2 else name
    return name.split()[0] if name.split() else ""


def link_path(token: str) -> str:
    return reverse("selfreport", args=[token])


def link_url(request, token: str) -> str:
    return public_url(link_path(token), request)


def daily_path(token: str) -> str:
    """The observation app's daily check for the same link."""
    return f"/r/{token}/daily/"
