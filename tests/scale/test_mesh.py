"""models.mesh on one process: mesh shapes, rules, state shardings, distributed settings, and
the scale knobs (remat, GRPO microbatches, chunked/offloaded π_ref pass) against plain runs."""
from __future__ import annotations

from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx
from jax.sharding import AbstractMesh, AxisType, PartitionSpec as P
from omegaconf import OmegaConf

from mighty.models import ModelConfig, Transformer
from mighty.models.mesh import (MESH_AXES, distributed_args, fit_spec, mesh_rules, mesh_shape, params_shardings,
                         state_shardings)
from mighty.models.sharding import DEFAULT_RULES

CONF = Path(__file__).parents[2] / "mighty" / "conf"
MESHES = ("single", "data", "fsdp", "fsdp_tensor")


def mesh_config(name):
    own = OmegaConf.load(CONF / "mesh" / f"{name}.yaml")
    own.pop("defaults", None)
    return OmegaConf.merge(OmegaConf.load(CONF / "mesh" / "single.yaml"), own)


def abstract_mesh(data=1, fsdp=8, tensor=1):
    return AbstractMesh((data, fsdp, tensor), MESH_AXES, axis_types=(AxisType.Auto,) * 3)


@pytest.mark.parametrize("name, n, expected", [
    ("single", 8, (1, 1, 1)), ("data", 8, (8, 1, 1)), ("fsdp", 8, (1, 8, 1)),
    ("fsdp_tensor", 8, (1, 4, 2)), ("fsdp_tensor", 16, (1, 8, 2)), ("fsdp", 1, (1, 1, 1))])
def test_mesh_shapes_from_config(name, n, expected):
    assert mesh_shape(mesh_config(name), n) == expected


def test_bad_mesh_shapes_fail_with_the_reason():
    with pytest.raises(ValueError, match="not divisible"):
        mesh_shape({"shape": {"fsdp": -1, "tensor": 3}}, 8)
    with pytest.raises(ValueError, match="needs 16 devices"):
        mesh_shape({"shape": {"data": 2, "fsdp": 8}}, 8)
    with pytest.raises(ValueError, match="unknown axes"):
        mesh_shape({"shape": {"model": 2}}, 8)
    with pytest.raises(ValueError, match="at most one -1"):
        mesh_shape({"shape": {"data": -1, "fsdp": -1}}, 8)


def test_rules_table_in_config_is_the_default_and_is_checked():
    assert dict(mesh_rules(mesh_config("single"))) == dict(DEFAULT_RULES)
    bad = OmegaConf.merge(mesh_config("single"), {"rules": {"mlp": "model"}})
    with pytest.raises(ValueError, match="mesh.rules.mlp names unknown mesh axes"):
        mesh_rules(bad)


def test_fit_spec_drops_axes_that_do_not_divide():
    mesh = abstract_mesh(1, 4, 2)
    assert fit_spec(P("tensor", "fsdp"), (28, 3584), mesh) == P("tensor", "fsdp")
    assert fit_spec(P("tensor", "fsdp"), (7, 6), mesh) == P(None, None)
    assert fit_spec(P(("data", "fsdp")), (12,), abstract_mesh(2, 4, 1)) == P("data")  # 8 ∤ 12


def test_params_and_adam_moments_share_shardings():
    model = nnx.eval_shape(lambda: Transformer(ModelConfig.tiny(tie_embeddings=False), rngs=nnx.Rngs(0)))
    mesh = abstract_mesh(1, 4, 2)
    p_sh = params_shardings(model, mesh, DEFAULT_RULES)
    assert p_sh["embed"].spec == P("tensor", "fsdp")  # (vocab, embed)
    assert p_sh["layers"][0]["attn"]["q"].spec == P("fsdp", "tensor", None)
    import optax

    params = nnx.to_pure_dict(nnx.state(model, nnx.Param))
    state = {"params": params, "opt": jax.eval_shape(optax.adamw(1e-3).init, params),
             "step": jax.ShapeDtypeStruct((), jnp.int32)}
    sh = state_shardings(state, p_sh, mesh)
    mu = sh["opt"][0].mu
    assert mu["layers"][0]["mlp"]["down"].spec == P("tensor", "fsdp")
    assert sh["opt"][0].count.spec == P() and sh["step"].spec == P()


