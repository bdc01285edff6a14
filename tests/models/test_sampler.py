"""The jitted sampler: greedy == transformers, sampling filters, EOS, keys, recompiles."""
import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest
import torch
from flax import nnx

from mighty import models
from mighty.models import ModelConfig, Transformer, sample_logits, sampler
from tests.models.conftest import TINY_VOCAB

RNG = np.random.RandomState(0)


def _left_pad(seqs, pad_id=0, length=None):
    length = length or max(map(len, seqs))
    ids = np.full((len(seqs), length), pad_id, np.int32)
    mask = np.zeros_like(ids)
    for r, s in enumerate(seqs):
        ids[r, length - len(s):], mask[r, length - len(s):] = s, 1
    return ids, mask


def _hf_greedy(hf, ids, mask, n, eos_id, pad_id):
    with torch.no_grad():
        out = hf.generate(torch.tensor(ids, dtype=torch.long), attention_mask=torch.tensor(mask, dtype=torch.long),
                          max_new_tokens=n, min_new_tokens=0, do_sample=False, eos_token_id=eos_id,
                          pad_token_id=pad_id)
    return out[:, ids.shape[1]:].numpy()


@pytest.mark.parametrize("kind", ["llama", "qwen2"])
def test_greedy_matches_hf_generate_batched_left_padded(hf_tiny, kind):
    hf, path = hf_tiny[kind]
    model, _ = models.load_pretrained(path)
    seqs = [RNG.randint(3, TINY_VOCAB, n).tolist() for n in (7, 3, 12)]
    ids, mask = _left_pad(seqs)
    # eos_id=-1 never matches: all 32 tokens are compared.
    ref = _hf_greedy(hf, ids, mask, 32, eos_id=None, pad_id=0)
    out = models.generate(model, ids, mask, jax.random.key(0), max_new_tokens=32, temperature=0.0,
                          eos_id=2, pad_id=0)
    got = np.asarray(out.tokens)
    for row in range(3):  # HF does not stop at EOS here; compare up to our first EOS
        n = int(out.lengths[row])
        np.testing.assert_array_equal(got[row, :n], ref[row, :n], err_msg=f"row {row}")
    # each row alone (no padding) gives the same continuation as in the batch
    solo = models.generate(model, *_left_pad([seqs[1]]), jax.random.key(0), max_new_tokens=32,
                           temperature=0.0, eos_id=2, pad_id=0)
    np.testing.assert_array_equal(np.asarray(solo.tokens[0]), got[1])


def test_eos_stops_rows_and_loop_exits_early():
    model = Transformer(ModelConfig.tiny(), rngs=nnx.Rngs(0))
    ids, mask = _left_pad([[5, 6, 7], [9, 10]])
    free = models.generate(model, ids, mask, jax.random.key(0), max_new_tokens=12, temperature=0.0,
                           eos_id=127, pad_id=0)
    first = np.asarray(free.tokens)
    eos = int(first[0, 3])  # pretend row 0's 4th greedy token is EOS
    steps = []
    out = models.generate(model, ids, mask, jax.random.key(0), max_new_tokens=12, temperature=0.0,
                          eos_id=eos, pad_id=0, stream=lambda step, tok, valid: steps.append(step))
    toks, m = np.asarray(out.tokens), np.asarray(out.mask)
    stop0 = list(first[0]).index(eos)
    assert m[0].tolist() == [1] * (stop0 + 1) + [0] * (11 - stop0)
    assert (toks[0, stop0 + 1:] == 0).all() and int(out.lengths[0]) == stop0 + 1
    assert not bool(out.truncated[0])
    np.testing.assert_array_equal(toks[0, :stop0 + 1], first[0, :stop0 + 1])
    row1_stop = list(first[1]).index(eos) + 1 if eos in first[1] else 12
    assert int(out.lengths[1]) == row1_stop and bool(out.truncated[1]) == (eos not in first[1])
    assert steps == list(range(max(stop0 + 1, row1_stop)))  # ordered, and ends when all rows are done
    assert np.all(np.asarray(out.logprobs)[m == 0] == 0)


