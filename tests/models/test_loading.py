"""Checkpoint loading: tiny GGUF vs HF, and a clear error for every bad-checkpoint case."""
import json

import jax.numpy as jnp
import numpy as np
import pytest
from safetensors.numpy import load_file, save_file

from mighty import models
from mighty.models import CheckpointError
from tests.models.conftest import TINY_VOCAB, hf_logits, make_hf_model


def _llama_cpp_permute(w, n_heads):
    """What llama.cpp's converter does to q/k rows (the inverse of our un-permute)."""
    return w.reshape(n_heads, 2, w.shape[0] // n_heads // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def write_tiny_gguf(path, hf, *, quant_override=None):
    import gguf

    cfg = hf.config
    w = gguf.GGUFWriter(str(path), "llama")
    w.add_block_count(cfg.num_hidden_layers)
    w.add_context_length(cfg.max_position_embeddings)
    w.add_embedding_length(cfg.hidden_size)
    w.add_feed_forward_length(cfg.intermediate_size)
    w.add_head_count(cfg.num_attention_heads)
    w.add_head_count_kv(cfg.num_key_value_heads)
    w.add_rope_freq_base(10000.0)
    w.add_layer_norm_rms_eps(cfg.rms_norm_eps)
    w.add_vocab_size(cfg.vocab_size)
    w.add_eos_token_id(2)
    names = {"model.embed_tokens.weight": "token_embd.weight", "model.norm.weight": "output_norm.weight",
             "lm_head.weight": "output.weight"}
    layer = {"input_layernorm": "attn_norm", "post_attention_layernorm": "ffn_norm",
             "self_attn.q_proj": "attn_q", "self_attn.k_proj": "attn_k", "self_attn.v_proj": "attn_v",
             "self_attn.o_proj": "attn_output", "mlp.gate_proj": "ffn_gate", "mlp.up_proj": "ffn_up",
             "mlp.down_proj": "ffn_down"}
    for name, t in hf.state_dict().items():
        arr = t.float().numpy()
        if name.startswith("model.layers."):
            i, rest = name[len("model.layers."):].split(".", 1)
            mod = rest.rsplit(".", 1)[0]
            gname = f"blk.{i}.{layer[mod]}.weight"
            if mod == "self_attn.q_proj":
                arr = _llama_cpp_permute(arr, cfg.num_attention_heads)
            if mod == "self_attn.k_proj":
                arr = _llama_cpp_permute(arr, cfg.num_key_value_heads)
        else:
            gname = names[name]
        if quant_override and gname == quant_override[0]:
            qtype = quant_override[1]
            block, nbytes = gguf.GGML_QUANT_SIZES[qtype]
            raw = np.zeros((arr.shape[0], arr.shape[1] // block * nbytes), np.uint8)
            w.add_tensor(gname, raw, raw_dtype=qtype)
        else:
            w.add_tensor(gname, arr)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def test_tiny_gguf_with_permuted_qk_matches_hf(tmp_path):
    hf = make_hf_model("llama", seed=5)
    write_tiny_gguf(tmp_path / "tiny.gguf", hf)
    model, tok = models.load_pretrained(tmp_path / "tiny.gguf", use_cache=False)
    assert tok is None
    ids = np.random.RandomState(0).randint(3, TINY_VOCAB, (2, 13)).astype(np.int32)
    np.testing.assert_allclose(np.asarray(model(jnp.asarray(ids))), hf_logits(hf, ids), atol=1e-4, rtol=0)


def test_unsupported_gguf_quant_type(tmp_path):
    import gguf

    hf = make_hf_model("llama", seed=5, hidden_size=256, num_attention_heads=4, num_key_value_heads=2)
    write_tiny_gguf(tmp_path / "iq.gguf", hf, quant_override=("blk.0.ffn_up.weight", gguf.GGMLQuantizationType.IQ2_XXS))
    with pytest.raises(CheckpointError, match=r"unsupported GGUF quantisation type.*IQ2_XXS.*blk\.0\.ffn_up\.weight"):
        models.load_pretrained(tmp_path / "iq.gguf", use_cache=False)


@pytest.fixture()
def ckpt(tmp_path):
    make_hf_model("qwen2", seed=2).save_pretrained(tmp_path)
    return tmp_path


def _edit_weights(d, fn):
    f = d / "model.safetensors"
    tensors = load_file(str(f))
    fn(tensors)
    save_file(tensors, str(f))


def test_missing_tensor_is_named(ckpt):
    _edit_weights(ckpt, lambda t: t.pop("model.layers.1.mlp.up_proj.weight"))
    with pytest.raises(CheckpointError, match=r"missing tensors \(1\): model\.layers\.1\.mlp\.up_proj\.weight"):
        models.load_pretrained(ckpt)


def test_unexpected_tensor_is_named(ckpt):
    _edit_weights(ckpt, lambda t: t.update({"model.layers.0.self_attn.o_proj.bias": np.zeros(32, np.float32)}))
    with pytest.raises(CheckpointError, match=r"unexpected tensors \(1\): model\.layers\.0\.self_attn\.o_proj\.bias"):
        models.load_pretrained(ckpt)


def test_shape_mismatch_names_tensor_expected_and_got(ckpt):
    cfg = json.loads((ckpt / "config.json").read_text())
    cfg["intermediate_size"] = 48
    (ckpt / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(CheckpointError, match=r"shape mismatch for model\.layers\.0\.mlp\.down_proj\.weight: "
                                              r"expected \(32, 48\), got \(32, 64\)"):
        models.load_pretrained(ckpt)


def test_unsupported_architecture(ckpt):
    cfg = json.loads((ckpt / "config.json").read_text())
    cfg.update(model_type="gpt2", architectures=["GPT2LMHeadModel"])
    (ckpt / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(ValueError, match=r"config\.json: unsupported model_type 'gpt2'.*GPT2LMHeadModel"):
        models.load_pretrained(ckpt)


def test_unknown_source_and_packaged_name():
    with pytest.raises(FileNotFoundError, match="neither a packaged model"):
        models.load_pretrained("no-such-model")
    with pytest.raises(ValueError, match="unknown packaged model"):
        models.packaged_model_path("gpt-17")


def test_config_validation_and_hf_round_trip():
    with pytest.raises(ValueError, match="multiple of num_kv_heads"):
        models.ModelConfig.tiny(num_heads=3, num_kv_heads=2)
    with pytest.raises(ValueError, match="param_dtype"):
        models.ModelConfig.tiny(param_dtype="float64")
    with pytest.raises(ValueError, match="rope_scaling type 'yarn'"):
        models.ModelConfig.tiny(rope_scaling={"rope_type": "yarn", "factor": 2.0})
    cfg = models.ModelConfig.tiny(rope_scaling={"rope_type": "linear", "factor": 2.0}, qkv_bias=True,
                                  model_type="qwen2")
    assert models.ModelConfig.from_hf_dict(cfg.to_hf_dict()) == cfg
    assert hash(cfg)  # hashable: usable as a jit static
