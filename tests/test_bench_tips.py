"""tips_intake_load end to end at a tiny size: a real server on loopback, public tips paced
over a few seconds while three clients poll the board; nothing refused, every tip stored."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
KEYS = {
    "bench",
    "n",
    "db",
    "loadavg",
    "workers",
    "seconds",
    "tips_sent",
    "tips_stored",
    "errors",
    "intake_p50_ms",
    "intake_p95_ms",
    "board_polls",
    "board_p50_ms",
    "board_p95_ms",
    "board_max_ms",
    "board_raw_ms",
    "board_inproc_ms",
    "board_queries",
    "raw_insert_seconds",
}


def test_tips_intake_load_small():
    proc = subprocess.run(  # noqa: S603
        [
            sys.executable,
            "-m",
            "bench",
            "tips_intake_load",
            "--n",
            "300",
            "--tips",
            "60",
            "--duration",
            "5",
            "--pollers",
            "3",
            "--workers",
            "2",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert KEYS <= result.keys(), KEYS - result.keys()
    assert result["bench"] == "tips_intake_load" and result["n"] == 300
    assert result["errors"] == 0, result["error_kinds"]
    assert result["tips_sent"] == 60
    assert result["tips_stored"] == result["tips_sent"]
    # 60 tips from 15 addresses, four each: under the per-address limit, so none refused
    assert result["tips_per_address"] == 4
    # three pollers every 2 s for about 5 s, after their staggered start
    assert result["board_polls"] >= 6
    assert 0 < result["board_p50_ms"] <= result["board_p95_ms"] <= result["board_max_ms"]
    assert 0 < result["intake_p50_ms"] <= result["intake_p95_ms"]
    assert result["board_tips"] == 60  # one station at this size: every new tip is on its board
    assert result["seconds"] >= 4.5
    assert result["workers"] == 2
    assert result["raw_insert_tips"] == result["tips_stored"] + result["history_tips"]
