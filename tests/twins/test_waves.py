"""Wave planning and the halt rule."""

from __future__ import annotations

import pytest

from twins.waves import HaltRule, WavePlan


def test_canary_then_percent_then_the_rest() -> None:
    ids = [f"b{i:02d}" for i in range(50)]
    waves = WavePlan(canary="b07", percent=20).waves(list(reversed(ids)))
    assert waves[0] == ["b07"]
    assert len(waves[1]) == 10  # ceil(49 * 0.2)
    assert len(waves[2]) == 39
    assert sorted(b for w in waves for b in w) == ids  # every bench exactly once


def test_default_canary_is_the_first_id_and_small_rollouts_have_no_empty_wave() -> None:
    assert WavePlan().waves(["c", "a", "b"]) == [["a"], ["b"], ["c"]]
    assert WavePlan().waves(["a"]) == [["a"]]
    assert WavePlan(percent=100).waves(["a", "b", "c"]) == [["a"], ["b", "c"]]
    assert WavePlan().waves([]) == []


def test_bad_plans_name_the_field() -> None:
    with pytest.raises(ValueError, match="canary"):
        WavePlan(canary="zz").waves(["a", "b"])
    with pytest.raises(ValueError, match="percent"):
        WavePlan(percent=0).waves(["a", "b"])


def test_halt_rule_canary_any_failure_later_above_threshold() -> None:
    rule = HaltRule(max_failure_pct=10)
    assert rule.halts(0, 1, 1)
    assert not rule.halts(0, 0, 1)
    assert not rule.halts(1, 1, 10)  # 10 % is not above 10 %
    assert rule.halts(1, 2, 10)
    assert not rule.halts(2, 0, 39)
