"""LoRA adapters (models/lora.py): exact identity at init, merge = unmerged after training,
adapter gradients against NumPy and finite differences, a KD step that moves adapters only."""
import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from flax import nnx

from mighty.models.config import ModelConfig
from mighty.models.lora import (ALL_TARGETS, Adapter, Frozen, LoRAConfig, adapters, apply_lora, base_graphdef,
                         count, merge_lora, set_adapters, split_trainable)
from mighty.models.transformer import Transformer, token_logprobs

CFG = ModelConfig.tiny(tie_embeddings=False)


def _ids(seed=0, shape=(2, 9)):
    return jnp.asarray(np.random.default_rng(seed).integers(3, CFG.vocab_size, shape), jnp.int32)


def _lora_model(lcfg=None, seed=0):
    return apply_lora(Transformer(CFG, rngs=nnx.Rngs(seed)), lcfg or LoRAConfig(rank=4, alpha=8.0))


def _randomise_b(model, seed=1, std=0.05):
    """B = 0 makes every A-gradient zero; give B values so both factors are exercised."""
    rng = np.random.default_rng(seed)
    for *_, ad in adapters(model):
        ad.b.set_value(jnp.asarray(rng.normal(0, std, ad.b.shape), jnp.float32))


@pytest.mark.parametrize("lcfg", [LoRAConfig(rank=4), LoRAConfig(rank=2, rslora=True, targets=["q", "down"]),
                                  LoRAConfig(rank=8, alpha=1.0, dropout=0.2, targets=["o", "gate"])])
def test_adapted_equals_base_at_init_exactly(lcfg):
    ids = _ids()
    base = Transformer(CFG, rngs=nnx.Rngs(0))(ids)
    model = _lora_model(lcfg)
    np.testing.assert_array_equal(np.asarray(model(ids)), np.asarray(base))
    names = {(part, name) for _, part, name, _ in adapters(model)}
    assert {n for _, n in names} == set(lcfg.targets)
    assert len(adapters(model)) == CFG.num_layers * len(lcfg.targets)


def test_scaling_and_config_validation():
    assert LoRAConfig(rank=16, alpha=32).scale == 2.0
    assert LoRAConfig(rank=16, alpha=32, rslora=True).scale == 8.0  # α/√r
    for bad in (dict(targets=["q", "qq"]), dict(targets=[]), dict(rank=0), dict(alpha=0),
                dict(dropout=1.0), dict(quant="int4"), dict(quant_block=3)):
        with pytest.raises(ValueError, match="lora"):
            LoRAConfig(**bad)


def test_only_adapters_are_params_and_axes_are_logical():
    model = _lora_model()
    _, params, rest = nnx.split(model, nnx.Param, ...)
    leaves = jax.tree_util.tree_leaves_with_path(nnx.to_pure_dict(params))
    assert leaves and all(str(p[-1].key) in ("a", "b") for p, _ in leaves)
    n_adapters = sum(x.size for _, x in leaves)
    assert n_adapters == count(model)["trainable"]
    assert not jax.tree.leaves(nnx.state(model, lambda p, v: isinstance(v, nnx.Param)
                                         and not isinstance(v, nnx.LoRAParam)))
    assert len(jax.tree.leaves(nnx.state(model, Frozen))) == len(jax.tree.leaves(
        nnx.state(Transformer(CFG, rngs=nnx.Rngs(0)), nnx.Param)))
    q = model.layers[0].attn.lora["q"]
    assert q.a.get_metadata()["out_sharding"] == ("embed", None)
    assert q.b.get_metadata()["out_sharding"] == (None, "heads", "head_dim")
    o = model.layers[0].attn.lora["o"]
    assert o.a.get_metadata()["out_sharding"] == ("heads", "head_dim", None)
    assert model.layers[0].mlp.lora["down"].b.get_metadata()["out_sharding"] == (None, "embed")
    from mighty.models.sharding import param_shardings  # every adapter axis has a rule on a mesh
    mesh = jax.make_mesh((1, 1, 1), ("data", "fsdp", "tensor"),
                         axis_types=(jax.sharding.AxisType.Auto,) * 3)
    assert len(jax.tree.leaves(param_shardings(model, mesh))) == len(leaves)


