"""The jitted KD step: padding invariance, one trace per bucket, exact grad accumulation."""
import dataclasses

import chex
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from flax import nnx

from mighty.distill.batching import TOKEN_ROW_KEYS, balanced_microbatches, collate, token_rows
from mighty.distill.config import OptimConfig
from mighty.distill.step import LossSpec, kd_step_fn, make_kd_step, microbatch_loss
from mighty.training import decay_mask, init_state, make_optimizer
from mighty.models.config import ModelConfig
from mighty.models.transformer import Transformer
from tests.tolerances import assert_grads_close, capture_grads

SPEC = LossSpec(temperature=2.0, alpha=0.3, multiplier=2.0, divergence="forward_kl")


def _student(seed=3):
    model = Transformer(ModelConfig.tiny(num_layers=1, tie_embeddings=False), rngs=nnx.Rngs(seed))
    graphdef, params, rest = nnx.split(model, nnx.Param, ...)
    return graphdef, nnx.to_pure_dict(params), rest


def _with_boost(examples):
    for e in examples:
        e.boost = (e.completion_ids % 5) == 0  # some high-stakes tokens
    return examples


def _garbage_in_padding(batch, seed):
    """Random ids / logprobs / boost wherever the masks are 0."""
    rng = np.random.default_rng(seed)
    b = {k: v.copy() for k, v in batch.items()}
    pm, cm = b["prompt_mask"] == 0, b["completion_mask"] == 0
    b["prompt_ids"][pm] = rng.integers(0, 128, pm.sum())
    b["completion_ids"][cm] = rng.integers(0, 128, cm.sum())
    b["boost"][cm] = True
    b["topk_ids"][cm] = rng.integers(0, 128, (cm.sum(), b["topk_ids"].shape[-1]))
    b["topk_logprobs"][cm] = rng.normal(-3, 2, (cm.sum(), b["topk_ids"].shape[-1]))
    return b


def test_padding_changes_nothing(toy_examples):
    graphdef, params, rest = _student()
    exs = _with_boost(toy_examples[:4])
    small = collate(exs, 16, 16, 0, micro=4)
    big = _garbage_in_padding(collate(exs, 40, 32, 0, micro=4), seed=0)
    assert big["prompt_mask"].sum() == small["prompt_mask"].sum()

    @jax.jit  # one trace per shape; eager op-by-op would take minutes
    def loss_grads(batch):
        mb = jax.tree.map(lambda x: x[0], batch)
        (loss, m), g = jax.value_and_grad(microbatch_loss, has_aux=True)(
            params, mb, graphdef, rest, SPEC)
        return loss, m, g

    l1, m1, g1 = loss_grads(small)
    l2, m2, g2 = loss_grads(big)
    np.testing.assert_allclose(l1, l2, rtol=2e-5)
    for k in m1:
        np.testing.assert_allclose(m1[k], m2[k], rtol=2e-5, atol=1e-6, err_msg=k)
    for a, b in zip(jax.tree.leaves(g1), jax.tree.leaves(g2)):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-7)
    # and the padding really is there: a longer bucket without masking would differ
    assert big["completion_ids"].shape[-1] > small["completion_ids"].shape[-1]


def _step_setup(steps=10, grad_accum_shape=None):
    graphdef, params, rest = _student()
    tx, schedule = make_optimizer(OptimConfig(lr=1e-2, warmup_steps=2), steps)
    return graphdef, params, rest, tx, schedule


def test_no_recompile_within_a_bucket(toy_examples):
    graphdef, params, rest, tx, schedule = _step_setup()
    step = jax.jit(chex.assert_max_traces(kd_step_fn(graphdef, rest, tx, schedule, SPEC), n=1),
                   donate_argnums=0)
    state = init_state(params, tx)
    exs = _with_boost(list(toy_examples))
    key = jax.random.key(0)
    for i in range(3):  # different examples, different real lengths, same (P, N) bucket
        state, m = step(state, collate(exs[4 * i:4 * i + 4], 16, 16, 0, micro=2), key)
    assert int(state["step"]) == 3 and np.isfinite(float(m["kd/loss"]))
    with pytest.raises(AssertionError):  # a new bucket traces again: the guard can fail
        step(state, collate(exs[:4], 24, 16, 0, micro=2), key)


