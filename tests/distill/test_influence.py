"""Pruning by block influence: the measure against a NumPy loop, the choice by hand."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from mighty.distill.student import block_influence, choose_layers
from mighty.models import ModelConfig, Transformer


def test_choose_layers_by_influence_keeps_the_most_influential():
    bi = [0.9, 0.1, 0.5, 0.1, 0.3, 0.8]
    assert choose_layers(6, num_layers=3, strategy="influence", influence=bi) == [0, 2, 5]
    assert choose_layers(6, num_layers=4, strategy="influence", influence=bi) == [0, 2, 4, 5]
    assert choose_layers(6, num_layers=5, strategy="influence", influence=bi) == [0, 1, 2, 4, 5]  # tie: lower index
    with pytest.raises(ValueError, match="one influence value per teacher block"):
        choose_layers(6, num_layers=3, strategy="influence", influence=bi[:5])


def test_block_influence_matches_a_numpy_loop_over_the_residual_stream():
    cfg = ModelConfig.tiny(num_layers=3)
    model = Transformer(cfg, rngs=nnx.Rngs(0))
    ids = jax.random.randint(jax.random.key(1), (2, 7), 3, cfg.vocab_size)
    mask = jnp.array([[1] * 7, [1] * 4 + [0] * 3])
    got = np.asarray(block_influence(model, ids, mask))
    # reference: hidden states after each block by truncating the stack (h_0 = embeddings)
    from mighty.distill.student import prune_layers

    def stream(n):
        if n == 0:
            return np.asarray(jnp.take(model.embed[...], ids, axis=0), np.float64)
        m = prune_layers(model, list(range(n)))
        return np.asarray(_pre_norm(m, ids, mask), np.float64)

    want = []
    real = np.asarray(mask, bool)
    for i in range(3):
        x, y = stream(i), stream(i + 1)
        cos = (x * y).sum(-1) / (np.linalg.norm(x, axis=-1) * np.linalg.norm(y, axis=-1))
        want.append(float((1 - cos)[real].mean()))
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)
    assert got.shape == (3,) and np.all(got >= 0)


def _pre_norm(model, ids, mask):
    """The residual stream after the last block, before the final norm."""
    saved = model.final_norm
    model.final_norm = lambda x: x
    try:
        return model.forward(ids, attention_mask=mask)[0]
    finally:
        model.final_norm = saved