def test_logprobs_and_topk_match_teacher_forcing():
    model = Transformer(ModelConfig.tiny(), rngs=nnx.Rngs(3))
    ids, mask = _left_pad([[5, 6, 7, 8], [9, 10]])
    out = models.generate(model, ids, mask, jax.random.key(1), max_new_tokens=6, temperature=1.3,
                          top_k=20, eos_id=127, pad_id=0, return_topk=4)
    full = np.concatenate([ids, np.asarray(out.tokens)], axis=1)
    full_mask = np.concatenate([mask, np.ones_like(out.tokens)], axis=1)
    logp = np.asarray(jax.nn.log_softmax(model(jnp.asarray(full), attention_mask=jnp.asarray(full_mask)), -1))
    t = ids.shape[1]
    pred = logp[:, t - 1:-1]  # (B, N, V): distributions that produced each generated token
    want = np.take_along_axis(pred, np.asarray(out.tokens)[..., None], -1)[..., 0]
    np.testing.assert_allclose(np.asarray(out.logprobs), want, atol=1e-4)
    np.testing.assert_allclose(np.asarray(out.topk_logprobs), -np.sort(-pred, -1)[..., :4], atol=1e-4)
    np.testing.assert_array_equal(np.asarray(out.topk_ids)[..., 0], pred.argmax(-1))
    live = np.asarray(out.mask).astype(bool)  # log p(EOS) is recorded at every live step
    np.testing.assert_allclose(np.asarray(out.eos_logprobs)[live], pred[..., 127][live], atol=1e-4)


def test_same_key_same_output_and_rows_differ():
    model = Transformer(ModelConfig.tiny(), rngs=nnx.Rngs(0))
    ids, mask = _left_pad([[5, 6, 7]] * 4)
    kw = dict(max_new_tokens=16, temperature=1.0, eos_id=127, pad_id=0)
    a = models.generate(model, ids, mask, jax.random.key(7), **kw)
    b = models.generate(model, ids, mask, jax.random.key(7), **kw)
    c = models.generate(model, ids, mask, jax.random.key(8), **kw)
    np.testing.assert_array_equal(np.asarray(a.tokens), np.asarray(b.tokens))
    assert not np.array_equal(np.asarray(a.tokens), np.asarray(c.tokens))
    assert len({tuple(r) for r in np.asarray(a.tokens).tolist()}) > 1  # per-row keys differ


def test_group_size_prefills_once_and_matches_repeated_prompts():
    """group_size=G on B prompts gives the B·G rows that the prompts repeated G times give:
    sampled (row r's key is fold_in(key, r) either way) and with EOS stopping rows early."""
    model = Transformer(ModelConfig.tiny(), rngs=nnx.Rngs(0))
    seqs = [[5, 6, 7, 8, 9], [9, 10], [11, 12, 13]]
    ids, mask = _left_pad(seqs)
    kw = dict(max_new_tokens=12, temperature=1.0, top_k=20, pad_id=0, return_topk=3)
    repeated = lambda eos: models.generate(model, np.repeat(ids, 4, 0), np.repeat(mask, 4, 0),
                                           jax.random.key(3), eos_id=eos, **kw)
    eos = int(repeated(-1).tokens[0, 2])  # a token row 0 draws at step 2: it stops there
    want = repeated(eos)
    got = models.generate(model, ids, mask, jax.random.key(3), group_size=4, eos_id=eos, **kw)
    assert got.tokens.shape == (12, 12) and int(want.lengths[0]) <= 3
    np.testing.assert_array_equal(np.asarray(got.tokens), np.asarray(want.tokens))
    np.testing.assert_array_equal(np.asarray(got.lengths), np.asarray(want.lengths))
    for name in ("logprobs", "topk_logprobs", "eos_logprobs"):
        np.testing.assert_allclose(getattr(got, name), getattr(want, name), atol=1e-5, err_msg=name)
    assert len({tuple(r) for r in np.asarray(got.tokens[:4]).tolist()}) > 1  # a group's rows differ
    with pytest.raises(ValueError, match="group_size must be ≥ 1"):
        models.generate(model, ids, mask, jax.random.key(3), group_size=0, eos_id=eos, **kw)


