import numpy as np
import pytest

from evals.ci import bootstrap, gap_recovered, paired_bootstrap


def test_bootstrap_mean_matches_naive_loop():
    x = np.random.default_rng(1).normal(size=40)
    est = bootstrap(x, n_boot=500, seed=3)
    rng = np.random.default_rng(3)
    idx = rng.integers(0, x.size, size=(500, x.size))
    naive = sorted(float(np.mean([x[i] for i in row])) for row in idx)
    assert est.value == pytest.approx(x.mean())
    assert est.low == pytest.approx(np.quantile(naive, 0.025))
    assert est.high == pytest.approx(np.quantile(naive, 0.975))


def test_bootstrap_interval_shrinks_with_n_and_covers_truth():
    rng = np.random.default_rng(0)
    small = bootstrap(rng.normal(1.0, 1.0, 30))
    large = bootstrap(rng.normal(1.0, 1.0, 3000))
    assert (large.high - large.low) < (small.high - small.low) / 5
    assert large.low < 1.0 < large.high


def test_bootstrap_rejects_nan_with_item_index():
    with pytest.raises(ValueError, match=r"items \[2\]"):
        bootstrap([1.0, 2.0, float("nan")])


def test_paired_and_gap_recovered_hand_worked():
    base = np.array([0.0, 0.0, 0.0, 0.0])
    teacher = np.array([1.0, 1.0, 1.0, 1.0])
    student = np.array([0.5, 0.5, 0.5, 0.5])
    g = gap_recovered(student, base, teacher)
    assert g.value == pytest.approx(0.5) and g.low == pytest.approx(0.5) and g.high == pytest.approx(0.5)
    d = paired_bootstrap(teacher, student)
    assert d.value == pytest.approx(0.5)
    with pytest.raises(ValueError, match="equal"):
        paired_bootstrap([1.0], [1.0, 2.0])


def test_bootstrap_indices_matches_mean_bootstrap():
    from evals.ci import bootstrap_indices

    x = np.random.default_rng(2).normal(size=30)
    a = bootstrap_indices(x.size, lambda idx: x[idx].mean(), n_boot=300, seed=5)
    b = bootstrap(x, n_boot=300, seed=5)
    assert a.value == pytest.approx(b.value)
    assert a.low == pytest.approx(b.low) and a.high == pytest.approx(b.high)
