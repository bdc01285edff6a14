"""Export of LoRA students: `export_hf` writes merged weights that `transformers` loads with our
logits, and `export_peft` an adapter that `peft` loads onto the exported HF base with our
logits (1e-4), for LoRA and QLoRA, Llama and Qwen2 (qkv bias), α/r and rsLoRA scaling."""
import json

import jax.numpy as jnp
import numpy as np
import pytest
import torch
from flax import nnx

from mighty.models.checkpoint import export_hf
from mighty.models.config import ModelConfig
from mighty.models.export import export_base_hf, export_peft
from mighty.models.lora import LoRAConfig, adapters, apply_lora
from mighty.models.transformer import Transformer

ATOL = 1e-4


def _student(model_type="llama", lcfg=None, seed=0):
    cfg = ModelConfig.tiny(vocab_size=97, tie_embeddings=False, model_type=model_type,
                           qkv_bias=model_type == "qwen2")
    model = Transformer(cfg, rngs=nnx.Rngs(seed))
    if cfg.qkv_bias:  # zero-initialised biases would not test their export
        for layer in model.layers:
            for name in ("q_bias", "k_bias", "v_bias"):
                var = getattr(layer.attn, name)
                var.set_value(jnp.asarray(np.random.default_rng(1).normal(0, 0.1, var.shape), jnp.float32))
    lcfg = lcfg or LoRAConfig(rank=4, alpha=8.0)
    apply_lora(model, lcfg)
    rng = np.random.default_rng(seed + 1)
    for *_, ad in adapters(model):  # trained-looking adapters: B ≠ 0
        ad.b.set_value(jnp.asarray(rng.normal(0, 0.1, ad.b.shape), jnp.float32))
    return model, lcfg


def _ids():
    return np.random.default_rng(5).integers(3, 97, (2, 11)).astype(np.int64)


def _torch_logits(model, ids):
    with torch.no_grad():
        return model(torch.from_numpy(ids)).logits.float().numpy()


@pytest.mark.parametrize("model_type,lcfg", [
    ("llama", LoRAConfig(rank=4, alpha=8.0)),
    ("qwen2", LoRAConfig(rank=3, alpha=5.0, rslora=True, targets=["q", "v", "o", "down"])),
])
def test_export_hf_merged_loads_in_transformers(tmp_path, model_type, lcfg):
    from transformers import AutoModelForCausalLM

    model, _ = _student(model_type, lcfg)
    ours = np.asarray(model(jnp.asarray(_ids(), jnp.int32)))
    export_hf(model, None, tmp_path / "merged")
    hf = AutoModelForCausalLM.from_pretrained(tmp_path / "merged", dtype=torch.float32).eval()
    np.testing.assert_allclose(_torch_logits(hf, _ids()), ours, atol=ATOL, rtol=0)


@pytest.mark.parametrize("model_type,lcfg", [
    ("llama", LoRAConfig(rank=4, alpha=8.0)),
    ("qwen2", LoRAConfig(rank=2, alpha=6.0, rslora=True, targets=["k", "o", "gate", "up"])),
    ("llama", LoRAConfig(rank=4, alpha=8.0, quant="nf4", quant_block=8)),
    ("llama", LoRAConfig(rank=4, alpha=8.0, quant="int8", quant_block=8, targets=["q", "down"])),
])
def test_peft_adapter_loads_onto_the_hf_base(tmp_path, model_type, lcfg):
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    model, _ = _student(model_type, lcfg)
    ids = _ids()
    ours = np.asarray(model(jnp.asarray(ids, jnp.int32)))
    export_base_hf(model, None, tmp_path / "base")
    out = export_peft(model, tmp_path / "adapter", lcfg, base_model=str(tmp_path / "base"))
    config = json.loads((out / "adapter_config.json").read_text())
    assert config["r"] == lcfg.rank and config["use_rslora"] == lcfg.rslora
    base = AutoModelForCausalLM.from_pretrained(tmp_path / "base", dtype=torch.float32).eval()
    base_logits = _torch_logits(base, ids)
    peft_model = PeftModel.from_pretrained(base, tmp_path / "adapter").eval()
    assert peft_model.peft_config["default"].r == lcfg.rank
    got = _torch_logits(peft_model, ids)
    np.testing.assert_allclose(got, ours, atol=ATOL, rtol=0)
    assert np.abs(got - base_logits).max() > 100 * ATOL  # the adapter is really applied


def test_export_peft_refuses_a_model_without_adapters(tmp_path):
    model = Transformer(ModelConfig.tiny(), rngs=nnx.Rngs(0))
    with pytest.raises(ValueError, match="no LoRA adapters"):
        export_peft(model, tmp_path, LoRAConfig())


def test_load_peft_is_the_inverse_of_export_peft(tmp_path):
    """An adapter in PEFT format (ours here; one trained with TRL + PEFT alike) onto a plain
    model of the same base reproduces the adapted model exactly; mismatches are errors."""
    from mighty.models.export import load_peft

    lcfg = LoRAConfig(rank=3, alpha=5.0, rslora=True, targets=["q", "o", "up", "down"])
    model, _ = _student("qwen2", lcfg)
    export_peft(model, tmp_path / "adapter", lcfg)
    base = Transformer(model.cfg, rngs=nnx.Rngs(0))
    for layer, src in zip(base.layers, model.layers):  # the same qkv biases as `model`
        for name in ("q_bias", "k_bias", "v_bias"):
            getattr(layer.attn, name).set_value(getattr(src.attn, name).get_value())
    load_peft(base, tmp_path / "adapter")
    ids = jnp.asarray(_ids(), jnp.int32)
    np.testing.assert_array_equal(np.asarray(base(ids)), np.asarray(model(ids)))
    with pytest.raises(ValueError, match="already has adapters"):
        load_peft(base, tmp_path / "adapter")
    deeper = Transformer(model.cfg.replace(num_layers=3), rngs=nnx.Rngs(0))
    with pytest.raises(ValueError, match="does not match the model"):
        load_peft(deeper, tmp_path / "adapter")
