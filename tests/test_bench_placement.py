"""The placement race benchmark runs end to end at a small size: every bed given once, by the
service and by the raw SQL baseline of the same run."""

from __future__ import annotations

import pytest

from tests.test_bench import run_bench


def test_placement_race():
    result = run_bench("placement_race", n=60)
    assert result["beds"] == 30
    assert result["placed"] == 30
    assert result["full"] == 30
    assert result["errors_other"] == 0
    assert result["double_booked"] == 0
    assert result["threads"] >= 16
    assert result["raw_placed"] == 30
    assert result["raw_double_booked"] == 0
    assert result["raw_seconds"] > 0
    # The service's speed relative to the raw SQL's: raw_seconds / seconds.
    assert result["ratio"] > 0
    assert result["ratio"] == pytest.approx(
        result["raw_seconds"] / result["seconds"], rel=0.05, abs=1e-3
    )
