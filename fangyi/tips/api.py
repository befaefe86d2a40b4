"""The REST API of fangyi.tips: the public intake and tracking (no account), and the staff's
tips, visits and lifecycle."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["tips"])
