"""Train one intent student (hard / soft / blend are the same loop with a different α)."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx

from mighty.models.intent import IntentClassifier
from mighty.models.textbag import BagConfig, featurize

from .losses import blended


@dataclass
class StudentConfig:
    buckets: int = 1 << 16
    dim: int = 64
    hidden: int = 64
    epochs: int = 20
    batch_size: int = 64
    lr: float = 3e-3
    weight_decay: float = 1e-4
    temperature: float = 2.0  # KD temperature T of the soft term
    max_ids: int = 256

    def __post_init__(self):
        if self.epochs < 1 or self.batch_size < 1 or self.lr <= 0 or self.temperature <= 0:
            raise ValueError(f"intent.student: epochs, batch_size >= 1 and lr, temperature > 0, got {self}")

    def bag(self) -> BagConfig:
        return BagConfig(buckets=self.buckets, dim=self.dim, max_ids=self.max_ids)


def _step_fn(alpha: float, temperature: float):
    @nnx.jit
    def step(model, opt, ids_bl, labels_b, soft_bc):
        def loss_fn(m):
            return blended(m(ids_bl), labels_b, soft_bc, alpha=alpha, temperature=temperature)
        loss, grads = nnx.value_and_grad(loss_fn)(model)
        opt.update(model, grads)
        return loss
    return step


def train_student(texts: list[str], labels_n: np.ndarray, soft_nc: np.ndarray, n_classes: int,
                  cfg: StudentConfig, *, alpha: float, seed: int) -> tuple[IntentClassifier, list[float]]:
    """-> (model, per-epoch mean loss). Deterministic per seed: init and batch order both
    derive from it; the last partial batch is dropped so every step has one shape."""
    if not 0 <= alpha <= 1:
        raise ValueError(f"train_student: alpha must be in [0, 1], got {alpha}")
    ids_nl = featurize(texts, cfg.bag())
    model = IntentClassifier(cfg.bag(), n_classes, cfg.hidden, rngs=nnx.Rngs(seed))
    opt = nnx.Optimizer(model, optax.adamw(cfg.lr, weight_decay=cfg.weight_decay), wrt=nnx.Param)
    step = _step_fn(float(alpha), float(cfg.temperature))
    rng = np.random.default_rng(seed)
    bs = min(cfg.batch_size, len(texts))
    losses = []
    for _ in range(cfg.epochs):
        order = rng.permutation(len(texts))
        ep = [float(step(model, opt, jnp.asarray(ids_nl[b]), jnp.asarray(labels_n[b]),
                         jnp.asarray(soft_nc[b], jnp.float32)))
              for b in (order[i:i + bs] for i in range(0, len(order) - bs + 1, bs))]
        losses.append(float(np.mean(ep)))
    return model, losses


def student_meta(cfg: StudentConfig, labels: list[str], **extra) -> dict:
    return {"labels": list(labels), "bag": dataclasses.asdict(cfg.bag()), "hidden": cfg.hidden, **extra}
