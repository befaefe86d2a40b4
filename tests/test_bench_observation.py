"""The observation benchmarks run end to end at a small size and report their figures."""

from __future__ import annotations

from tests.test_bench import run_bench


def test_followups_generate():
    result = run_bench("followups_generate")
    assert result["observations"] == 300
    # One in ten is followed up twice a day.
    assert result["followups"] == 330
    assert result["missed"] == result["followups"]  # the next morning, nobody recorded
    assert result["raw_seconds"] > 0
    # ratio is computed before rounding; at this size the rounded seconds are too coarse
    # to recompute it from.
    assert 0 < result["ratio"]
    assert result["second_run_seconds"] > 0


def test_daylist():
    result = run_bench("daylist")
    assert result["households"] == 300
    # At this size the whole city is the worker's grid.
    assert result["worker_doors"] == 300
    assert result["items"] > 50
    assert 0 < result["queries"] <= 20
    assert result["p95_seconds"] >= result["seconds"] >= result["min_seconds"] > 0
    assert result["cpu_seconds"] > 0
