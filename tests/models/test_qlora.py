"""QLoRA (models/quant.py, models/lora.py): block-wise int8 / NF4 against a NumPy reference and
the documented error bounds; the base reaches the jitted forward quantised; a KD step trains
the adapters on a quantised base and leaves its codes untouched."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from mighty.distill.config import OptimConfig
from mighty.distill.step import LossSpec, make_kd_step
from mighty.training import init_state, make_optimizer
from mighty.models.config import ModelConfig
from mighty.models.lora import LoRAConfig, apply_lora, count, merge_lora, split_trainable
from mighty.models.quant import NF4_TABLE, QTensor, dequantize, error_bound, quantize
from mighty.models.transformer import Transformer

CFG = ModelConfig.tiny(num_layers=1, tie_embeddings=False)


def _weights(seed=0, shape=(64, 3, 8)):
    rng = np.random.default_rng(seed)
    w = rng.standard_t(3, size=shape).astype(np.float32) * 0.02  # heavy tails, as real kernels
    w[0, 0, 0] = 0.5  # one outlier: it sets its block's scale
    w[8:16, 1, :] = 0  # an all-zero block (scale 0 must not divide by zero)
    return w


def _numpy_reference(w, kind, block, axis):
    """Straightforward NumPy: per block absmax, nearest code, back to floats."""
    wm = np.moveaxis(w, axis, 0)
    blocks = wm.reshape(wm.shape[0] // block, block, -1)
    s = np.abs(blocks).max(axis=1, keepdims=True)
    x = blocks / np.where(s > 0, s, 1)
    if kind == "int8":
        deq = np.round(x * 127) / 127 * s
    else:
        deq = NF4_TABLE[np.abs(x[..., None] - NF4_TABLE).argmin(-1)] * s
    scale = np.broadcast_to(s, blocks.shape).reshape(wm.shape)  # each entry's block scale
    return np.moveaxis(deq.reshape(wm.shape), 0, axis), np.moveaxis(scale, 0, axis)


@pytest.mark.parametrize("kind", ["int8", "nf4"])
@pytest.mark.parametrize("axis,block", [(0, 16), (0, 64), (1, 2)])
def test_dequantisation_matches_numpy_and_the_documented_bound(kind, axis, block):
    w = _weights(shape=(64, 4, 8) if axis == 0 else (4, 8, 16))
    q = quantize(jnp.asarray(w), kind, block, axis)
    deq = np.asarray(dequantize(q, jnp.float32))
    want, scale = _numpy_reference(w, kind, block, axis)
    np.testing.assert_allclose(deq, want, rtol=1e-6, atol=1e-7)
    err = np.abs(deq - w)
    bound = error_bound(kind) * scale
    assert np.all(err <= bound * (1 + 1e-5) + 1e-9), float((err - bound).max())
    ratio = err[bound > 0] / bound[bound > 0]
    assert ratio.max() > 0.5  # the bound is tight enough to mean something
    assert q.shape == w.shape
    # the stored form: int8 codes, or two 4-bit codes per byte
    assert q.codes.dtype == (jnp.int8 if kind == "int8" else jnp.uint8)
    assert q.codes.size == w.size // (2 if kind == "nf4" else 1)
    np.testing.assert_array_equal(deq[deq.shape[0] // 2:][w[w.shape[0] // 2:] == 0], 0)


@pytest.mark.parametrize("kind", ["int8", "nf4"])
def test_quantisation_is_idempotent(kind):
    w = jnp.asarray(_weights(1))
    q = quantize(w, kind, 16)
    q2 = quantize(dequantize(q, jnp.float32), kind, 16)
    np.testing.assert_array_equal(np.asarray(q2.codes), np.asarray(q.codes))
    np.testing.assert_allclose(np.asarray(q2.scales), np.asarray(q.scales), rtol=1e-6)


def test_bad_block_sizes_say_what_to_do():
    with pytest.raises(ValueError, match="does not divide"):
        quantize(jnp.ones((10, 4)), "nf4", 4)
    with pytest.raises(ValueError, match="block size"):
        apply_lora(Transformer(CFG, rngs=nnx.Rngs(0)), LoRAConfig(rank=2, quant="int8", quant_block=64))


@pytest.mark.parametrize("kind", ["int8", "nf4"])
def test_qlora_model_is_the_dequantised_base_and_stays_quantised_in_the_jit(kind):
    ids = jnp.asarray(np.random.default_rng(0).integers(3, 128, (2, 7)), jnp.int32)
    model = apply_lora(Transformer(CFG, rngs=nnx.Rngs(0)), LoRAConfig(rank=4, quant=kind, quant_block=8))
    reference = merge_lora(model)  # plain float model from the dequantised kernels (B = 0)
    np.testing.assert_allclose(np.asarray(model(ids)), np.asarray(reference(ids)), atol=2e-6, rtol=0)
    full = np.asarray(Transformer(CFG, rngs=nnx.Rngs(0))(ids))
    assert 0 < np.abs(np.asarray(model(ids)) - full).max() < (0.05 if kind == "int8" else 0.5)
    graphdef, params, rest = split_trainable(model)
    kernels = [x for x in jax.tree.leaves(rest) if x.dtype in (jnp.int8, jnp.uint8)]
    assert len(kernels) == 7  # q k v o gate up down, one layer
    lowered = jax.jit(lambda p, r: nnx.merge(graphdef, p, r)(ids)).lower(params, rest).as_text()
    inputs = lowered.split("func.func public @main")[1].split("\n")[0]  # the jitted program's inputs
    assert ("tensor<32x4x8xi8>" if kind == "int8" else "tensor<16x4x8xui8>") in inputs  # q's codes
    assert "tensor<32x4x8xf32>" not in inputs  # no float q kernel goes in
    sizes = count(model)
    plain = sum(x.nbytes for x in jax.tree.leaves(nnx.state(Transformer(CFG, rngs=nnx.Rngs(0)), nnx.Param)))
    assert sizes["frozen_bytes"] < plain


def test_qlora_kd_step_trains_adapters_on_a_quantised_base():
    model = apply_lora(Transformer(CFG, rngs=nnx.Rngs(0)), LoRAConfig(rank=4, quant="nf4", quant_block=8))
    graphdef, params, rest = split_trainable(model)
    codes_before = [np.asarray(x) for x in jax.tree.leaves(rest)]
    tx, schedule = make_optimizer(OptimConfig(lr=1e-2, warmup_steps=0), 4)
    step = make_kd_step(graphdef, rest, tx, schedule, LossSpec(alpha=0.5))
    state = init_state(params, tx)
    rng = np.random.default_rng(0)
    ids = lambda *s: rng.integers(3, 128, s).astype(np.int32)  # noqa: E731
    losses = []
    batch = {"prompt_ids": ids(1, 4, 6), "prompt_mask": np.ones((1, 4, 6), np.int32),
             "completion_ids": ids(1, 4, 5), "completion_mask": np.ones((1, 4, 5), np.int32),
             "boost": np.zeros((1, 4, 5), bool), "topk_ids": ids(1, 4, 5, 3),
             "topk_logprobs": np.log(np.full((1, 4, 5, 3), 0.3, np.float32))}
    for s in range(3):
        state, m = step(state, batch, jax.random.key(s))
        losses.append(float(m["kd/loss"]))
    assert losses[-1] < losses[0]
    for new, old in zip(jax.tree.leaves(rest), codes_before, strict=True):
        np.testing.assert_array_equal(np.asarray(new), old)
    assert isinstance(model.layers[0].attn.q.get_value(), QTensor)