def _grad_step(graphdef, rest, schedule):
    """A KD step whose optimizer state is the step's gradient (tests/tolerances.py): the
    microbatching and batching tests compare that, not parameters after an optimizer (at
    step 0 the warmup's lr is 0, so the parameters would not even move)."""
    tx = optax.chain(capture_grads(), optax.sgd(1e-2))
    step = make_kd_step(graphdef, rest, tx, schedule, SPEC)
    return lambda params, batch: step(init_state(jax.tree.map(jnp.copy, params), tx), batch, jax.random.key(0))


def test_grad_accumulation_equals_one_big_batch(toy_examples):
    graphdef, params, rest, tx, schedule = _step_setup()
    exs = _with_boost([e for e in toy_examples if len(e.completion_ids) < 16][:2]
                      + [e for e in toy_examples if len(e.completion_ids) == 16][:2])
    out = []
    for micro in (4, 1):  # M = 1 vs 4 microbatches; token-weighted, so equal
        state, m = _grad_step(graphdef, rest, schedule)(params, collate(exs, 16, 16, 0, micro=micro))
        out.append((state["opt_state"][0], m))
    assert max(float(jnp.abs(g).max()) for g in jax.tree.leaves(out[0][0])) > 0
    for g, m in out[1:]:
        assert_grads_close(g, out[0][0], 4 * 16, "1 microbatch vs 4")  # 4 rows × 16 tokens
        np.testing.assert_allclose(m["kd/loss"], out[0][1]["kd/loss"], rtol=1e-5)
        assert int(m["kd/tokens"]) == int(out[0][1]["kd/tokens"])


def test_step_reduces_loss_and_donates_state(toy_examples):
    graphdef, params, rest, tx, schedule = _step_setup(steps=20)
    step = make_kd_step(graphdef, rest, tx, schedule, SPEC)
    state = init_state(params, tx)
    batch = collate(_with_boost(toy_examples[:8]), 16, 16, 0, micro=4)
    old = state["params"]["embed"]
    losses = []
    for _ in range(20):
        state, m = step(state, batch, jax.random.key(0))
        losses.append(float(m["kd/loss"]))
    assert old.is_deleted()  # donated
    assert losses[-1] < 0.8 * losses[0]
    assert 0 < float(m["kd/alpha_mean"]) < 1


def test_weight_decay_mask():
    _, params, _ = _student()
    mask = decay_mask(params)
    assert not mask["embed"] and not mask["lm_head"] and not mask["final_norm"]["scale"]
    layer = mask["layers"][0]
    assert layer["attn"]["q"] and layer["mlp"]["down"] and not layer["attn_norm"]["scale"]


def test_token_rows_list_real_slots_in_row_buckets():
    mask = np.zeros((2, 2, 8), np.int32)  # M = 2 microbatches of b = 2, N = 8: 16 slots each
    mask[0, 0, :3], mask[0, 1, :2] = 1, 1  # 5 real tokens
    mask[1, 0, :7] = 1  # 7 real tokens: R = 7 rounded up to a multiple of 16 / 8 = 2
    rows = token_rows(mask)
    assert rows["token_index"].shape == rows["token_mask"].shape == (2, 8)
    np.testing.assert_array_equal(rows["token_index"][0], [0, 1, 2, 8, 9, 0, 0, 0])
    np.testing.assert_array_equal(rows["token_mask"][0], [1, 1, 1, 1, 1, 0, 0, 0])
    np.testing.assert_array_equal(rows["token_index"][1], [0, 1, 2, 3, 4, 5, 6, 0])
    assert token_rows(np.ones((1, 2, 8)))["token_index"].shape == (1, 16)  # never past b·N
    assert token_rows(np.zeros((1, 2, 8)))["token_mask"].shape == (1, 2)  # at least one quantum


def test_balanced_microbatches_hand_case():
    # longest first, each to the emptiest microbatch with room: 10 | 9 | 8 -> second (9 < 10)
    # | 1 -> first (10 < 17) | 1 -> first (its third row) | 1 -> second
    assert balanced_microbatches([10, 9, 8, 1, 1, 1], micro=3) == [0, 3, 4, 1, 2, 5]
    assert balanced_microbatches([5, 5, 5, 5], micro=4) == [0, 1, 2, 3]  # one microbatch: as given
    with pytest.raises(ValueError, match="multiple of micro_batch"):
        balanced_microbatches([1, 2, 3], micro=2)