def test_distributed_args_from_config_env_and_slurm():
    cfg = mesh_config("single")
    assert distributed_args(cfg, env={}) is None
    env = {"MIGHTY_COORDINATOR_ADDRESS": "10.0.0.1:1234", "MIGHTY_NUM_PROCESSES": "4", "MIGHTY_PROCESS_ID": "3"}
    args = distributed_args(cfg, env=env)
    assert (args["coordinator_address"], args["num_processes"], args["process_id"]) == ("10.0.0.1:1234", 4, 3)
    explicit = OmegaConf.merge(cfg, {"distributed": {"coordinator_address": "h:1", "num_processes": 2,
                                                     "process_id": 0}})
    assert distributed_args(explicit, env=env)["coordinator_address"] == "h:1"
    slurm = {"SLURM_JOB_ID": "7", "SLURM_NTASKS": "16", "SLURM_PROCID": "5"}
    assert distributed_args(cfg, env=slurm)["cluster_detection_method"] == "slurm"
    assert distributed_args(cfg, env={"SLURM_JOB_ID": "7", "SLURM_NTASKS": "1"}) is None
    with pytest.raises(ValueError, match="without num_processes"):
        distributed_args(cfg, env={"MIGHTY_COORDINATOR_ADDRESS": "h:1"})
    off = OmegaConf.merge(cfg, {"distributed": {"enabled": False}})
    assert distributed_args(off, env=slurm) is None


# ----------------------------------------------------------------------------- scale knobs


def _policy(remat="none"):
    model = Transformer(ModelConfig.tiny(num_layers=2), rngs=nnx.Rngs(0))
    model.remat = remat
    graphdef, params = nnx.split(model, nnx.Param)
    return graphdef, nnx.to_pure_dict(params)


def _rollout_batch(rows=8, seed=0):
    rng = np.random.default_rng(seed)
    lengths = rng.integers(1, 9, rows)
    mask = (np.arange(8)[None] < lengths[:, None]).astype(np.int32)
    p_mask = (np.arange(12)[None] >= rng.integers(0, 8, rows)[:, None]).astype(np.int32)
    return {"prompt_ids": jnp.asarray(rng.integers(3, 128, (rows, 12)) * p_mask, jnp.int32),
            "prompt_mask": jnp.asarray(p_mask), "tokens": jnp.asarray(rng.integers(3, 128, (rows, 8)) * mask, jnp.int32),
            "mask": jnp.asarray(mask)}


def test_remat_policies_change_memory_not_results():
    from mighty.rl.step import completion_logprobs

    b = _rollout_batch()

    def loss(params, graphdef):
        lp, _ = completion_logprobs(graphdef, params, b["prompt_ids"], b["prompt_mask"], b["tokens"], b["mask"])
        return jnp.sum(lp)

    graphdef, params = _policy()
    fn = jax.jit(jax.value_and_grad(loss), static_argnums=1)
    ref_l, ref_g = fn(params, graphdef)
    remats = lambda g: str(jax.make_jaxpr(loss, static_argnums=1)(params, g)).count("remat")  # noqa: E731
    g_full, _ = _policy("full")
    l, g = fn(params, g_full)
    np.testing.assert_allclose(l, ref_l, rtol=1e-6)
    for a, c in zip(jax.tree.leaves(g), jax.tree.leaves(ref_g)):
        np.testing.assert_allclose(a, c, rtol=1e-5, atol=1e-7)
    for policy in ("full", "dots", "dots_no_batch"):
        assert remats(_policy(policy)[0]) == remats(graphdef) + 2  # one per block
    with pytest.raises(ValueError, match="Transformer.remat='bogus'"):
        m = Transformer(ModelConfig.tiny(num_layers=1), rngs=nnx.Rngs(0))
        m.remat = "bogus"
        m(jnp.ones((1, 4), jnp.int32))


