"""declarations_store runs end to end at a small size and reports its figures."""

from __future__ import annotations

import pytest

from tests.test_bench import run_bench


def test_declarations_store():
    result = run_bench("declarations_store")
    assert result["declarations"] == 300
    assert result["households"] == 100
    assert result["rate"] > 0 and result["raw_rate"] > 0
    assert result["ratio"] == pytest.approx(result["rate"] / result["raw_rate"], rel=0.01)
    proposals = result["proposals"]
    assert sum(proposals.values()) == 300
    # About a tenth travelled through a risk area: the rules propose observation for them.
    assert proposals.get("home", 0) >= 10
    assert proposals["cleared"] > 200
