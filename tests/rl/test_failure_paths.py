"""The silent RL bugs peers shipped, each provoked on the real path: NaN / inf rewards (also
under GDPO), pad == eos, a token-mean normaliser that depends on the microbatch count (and the
device count: the 8-fake-device run below), KL gradient leaking from zero-variance groups.

The normaliser and pad == eos tests keep a deliberately broken version as the counter-example
each one must catch."""
from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from flax import nnx

from mighty.rl import step as rl_step
from mighty.models import ModelConfig, Transformer
from mighty.rewards.base import RewardError
from mighty.rewards.composite import Composite
from mighty.rl.advantages import group_advantages
from mighty.rl.config import GRPOConfig, GRPOOptimConfig, RolloutConfig
from mighty.rl.learner import advantages, check_finite_rewards, update_batch
from mighty.rl.losses import grpo_loss
from mighty.rl.rollout import Rollouts
from mighty.rl.step import make_grpo_step
from mighty.training import init_state, make_optimizer
from tests.rl.conftest import WordTokenizer, target_fraction
from tests.tolerances import assert_grads_close, capture_grads

HERE = Path(__file__).parent


def _cfg(**over):
    rollout = over.pop("rollout", RolloutConfig(max_new_tokens=8))
    return GRPOConfig(num_generations=4, prompts_per_step=over.pop("prompts", 2), rollout=rollout,
                      optim=GRPOOptimConfig(lr=1e-2, warmup_steps=0), **over)


def _grads(graphdef, params, cfg, batch):
    tx = optax.chain(capture_grads(), make_optimizer(cfg.optim, 2)[0])
    state, m = make_grpo_step(graphdef, tx, cfg, max_len=cfg.rollout.max_new_tokens)(
        init_state(jax.tree.map(jnp.copy, params), tx), batch, jax.random.key(0))
    return state["opt_state"][0], jax.device_get(m)


# ------------------------------------------------------------------------- NaN / inf rewards
def nan_at_2_inf_at_5(prompts, completions, **_):
    r = np.zeros(len(completions))
    r[2], r[5] = np.nan, np.inf
    return r


@pytest.mark.parametrize("mode", ["weighted", "gdpo"])
def test_nan_reward_component_is_an_error_naming_it_and_the_items(mode, tiny_policy, tokenizer,
                                                                   encode, prompts):
    """Through `Rollouts.sample` (the real scoring path) with a composite reward; under GDPO
    the bad component would otherwise be z-scored per group into every row of its group."""
    reward = Composite({"target": target_fraction, "broken": nan_at_2_inf_at_5},
                       weights={"target": 1.0, "broken": 0.5}, mode=mode, group_size=4)
    cfg = _cfg()
    graphdef, params = nnx.split(tiny_policy, nnx.Param)
    ro = Rollouts(graphdef, tokenizer, encode, reward, cfg)
    with pytest.raises(RewardError, match=r"'broken'.*NaN at items \[2\].*inf at items \[5\]"):
        ro.sample(nnx.to_pure_dict(params), prompts(2, 0), jax.random.key(0), need_old=False)


def test_learner_gate_names_components_and_items():
    comps = {"tech": np.array([0.1, np.nan, 0.3, 0.2]), "lang": np.array([0.0, 1.0, -np.inf, 0.5])}
    with pytest.raises(RewardError, match=r"'tech' at items \[1\]; 'lang' at items \[2\]; 'total' at items \[0\]"):
        check_finite_rewards(comps, np.array([np.nan, 1.0, 1.0, 1.0]))
    check_finite_rewards({"tech": np.zeros(4)}, np.zeros(4))  # finite: no error


# ------------------------------------------------------------------------------ pad == eos
def loss_mask_from_tokens(tokens, pad_id):
    """The counter-example: a loss mask rebuilt as `tokens != pad`, which drops EOS when
    pad == eos (the bug peers shipped)."""
    return (np.asarray(tokens) != pad_id).astype(np.int32)


def _eos_rows_keep_eos(tokens, mask, lengths, truncated, eos_id):
    """Every row that ended with EOS has it (at length − 1) inside the loss mask."""
    rows = np.flatnonzero(~truncated)
    ok = [tokens[r, lengths[r] - 1] == eos_id and mask[r, lengths[r] - 1] == 1 for r in rows]
    return rows.size > 0 and all(ok)


