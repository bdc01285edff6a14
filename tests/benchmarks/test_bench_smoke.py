"""Tiny-shape runs of each benchmark's *our-side* code path, so the scripts never rot.

Benchmarks, not tests: nothing here asserts on speed. The TRL and tunix sides need the
`bench` extra / `.venv-tunix` and run only from `make bench`.
"""
from __future__ import annotations

import numpy as np
import pytest

from benchmarks import common, grpo_step, kd_step, sampler
from benchmarks.setups import config_a, even_token_reward

TINY = dict(vocab_size=64, hidden_size=32, intermediate_size=64, num_hidden_layers=1,
            num_attention_heads=2, num_key_value_heads=2, head_dim=16)


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    return config_a(tmp_path_factory.mktemp("bench"), prompts=2, prompt_len=4, max_new_tokens=4,
                    shape=TINY)


@pytest.mark.slow  # ~20 s of compiles on a quiet 2-core machine, minutes under load
def test_grpo_our_side_runs_full_length_completions(setup, tmp_path):
    side = grpo_step.OurSide(setup, group=2, workdir=str(tmp_path / "run"))
    timings = common.alternate({"ours": side}, repeats=2, warmup=1, log=None)
    assert len(timings.times["ours"]) == 2
    # EOS lies outside the model's vocabulary: every completion has exactly max_new_tokens
    assert timings.extra_median("ours", "tokens") == 2 * 2 * setup.max_new_tokens
    rows = grpo_step.report(setup, 2, timings, peak=1e9)
    assert rows[0]["side"] == "ours" and rows[0]["mean_completion"] == setup.max_new_tokens
    assert rows[0]["step_MFU"] > 0 and rows[0]["update_MFU"] > 0


def test_kd_our_side_counts_completion_tokens(setup):
    batches = kd_step.make_batches(setup, steps=2, micro=1, per_micro=2, completion=6)
    b = batches[0]
    assert b["prompt_ids"].shape == (1, 2, 4) and b["topk_ids"].shape == (1, 2, 6, kd_step.K)
    # K teacher log-probs plus the tail form a distribution at every real completion token
    tail = 1 - np.exp(b["topk_logprobs"]).sum(-1)[b["completion_mask"] > 0]
    assert (tail > 0).all() and (tail < 1).all()
    # our side scores only the real completion tokens, listed as the trainer's batcher does
    assert b["token_mask"].sum() == b["completion_mask"].sum()
    side = kd_step.OurSide(setup, batches)
    assert side()["tokens"] == int(b["completion_mask"].sum())
    assert side()["tokens"] == int(batches[1]["completion_mask"].sum())


def test_torch_kd_loss_matches_ours():
    """The TRL side optimises the same loss as distill.losses.kd_loss (forward KL, T = 1)."""
    torch = pytest.importorskip("torch")
    import jax.numpy as jnp

    from mighty.distill.losses import kd_loss

    rng = np.random.default_rng(0)
    b, n, v, k = 2, 5, 40, kd_step.K
    logits = rng.normal(size=(b, n, v)).astype(np.float32) * 2
    ids = np.stack([[rng.choice(v, size=k, replace=False) for _ in range(n)] for _ in range(b)]).astype(np.int32)
    raw = rng.normal(size=(b, n, k + 1))
    logp = (raw - np.log(np.exp(raw).sum(-1, keepdims=True)))[..., :k].astype(np.float32)
    labels = ids[..., 0]
    mask = (np.arange(n) < np.array([[5], [3]])).astype(np.int32)
    ours, _ = kd_loss(jnp.asarray(logits), (jnp.asarray(ids), jnp.asarray(logp)), jnp.asarray(labels),
                      jnp.asarray(mask), temperature=1.0, alpha=kd_step.ALPHA, divergence="forward_kl")
    theirs = kd_step.kd_loss_torch(torch.tensor(logits), torch.tensor(ids).long(), torch.tensor(logp),
                                   torch.tensor(labels).long(), torch.tensor(mask), kd_step.ALPHA)
    np.testing.assert_allclose(float(theirs), float(ours), rtol=1e-5)


def test_alternation_order_and_tables():
    order = []
    sides = {"a": lambda: order.append("a"), "b": lambda: order.append("b") or {"tokens": 3}}
    t = common.alternate(sides, repeats=2, warmup=1, log=None)
    assert order == ["a", "b", "a", "b", "a", "b"]  # warm-up each, then A B A B
    assert t.extra_median("b", "tokens") == 3 and np.isnan(t.extra_median("a", "tokens"))
    t.times = {"a": [1.0, 2.0, 9.0], "b": [2.0, 4.0, 3.0]}
    assert t.ratio("a", "b") == 0.5  # per-round ratios 0.5, 0.5, 3
    md = common.table([{"side": "a", "x": 1.23456}], ["side", "x"])
    assert md.splitlines()[2] == "| a | 1.23 |"
    assert common.matmul_peak(n=64, repeats=1) > 0


def test_reward_is_shared_and_format_aware():
    assert even_token_reward(["p"], ["t2 t3 t4 t5"]) == [0.5]
    assert even_token_reward(["p"], [[{"role": "assistant", "content": "ab1"}]]) == [2 / 3]
    assert even_token_reward(["p"], [""]) == [0.0]


def test_generate_flops_hand_worked():
    """1 layer, hidden 2, 1 head of 2, FFN 3, vocab 5; one row, 2-token prompt, 3 new tokens.
    Per token: projections 2·2·(1+2)·2 + 2·2·2 = 32, SwiGLU 2·3·2·3 = 36 -> 68.
    Prefill: 2 tokens × (68 + causal attention 8) + one unembedding 2·2·5 = 20 -> 172.
    Decode: 2 steps × (68 + 20) + 4·2 FLOPs per cached key × (3 + 4 keys) = 176 + 56 -> 232."""
    shape = dict(hidden=2, layers=1, heads=1, kv_heads=1, head_dim=2, ffn=3, vocab=5)
    assert common.llama_generate_flops(**shape, rows=1, prompt=2, new=3) == 404
    assert common.llama_generate_flops(**shape, rows=4, prompt=2, new=3) == 4 * 404
    # one new token is just the prefill
    assert common.llama_generate_flops(**shape, rows=1, prompt=2, new=1) == common.llama_forward_flops(
        **shape, rows=1, seq=2, scored=1)


def test_sampler_our_side_generates_full_length(setup):
    from mighty.models import load_pretrained

    model, _ = load_pretrained(setup.model_dir)
    ids = np.asarray(setup.prompt_ids, np.int32)
    side = sampler.OurSampler(model, ids, np.ones_like(ids), new_tokens=3, pad_id=0)
    t = common.alternate({"ours": side}, repeats=1, warmup=1, log=None)
    assert t.extra_median("ours", "tokens") == len(ids) * 3  # EOS disabled: every row is full length
    shape = sampler.model_shape(model.cfg)
    assert shape == setup.shape
    (row,) = sampler.report(shape, len(ids), ids.shape[1], 3, t, peak=1e9)
    assert row["side"] == "ours" and row["tokens/s"] > 0 and row["MFU"] > 0
