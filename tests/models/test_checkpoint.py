"""Orbax round trip (restores without the source) and HF export loadable by transformers."""
import jax.numpy as jnp
import numpy as np
import pytest
import torch
from flax import nnx

from mighty import models
from mighty.models import ModelConfig, Transformer
from tests.models.conftest import hf_logits

IDS = np.random.RandomState(0).randint(3, 128, (2, 10)).astype(np.int32)


def test_orbax_round_trip(tmp_path):
    model = Transformer(ModelConfig.tiny(qkv_bias=True, model_type="qwen2"), rngs=nnx.Rngs(4))
    models.save_checkpoint(model, tmp_path / "ck")
    assert not list(tmp_path.glob(".ck.tmp-*"))  # the temporary directory was renamed away
    restored = models.load_checkpoint(tmp_path / "ck")
    assert restored.cfg == model.cfg
    np.testing.assert_array_equal(np.asarray(restored(jnp.asarray(IDS))), np.asarray(model(jnp.asarray(IDS))))
    again, tok = models.load_pretrained(tmp_path / "ck")
    assert tok is None and again.cfg == model.cfg
    with pytest.raises(FileExistsError, match="overwrite=True"):
        models.save_checkpoint(model, tmp_path / "ck")
    half = models.load_checkpoint(tmp_path / "ck", dtype="bfloat16")
    assert half.embed[...].dtype == jnp.bfloat16


@pytest.mark.parametrize("kind", ["qwen2", "llama-tied"])
def test_export_hf_loads_in_transformers_with_same_logits(tmp_path, kind):
    from transformers import AutoModelForCausalLM

    cfg = (ModelConfig.tiny(qkv_bias=True, model_type="qwen2") if kind == "qwen2"
           else ModelConfig.tiny(tie_embeddings=True))
    model = Transformer(cfg, rngs=nnx.Rngs(5))
    # non-trivial biases and norms so the export of every tensor is checked
    for layer in model.layers:
        layer.attn_norm.scale.set_value(layer.attn_norm.scale[...] * 1.5)
        if cfg.qkv_bias:
            layer.attn.k_bias.set_value(jnp.full(layer.attn.k_bias.shape, 0.3))
    models.export_hf(model, None, tmp_path, max_shard_size="30KB")
    assert (tmp_path / "model.safetensors.index.json").is_file()
    hf = AutoModelForCausalLM.from_pretrained(tmp_path, dtype=torch.float32).eval()
    np.testing.assert_allclose(hf_logits(hf, IDS), np.asarray(model(jnp.asarray(IDS))), atol=1e-4, rtol=0)
    back, _ = models.load_pretrained(tmp_path)  # and our own loader reads the export
    assert back.cfg.replace() == cfg
