"""The placement race benchmark runs end to end at a small size: every bed given once."""

from __future__ import annotations

from tests.test_bench import run_bench


def test_placement_race():
    result = run_bench("placement_race", n=60)
    assert result["beds"] == 30
    assert result["placed"] == 30
    assert result["full"] == 30
    assert result["errors_other"] == 0
    assert result["double_booked"] == 0
    assert result["threads"] >= 16
