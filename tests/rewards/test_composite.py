"""Reward validation and the weighted / GDPO composite."""
import numpy as np
import pytest

from mighty.rewards.base import RewardError, validate_reward_output
from mighty.rewards.composite import Composite, group_zscore

P, C = ["p"] * 4, ["a", "b", "c", "d"]


def const(values, info=None):
    def r(prompts, completions, **fields):
        return (np.asarray(values), info) if info is not None else np.asarray(values)
    return r


def test_validate_wrong_length_names_reward_and_counts():
    with pytest.raises(RewardError, match=r"reward 'tech': expected 4 rewards .* got 3"):
        validate_reward_output("tech", np.zeros(3), 4)


def test_validate_nan_and_inf_list_item_indices():
    out = np.array([0.1, np.nan, 0.3, np.inf, np.nan, -np.inf])
    with pytest.raises(RewardError) as ei:
        validate_reward_output("lang", out, 6)
    msg = str(ei.value)
    assert "reward 'lang'" in msg
    assert "NaN at items [1, 4]" in msg and "inf at items [3, 5]" in msg


def test_validate_accepts_tuple_and_rejects_bad_shapes():
    arr, info = validate_reward_output("x", ([1, 2], {"k": 1}), 2)
    assert arr.dtype == np.float64 and info == {"k": 1}
    with pytest.raises(RewardError, match="got shape \\(2, 2\\)"):
        validate_reward_output("x", np.zeros((2, 2)), 2)
    with pytest.raises(RewardError, match="not numeric"):
        validate_reward_output("x", ["a", "b"], 2)
    with pytest.raises(RewardError, match="tuple of 3"):
        validate_reward_output("x", (1, 2, 3), 2)


def test_composite_weighted_sum_and_metrics():
    comp = Composite({"tech": const([1.0, 0.5, 0.0, 1.0]), "lang": const([0.0, 1.0, 0.5, 1.0])})
    res = comp.evaluate(P, C)
    # 0.6·tech + 0.4·lang
    np.testing.assert_allclose(res.total, [0.6, 0.7, 0.2, 1.0])
    m = res.metrics()
    assert m["reward/tech/mean"] == pytest.approx(0.625)
    assert m["reward/lang/std"] == pytest.approx(np.std([0.0, 1.0, 0.5, 1.0]))
    assert m["reward/total/mean"] == pytest.approx(0.625)
    total, per = comp(P, C)
    np.testing.assert_allclose(total, res.total)
    assert set(per) == {"tech", "lang"}


def test_composite_names_the_failing_component():
    comp = Composite({"tech": const([1.0, 1.0, 1.0, 1.0]), "lang": const([0.0, np.nan, 0.0, 0.0])})
    with pytest.raises(RewardError, match=r"reward 'lang': NaN at items \[1\]"):
        comp(P, C)
    comp = Composite({"tech": const([1.0, 1.0]), "lang": const([0.0] * 4)})
    with pytest.raises(RewardError, match="reward 'tech': expected 4 rewards"):
        comp(P, C)

    def boom(prompts, completions, **f):
        raise KeyError("kb_entry")
    with pytest.raises(RewardError, match="reward 'lang' raised KeyError"):
        Composite({"tech": const([0.0] * 4), "lang": boom})(P, C)


def test_composite_weight_checks_and_disabled_components():
    with pytest.raises(ValueError, match="no weight for \\['length'\\]"):
        Composite({"tech": const([0.0]), "length": const([0.0])})
    with pytest.raises(ValueError, match="mode must be one of"):
        Composite({"tech": const([0.0])}, {"tech": 1.0}, mode="sum")
    comp = Composite({"tech": const([1.0, 0.0, 0.0, 0.0]), "lang": None}, {"tech": 2.0, "lang": 0.4})
    np.testing.assert_allclose(comp(P, C)[0], [2.0, 0, 0, 0])
    assert comp.disabled == ["lang"]


def test_gdpo_zscores_each_component_within_groups():
    tech = np.array([1.0, 0.0, 0.2, 0.2])   # group 0: ±1/√2 ; group 1: constant -> 0
    lang = np.array([0.5, 0.7, 0.0, 1.0])   # group 0: -1/√2, +1/√2 ; group 1: the same
    comp = Composite({"tech": const(tech), "lang": const(lang)}, mode="gdpo", group_size=2)
    res = comp.evaluate(P, C)
    eps = 1e-6
    # two values a, b: mean (a + b)/2, std with ddof=1 (as GRPO's advantages) |a − b|/√2
    z = lambda a, b: (a - (a + b) / 2) / (abs(a - b) / np.sqrt(2) + eps)
    np.testing.assert_allclose(res.normalised["tech"], [z(1, 0), z(0, 1), 0, 0])
    np.testing.assert_allclose(res.total, 0.6 * res.normalised["tech"] + 0.4 * res.normalised["lang"])
    r = 1 / np.sqrt(2)
    np.testing.assert_allclose(res.total, [(0.6 - 0.4) * r, (-0.6 + 0.4) * r, -0.4 * r, 0.4 * r], atol=1e-5)
    # group_ids field overrides group_size and must have the right shape
    g = group_zscore(np.array([1.0, 2.0, 3.0, 5.0]), np.array([0, 1, 0, 1]))
    np.testing.assert_allclose(g, [-r, -r, r, r], atol=1e-5)
    with pytest.raises(RewardError, match="not a multiple of group_size=3"):
        Composite({"tech": const(tech)}, {"tech": 1.0}, mode="gdpo", group_size=3)(P, C)
