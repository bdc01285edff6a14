"""The shared training core against hand-worked values and a NumPy reference."""
import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from mighty.rl.config import GRPOOptimConfig
from mighty.training import OptimConfig, accumulate_grads, decay_mask, init_state, lr_schedule, make_optimizer, reduce_metrics


def test_schedule_by_hand():
    const = lr_schedule(OptimConfig(lr=1.0, warmup_steps=2, schedule="constant"), 10)
    assert [float(const(s)) for s in (0, 1, 2, 9)] == [0.0, 0.5, 1.0, 1.0]
    cos = lr_schedule(OptimConfig(lr=1.0, warmup_steps=2, schedule="cosine", min_lr_ratio=0.1), 10)
    # after warmup: 0.1 + 0.9 · ½(1 + cos(π · (s − 2) / 8))
    for s, want in ((2, 1.0), (6, 0.55), (10, 0.1)):
        assert float(cos(s)) == pytest.approx(want, abs=1e-6)
    assert float(lr_schedule(OptimConfig(lr=0.3, warmup_steps=0, schedule="constant"), 5)(0)) == pytest.approx(0.3)


def test_decay_mask_skips_vectors_embedding_and_head():
    params = {"embed": {"embedding": jnp.ones((4, 2))}, "lm_head": {"kernel": jnp.ones((2, 4))},
              "layers": {"0": {"attn": {"kernel": jnp.ones((2, 2))}, "norm": {"scale": jnp.ones(2)}}}}
    m = decay_mask(params)
    assert m["layers"]["0"]["attn"]["kernel"] and not m["layers"]["0"]["norm"]["scale"]
    assert not m["embed"]["embedding"] and not m["lm_head"]["kernel"]


def test_grpo_optim_only_changes_defaults():
    base, rl = OptimConfig(), GRPOOptimConfig()
    assert [f.name for f in dataclasses.fields(base)] == [f.name for f in dataclasses.fields(rl)]
    assert (rl.lr, rl.schedule, rl.weight_decay, rl.b2, rl.min_lr_ratio) == (1e-6, "constant", 0.0, 0.99, 0.0)
    assert isinstance(rl, OptimConfig)
    for bad in (dict(lr=0.0), dict(schedule="linear"), dict(clip_norm=-1.0), dict(b2=1.0), dict(min_lr_ratio=2.0)):
        with pytest.raises(ValueError, match="GRPOOptimConfig"):
            GRPOOptimConfig(**bad)


def _adam_nu(opt_state):
    return [x.nu for x in jax.tree.leaves(opt_state, is_leaf=lambda x: hasattr(x, "nu")) if hasattr(x, "nu")][0]


def test_state_layout_and_clipping():
    g = {"w": jnp.full((2, 2), 10.0)}  # global norm 20
    for clip, scale in ((0.0, 1.0), (1.0, 1.0 / 20)):  # 0 disables clipping
        cfg = OptimConfig(clip_norm=clip, lr=1.0, warmup_steps=0, weight_decay=0.0)
        tx, _ = make_optimizer(cfg, 4)
        state = init_state(g, tx)
        assert set(state) == {"params", "opt_state", "step"} and int(state["step"]) == 0
        _, opt_state = tx.update(g, state["opt_state"], g)
        # Adam's second moment after one step sees the (clipped) gradient: (1 − β2)·g²
        np.testing.assert_allclose(_adam_nu(opt_state)["w"], (1 - cfg.b2) * (10.0 * scale) ** 2, rtol=1e-5)


def _blocks(seed=0, m=3, b=4, d=5):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(m, b, d)).astype(np.float32)
    y = rng.normal(size=(m, b)).astype(np.float32)
    mask = (rng.random((m, b)) < 0.7).astype(np.float32)
    mask[:, 0] = 1.0  # every block has tokens
    return {"x": x, "y": y, "mask": mask}


def _block_loss(w, blk):
    """Token-mean squared error over the block's unmasked rows, and its metrics."""
    err = (blk["x"] @ w - blk["y"]) ** 2
    n = jnp.sum(blk["mask"])
    return jnp.sum(err * blk["mask"]) / n, {"loss": jnp.sum(err * blk["mask"]) / n, "tokens": n,
                                            "err_max": jnp.max(err), "err_min": jnp.min(err)}


def test_token_weighted_accumulation_is_the_full_batch_gradient():
    blocks = _blocks()
    w = jnp.asarray(np.random.default_rng(1).normal(size=5).astype(np.float32))
    g, m = accumulate_grads(jax.value_and_grad(_block_loss, has_aux=True), w, blocks, weight_key="tokens",
                            count_key="tokens")
    # NumPy: d/dw of Σ mask·(xw − y)² / Σ mask over all blocks at once
    x, y, mask = (blocks[k].reshape(-1, *blocks[k].shape[2:]) for k in ("x", "y", "mask"))
    r = x @ np.asarray(w) - y
    want = 2 * (mask * r) @ x / mask.sum()
    np.testing.assert_allclose(g, want, rtol=1e-5, atol=1e-6)
    assert float(m["tokens"]) == mask.sum()
    np.testing.assert_allclose(m["loss"], (mask * r ** 2).sum() / mask.sum(), rtol=1e-5)


def test_equal_weight_accumulation_and_per_block_keys():
    blocks = _blocks(seed=2)
    w = jnp.ones(5, jnp.float32)
    grad_fn = jax.value_and_grad(_block_loss, has_aux=True)
    g, m = accumulate_grads(grad_fn, w, blocks, weight_key=None, count_key="tokens")
    per_block = [grad_fn(w, jax.tree.map(lambda a: a[i], blocks))[1] for i in range(3)]
    np.testing.assert_allclose(g, np.mean(per_block, axis=0), rtol=1e-5, atol=1e-6)
    assert float(m["tokens"]) == blocks["mask"].sum()  # counts are summed whatever the gradient weights
    seen = []

    def keyed(p, blk, key):
        seen.append(key)
        return grad_fn(p, blk)
    keys = jax.vmap(lambda i: jax.random.fold_in(jax.random.key(0), i))(jnp.arange(3))
    g2, _ = accumulate_grads(keyed, w, blocks, weight_key=None, count_key="tokens", keys=keys)
    np.testing.assert_allclose(g2, g, rtol=1e-6)
    assert len(seen) == 1  # traced once inside the scan, with one key per block


def test_reduce_metrics_rules():
    stacked = {"tok": np.array([1.0, 3.0]), "loss": np.array([2.0, 4.0]),
               "ratio_max": np.array([1.5, 1.2]), "ratio_min": np.array([0.7, 0.9])}
    out = {k: float(v) for k, v in reduce_metrics(stacked, "tok").items()}
    assert out == pytest.approx({"tok": 4.0, "loss": (2.0 * 1 + 4.0 * 3) / 4, "ratio_max": 1.5, "ratio_min": 0.7})
    assert float(reduce_metrics(stacked, None)["loss"]) == 3.0