LOGITS = np.log(np.array([0.30, 0.20, 0.15, 0.12, 0.10, 0.07, 0.04, 0.02], np.float32))


def _empirical(n=40000, **kw):
    keys = jax.random.split(jax.random.key(0), n)
    logits = jnp.broadcast_to(jnp.asarray(LOGITS), (n, LOGITS.size))
    toks = jax.jit(lambda lg, ks: sample_logits(lg, ks, jnp.float32(kw["temperature"]), jnp.float32(kw["top_p"]),
                                                greedy=False, top_k=kw["top_k"], use_top_p=kw["top_p"] < 1))(logits, keys)
    return np.bincount(np.asarray(toks), minlength=LOGITS.size) / n


def _exact(temperature, top_k, top_p):
    """HF order: temperature, then top-k, then top-p on the renormalised top-k distribution."""
    p = np.exp(LOGITS / temperature)
    order = np.argsort(-p)
    p[order[top_k or p.size:]] = 0
    p /= p.sum()
    before = np.cumsum(p[order]) - p[order]  # mass of strictly more likely tokens
    p[order[before >= top_p]] = 0
    return p / p.sum()


@pytest.mark.parametrize("temperature,top_k,top_p", [
    (1.0, 0, 1.0), (0.5, 0, 1.0), (2.0, 0, 1.0), (1.0, 3, 1.0), (1.0, 0, 0.6), (0.7, 5, 0.8)])
def test_sampling_matches_exact_filtered_softmax(temperature, top_k, top_p):
    emp = _empirical(temperature=temperature, top_k=top_k, top_p=top_p)
    exact = _exact(temperature, top_k, top_p)
    # 40k draws: binomial std <= 0.0025, so 0.012 is ~5 sigma.
    np.testing.assert_allclose(emp, exact, atol=0.012)
    assert np.all(emp[exact == 0] == 0), "a filtered-out token was sampled"


def test_greedy_is_argmax():
    logits = jnp.asarray(RNG.randn(5, 11), jnp.float32)
    toks = sample_logits(logits, jax.random.split(jax.random.key(0), 5), 1.0, 1.0, greedy=True, top_k=0, use_top_p=False)
    np.testing.assert_array_equal(np.asarray(toks), np.asarray(logits).argmax(-1))


def test_no_recompile_for_new_prompts_temperature_top_p_or_eos(monkeypatch):
    model = Transformer(ModelConfig.tiny(), rngs=nnx.Rngs(0))
    sampler._generate_jit.clear_cache()
    monkeypatch.setattr(sampler, "_generate_core", chex.assert_max_traces(sampler._generate_core, n=1))
    for i, (seqs, temp, top_p, eos) in enumerate([([[5, 6, 7]], 1.0, 0.9, 2), ([[1] * 11], 0.5, 0.5, 3),
                                                  ([[9, 9]], 1.7, 0.95, 127)]):
        ids, mask = _left_pad(seqs)
        models.generate(model, ids, mask, jax.random.key(i), max_new_tokens=8, temperature=temp,
                        top_p=top_p, eos_id=eos, pad_id=0)
    with pytest.raises(AssertionError):  # the guard is live: a new static shape retraces
        ids, mask = _left_pad([[5, 6, 7]] * 2)
        models.generate(model, ids, mask, jax.random.key(0), max_new_tokens=8, temperature=1.0,
                        top_p=0.9, eos_id=2, pad_id=0)
    sampler._generate_jit.clear_cache()


def test_rejects_right_padded_prompts():
    model = Transformer(ModelConfig.tiny(), rngs=nnx.Rngs(0))
    ids = np.array([[5, 6, 0]], np.int32)
    with pytest.raises(ValueError, match="left-padded"):
        models.generate(model, ids, (ids > 0).astype(np.int32), jax.random.key(0), max_new_tokens=4,
                        eos_id=2, pad_id=0)
