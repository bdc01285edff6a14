"""The blended reranker loss against a plain NumPy reference (and one hand-worked case)."""
import numpy as np
import pytest

from mighty.distill.rerank.losses import rerank_loss


def np_reference(logits, labels, mask, teacher, tmask, alpha, supervised):
    sig = 1 / (1 + np.exp(-logits))
    if supervised == "listwise":
        rows = []
        for z, y, m in zip(logits, labels, mask):
            if (y * m).sum() == 0:
                continue
            zm = z[m > 0]
            logp = zm - np.log(np.exp(zm - zm.max()).sum()) - zm.max()
            yy = (y * m)[m > 0] / (y * m).sum()
            rows.append(-(yy * logp).sum())
        sup = np.mean(rows) if rows else 0.0
    else:
        bce = -(labels * np.log(sig) + (1 - labels) * np.log(1 - sig))
        sup = (bce * mask).sum() / mask.sum()
    tm = tmask * mask
    mse = (((sig - teacher) ** 2) * tm).sum() / max(tm.sum(), 1.0)
    return alpha * sup + (1 - alpha) * mse, sup, mse


@pytest.mark.parametrize("supervised", ["listwise", "bce"])
@pytest.mark.parametrize("alpha", [0.0, 0.3, 1.0])
def test_matches_numpy_reference(supervised, alpha):
    rng = np.random.default_rng(0)
    b, k = 5, 6
    logits = rng.normal(size=(b, k)) * 2
    labels = np.zeros((b, k))
    labels[[0, 1, 2, 4], [3, 0, 5, 1]] = 1  # row 3: gold not among the candidates
    mask = (rng.random((b, k)) > 0.2).astype(float)
    mask[[0, 1, 2, 4], [3, 0, 5, 1]] = 1
    teacher = rng.random((b, k))
    tmask = np.zeros((b, k))
    tmask[:2] = 1  # only two questions teacher-scored
    got, parts = rerank_loss(*(np.float32(a) for a in (logits, labels, mask, teacher, tmask)),
                             alpha=alpha, supervised=supervised)
    want, sup, mse = np_reference(logits, labels, mask, teacher, tmask, alpha, supervised)
    np.testing.assert_allclose(float(got), want, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(float(parts["supervised"]), sup, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(float(parts["mse"]), mse, rtol=1e-5, atol=1e-6)


def test_hand_worked():
    # two candidates, logits 0 and ln 3: softmax (1/4, 3/4), gold the second -> CE = ln(4/3);
    # σ(0) = 0.5 vs teacher 0.1 and σ(ln 3) = 0.75 vs teacher 0.75 -> MSE = (0.16 + 0) / 2
    logits = np.float32([[0.0, np.log(3.0)]])
    loss, parts = rerank_loss(logits, np.float32([[0, 1]]), np.float32([[1, 1]]), np.float32([[0.1, 0.75]]),
                              np.float32([[1, 1]]), alpha=0.25)
    np.testing.assert_allclose(float(parts["supervised"]), np.log(4 / 3), rtol=1e-6)
    np.testing.assert_allclose(float(parts["mse"]), 0.08, rtol=1e-5)
    np.testing.assert_allclose(float(loss), 0.25 * np.log(4 / 3) + 0.75 * 0.08, rtol=1e-5)
