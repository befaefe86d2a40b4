"""The demo city's part from fangyi.guests; called by fangyi.demo.build_demo."""

from __future__ import annotations


def build(n: dict, users: dict) -> None:
    """n: the demo tree's nodes by key (see fangyi.demo._tree); users: the demo users by username."""
