"""Eval answers: decode throughput is timed on the answers' own batches, net of compile time,
so a one-batch eval set needs no extra generations."""
import math
import time

import jax
import jax.numpy as jnp
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
