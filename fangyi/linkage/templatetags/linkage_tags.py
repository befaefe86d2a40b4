"""Timers of support requests and tips: the text the page shows before linkage.js ticks it."""

from __future__ import annotations

from django import template
from django.utils.translation import gettext as _

register = template.Library()


def clock(seconds: int | float | None) -> str:
    """12:05, or 1:02:05 past an hour."""
    if seconds is None:
        return ""
    s = int(abs(seconds))
    h, m, x = s // 3600, s % 3600 // 60, s % 60
    return f"{h}:{m:02d}:{x:02d}" if h else f"{m}:{x:02d}"


register.filter("clock", clock)


def left_text(left: int) -> str:
    if left < 0:
        return _("{t} overdue").replace("{t}", clock(left))
    return _("{t} left").replace("{t}", clock(left))


def ago_text(elapsed: int) -> str:
    return _("{t} ago").replace("{t}", clock(elapsed))


@register.simple_tag
def timer_text(timer: dict) -> str:
    """`timer` as selectors.timer makes it: the time left (or overdue), else the time since."""
    if timer.get("left") is not None:
        return left_text(timer["left"])
    return ago_text(timer.get("elapsed") or 0)


@register.inclusion_tag("linkage/_timer_root.html")
def timer_root(now):
    """The attributes linkage.js reads: the server's time and the texts."""
    return {
        "now": int(now.timestamp()),
        "left": _("{t} left"),
        "over": _("{t} overdue"),
        "ago": _("{t} ago"),
    }
