"""Router metrics against hand-worked cases."""
import numpy as np
import pytest

from mighty.distill.intent.evaluate import classification_metrics, ece, rare_recall_ci


def test_ece_hand_worked():
    # two items at confidence 0.9 (one right), two at 0.6 (both right):
    # 0.5 * |0.5 - 0.9| + 0.5 * |1.0 - 0.6| = 0.4
    p = np.array([[0.9, 0.1], [0.9, 0.1], [0.6, 0.4], [0.4, 0.6]])
    y = np.array([0, 1, 0, 1])
    assert ece(p, y) == pytest.approx(0.4)


def test_ece_zero_when_perfectly_calibrated():
    assert ece(np.array([[1.0, 0.0], [0.0, 1.0]]), np.array([0, 1])) == pytest.approx(0)


def test_metrics_hand_worked():
    p = np.eye(3)[[0, 0, 1, 2, 2]]
    y = np.array([0, 1, 1, 2, 0])
    m = classification_metrics(p, y, ["a", "b", "c"], rare=["b"])
    assert m["per_class_recall"] == {"a": 0.5, "b": 0.5, "c": 1.0}
    # F1: a: P=1/2 R=1/2 -> .5; b: P=1 R=.5 -> 2/3; c: P=.5 R=1 -> 2/3
    assert m["macro_f1"] == pytest.approx((0.5 + 2 / 3 + 2 / 3) / 3)
    assert m["rare_recall"] == 0.5


def test_rare_recall_ci_is_paired_difference():
    y = np.array([0, 1, 1, 1, 2])
    a = np.array([0, 1, 1, 1, 2])
    b = np.array([0, 1, 0, 0, 2])
    ci = rare_recall_ci(a, b, y, [1])
    assert ci["value"] == pytest.approx(2 / 3) and ci["n"] == 3
    # two rare classes of unequal size: the macro mean of per-class recall differences, the
    # statistic `classification_metrics` reports, not the pooled item mean
    y = np.array([1, 1, 1, 1, 2])
    a = np.array([1, 1, 1, 1, 0])  # recall class 1: 1.0, class 2: 0.0
    b = np.array([1, 0, 0, 0, 2])  # recall class 1: 0.25, class 2: 1.0
    ci = rare_recall_ci(a, b, y, [1, 2], n_boot=300)
    assert ci["value"] == pytest.approx(((1 - 0.25) + (0 - 1)) / 2)  # pooled would say (4 - 2) / 5
    assert ci["ci_low"] <= ci["value"] <= ci["ci_high"]
