"""Model hyper-parameters for the Llama / Qwen2 decoder family."""
from __future__ import annotations

import dataclasses
from typing import Any

import jax.numpy as jnp

SUPPORTED_MODEL_TYPES = ("llama", "qwen2")
SUPPORTED_ARCHITECTURES = ("LlamaForCausalLM", "Qwen2ForCausalLM")
SUPPORTED_ROPE_TYPES = ("default", "linear", "llama3")
DTYPES = {"float32": jnp.float32, "bfloat16": jnp.bfloat16, "float16": jnp.float16}


@dataclasses.dataclass(frozen=True)
class ModelConfig:
    """Decoder hyper-parameters; field names follow CONTRACTS.md, not HF's config.json."""

    vocab_size: int
    hidden_size: int
    num_layers: int
    num_heads: int
    num_kv_heads: int
    head_dim: int
    intermediate_size: int
    rope_theta: float = 10000.0
    # None, or a dict with rope_type "linear" {factor} or "llama3"
    # {factor, low_freq_factor, high_freq_factor, original_max_position_embeddings}.
    rope_scaling: dict | None = None
    rms_eps: float = 1e-6
    tie_embeddings: bool = False
    qkv_bias: bool = False
    max_position_embeddings: int = 2048
    bos_id: int | None = 1
    eos_id: int = 2
    pad_id: int = 2
    param_dtype: str = "float32"
    dtype: str = "float32"  # compute dtype; logits are always float32
    model_type: str = "llama"

    def __post_init__(self):
        for name in ("vocab_size", "hidden_size", "num_layers", "num_heads", "num_kv_heads",
                     "head_dim", "intermediate_size", "max_position_embeddings"):
            if int(getattr(self, name)) <= 0:
                raise ValueError(f"ModelConfig.{name} must be positive, got {getattr(self, name)}")
        if self.num_heads % self.num_kv_heads:
            raise ValueError(
                f"ModelConfig.num_heads ({self.num_heads}) must be a multiple of num_kv_heads "
                f"({self.num_kv_heads}) for grouped-query attention")
        if self.head_dim % 2:
            raise ValueError(f"ModelConfig.head_dim must be even for RoPE, got {self.head_dim}")
        for name in ("param_dtype", "dtype"):
            if getattr(self, name) == "auto":  # runtime.precision: bf16 where it is fast here
                from mighty.runtime.precision import resolve_dtype

                object.__setattr__(self, name, resolve_dtype("auto"))
            if getattr(self, name) not in DTYPES:
                raise ValueError(f"ModelConfig.{name}={getattr(self, name)!r}; choose one of {list(DTYPES)}")
        if self.model_type not in SUPPORTED_MODEL_TYPES:
            raise ValueError(f"ModelConfig.model_type={self.model_type!r}; supported: {SUPPORTED_MODEL_TYPES}")
        _check_rope_scaling(self.rope_scaling)
        for name in ("eos_id", "pad_id"):
            if not 0 <= getattr(self, name) < self.vocab_size:
                raise ValueError(f"ModelConfig.{name}={getattr(self, name)} is outside the vocabulary [0, {self.vocab_size})")
        if self.rope_scaling is not None:  # frozen dataclass: keep it hashable for jit statics
            object.__setattr__(self, "rope_scaling", _FrozenDict(self.rope_scaling))

    @property
    def jnp_param_dtype(self):
        return DTYPES[self.param_dtype]

    @property
    def jnp_dtype(self):
        return DTYPES[self.dtype]

    def replace(self, **changes) -> "ModelConfig":
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d["rope_scaling"] = dict(self.rope_scaling) if self.rope_scaling else None
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "ModelConfig":
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = set(d) - known
        if unknown:
            raise ValueError(f"ModelConfig.from_dict: unknown fields {sorted(unknown)}; known: {sorted(known)}")
        return cls(**d)

    @classmethod
    def tiny(cls, **overrides) -> "ModelConfig":
        """2 layers, width 32, GQA 4:2 — for tests; runs in milliseconds on CPU."""
        base = dict(vocab_size=128, hidden_size=32, num_layers=2, num_heads=4, num_kv_heads=2,
                    head_dim=8, intermediate_size=64, rope_theta=10000.0, rms_eps=1e-6,
                    max_position_embeddings=512, bos_id=1, eos_id=2, pad_id=0)
        base.update(overrides)
        return cls(**base)

    @classmethod
    def from_hf_dict(cls, hf: dict, *, param_dtype: str = "float32", dtype: str | None = None,
                     source: str = "config.json") -> "ModelConfig":
        """Build from a Hugging Face `config.json` dict (transformers 4.x or 5.x layout)."""
        model_type = hf.get("model_type")
        archs = hf.get("architectures") or []
        if model_type not in SUPPORTED_MODEL_TYPES:
            raise ValueError(
                f"{source}: unsupported model_type {model_type!r} (architectures {archs}); "
                f"Mighty supports {SUPPORTED_MODEL_TYPES}. Convert the checkpoint or add the architecture to models/.")
        bad = [a for a in archs if a not in SUPPORTED_ARCHITECTURES]
        if bad:
            raise ValueError(f"{source}: unsupported architectures {bad}; supported: {SUPPORTED_ARCHITECTURES}")
        if hf.get("hidden_act", "silu") != "silu":
            raise ValueError(f"{source}: hidden_act={hf['hidden_act']!r}; only 'silu' (SwiGLU) is supported")
        if hf.get("mlp_bias") or hf.get("attention_bias"):
            raise ValueError(f"{source}: attention_bias/mlp_bias=True (o_proj or MLP biases) is not supported")
        if hf.get("use_sliding_window"):
            raise ValueError(f"{source}: use_sliding_window=True is not supported; set it to false")
        heads = hf["num_attention_heads"]
        rope_theta, rope_scaling = _rope_from_hf(hf, source)
        eos = hf.get("eos_token_id", 2)
        eos = eos[0] if isinstance(eos, (list, tuple)) else eos  # first of several stop ids
        pad = hf.get("pad_token_id")
        return cls(
            vocab_size=hf["vocab_size"], hidden_size=hf["hidden_size"],
            num_layers=hf["num_hidden_layers"], num_heads=heads,
            num_kv_heads=hf.get("num_key_value_heads") or heads,
            head_dim=hf.get("head_dim") or hf["hidden_size"] // heads,
            intermediate_size=hf["intermediate_size"], rope_theta=rope_theta,
            rope_scaling=rope_scaling, rms_eps=hf.get("rms_norm_eps", 1e-6),
            tie_embeddings=bool(hf.get("tie_word_embeddings", False)),
            qkv_bias=model_type == "qwen2",
            max_position_embeddings=hf.get("max_position_embeddings", 2048),
            bos_id=hf.get("bos_token_id"), eos_id=eos, pad_id=eos if pad is None else pad,
            param_dtype=param_dtype, dtype=dtype or param_dtype, model_type=model_type)

    def to_hf_dict(self) -> dict:
        """The `config.json` transformers needs to rebuild this model (see export_hf)."""
        arch = {"llama": "LlamaForCausalLM", "qwen2": "Qwen2ForCausalLM"}[self.model_type]
        rope = {"rope_type": "default", "rope_theta": self.rope_theta}
        if self.rope_scaling:
            rope = {**dict(self.rope_scaling), "rope_theta": self.rope_theta}
        d = dict(architectures=[arch], model_type=self.model_type, vocab_size=self.vocab_size,
                 hidden_size=self.hidden_size, num_hidden_layers=self.num_layers,
                 num_attention_heads=self.num_heads, num_key_value_heads=self.num_kv_heads,
                 head_dim=self.head_dim, intermediate_size=self.intermediate_size,
                 hidden_act="silu", rms_norm_eps=self.rms_eps, rope_theta=self.rope_theta,
                 rope_parameters=rope, rope_scaling=dict(self.rope_scaling) if self.rope_scaling else None,
                 tie_word_embeddings=self.tie_embeddings,
                 max_position_embeddings=self.max_position_embeddings, bos_token_id=self.bos_id,
                 eos_token_id=self.eos_id, pad_token_id=self.pad_id, dtype=self.param_dtype)
        if self.model_type == "llama":
            d.update(attention_bias=False, mlp_bias=False)
        else:
            d.update(use_sliding_window=False)
        return d


