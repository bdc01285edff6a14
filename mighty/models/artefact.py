"""Artefacts of the small distilled models (intent router, reranker): a module's parameters as
named safetensors plus a JSON document, loaded into a freshly built module of the same config.

The JSON is written last and atomically, so a directory with a readable JSON holds complete
weights; loading checks every parameter's name and shape, so a config that does not match its
weights fails naming the tensor rather than serving a half-loaded model.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jax.numpy as jnp
import numpy as np
from flax import nnx

from mighty.runtime import atomic_write_json


def _named(model: nnx.Module) -> list[tuple[str, Any]]:
    return [(".".join(map(str, path)), var) for path, var in nnx.to_flat_state(nnx.state(model, nnx.Param))]


def save_module(out_dir: str | Path, model: nnx.Module, doc: dict, *, weights: str, meta: str) -> Path:
    """`<out_dir>/<weights>` (named parameters) + `<out_dir>/<meta>` (`doc`, JSON)."""
    from safetensors.numpy import save_file

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    save_file({name: np.asarray(var.value) for name, var in _named(model)}, str(out / weights))
    atomic_write_json(out / meta, doc)
    return out


def read_doc(model_dir: str | Path, *, weights: str, meta: str, train_with: str) -> dict:
    """The JSON document of an artefact directory; FileNotFoundError says how to make one."""
    d = Path(model_dir)
    if not (d / meta).is_file() or not (d / weights).is_file():
        raise FileNotFoundError(f"{d}: needs {meta} and {weights}; train one with `{train_with}`")
    return json.loads((d / meta).read_text(encoding="utf-8"))


def load_into(model: nnx.Module, model_dir: str | Path, *, weights: str) -> nnx.Module:
    """Copy the saved parameters into `model` (built from the artefact's config)."""
    from safetensors.numpy import load_file

    path = Path(model_dir) / weights
    saved = load_file(str(path))
    named = _named(model)
    missing = [n for n, _ in named if n not in saved]
    wrong = [f"{n} {saved[n].shape} != {var.value.shape}" for n, var in named
             if n in saved and saved[n].shape != var.value.shape]
    if missing or wrong:
        raise ValueError(f"{path} does not match its config: missing {missing}, wrong shape {wrong}")
    for name, var in named:
        var.value = jnp.asarray(saved[name])
    return model
