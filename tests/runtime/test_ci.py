import numpy as np
import pytest

from mighty.runtime.ci import bootstrap, gap_recovered, min_detectable_difference, paired_bootstrap, resolved


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
    from mighty.runtime.ci import bootstrap_indices

    x = np.random.default_rng(2).normal(size=30)
    a = bootstrap_indices(x.size, lambda idx: x[idx].mean(), n_boot=300, seed=5)
    b = bootstrap(x, n_boot=300, seed=5)
    assert a.value == pytest.approx(b.value)
    assert a.low == pytest.approx(b.low) and a.high == pytest.approx(b.high)


def test_paired_bootstrap_hand_worked():
    """Two items with differences 0 and 1: resamples are (0,0), (0,1), (1,0), (1,1), so the
    resampled means are 0, ½, ½, 1 and the 95% interval is [0, 1]: not resolved."""
    a, b = np.array([3.0, 5.0]), np.array([3.0, 4.0])
    est = paired_bootstrap(a, b, n_boot=4000, seed=0)
    assert est.value == pytest.approx(0.5) and est.n == 2
    assert (est.low, est.high) == (0.0, 1.0)
    assert not resolved(est)
    # every difference positive: every resample's mean is >= the smallest, so the CI excludes 0
    pos = paired_bootstrap([0.3, 0.5, 0.4], [0.2, 0.2, 0.2], n_boot=500)
    assert pos.low >= 0.1 - 1e-12 and resolved(pos)
    assert resolved(paired_bootstrap([0.0, 0.1], [0.5, 0.7], n_boot=500))  # negative, excludes 0


def test_paired_bootstrap_matches_a_naive_loop_resampling_cases_once():
    rng = np.random.default_rng(7)
    b = rng.normal(size=25)
    a = b + 0.3 + 0.5 * rng.normal(size=25)  # correlated systems on the same cases
    est = paired_bootstrap(a, b, n_boot=300, seed=11)
    draw = np.random.default_rng(11)
    idx = draw.integers(0, 25, size=(300, 25))
    naive = []
    for row in idx:  # one set of case indices per resample, applied to both systems
        naive.append(sum(a[i] for i in row) / 25 - sum(b[i] for i in row) / 25)
    assert est.value == pytest.approx(a.mean() - b.mean())
    assert est.low == pytest.approx(np.quantile(naive, 0.025))
    assert est.high == pytest.approx(np.quantile(naive, 0.975))


def test_paired_bootstrap_drops_cases_missing_in_either_system():
    est = paired_bootstrap([1.0, np.nan, 3.0], [0.0, 1.0, np.nan], n_boot=50)
    assert est.n == 1 and est.value == 1.0


def test_min_detectable_difference_hand_worked():
    # differences [1, -1, 1, -1]: SD (ddof 1) = sqrt(4/3), n = 4 -> 2.8 * 1.1547 / 2 = 1.6166
    mdd = min_detectable_difference([1.0, 0.0, 1.0, 0.0], [0.0, 1.0, 0.0, 1.0])
    assert mdd == pytest.approx(2.8 * np.sqrt(4 / 3) / 2)
    assert np.isnan(min_detectable_difference([1.0], [0.0]))
