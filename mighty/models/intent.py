"""The distilled intent router: hashed n-gram bag (models.textbag) → small MLP → intent logits.

Kept free of distill/ and torch because the demo server imports it: loading is safetensors +
JSON, featurising is pure Python, the forward pass one jitted gather-mean-MLP.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, Sequence

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from mighty.models.artefact import load_into, read_doc, save_module
from mighty.models.textbag import BagConfig, BagEncoder, featurize

WEIGHTS, CONFIG = "model.safetensors", "intent.json"


class IntentClassifier(nnx.Module):
    """`model(ids_bl) -> logits_bc`."""

    def __init__(self, bag: BagConfig, n_classes: int, hidden: int, *, rngs: nnx.Rngs):
        if n_classes < 2 or hidden < 1:
            raise ValueError(f"IntentClassifier: n_classes >= 2 and hidden >= 1 required, got {n_classes}, {hidden}")
        self.encoder = BagEncoder(bag, rngs=rngs)
        self.hidden = nnx.Linear(bag.dim, hidden, rngs=rngs)
        self.out = nnx.Linear(hidden, n_classes, rngs=rngs)

    def __call__(self, ids_bl: jnp.ndarray) -> jnp.ndarray:
        return self.out(jax.nn.relu(self.hidden(self.encoder(ids_bl))))


@nnx.jit
def _proba(model: IntentClassifier, ids_bl: jnp.ndarray) -> jnp.ndarray:
    return jax.nn.softmax(model(ids_bl), axis=-1)


@dataclasses.dataclass
class IntentRouter:
    """A loaded router: `labels` and `predict_proba(texts) -> [N, C]` (rows sum to 1)."""

    model: IntentClassifier
    bag: BagConfig
    labels: list[str]
    meta: dict

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        if not len(texts):
            return np.zeros((0, len(self.labels)), np.float32)
        return np.asarray(_proba(self.model, jnp.asarray(featurize(list(texts), self.bag))))


def save_intent_model(out_dir: str | Path, model: IntentClassifier, meta: dict[str, Any]) -> Path:
    """Write `<out_dir>/model.safetensors` + `intent.json`. `meta` must hold `labels` (class
    order of the logits), `bag` (BagConfig fields) and `hidden`; anything else is kept as is."""
    for key in ("labels", "bag", "hidden"):
        if key not in meta:
            raise ValueError(f"save_intent_model: meta needs {key!r} (got keys {sorted(meta)})")
    return save_module(out_dir, model, meta, weights=WEIGHTS, meta=CONFIG)


def load_intent_model(model_dir: str | Path) -> IntentRouter:
    meta = read_doc(model_dir, weights=WEIGHTS, meta=CONFIG, train_with="python -m mighty.distill.intent.train")
    bag = BagConfig(**meta["bag"])
    model = load_into(IntentClassifier(bag, len(meta["labels"]), int(meta["hidden"]), rngs=nnx.Rngs(0)),
                      model_dir, weights=WEIGHTS)
    return IntentRouter(model, bag, list(meta["labels"]), meta)
