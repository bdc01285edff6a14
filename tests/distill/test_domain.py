"""Domain re-weighting formulas and the bucketed, domain-weighted sampler."""
from collections import Counter

import jax
import numpy as np
import pytest

from mighty.distill.batching import BucketedSampler, Example, split_examples
from mighty.distill.domain import domain_weights, gaps_by_domain


def test_power_weights():
    gaps = {"a": 1.0, "b": 3.0}
    assert domain_weights(gaps, tau=1.0) == pytest.approx({"a": 0.25, "b": 0.75})
    assert domain_weights(gaps, tau=0.5) == pytest.approx({"a": 0.1, "b": 0.9})  # 1 : 9
    assert domain_weights(gaps, tau=1e6) == pytest.approx({"a": 0.5, "b": 0.5}, abs=1e-5)
    w = domain_weights(gaps, tau=1.0, floor=0.2)  # (1-ε)·w + ε/D
    assert w == pytest.approx({"a": 0.8 * 0.25 + 0.1, "b": 0.8 * 0.75 + 0.1})
    assert domain_weights({"a": 0.0, "b": 0.0}, tau=1.0) == pytest.approx({"a": 0.5, "b": 0.5})


def test_softmax_weights():
    w = domain_weights({"a": 0.0, "b": np.log(3.0)}, tau=1.0, mode="softmax")
    assert w == pytest.approx({"a": 0.25, "b": 0.75})
    shifted = domain_weights({"a": 5.0, "b": 5.0 + np.log(3.0)}, tau=1.0, mode="softmax")
    assert shifted == pytest.approx(w)


def test_gaps_are_token_weighted():
    g = gaps_by_domain(["a", "a", "b"], np.array([1.0, 4.0, 2.0]), np.array([3, 1, 5]))
    assert g == pytest.approx({"a": (3 * 1 + 4) / 4, "b": 2.0})


def _ex(i, dev, plen, clen):
    return Example(uid=f"u{i}", device_type=dev, prompt_ids=np.ones(plen, np.int32),
                   completion_ids=np.ones(clen, np.int32), topk_ids=np.zeros((clen, 2), np.int32),
                   topk_logprobs=np.zeros((clen, 2), np.float32))


def test_sampler_is_bucket_homogeneous_deterministic_and_follows_weights():
    exs = [_ex(i, "a" if i % 4 else "b", 5 + i % 7, 3 + i % 11) for i in range(200)]  # 3:1 a:b
    s = BucketedSampler(exs, [8, 16], [8, 16], batch_size=6)
    assert s.natural_weights() == pytest.approx({"a": 0.75, "b": 0.25})
    key = jax.random.key(0)
    assert s.draw(jax.random.fold_in(key, 3), {"a": .5, "b": .5}) == s.draw(
        jax.random.fold_in(key, 3), {"a": .5, "b": .5})
    counts = Counter()
    for step in range(300):
        idx, bucket = s.draw(jax.random.fold_in(key, step), {"a": 0.2, "b": 0.8})
        assert {s.buckets[i] for i in idx} == {bucket}
        counts.update(exs[i].device_type for i in idx)
    frac_b = counts["b"] / sum(counts.values())
    assert 0.72 < frac_b < 0.88  # weights are per device, not per example


def test_split_is_deterministic_and_disjoint():
    exs = [_ex(i, "abc"[i % 3], 4, 4) for i in range(60)]
    train, probe, ev = split_examples(exs, 0.2, probe_per_domain=2)
    train2, probe2, ev2 = split_examples(list(reversed(exs)), 0.2, probe_per_domain=2)
    ids = lambda xs: sorted(e.uid for e in xs)  # noqa: E731
    assert (ids(train), ids(probe), ids(ev)) == (ids(train2), ids(probe2), ids(ev2))
    assert len(probe) == 6 and len(train) + len(probe) + len(ev) == 60
    assert not set(ids(train)) & set(ids(probe) + ids(ev))


def test_probe_leaves_eval_rows_when_devices_outnumber_held_out_rows():
    exs = [_ex(i, f"dev{i % 14}", 4, 4) for i in range(32)]  # the smoke label set: 14 devices
    train, probe, ev = split_examples(exs, 0.2, probe_per_domain=2)
    assert len(probe) + len(ev) == 6 and len(probe) == 3 and len(ev) == 3 and len(train) == 26
