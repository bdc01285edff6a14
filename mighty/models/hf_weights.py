"""Map Hugging Face tensor names/layouts <-> our parameter tree, with checked errors."""
from __future__ import annotations

import dataclasses
import functools
import operator
from typing import Callable, Mapping

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from mighty.models.config import ModelConfig
from mighty.models.mesh import params_shardings, put_sharded
from mighty.models.sharding import DEFAULT_RULES
from mighty.models.transformer import Transformer


class CheckpointError(ValueError):
    """A checkpoint does not fit the model: names what is missing, extra or misshapen."""


@dataclasses.dataclass(frozen=True)
class TensorSpec:
    path: tuple          # where the array lives in our module tree
    hf_shape: tuple      # HF (PyTorch `[out, in]`) layout
    to_ours: Callable    # numpy HF layout -> our layout
    to_hf: Callable      # our layout -> HF layout


def hf_tensor_specs(cfg: ModelConfig) -> dict[str, TensorSpec]:
    """Every tensor an HF Llama/Qwen2 checkpoint must hold for `cfg`, by HF name."""
    d, f, v = cfg.hidden_size, cfg.intermediate_size, cfg.vocab_size
    h, k, hd = cfg.num_heads, cfg.num_kv_heads, cfg.head_dim
    ident = (lambda a: a, lambda a: a)
    transpose = (lambda a: a.T, lambda a: a.T)

    def heads_in(n):  # [n*hd, d] <-> [d, n, hd]
        return (lambda a: a.T.reshape(d, n, hd), lambda a: a.reshape(d, n * hd).T)

    def bias(n):  # [n*hd] <-> [n, hd]
        return (lambda a: a.reshape(n, hd), lambda a: a.reshape(n * hd))

    out_heads = (lambda a: a.T.reshape(h, hd, d), lambda a: a.reshape(h * hd, d).T)
    specs = {"model.embed_tokens.weight": TensorSpec(("embed",), (v, d), *ident),
             "model.norm.weight": TensorSpec(("final_norm", "scale"), (d,), *ident)}
    if not cfg.tie_embeddings:
        specs["lm_head.weight"] = TensorSpec(("lm_head",), (v, d), *transpose)
    for i in range(cfg.num_layers):
        p, ours = f"model.layers.{i}.", ("layers", i)
        specs.update({
            p + "input_layernorm.weight": TensorSpec(ours + ("attn_norm", "scale"), (d,), *ident),
            p + "post_attention_layernorm.weight": TensorSpec(ours + ("mlp_norm", "scale"), (d,), *ident),
            p + "self_attn.q_proj.weight": TensorSpec(ours + ("attn", "q"), (h * hd, d), *heads_in(h)),
            p + "self_attn.k_proj.weight": TensorSpec(ours + ("attn", "k"), (k * hd, d), *heads_in(k)),
            p + "self_attn.v_proj.weight": TensorSpec(ours + ("attn", "v"), (k * hd, d), *heads_in(k)),
            p + "self_attn.o_proj.weight": TensorSpec(ours + ("attn", "o"), (d, h * hd), *out_heads),
            p + "mlp.gate_proj.weight": TensorSpec(ours + ("mlp", "gate"), (f, d), *transpose),
            p + "mlp.up_proj.weight": TensorSpec(ours + ("mlp", "up"), (f, d), *transpose),
            p + "mlp.down_proj.weight": TensorSpec(ours + ("mlp", "down"), (d, f), *transpose),
        })
        if cfg.qkv_bias:
            for name, n in (("q", h), ("k", k), ("v", k)):
                specs[p + f"self_attn.{name}_proj.bias"] = TensorSpec(
                    ours + ("attn", f"{name}_bias"), (n * hd,), *bias(n))
    return specs


# Tensors some exporters write that carry no weights we need.
_IGNORABLE_SUFFIXES = ("rotary_emb.inv_freq",)


def check_tensors(cfg: ModelConfig, shapes: Mapping[str, tuple], source: str):
    """Raise CheckpointError naming every missing, unexpected and misshapen tensor."""
    specs = hf_tensor_specs(cfg)
    ignorable = {n for n in shapes if n.endswith(_IGNORABLE_SUFFIXES)}
    if cfg.tie_embeddings:
        ignorable.add("lm_head.weight")  # some tied checkpoints still store the copy
    missing = sorted(set(specs) - set(shapes))
    unexpected = sorted(set(shapes) - set(specs) - ignorable)
    bad_shapes = [(n, specs[n].hf_shape, tuple(shapes[n])) for n in sorted(set(specs) & set(shapes))
                  if tuple(shapes[n]) != specs[n].hf_shape]
    problems = []
    if missing:
        problems.append(f"missing tensors ({len(missing)}): {_clip(missing)}")
    if unexpected:
        problems.append(f"unexpected tensors ({len(unexpected)}): {_clip(unexpected)}")
    for name, want, got in bad_shapes:
        problems.append(f"shape mismatch for {name}: expected {want}, got {got}")
    if problems:
        raise CheckpointError(
            f"{source} does not match the {cfg.model_type} config ({cfg.num_layers} layers, hidden "
            f"{cfg.hidden_size}, vocab {cfg.vocab_size}):\n  " + "\n  ".join(problems)
            + "\nCheck that config.json belongs to these weights.")


def _clip(names, n=12):
    return ", ".join(names[:n]) + (f", ... (+{len(names) - n} more)" if len(names) > n else "")


def abstract_model(cfg: ModelConfig) -> Transformer:
    """The module tree with ShapeDtypeStruct leaves: no random init cost before loading."""
    return nnx.eval_shape(lambda: Transformer(cfg, rngs=nnx.Rngs(0)))


def _variable(model, path):
    node = model
    for part in path:
        node = node[part] if isinstance(part, int) else getattr(node, part)
    return node


def model_from_hf_tensors(cfg: ModelConfig, tensors: Mapping[str, np.ndarray], source: str, *,
                          mesh=None, rules=DEFAULT_RULES) -> Transformer:
    """Build a Transformer from HF-named arrays (a lazy mapping may expose `.shapes`).

    With a `mesh`, each tensor goes straight to its sharding (by `rules`) as it is read: every
    device receives only its slice, and no device ever holds the whole model.
    """
    shapes = getattr(tensors, "shapes", None) or {n: tuple(tensors[n].shape) for n in tensors}
    check_tensors(cfg, shapes, source)
    model = abstract_model(cfg)
    shardings = None if mesh is None else params_shardings(model, mesh, rules)
    dtype = cfg.jnp_param_dtype
    for name, spec in hf_tensor_specs(cfg).items():
        arr = spec.to_ours(np.asarray(tensors[name], dtype=np.float32))
        value = (jnp.asarray(arr, dtype=dtype) if shardings is None else
                 put_sharded(arr.astype(dtype), functools.reduce(operator.getitem, spec.path, shardings)))
        _variable(model, spec.path).set_value(value)
    return model


def hf_tensors_from_model(model: Transformer) -> dict[str, np.ndarray]:
    """HF-named float32 numpy arrays, ready for safetensors / `load_state_dict`."""
    out = {}
    for name, spec in hf_tensor_specs(model.cfg).items():
        arr = np.asarray(jax.device_get(_variable(model, spec.path)[...]).astype(np.float32))
        out[name] = np.ascontiguousarray(spec.to_hf(arr))
    return out
