"""Read a llama.cpp GGUF file into HF-named float32 arrays and a ModelConfig."""
from __future__ import annotations

import os

import numpy as np

from mighty.models.config import ModelConfig
from mighty.models.hf_weights import CheckpointError

# Tensor types gguf.quants.dequantize handles and we have tested (F32/F16/BF16 pass through).
SUPPORTED_QUANTS = ("F32", "F16", "BF16", "Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1",
                    "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K")

_LAYER_NAMES = {
    "attn_norm.weight": "input_layernorm.weight",
    "ffn_norm.weight": "post_attention_layernorm.weight",
    "attn_q.weight": "self_attn.q_proj.weight",
    "attn_k.weight": "self_attn.k_proj.weight",
    "attn_v.weight": "self_attn.v_proj.weight",
    "attn_output.weight": "self_attn.o_proj.weight",
    "attn_q.bias": "self_attn.q_proj.bias",
    "attn_k.bias": "self_attn.k_proj.bias",
    "attn_v.bias": "self_attn.v_proj.bias",
    "ffn_gate.weight": "mlp.gate_proj.weight",
    "ffn_up.weight": "mlp.up_proj.weight",
    "ffn_down.weight": "mlp.down_proj.weight",
}
_GLOBAL_NAMES = {"token_embd.weight": "model.embed_tokens.weight",
                 "output_norm.weight": "model.norm.weight", "output.weight": "lm_head.weight"}


def hf_name(gguf_name: str) -> str:
    """`blk.3.attn_q.weight` -> `model.layers.3.self_attn.q_proj.weight`; unknown names pass through."""
    if gguf_name in _GLOBAL_NAMES:
        return _GLOBAL_NAMES[gguf_name]
    parts = gguf_name.split(".", 2)
    if len(parts) == 3 and parts[0] == "blk" and parts[2] in _LAYER_NAMES:
        return f"model.layers.{parts[1]}.{_LAYER_NAMES[parts[2]]}"
    return gguf_name


def unpermute_rope_rows(w: np.ndarray, n_heads: int) -> np.ndarray:
    """Undo llama.cpp's q/k row permutation (interleaved RoPE pairs -> HF rotate_half halves)."""
    return w.reshape(n_heads, w.shape[0] // n_heads // 2, 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def _field(reader, key, default=None):
    f = reader.fields.get(key)
    return default if f is None else f.contents()


def config_from_gguf(reader, path: str, *, param_dtype="float32", dtype=None) -> ModelConfig:
    arch = _field(reader, "general.architecture")
    if arch not in ("llama", "qwen2"):
        raise ValueError(f"{path}: unsupported GGUF architecture {arch!r}; supported: llama, qwen2")
    g = lambda k, d=None: _field(reader, f"{arch}.{k}", d)  # noqa: E731
    scaling = g("rope.scaling.type")
    if scaling not in (None, "none", "linear"):
        raise ValueError(f"{path}: unsupported GGUF rope scaling {scaling!r}")
    heads = int(g("attention.head_count"))
    hidden = int(g("embedding_length"))
    names = {t.name for t in reader.tensors}
    embd = next(t for t in reader.tensors if t.name == "token_embd.weight")
    eos = int(_field(reader, "tokenizer.ggml.eos_token_id", 2))
    bos = _field(reader, "tokenizer.ggml.bos_token_id")
    return ModelConfig(
        vocab_size=int(g("vocab_size", int(embd.shape[1]))), hidden_size=hidden,
        num_layers=int(g("block_count")), num_heads=heads,
        num_kv_heads=int(g("attention.head_count_kv", heads)),
        head_dim=int(g("attention.key_length", hidden // heads)),
        intermediate_size=int(g("feed_forward_length")),
        rope_theta=float(g("rope.freq_base", 10000.0)),
        rope_scaling={"rope_type": "linear", "factor": float(g("rope.scaling.factor"))} if scaling == "linear" else None,
        rms_eps=float(g("attention.layer_norm_rms_epsilon", 1e-6)),
        tie_embeddings="output.weight" not in names, qkv_bias=arch == "qwen2",
        max_position_embeddings=int(g("context_length", 2048)),
        bos_id=None if bos is None else int(bos), eos_id=eos,
        pad_id=int(_field(reader, "tokenizer.ggml.padding_token_id", eos)),
        param_dtype=param_dtype, dtype=dtype or param_dtype, model_type=arch)


def read_gguf(path: str | os.PathLike, *, param_dtype="float32", dtype=None):
    """-> (ModelConfig, {hf_name: float32 array}) with q/k rows in HF order."""
    import gguf

    path = str(path)
    reader = gguf.GGUFReader(path)
    cfg = config_from_gguf(reader, path, param_dtype=param_dtype, dtype=dtype)
    bad = sorted({t.tensor_type.name for t in reader.tensors} - set(SUPPORTED_QUANTS))
    if bad:
        offenders = [t.name for t in reader.tensors if t.tensor_type.name in bad][:5]
        raise CheckpointError(
            f"{path}: unsupported GGUF quantisation type(s) {bad} (e.g. tensors {offenders}); "
            f"supported: {list(SUPPORTED_QUANTS)}. Re-quantise the file (e.g. Q8_0 or Q4_K) with llama.cpp.")
    permute = cfg.model_type == "llama"  # llama.cpp permutes q/k only for the llama arch
    tensors = {}
    for t in reader.tensors:
        w = np.asarray(gguf.quants.dequantize(t.data, t.tensor_type), dtype=np.float32)
        name = hf_name(t.name)
        if permute and t.name.endswith("attn_q.weight"):
            w = unpermute_rope_rows(w, cfg.num_heads)
        elif permute and t.name.endswith("attn_k.weight"):
            w = unpermute_rope_rows(w, cfg.num_kv_heads)
        tensors[name] = w
    return cfg, tensors