@pytest.mark.parametrize("policy", ["full", "dots"])
def test_a_remat_policy_samples_as_a_plain_one(policy):
    """GRPO samples with the policy it trains: remat must not reach the sampler's decode loop
    (nnx.remat there raised "Cannot mutate Param from a different trace level", so every
    GRPO run with mesh.remat set crashed at its first rollout)."""
    from mighty.models import generate

    ids = jnp.asarray([[0, 0, 5, 6, 7], [9, 10, 11, 12, 13]], jnp.int32)
    mask = (ids > 0).astype(jnp.int32)

    def sample(remat):
        model = nnx.merge(*_policy(remat))
        return generate(model, ids, mask, jax.random.key(3), max_new_tokens=6, temperature=1.0,
                        eos_id=127, pad_id=0, group_size=2)

    plain, remat = sample("none"), sample(policy)
    np.testing.assert_array_equal(remat.tokens, plain.tokens)
    np.testing.assert_allclose(remat.logprobs, plain.logprobs, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("agg", ["token", "sequence"])
def test_grpo_microbatches_give_the_full_batch_update(agg):
    import optax

    from mighty.rl.config import GRPOConfig, GRPOOptimConfig, RolloutConfig
    from mighty.rl.step import make_grpo_step
    from mighty.training import init_state
    from tests.tolerances import assert_grads_close, capture_grads

    graphdef, params = _policy()
    rng = np.random.default_rng(1)
    b = _rollout_batch()
    b.update(adv=jnp.asarray(rng.normal(size=8), jnp.float32), logp_old=jnp.zeros((8, 8)),
             logp_ref=jnp.asarray(-rng.random((8, 8)) * 5, jnp.float32), first=jnp.asarray(True))
    out = {}
    for m in (1, 4):
        cfg = GRPOConfig(num_generations=4, prompts_per_step=2, micro_batches=m, loss_agg=agg, beta=0.04,
                         rollout=RolloutConfig(max_new_tokens=8), optim=GRPOOptimConfig(lr=1e-2, warmup_steps=0))
        # the gradient is what microbatching must keep (tests/tolerances.py: not Adam's params)
        tx = optax.chain(capture_grads(), optax.sgd(cfg.optim.lr))
        step = make_grpo_step(graphdef, tx, cfg, max_len=8)
        out[m] = step(init_state(jax.tree.map(jnp.copy, params), tx), b, jax.random.key(0))
    (s1, m1), (s4, m4) = out[1], out[4]
    assert_grads_close(s4["opt_state"][0], s1["opt_state"][0], 8 * 8, f"{agg}: 4 microbatches vs 1")
    np.testing.assert_allclose(m1["grpo/grad_norm"], m4["grpo/grad_norm"], rtol=1e-5)
    assert float(m1["grpo/tokens"]) == float(m4["grpo/tokens"])
    with pytest.raises(ValueError, match="micro_batches=3 must be ≥ 1 and divide"):
        GRPOConfig(num_generations=4, prompts_per_step=2, micro_batches=3)


def test_reference_pass_chunked_and_offloaded_matches_one_pass():
    from mighty.rl.reference import ReferencePass
    from mighty.rl.step import completion_logprobs

    graphdef, params = _policy()
    b = _rollout_batch()
    want = completion_logprobs(graphdef, params, b["prompt_ids"], b["prompt_mask"], b["tokens"], b["mask"])[0]
    rp = ReferencePass(graphdef, params, chunk_rows=2, offloaded=True)
    assert jax.tree.leaves(rp.params)[0].sharding.memory_kind == "pinned_host"
    np.testing.assert_allclose(rp(b["prompt_ids"], b["prompt_mask"], b["tokens"], b["mask"]), want,
                               rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="ref_chunk=3 must divide"):
        ReferencePass(graphdef, params, chunk_rows=3)(b["prompt_ids"], b["prompt_mask"], b["tokens"], b["mask"])