def test_pad_equal_to_eos_keeps_eos_in_the_loss_mask(prompts):
    cfg_m = dataclasses.replace(ModelConfig.tiny(), pad_id=2, eos_id=2)
    policy = Transformer(cfg_m, rngs=nnx.Rngs(0))
    tok = WordTokenizer(cfg_m)
    assert tok.pad_id == tok.eos_id == 2
    cfg = _cfg(prompts=8, beta=0.0, rollout=RolloutConfig(max_new_tokens=24))
    graphdef, params = nnx.split(policy, nnx.Param)
    params = nnx.to_pure_dict(params)
    encode = lambda r: [tok.bos_id] + tok.encode(r["question"])
    ro = Rollouts(graphdef, tok, encode, target_fraction, cfg)
    r = ro.sample(params, prompts(8, 0), jax.random.key(5), need_old=False)
    tokens, mask = np.asarray(r.tokens), np.asarray(r.mask)
    assert (~r.truncated).sum() >= 2, "the precondition: some completions end with EOS"
    assert _eos_rows_keep_eos(tokens, mask, r.lengths, r.truncated, tok.eos_id)
    assert mask.sum() == r.lengths.sum()  # every generated token, EOS included
    # the broken mask loses exactly the EOS tokens, and the check catches it
    broken = loss_mask_from_tokens(tokens, tok.pad_id)
    assert not _eos_rows_keep_eos(tokens, broken, r.lengths, r.truncated, tok.eos_id)
    assert mask.sum() - broken.sum() == (~r.truncated).sum()
    # and the update sees the EOS tokens: the step's token count is Σ lengths
    r.rewards = np.arange(len(r.rewards), dtype=np.float64)
    batch = {**update_batch(r, advantages(r.rewards, cfg), cfg), "first": jnp.asarray(True)}
    _, m = _grads(graphdef, params, cfg, batch)
    assert int(m["grpo/tokens"]) == int(r.lengths.sum())


# --------------------------------------------------------- token-mean normaliser vs microbatches
LENGTHS = (8, 3, 5, 1, 8, 2, 6, 0, 7, 8, 2, 5, 4, 8, 1, 3)  # 4 groups × 4: blocks differ in tokens


def broken_accumulated_grads(loss_fn, params, batch, micro, loss_agg):
    """The counter-example: each microbatch normalised by its own token count and the M
    results averaged (1/M weights), so the update changes with M when blocks differ in tokens."""
    return REAL_ACCUMULATED(loss_fn, params, batch, micro, "sequence")


REAL_ACCUMULATED = rl_step.accumulated_grads


def _microbatch_grads(tiny_policy, tokenizer, encode, reward, prompts, micro):
    cfg = _cfg(prompts=4, beta=0.05, micro_batches=micro, share_prompt=False)
    graphdef, params = nnx.split(tiny_policy, nnx.Param)
    params = nnx.to_pure_dict(params)
    ro = Rollouts(graphdef, tokenizer, encode, reward, cfg, reference=(graphdef, params))
    r = ro.sample(params, prompts(4, 0), jax.random.key(4), need_old=False)
    r.rewards = np.random.default_rng(0).normal(size=16)
    batch = {**update_batch(r, advantages(r.rewards, cfg), cfg), "first": jnp.asarray(True)}
    cut = jnp.arange(8) < jnp.asarray(LENGTHS)[:, None]
    batch["mask"] = batch["mask"] * cut.astype(batch["mask"].dtype)
    return _grads(graphdef, params, cfg, batch)