def test_balanced_microbatches_shrink_token_rows_not_the_update(toy_examples):
    """The batcher deals rows over microbatches by length; the step's update is the same as
    with the rows in the order drawn, and it scores fewer token rows R."""
    longest = sorted(_with_boost(list(toy_examples)), key=lambda e: -len(e.completion_ids))[:8]
    top = len(longest[-1].completion_ids)
    assert top >= 6
    cut = lambda e, n: dataclasses.replace(e, completion_ids=e.completion_ids[:n], boost=e.boost[:n],  # noqa: E731
                                           topk_ids=e.topk_ids[:n], topk_logprobs=e.topk_logprobs[:n])
    # drawn long-first: microbatch 0 gets every long answer, microbatch 1 every short one
    exs = [cut(e, n) for e, n in zip(longest, [top, top, top - 1, top - 1, 3, 2, 2, 1])]
    balanced = collate(exs, 16, 16, 0, micro=4)
    drawn = collate(exs, 16, 16, 0)  # the same rows in the order given, then split in two
    drawn = {k: v.reshape(2, 4, *v.shape[1:]) for k, v in drawn.items()}
    drawn.update(token_rows(drawn["completion_mask"]))
    real = balanced["completion_mask"].sum(axis=(1, 2))
    assert abs(int(real[0]) - int(real[1])) < abs(int(np.diff(drawn["completion_mask"].sum(axis=(1, 2)))[0]))
    assert balanced["token_index"].shape[1] < drawn["token_index"].shape[1]
    graphdef, params, rest, tx, schedule = _step_setup()
    out = []
    for batch in (balanced, drawn):
        state, m = _grad_step(graphdef, rest, schedule)(params, batch)
        out.append((state["opt_state"][0], m))
    assert_grads_close(out[1][0], out[0][0], 8 * top, "rows in drawn order vs balanced")
    np.testing.assert_allclose(out[0][1]["kd/loss"], out[1][1]["kd/loss"], rtol=1e-5)


def _dense_microbatch_loss(params, mb, graphdef, rest, spec):
    """The step's (token-mean) loss before compaction: (b, N, V) logits over every completion slot."""
    from mighty.distill.alpha import alpha_from_boost
    from mighty.distill.losses import kd_loss
    from mighty.distill.step import completion_logits

    logits = completion_logits(nnx.merge(graphdef, params, rest), mb)
    teacher = mb["teacher_logits"] if "teacher_logits" in mb else (mb["topk_ids"], mb["topk_logprobs"])
    alpha = alpha_from_boost(mb["boost"], base_alpha=spec.alpha, multiplier=spec.multiplier)
    loss, m = kd_loss(logits, teacher, mb["completion_ids"], mb["completion_mask"],
                      temperature=spec.temperature, alpha=alpha, divergence=spec.divergence)
    return loss, m


@pytest.mark.parametrize("teacher_kind", ["topk", "logits"])
def test_compact_token_rows_equal_scoring_every_slot(toy_examples, teacher_kind):
    graphdef, params, rest = _student()
    batch = _garbage_in_padding(collate(_with_boost(toy_examples[:4]), 24, 32, 0, micro=4), seed=1)
    if teacher_kind == "logits":  # the on-policy batch kind (a live teacher's (b, N, V) logits)
        rng = np.random.default_rng(2)
        batch["teacher_logits"] = rng.normal(size=(*batch["completion_ids"].shape, 128)).astype(np.float32)
    mb = jax.tree.map(lambda x: x[0], batch)
    assert mb["token_index"].shape[0] < mb["completion_mask"].size  # rows really were dropped
    every = {k: v for k, v in mb.items() if k not in TOKEN_ROW_KEYS}

    def jitted(loss_fn):  # one trace per shape; eager op-by-op would take minutes
        return jax.jit(lambda b: jax.value_and_grad(loss_fn, has_aux=True)(params, b, graphdef, rest, SPEC))

    (l1, m1), g1 = jitted(microbatch_loss)(mb)
    for fn in (microbatch_loss, _dense_microbatch_loss):
        (l2, m2), g2 = jitted(fn)(every)
        np.testing.assert_allclose(l1, l2, rtol=2e-5)
        for k in m1:
            np.testing.assert_allclose(m1[k], m2[k], rtol=2e-5, atol=1e-6, err_msg=k)
        for a, c in zip(jax.tree.leaves(g1), jax.tree.leaves(g2)):
            np.testing.assert_allclose(a, c, rtol=1e-4, atol=1e-7)
