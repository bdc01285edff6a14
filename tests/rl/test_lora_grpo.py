"""GRPO with a LoRA policy: the train state is the adapters, the frozen base an argument of the
step; the adapters' gradient is the chain rule of the full model's; QLoRA steps too."""
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from flax import nnx

from mighty.models.lora import LoRAConfig, apply_lora, lora_reference, split_trainable
from mighty.rl.config import GRPOConfig, GRPOOptimConfig, RolloutConfig
from mighty.rl.learner import advantages, update_batch
from mighty.rl.rollout import Rollouts
from mighty.rl.step import make_grpo_step
from tests.tolerances import capture_grads
from mighty.training import init_state

LORA = LoRAConfig(rank=2, alpha=4.0)  # s = α / r = 2


def _cfg(**over):
    return GRPOConfig(num_generations=4, prompts_per_step=3, rollout=RolloutConfig(max_new_tokens=8),
                      optim=GRPOOptimConfig(lr=1e-2, warmup_steps=0), **over)


def _copy(model):
    graphdef, state = nnx.split(model)
    return nnx.merge(graphdef, jax.tree.map(jnp.copy, state))


def _batch(policy, tokenizer, encode, reward, prompts, cfg):
    graphdef, params = nnx.split(policy, nnx.Param)
    ro = Rollouts(graphdef, tokenizer, encode, reward, cfg)
    r = ro.sample(nnx.to_pure_dict(params), prompts(3, 0), jax.random.key(1), need_old=False)
    return {**update_batch(r, advantages(r.rewards, cfg), cfg), "first": jnp.asarray(True)}


def _grads(graphdef, params, batch, cfg, rest=None):
    tx = optax.chain(capture_grads(), optax.sgd(cfg.optim.lr))
    step = make_grpo_step(graphdef, tx, cfg, max_len=cfg.rollout.max_new_tokens, rest=rest)
    state, metrics = step(init_state(jax.tree.map(jnp.copy, params), tx), batch, jax.random.key(0))
    return state, state["opt_state"][0], metrics


def test_adapter_gradient_is_the_chain_rule_of_the_full_gradient(tiny_policy, tokenizer, encode, reward, prompts):
    """At B = 0 the adapted model is the base, and for W' = W + s·A·B:
    ∂L/∂B = s·Aᵀ·∂L/∂W and ∂L/∂A = 0, with ∂L/∂W the full model's GRPO gradient."""
    cfg = _cfg(beta=0.0)
    batch = _batch(tiny_policy, tokenizer, encode, reward, prompts, cfg)
    g_full, p_full = nnx.split(_copy(tiny_policy), nnx.Param)
    _, full, m_full = _grads(g_full, nnx.to_pure_dict(p_full), batch, cfg)
    graphdef, adapters, frozen = split_trainable(apply_lora(_copy(tiny_policy), LORA))
    _, lora, m_lora = _grads(graphdef, adapters, batch, cfg, rest=frozen)
    np.testing.assert_allclose(m_lora["grpo/loss"], m_full["grpo/loss"], rtol=1e-6)  # same policy at step 0
    checked = 0
    for i, layer in enumerate(lora["layers"].values() if isinstance(lora["layers"], dict) else lora["layers"]):
        for part in ("attn", "mlp"):
            for name, g in layer[part]["lora"].items():
                a = np.asarray(adapters["layers"][i][part]["lora"][name]["a"])
                dw = np.asarray(full["layers"][i][part][name])
                a2 = a.reshape(-1, a.shape[-1])  # (in, r)
                want = LORA.scale * a2.T @ dw.reshape(a2.shape[0], -1)  # (r, out)
                got = np.asarray(g["b"]).reshape(want.shape)
                np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-6 * np.abs(want).max())
                np.testing.assert_array_equal(np.asarray(g["a"]), 0.0)
                checked += 1
    assert checked == 2 * 7 and np.abs(want).max() > 0


def test_a_step_moves_the_adapters_only_and_the_reference_is_the_base(tiny_policy, tokenizer, encode,
                                                                         reward, prompts):
    cfg = _cfg(beta=0.1)
    batch = _batch(tiny_policy, tokenizer, encode, reward, prompts, cfg)
    policy = apply_lora(_copy(tiny_policy), LORA)
    graphdef, adapters, frozen = split_trainable(policy)
    ref_graph, ref_params = lora_reference(policy)
    # π_ref (adapters off) scores the batch exactly as the base model does
    from mighty.rl.reference import ReferencePass

    base_g, base_p = nnx.split(tiny_policy, nnx.Param)
    args = (batch["prompt_ids"], batch["prompt_mask"], batch["tokens"], batch["mask"])
    np.testing.assert_array_equal(np.asarray(ReferencePass(ref_graph, ref_params)(*args)),
                                  np.asarray(ReferencePass(base_g, nnx.to_pure_dict(base_p))(*args)))
    batch["logp_ref"] = ReferencePass(ref_graph, ref_params)(*args)
    before = jax.tree.map(np.asarray, frozen)
    tx = optax.adam(1e-2)
    step = make_grpo_step(graphdef, tx, cfg, max_len=cfg.rollout.max_new_tokens, rest=frozen)
    state, m = step(init_state(jax.tree.map(jnp.copy, adapters), tx), batch, jax.random.key(0))
    assert set(jax.tree.leaves(jax.tree.map(lambda x: x.shape, state["params"]))) == \
        set(jax.tree.leaves(jax.tree.map(lambda x: x.shape, adapters)))  # the state is the adapters
    assert any(np.abs(np.asarray(b)).max() > 0 for b in jax.tree.leaves(state["params"]))  # B moved
    jax.tree.map(np.testing.assert_array_equal, jax.tree.map(np.asarray, frozen), before)  # base untouched
    assert np.isfinite(float(m["grpo/loss"])) and float(m["grpo/kl"]) >= 0


@pytest.mark.parametrize("quant", ["int8", "nf4"])
def test_qlora_grpo_step_runs(tiny_policy, tokenizer, encode, reward, prompts, quant):
    cfg = _cfg(beta=0.0)
    batch = _batch(tiny_policy, tokenizer, encode, reward, prompts, cfg)
    graphdef, adapters, frozen = split_trainable(
        apply_lora(_copy(tiny_policy), LoRAConfig(rank=2, alpha=4.0, quant=quant, quant_block=8)))
    state, grads, m = _grads(graphdef, adapters, batch, cfg, rest=frozen)
    assert np.isfinite(float(m["grpo/loss"])) and float(m["grpo/grad_norm"]) > 0
