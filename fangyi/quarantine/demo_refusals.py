"""The demo city's refusal (the household that refused the quarantine point); called by
fangyi.demo.build_demo after fangyi.quarantine.demo."""

from __future__ import annotations


def build(n: dict, users: dict) -> None:
    """n: the demo tree's nodes by key (see fangyi.demo._tree); users: the demo users by username."""