def test_token_mean_update_is_the_same_for_1_2_4_microbatches(tiny_policy, tokenizer, encode,
                                                              reward, prompts, monkeypatch):
    run = lambda m: _microbatch_grads(tiny_policy, tokenizer, encode, reward, prompts, m)
    g1, m1 = run(1)
    assert m1["grpo/grad_norm"] > 0 and int(m1["grpo/tokens"]) == sum(LENGTHS)
    for m in (2, 4):
        gm, mm = run(m)
        assert_grads_close(gm, g1, 16 * 8, f"{m} microbatches")
        assert int(mm["grpo/tokens"]) == sum(LENGTHS)
    monkeypatch.setattr(rl_step, "accumulated_grads", broken_accumulated_grads)
    for m in (2, 4):
        gb, _ = run(m)
        with pytest.raises(AssertionError):
            assert_grads_close(gb, g1, 16 * 8, f"broken normaliser, {m} microbatches")


@pytest.mark.slow
def test_token_mean_update_is_the_same_on_8_fake_devices():
    """1, 2 and 4 microbatches on an 8-device data mesh give the 1-device, 1-microbatch
    gradient; the broken normaliser (same worker) does not."""
    env = {**os.environ, "JAX_PLATFORMS": "cpu",
           "XLA_FLAGS": "--xla_force_host_platform_device_count=8 --xla_backend_optimization_level=0"}
    worker = HERE / "normaliser_worker.py"
    proc = subprocess.run([sys.executable, str(worker)], env=env, capture_output=True, text=True,
                          timeout=900, cwd=str(HERE.parents[1]))
    assert proc.returncode == 0, proc.stderr[-4000:]
    assert "OK" in proc.stdout, proc.stdout[-2000:]


# ------------------------------------------------------------------ zero-variance groups and KL
def test_zero_variance_groups_carry_no_policy_or_kl_gradient_when_configured():
    """Group 0 varies, group 1 is flat (A = 0 exactly). Its rows get no policy gradient in any
    case; with kl_mask_b (grpo.flat_group_kl = false) no KL gradient either, while group 0's
    rows keep both."""
    rng = np.random.default_rng(7)
    rewards = jnp.asarray([0.1, 0.9, 0.4, 0.2, 0.5, 0.5, 0.5, 0.5], jnp.float32)
    adv = group_advantages(rewards, 4)
    assert np.all(np.asarray(adv)[4:] == 0.0)
    new = jnp.asarray(rng.normal(-1.0, 0.3, size=(8, 5)), jnp.float32)
    ref = new + jnp.asarray(rng.normal(0, 0.3, size=(8, 5)), jnp.float32)
    mask = jnp.ones((8, 5))
    flat_rows = jnp.asarray([1, 1, 1, 1, 0, 0, 0, 0], jnp.float32)

    def grad(kl_mask_b, beta):
        f = lambda x: grpo_loss(x, new, ref, adv, mask, beta=beta, kl_mask_b=kl_mask_b)[0]
        return np.asarray(jax.grad(f)(new))

    assert np.all(grad(None, 0.0)[4:] == 0)  # no policy gradient from the flat group
    assert np.abs(grad(None, 0.1)[4:]).max() > 1e-3  # KL leaks without the flag
    g = grad(flat_rows, 0.1)
    assert np.all(g[4:] == 0) and np.abs(g[:4]).max() > 1e-3


def test_flat_group_kl_flag_through_the_step(tiny_policy, tokenizer, encode, reward, prompts):
    """All groups flat, β > 0 and π_ref ≠ π_θ: the update is exactly zero only with
    grpo.flat_group_kl = false."""
    graphdef, params = nnx.split(tiny_policy, nnx.Param)
    params = nnx.to_pure_dict(params)
    ref = nnx.to_pure_dict(nnx.split(Transformer(tiny_policy.cfg, rngs=nnx.Rngs(1)), nnx.Param)[1])
    norms = {}
    for flag in (True, False):
        cfg = _cfg(beta=0.1, flat_group_kl=flag)
        ro = Rollouts(graphdef, tokenizer, encode, reward, cfg, reference=(graphdef, ref))
        r = ro.sample(params, prompts(2, 0), jax.random.key(2), need_old=False)
        r.rewards = np.ones(8)
        batch = {**update_batch(r, advantages(r.rewards, cfg), cfg), "first": jnp.asarray(True)}
        assert ("kl_rows" in batch) == (not flag)
        norms[flag] = float(_grads(graphdef, params, cfg, batch)[1]["grpo/grad_norm"])
    assert norms[True] > 0 and norms[False] == 0.0
