"""Eval answers: decode throughput is timed on the answers' own batches, net of compile time,
so a one-batch eval set needs no extra generations."""
import math
import time

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

import models
from evals.answers import answer_questions, compile_seconds


class CharTokenizer:
    """One token per character (ids 3..127), with the chat/batch/decode calls the eval uses."""
    pad_id, eos_id, bos_id = 0, 2, 1

    def encode(self, text):
        return [3 + (ord(c) % 125) for c in text]

    def decode(self, ids):
        return "".join(chr(int(i)) for i in ids)

    def chat(self, messages, add_generation_prompt=True):
        return [self.bos_id] + self.encode("".join(f"{m['role']}:{m['content']}\n" for m in messages))

    def batch(self, seqs, padding_side="left"):
        t = max(map(len, seqs))
        ids, mask = np.zeros((len(seqs), t), np.int32), np.zeros((len(seqs), t), np.int32)
        for i, s in enumerate(seqs):
            ids[i, t - len(s):], mask[i, t - len(s):] = s, 1
        return ids, mask


def test_compile_seconds_sees_the_first_call_only():
    f = jax.jit(lambda x: jnp.tanh(x) * 3.0 + 1.0)
    x = jnp.ones((7, 13))
    with compile_seconds() as first:
        f(x).block_until_ready()
    with compile_seconds() as second:
        f(x).block_until_ready()
    assert first[0] > 0 and second[0] == 0


def test_one_batch_throughput_is_timed_without_its_compile():
    cfg = models.ModelConfig.tiny(max_position_embeddings=1024)
    model, tok = models.Transformer(cfg, rngs=nnx.Rngs(3)), CharTokenizer()
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
def test_every_batch_is_timed(batch_size):
    cfg = models.ModelConfig.tiny(max_position_embeddings=1024)
    model, tok = models.Transformer(cfg, rngs=nnx.Rngs(4)), CharTokenizer()
    ans = answer_questions(model, tok, ["a b", "c d e"], max_new_tokens=4, batch_size=batch_size)
    rows = -(-2 // batch_size) * batch_size
    assert ans.lengths.sum() <= ans.timed_tokens <= rows * 4
