"""The benchmarks run end to end at a small size and report their figures as one JSON line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
REQUIRED = {"bench", "n", "seconds", "peak_rss_mb", "db"}


def run_bench(name: str, n: int = 300) -> dict:
    proc = subprocess.run(  # noqa: S603
        [sys.executable, "-m", "bench", name, "--n", str(n)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = proc.stdout.strip().splitlines()
    assert lines, proc.stderr[-3000:]
    result = json.loads(lines[-1])
    assert REQUIRED <= result.keys()
    assert result["bench"] == name
    assert result["n"] == n
    assert result["seconds"] > 0
    assert result["peak_rss_mb"] > 0
    assert result["db"] in ("sqlite", "postgresql")
    return result


def test_registry_load():
    result = run_bench("registry_load")
    assert result["households"] == 300
    # Synth households hold 1 to 6 persons; none is rejected.
    assert 300 <= result["persons"] <= 1800
    assert result["rate"] > 0
    assert result["raw_rate"] > 0
    assert result["ratio"] == pytest.approx(result["rate"] / result["raw_rate"], rel=0.01)
    assert result["ratio"] > 0


def test_person_search():
    result = run_bench("person_search")
    assert result["queries"] >= 150
    kinds = {"name", "name_hant", "initials", "pinyin", "id_tail", "phone"}
    assert kinds <= result["per_kind_ms"].keys()
    assert all(v > 0 for v in result["per_kind_ms"].values())
    assert result["raw_seconds"] > 0
    assert result["p95_seconds"] >= result["seconds"]
    # Every query is taken from a stored resident, so each kind finds someone.
    assert all(v >= 1 for v in result["mean_rows"].values())


def test_unknown_benchmark_is_refused():
    proc = subprocess.run(  # noqa: S603
        [sys.executable, "-m", "bench", "no_such_bench"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 2
    assert "invalid choice" in proc.stderr