def test_adapter_gradients_match_numpy():
    """y = x·W + s·x·A·B, L = Σ G∘y: ∂L/∂A = s·xᵀ·G·Bᵀ, ∂L/∂B = s·(x·A)ᵀ·G (hand-derived)."""
    rng = np.random.default_rng(0)
    x, g = rng.normal(size=(5, 6)).astype(np.float32), rng.normal(size=(5, 7)).astype(np.float32)
    ad = Adapter((6,), (7,), ("embed",), ("mlp",), LoRAConfig(rank=3, alpha=6.0), jax.random.key(0), jnp.float32)
    ad.b.set_value(jnp.asarray(rng.normal(size=(3, 7)), jnp.float32))
    a, b, s = np.asarray(ad.a[...]), np.asarray(ad.b[...]), 2.0
    graphdef, state = nnx.split(ad)

    def loss(state):
        return jnp.sum(jnp.asarray(g) * nnx.merge(graphdef, state).delta(jnp.asarray(x)))

    grads = nnx.to_pure_dict(jax.grad(loss)(state))
    np.testing.assert_allclose(grads["a"], s * x.T @ g @ b.T, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(grads["b"], s * (x @ a).T @ g, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(loss(state), np.sum(g * (s * x @ a @ b)), rtol=1e-5)


def test_adapter_gradients_match_finite_differences_on_the_model():
    """Directional derivative of the mean token log-prob along a random direction u over all
    adapter leaves: ⟨∇L, u⟩ against the central difference (L(θ+εu) − L(θ−εu)) / 2ε."""
    model = _lora_model(LoRAConfig(rank=2, alpha=4.0, targets=["q", "v", "o", "up", "down"]))
    _randomise_b(model, std=0.2)
    graphdef, params, rest = split_trainable(model)
    ids = _ids(3, (2, 8))
    mask = jnp.ones_like(ids)
    targets = jnp.roll(ids, -1, axis=1)

    def loss(p):
        m = nnx.merge(graphdef, p, rest)
        return jnp.mean(token_logprobs(m, ids, mask, targets))

    grad = jax.grad(loss)(params)
    rng = np.random.default_rng(7)
    u = jax.tree.map(lambda x: rng.normal(size=x.shape), params)
    norm = np.sqrt(sum(np.sum(x * x) for x in jax.tree.leaves(u)))
    u = jax.tree.map(lambda x: jnp.asarray(x / norm, jnp.float32), u)  # unit: a small step
    analytic = sum(float(jnp.vdot(gl, ul)) for gl, ul in zip(jax.tree.leaves(grad), jax.tree.leaves(u)))
    eps = 1e-2
    shift = lambda sign: jax.tree.map(lambda p, d: p + sign * eps * d, params, u)  # noqa: E731
    fd = (float(loss(shift(1))) - float(loss(shift(-1)))) / (2 * eps)
    assert abs(analytic) > 1e-2  # a direction the loss actually moves in
    np.testing.assert_allclose(fd, analytic, rtol=2e-2)
    # and the frozen base has no gradient at all: it is not in what grad differentiates
    assert all("a" == str(p[-1].key) or "b" == str(p[-1].key)
               for p, _ in jax.tree_util.tree_leaves_with_path(grad))


def _train(model, steps=4, lr=5e-2):
    """A few Adam steps on next-token CE over the adapters only."""
    graphdef, params, rest = split_trainable(model)
    ids = _ids(5, (4, 10))
    mask = jnp.ones_like(ids)
    tx = optax.adam(lr)
    opt = tx.init(params)

    @jax.jit
    def step(params, opt):
        def loss(p):
            return -jnp.mean(token_logprobs(nnx.merge(graphdef, p, rest), ids, mask, jnp.roll(ids, -1, 1)))
        g = jax.grad(loss)(params)
        upd, opt = tx.update(g, opt, params)
        return optax.apply_updates(params, upd), opt

    for _ in range(steps):
        params, opt = step(params, opt)
    return nnx.merge(graphdef, params, rest), opt


@pytest.mark.parametrize("rslora", [False, True])
def test_merged_equals_unmerged_after_training(rslora):
    model, opt = _train(_lora_model(LoRAConfig(rank=4, alpha=8.0, rslora=rslora)))
    ids = _ids(11)
    unmerged = np.asarray(model(ids))
    assert np.abs(unmerged - np.asarray(Transformer(CFG, rngs=nnx.Rngs(0))(ids))).max() > 1e-2  # it trained
    merged = merge_lora(model)
    assert not jax.tree.leaves(nnx.state(merged, Frozen))
    np.testing.assert_allclose(np.asarray(merged(ids)), unmerged, atol=1e-5, rtol=0)
    # Adam's moments exist for the adapters only: no optimizer state for the frozen base
    moments = sum(x.size for x in jax.tree.leaves(opt) if x.ndim > 0)
    assert moments == 2 * count(model)["trainable"]


def test_adapters_off_is_the_base_and_shares_arrays():
    model, _ = _train(_lora_model())
    ids = _ids(2)
    base = Transformer(CFG, rngs=nnx.Rngs(0))(ids)
    ref_graph = base_graphdef(model)
    _, params, rest = split_trainable(model)
    ref = nnx.merge(ref_graph, params, rest)
    same_buffer = lambda m: m.layers[0].attn.q.get_value().unsafe_buffer_pointer()  # noqa: E731
    assert same_buffer(ref) == same_buffer(model)  # π_ref holds no copy of the weights
    np.testing.assert_array_equal(np.asarray(ref(ids)), np.asarray(base))
    assert all(ad.enabled for *_, ad in adapters(model))  # the policy itself stays adapted
    assert np.abs(np.asarray(model(ids)) - np.asarray(base)).max() > 1e-2
    set_adapters(model, False)
    np.testing.assert_array_equal(np.asarray(model(ids)), np.asarray(base))


def test_dropout_only_with_a_key_and_inverted_scaling():
    """No key (eval, GRPO, merging): no dropout. With a key: kept inputs scaled by 1/(1−p)."""
    lcfg = LoRAConfig(rank=2, alpha=4.0, dropout=0.5)
    ad = Adapter((6,), (4,), ("embed",), ("mlp",), lcfg, jax.random.key(0), jnp.float32)
    ad.b.set_value(jnp.ones((2, 4)))
    x, a, s = np.ones((3, 6), np.float32), np.asarray(ad.a[...]), lcfg.scale
    np.testing.assert_allclose(np.asarray(ad.delta(jnp.asarray(x))), s * (x @ a) @ np.ones((2, 4)), rtol=1e-5)
    from mighty.models.lora import _DropoutKey

    ad.dropout_key = _DropoutKey(jax.random.key(3))
    keep = np.asarray(jax.random.bernoulli(jax.random.key(3), 0.5, x.shape))
    assert 0 < keep.mean() < 1
    want = s * (np.where(keep, 2.0, 0.0) @ a) @ np.ones((2, 4))
    np.testing.assert_allclose(np.asarray(ad.delta(jnp.asarray(x))), want, rtol=1e-5)


def test_lora_reference_equals_a_separate_frozen_reference():
    """π_ref for GRPO with LoRA: the policy's base with adapters off gives the completion
    log-probs of a separately built frozen copy of the base (rl.step.completion_logprobs)."""
    from mighty.models.lora import lora_reference
    from mighty.rl.step import completion_logprobs

    policy, _ = _train(_lora_model())
    rng = np.random.default_rng(4)
    prompt = jnp.asarray(rng.integers(3, CFG.vocab_size, (3, 6)), jnp.int32)
    tokens = jnp.asarray(rng.integers(3, CFG.vocab_size, (3, 5)), jnp.int32)
    pm, tm = jnp.ones_like(prompt), jnp.ones_like(tokens).at[0, 3:].set(0)
    graphdef, state = lora_reference(policy)
    same_buffer = lambda m: m.layers[0].attn.q.get_value().unsafe_buffer_pointer()  # noqa: E731
    from mighty.training import merge_states

    assert same_buffer(merge_states(graphdef, state)) == same_buffer(policy)  # no second copy of the base
    got, _ = completion_logprobs(graphdef, state, prompt, pm, tokens, tm)
    separate = Transformer(CFG, rngs=nnx.Rngs(0))  # the same base, its own arrays
    g2, p2 = nnx.split(separate, nnx.Param)
    want, _ = completion_logprobs(g2, nnx.to_pure_dict(p2), prompt, pm, tokens, tm)
    np.testing.assert_allclose(np.asarray(got), np.asarray(want), atol=1e-6, rtol=0)
    pg, pstate = nnx.split(policy)  # and the adapted policy differs from it
    adapted, _ = completion_logprobs(pg, nnx.to_pure_dict(pstate), prompt, pm, tokens, tm)
    assert np.abs(np.asarray(adapted) - np.asarray(want)).max() > 1e-3


def test_dropout_gradients_match_numpy():
    """With dropout, the gradients are those of s·(x∘m/(1−p))·A·B for the key's mask m."""
    from mighty.models.lora import _DropoutKey

    lcfg = LoRAConfig(rank=3, alpha=6.0, dropout=0.4)
    rng = np.random.default_rng(2)
    x, g = rng.normal(size=(5, 6)).astype(np.float32), rng.normal(size=(5, 7)).astype(np.float32)
    ad = Adapter((6,), (7,), ("embed",), ("mlp",), lcfg, jax.random.key(0), jnp.float32)
    ad.b.set_value(jnp.asarray(rng.normal(size=(3, 7)), jnp.float32))
    ad.dropout_key = _DropoutKey(jax.random.key(9))
    a, b, s = np.asarray(ad.a[...]), np.asarray(ad.b[...]), lcfg.scale
    m = np.where(np.asarray(jax.random.bernoulli(jax.random.key(9), 0.6, x.shape)), 1 / 0.6, 0.0)
    xm = x * m
    graphdef, state, key = nnx.split(ad, nnx.Param, ...)

    def loss(state, xx):
        return jnp.sum(jnp.asarray(g) * nnx.merge(graphdef, state, key).delta(xx))

    grads, gx = jax.grad(loss, argnums=(0, 1))(state, jnp.asarray(x))
    grads = nnx.to_pure_dict(grads)
    np.testing.assert_allclose(grads["a"], s * xm.T @ g @ b.T, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(grads["b"], s * (xm @ a).T @ g, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(gx, s * (g @ b.T @ a.T) * m, rtol=1e-5, atol=1e-5)
