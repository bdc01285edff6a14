"""JaxJudge: score-token probabilities (incl. two-token "10") against a naive unbatched reference."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

models = pytest.importorskip("mighty.models")

from mighty.rewards.judge import JudgeItem, judge_messages  # noqa: E402
from mighty.rewards.judge_cache import JudgeCache  # noqa: E402
from mighty.rewards.judge_jax import JaxJudge  # noqa: E402
from tests.evals.conftest import CharTokenizer  # noqa: E402  (one token per character, as the eval tests use)


@pytest.fixture(scope="module")
def tiny():
    cfg = models.ModelConfig.tiny(max_position_embeddings=4096)
    return models.Transformer(cfg, rngs=nnx.Rngs(0)), CharTokenizer()


def naive_score(model, tok, item):
    ids = tok.chat(judge_messages(item))
    p = jax.nn.softmax(model(jnp.asarray([ids]))[0, -1])
    p2 = jax.nn.softmax(model(jnp.asarray([ids + tok.encode("1")]))[0, -1])
    probs = {s: float(p[tok.encode(str(s))[0]]) for s in range(10)}
    p10 = float(p2[tok.encode("0")[0]])
    probs[10] = probs[1] * p10
    probs[1] *= 1 - p10
    return sum(s * q for s, q in probs.items()) / sum(probs.values())


@pytest.mark.slow  # ~1 min alone; several minutes on a loaded 2-core box
def test_expected_score_matches_naive_reference_with_padding(tiny):
    model, tok = tiny
    judge = JaxJudge(model, tok, judge_id="jax:tiny", batch_size=2)
    qs = ["Speaker won't pair.", "My earbuds crackle when I move my head a lot."]
    ans = ["1. Turn it off.\n2. Pair it.", "Clean them."]
    kb = {"steps": ["Turn it off.", "Pair it."], "safety": False}
    got = judge.score_batch(qs + qs[:1], ans + ["x"], kb_entries=[kb, None, kb])
    want = [naive_score(model, tok, JudgeItem(q, a, r, "tech")) for q, a, r in
            [(qs[0], ans[0], "1. Turn it off.\n2. Pair it."),
             (qs[1], ans[1], "(none: the question is outside the assistant's scope; it should politely decline)"),
             (qs[0], "x", "1. Turn it off.\n2. Pair it.")]]
    np.testing.assert_allclose(got, want, rtol=1e-4)
    assert np.all((got >= 0) & (got <= 10))


def test_fluency_scale_and_cache(tiny, tmp_path):
    model, tok = tiny
    judge = JaxJudge(model, tok, judge_id="jax:tiny", cache=JudgeCache(tmp_path))
    s = judge.score_batch(["q"], ["A fine answer."], aspect="fluency")
    assert 0 <= s[0] <= 5
    item = JudgeItem("q", "A fine answer.", "(none: the question is outside the assistant's "
                     "scope; it should politely decline)", "fluency")
    ids = tok.chat(judge_messages(item))
    p = np.asarray(jax.nn.softmax(model(jnp.asarray([ids]))[0, -1]))
    digits = np.array([p[tok.encode(str(d))[0]] for d in range(6)])
    np.testing.assert_allclose(s, [np.arange(6) @ digits / digits.sum()], rtol=1e-4)
    judge.score_batch(["q"], ["A fine answer."], aspect="fluency")
    assert judge.stats.cache_hits == 1 and judge.stats.requests == 1


@pytest.mark.slow
def test_packaged_teacher_judge():
    """The default judge (packaged SmolLM2 teacher) returns expected scores in range."""
    judge = JaxJudge.from_pretrained(batch_size=2)
    assert judge.score_tokens(10)[10] == tuple(judge.tokenizer.encode("1") + judge.tokenizer.encode("0"))
    kb = {"steps": ["Turn the speaker off.", "Pair it again."], "safety": False}
    s = judge.score_batch(["My speaker won't pair."] * 2,
                          ["1. Turn the speaker off.\n2. Pair it again.", "Bananas are yellow."],
                          kb_entries=[kb, kb])
    assert s.shape == (2,) and np.all((s >= 0) & (s <= 10))
