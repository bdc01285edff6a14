"""Eval answers: decode throughput is timed on the answers' own batches, net of compile time,
so a one-batch eval set needs no extra generations."""
import math
import time

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from mighty import models
from mighty.evals.answers import answer_questions, compile_seconds


def test_compile_seconds_sees_the_first_call_only():
    f = jax.jit(lambda x: jnp.tanh(x) * 3.0 + 1.0)
    x = jnp.ones((7, 13))
    with compile_seconds() as first:
        f(x).block_until_ready()
    with compile_seconds() as second:
        f(x).block_until_ready()
    assert first[0] > 0 and second[0] == 0


def test_one_batch_throughput_is_timed_without_its_compile(char_tokenizer):
    cfg = models.ModelConfig.tiny(max_position_embeddings=1024)
    model, tok = models.Transformer(cfg, rngs=nnx.Rngs(3)), char_tokenizer
    questions = ["my earbuds will not pair", "speaker has no sound", "plug is offline"]
    with compile_seconds() as compiling:
        t0 = time.perf_counter()
        ans = answer_questions(model, tok, questions, max_new_tokens=6, batch_size=4)
        wall = time.perf_counter() - t0
    assert len(ans.texts) == 3 and ans.lengths.shape == (3,)
    # the padding row decodes too, so it counts: at least the real rows' tokens
    assert ans.timed_tokens >= int(ans.lengths.sum()) > 0
    assert compiling[0] > 0  # the only batch compiled the sampler ...
    assert 0 < ans.seconds <= wall - compiling[0] + 1e-3  # ... and that time is not in the rate
    assert math.isfinite(ans.tokens_per_second) and ans.tokens_per_second > 0


@pytest.mark.parametrize("batch_size", [1, 2])
def test_every_batch_is_timed(batch_size, char_tokenizer):
    cfg = models.ModelConfig.tiny(max_position_embeddings=1024)
    model, tok = models.Transformer(cfg, rngs=nnx.Rngs(4)), char_tokenizer
    ans = answer_questions(model, tok, ["a b", "c d e"], max_new_tokens=4, batch_size=batch_size)
    rows = -(-2 // batch_size) * batch_size
    assert ans.lengths.sum() <= ans.timed_tokens <= rows * 4


@pytest.mark.slow
def test_end_at_repeat_gives_the_free_answers_cut_where_the_labels_cut():
    """The packaged model, greedy: each answer with `end_at_repeat` is the free answer up to
    `repeat_cut`, the rule that ends the labels; a cut answer is not truncated."""
    from mighty.data.answer_end import repeat_cut

    model, tok = models.load_pretrained("smollm2-135m-instruct")
    questions = ["Write a numbered checklist for a thermostat that is not heating.",  # loops by token 30
                 "My TV remote does not work. List what to try.",  # loops too
                 "My smart bulb flickers. What should I do, step by step?",  # no whole line repeats
                 "What is the capital of France?"]  # ends with EOS
    kw = dict(max_new_tokens=96, batch_size=4)
    free = answer_questions(model, tok, questions, **kw)
    cut = answer_questions(model, tok, questions, end_at_repeat=True, **kw)
    n_cut = 0
    for i, q in enumerate(questions):
        ids = tok.encode(free.texts[i])
        at = repeat_cut([tok.decode([t]) for t in ids], eos=not free.truncated[i])
        n_cut += at is not None
        want = free.texts[i] if at is None else tok.decode(ids[:at])
        assert cut.texts[i].rstrip() == want.rstrip(), q  # re-encoding may split a "\n\n" token
        assert bool(cut.truncated[i]) == (bool(free.truncated[i]) and at is None)
    assert n_cut >= 2, "fewer answers repeated than when the test was written: it proves little"
    assert (cut.lengths <= free.lengths).all() and cut.lengths.sum() < free.lengths.sum()
    assert cut.timed_tokens == free.timed_tokens  # the decode itself is the same
