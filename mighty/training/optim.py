"""AdamW behind global-norm clipping, linear warmup then constant or cosine decay; the train
state `{"params", "opt_state", "step"}` every trainer checkpoints."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import jax
import jax.numpy as jnp
import optax

SCHEDULES = ("constant", "cosine")
# decaying token rows a batch never sees only shrinks them; 1-D leaves are norms and biases
NO_DECAY_KEYS = ("embed", "lm_head")


@dataclass
class OptimConfig:
    """AdamW with global-norm clipping and a linear warmup (`kd.optim`, `grpo.optim`).

    Stages subclass it only to change defaults (e.g. `rl.config.GRPOOptimConfig`), so every
    field means the same everywhere. Weight decay skips every 1-D leaf (RMSNorm scales,
    biases) and the embedding / head matrices.
    """

    lr: float = 3e-4  # peak learning rate η
    warmup_steps: int = 20  # optimizer updates of linear warmup from 0 to η (0: start at η)
    schedule: str = "cosine"  # after warmup: constant | cosine (to η·min_lr_ratio at the last update)
    min_lr_ratio: float = 0.1
    weight_decay: float = 0.01
    clip_norm: float = 1.0  # max global gradient norm; 0 disables clipping
    b1: float = 0.9
    b2: float = 0.95
    eps: float = 1e-8

    def __post_init__(self):
        owner = type(self).__name__
        if not self.lr > 0 or not self.eps > 0:
            raise ValueError(f"{owner}: lr and eps must be > 0, got lr={self.lr}, eps={self.eps}")
        if self.schedule not in SCHEDULES:
            raise ValueError(f"{owner}.schedule must be one of {SCHEDULES}, got {self.schedule!r}")
        if self.warmup_steps < 0 or self.weight_decay < 0 or self.clip_norm < 0:
            raise ValueError(f"{owner}: warmup_steps, weight_decay and clip_norm must be >= 0, got "
                             f"{self.warmup_steps}, {self.weight_decay}, {self.clip_norm}")
        for name in ("min_lr_ratio", "b1", "b2"):
            v = getattr(self, name)
            if not 0 <= v <= 1 or (name != "min_lr_ratio" and v == 1):
                raise ValueError(f"{owner}.{name}={v} must lie in [0, 1{']' if name == 'min_lr_ratio' else ')'}")


def lr_schedule(cfg: OptimConfig, total_updates: int) -> optax.Schedule:
    """0 → η linearly over `warmup_steps`, then η (constant) or cosine to η·min_lr_ratio at
    update `total_updates`."""
    after = (optax.constant_schedule(cfg.lr) if cfg.schedule == "constant"
             else optax.cosine_decay_schedule(cfg.lr, max(total_updates - cfg.warmup_steps, 1),
                                              alpha=cfg.min_lr_ratio))
    if cfg.warmup_steps == 0:
        return after
    warmup = optax.linear_schedule(0.0, cfg.lr, cfg.warmup_steps)
    return optax.join_schedules([warmup, after], [cfg.warmup_steps])


def decay_mask(params: Any) -> Any:
    """True where AdamW decays: matrices only, and not the token embedding / head."""
    def keep(path, x):
        names = {str(getattr(k, "key", k)) for k in path}
        return x.ndim >= 2 and not names & set(NO_DECAY_KEYS)
    return jax.tree_util.tree_map_with_path(keep, params)


def make_optimizer(cfg: OptimConfig, total_updates: int) -> tuple[optax.GradientTransformation, optax.Schedule]:
    """-> (clip → AdamW with masked decay, its learning-rate schedule)."""
    schedule = lr_schedule(cfg, total_updates)
    adamw = optax.adamw(schedule, b1=cfg.b1, b2=cfg.b2, eps=cfg.eps, weight_decay=cfg.weight_decay,
                        mask=decay_mask)
    tx = optax.chain(optax.clip_by_global_norm(cfg.clip_norm), adamw) if cfg.clip_norm else adamw
    return tx, schedule


def init_state(params: Any, tx: optax.GradientTransformation) -> dict:
    """The train state every trainer steps, checkpoints and shards."""
    return {"params": params, "opt_state": tx.init(params), "step": jnp.zeros((), jnp.int32)}