class _FrozenDict(dict):
    """A dict that hashes, so configs can be jit-static and used as cache keys."""

    def __hash__(self):
        return hash(tuple(sorted(self.items())))

    def __setitem__(self, *a):
        raise TypeError("ModelConfig.rope_scaling is immutable")


def _rope_from_hf(hf: dict, source: str) -> tuple[float, dict | None]:
    # transformers 5 folds theta and scaling into `rope_parameters`; 4.x used two keys.
    params = dict(hf.get("rope_parameters") or {})
    scaling = hf.get("rope_scaling") or None
    theta = params.pop("rope_theta", None) or hf.get("rope_theta", 10000.0)
    if params.get("rope_type", "default") != "default":
        scaling = params
    if scaling is not None:
        scaling = dict(scaling)
        scaling.setdefault("rope_type", scaling.pop("type", "default"))
        scaling.pop("rope_theta", None)
        if scaling["rope_type"] == "default":
            scaling = None
    try:
        _check_rope_scaling(scaling)
    except ValueError as e:
        raise ValueError(f"{source}: {e}") from None
    return float(theta), scaling


def _check_rope_scaling(scaling: Any):
    if scaling is None:
        return
    kind = scaling.get("rope_type")
    if kind not in SUPPORTED_ROPE_TYPES:
        raise ValueError(f"rope_scaling type {kind!r} is not supported; supported: {SUPPORTED_ROPE_TYPES}")
    need = {"linear": ("factor",), "llama3": ("factor", "low_freq_factor", "high_freq_factor",
                                                "original_max_position_embeddings")}.get(kind, ())
    missing = [k for k in need if k not in scaling]
    if missing:
        raise ValueError(f"rope_scaling {kind!r} is missing {missing}")
