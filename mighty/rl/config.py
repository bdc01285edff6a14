"""GRPO configs: dataclasses registered with Hydra's ConfigStore, validated in `__post_init__`.

Symbols follow the papers: G completions per prompt (GRPO, Shao et al. 2024), β the KL
coefficient, ε_low / ε_high the asymmetric clip range (DAPO clip-higher, Yu et al. 2025),
μ inner iterations per batch (GRPO), L_max / L_cache the overlong window (DAPO §3.4).

The schema nodes are `grpo/schema` (`GRPOConfig`) and `grpo_schema` (`GRPORunConfig`, the
whole `python -m mighty.rl.train` config); `mighty/conf/grpo.yaml` lists `grpo_schema` first, so a misspelt
key or a wrong type fails at compose time and `__post_init__` catches bad values when the entry point
converts the config to objects.
"""
from __future__ import annotations

import dataclasses
from typing import Any, Dict, List, Optional

from hydra.core.config_store import ConfigStore
from omegaconf import MISSING, DictConfig, OmegaConf

from mighty.rl.advantages import SCALES
from mighty.rl.losses import AGGREGATIONS, KL_ESTIMATORS, POLICY_LOSSES
from mighty.rl.mismatch import CORRECTIONS, LEVELS
from mighty.runtime.config import typed
from mighty.runtime.precision import check_dtype
from mighty.training import OptimConfig

REFERENCES = ("policy_init", "base_student", "teacher")
ADVANTAGES = ("grpo", "rloo")


def _choice(section: str, name: str, value: Any, choices: tuple) -> None:
    if value not in choices:
        raise ValueError(f"{section}.{name}={value!r}; choose one of {list(choices)}")


def _positive(section: str, **values: float) -> None:
    for name, v in values.items():
        if not v > 0:
            raise ValueError(f"{section}.{name} must be > 0, got {v}")


@dataclasses.dataclass
class RolloutConfig:
    """How completions are sampled (`grpo.rollout`)."""

    max_new_tokens: int = 128  # L_max: completion budget; shapes are [B, L_max]
    temperature: float = 1.0  # sampling temperature of the behaviour policy (0 = greedy)
    top_k: int = 0  # 0 = off
    top_p: float = 1.0  # 1 = off
    max_prompt_len: int = 256  # longer prompts are left-truncated (the question is at the end)
    min_prompt_width: int = 0  # prompt batches are padded to at least this width: one compiled shape
                               # (sampler, π_ref, update) when every prompt fits; 0: bucket only
    mask_truncated: bool = False  # drop completions without EOS from the loss (DAPO overlong filtering)
    overlong_buffer: int = 0  # L_cache: soft overlong punishment window; 0 disables it
    overlong_penalty: float = 1.0  # penalty at length L_max, linear from 0 at L_max − L_cache

    def __post_init__(self):
        s = "grpo.rollout"
        _positive(s, max_new_tokens=self.max_new_tokens, max_prompt_len=self.max_prompt_len)
        if self.min_prompt_width < 0:
            raise ValueError(f"{s}.min_prompt_width must be ≥ 0 (0 = off), got {self.min_prompt_width}")
        if self.temperature < 0:
            raise ValueError(f"{s}.temperature must be ≥ 0 (0 = greedy), got {self.temperature}")
        if self.top_k < 0 or not 0 < self.top_p <= 1:
            raise ValueError(f"{s}: top_k must be ≥ 0 and top_p in (0, 1]; got {self.top_k}, {self.top_p}")
        if not 0 <= self.overlong_buffer < self.max_new_tokens:
            raise ValueError(f"{s}.overlong_buffer (L_cache={self.overlong_buffer}) must be in "
                             f"[0, max_new_tokens={self.max_new_tokens})")
        if self.overlong_penalty < 0:
            raise ValueError(f"{s}.overlong_penalty must be ≥ 0, got {self.overlong_penalty}")


@dataclasses.dataclass
class MismatchConfig:
    """Sampler–trainer mismatch: what is logged and how it is corrected (`grpo.mismatch`,
    rl/mismatch.py). w = π_trainer/π_sampler of the sampled tokens, from raw log-probs."""

    correction: str = "none"  # none | tis (truncated IS: min(w, C)) | mis (masked IS: drop w ∉ [floor, C])
    level: str = "token"  # token: w_t | sequence: Π_t w_t | geometric: (Π_t w_t)^(1/|y|)
    cap: float = 2.0  # C: the TIS truncation / the MIS upper bound
    floor: float = 0.0  # MIS lower bound on w (0: none)
    thresholds: List[float] = dataclasses.field(default_factory=lambda: [0.1, 1.0])  # |log w| levels logged as fractions

    def __post_init__(self):
        s = "grpo.mismatch"
        _choice(s, "correction", self.correction, CORRECTIONS)
        _choice(s, "level", self.level, LEVELS)
        if not self.cap > 1 or not 0 <= self.floor < 1:
            raise ValueError(f"{s}: cap (C) must be > 1 and floor in [0, 1); got {self.cap}, {self.floor}")
        if any(not t > 0 for t in self.thresholds):
            raise ValueError(f"{s}.thresholds must all be > 0, got {list(self.thresholds)}")


@dataclasses.dataclass
class GRPOOptimConfig(OptimConfig):
    """`grpo.optim`: the shared optimizer config (training.OptimConfig) with RL defaults: a
    small constant learning rate after warmup, no weight decay, Adam β2 = 0.99."""

    lr: float = 1e-6
    warmup_steps: int = 10
    schedule: str = "constant"
    min_lr_ratio: float = 0.0
    weight_decay: float = 0.0
    b2: float = 0.99


@dataclasses.dataclass
class GRPOConfig:
    """The algorithm (`grpo`). Defaults: DAPO-style token aggregation and clip-higher."""

    num_generations: int = 8  # G: completions per prompt (the group)
    prompts_per_step: int = 8  # prompts per batch; the batch holds prompts_per_step·G completions
    mu: int = 1  # μ: optimizer updates per rollout batch (old log-probs stored when μ > 1)
    beta: float = 0.04  # β: weight of KL(π_θ ‖ π_ref); 0 skips the reference model
    eps_low: float = 0.2  # ε_low: ratio clipped below at 1 − ε_low
    eps_high: float = 0.28  # ε_high: ratio clipped above at 1 + ε_high (clip-higher)
    kl_estimator: str = "k3"  # k1 | k2 | k3 (Schulman's estimators of KL(π_θ ‖ π_ref))
    loss_agg: str = "token"  # token (DAPO) | sequence (GRPO) | dr_grpo (constant normaliser L_max)
    advantage: str = "grpo"  # grpo: (r − mean)/σ | rloo: leave-one-out baseline
    adv_scale: str = "group"  # σ for advantage=grpo: group | batch | none (Dr. GRPO)
    entropy_coef: float = 0.0  # c_H: entropy bonus weight (entropy is logged either way)
    # policy-loss variant (rl/losses.py): ppo (clipped, GRPO/DAPO) | gspo (sequence ratio
    # s_i = exp(mean_t log ρ_t), Zheng et al. 2025) | cispo (sg(clip(ρ))·A·log π, MiniMax-M1)
    policy_loss: str = "ppo"
    dual_clip_c: float = 0.0  # c: dual-clip bound c·A for A < 0 (Ye et al. 2020); > 1 enables, 0 off
    # ρ_H: only the top-ρ_H share of high-entropy tokens gets policy gradient (Wang et al. 2025:
    # 0.2); the quantile is taken over each microbatch's tokens (over the batch when M = 1)
    top_entropy_rho: float = 1.0
    flat_group_kl: bool = True  # false: rows of zero-variance groups (A = 0) also carry no KL gradient
    dynamic_sampling: bool = False  # DAPO: drop groups with std(r) = 0 and refill with fresh prompts
    ds_max_rounds: int = 3  # extra rollout rounds allowed to refill dropped groups
    ds_min_std: float = 1e-6  # a group with reward std ≤ this counts as zero-variance
    reference: str = "policy_init"  # π_ref: policy_init (the KD student) | base_student | teacher
    reference_path: str = ""  # checkpoint/source for base_student or teacher ("" = from config)
    # scale knobs (docs/scale.md): gradient accumulation over row blocks of the update batch;
    # the π_ref log-prob pass in chunks of ref_chunk rows (0 = all rows at once), with π_ref's
    # weights kept in pinned host memory between passes (ref_offload)
    micro_batches: int = 1
    ref_chunk: int = 0
    ref_offload: bool = False
    # run each group's prompt through the model once in the π_ref / π_old / update passes and
    # let its G completions share that prompt's keys/values (same log-probs and gradients up
    # to float rounding, fewer FLOPs; models.transformer.completion_hidden). false: one pass per row
    share_prompt: bool = True
    rollout: RolloutConfig = dataclasses.field(default_factory=RolloutConfig)
    mismatch: MismatchConfig = dataclasses.field(default_factory=MismatchConfig)
    optim: GRPOOptimConfig = dataclasses.field(default_factory=GRPOOptimConfig)

    def __post_init__(self):
        s = "grpo"
        if self.num_generations < 2:
            raise ValueError(f"{s}.num_generations (G) must be ≥ 2 for group-relative "
                             f"advantages, got {self.num_generations}")
        _positive(s, prompts_per_step=self.prompts_per_step, mu=self.mu)
        if self.beta < 0 or self.eps_low < 0 or self.eps_high < 0 or self.entropy_coef < 0:
            raise ValueError(f"{s}: beta, eps_low, eps_high and entropy_coef must be ≥ 0")
        if self.eps_low >= 1:
            raise ValueError(f"{s}.eps_low must be < 1 (the ratio floor 1 − ε_low must stay > 0), "
                             f"got {self.eps_low}")
        _choice(s, "kl_estimator", self.kl_estimator, KL_ESTIMATORS)
        _choice(s, "loss_agg", self.loss_agg, AGGREGATIONS)
        _choice(s, "advantage", self.advantage, ADVANTAGES)
        _choice(s, "adv_scale", self.adv_scale, SCALES)
        _choice(s, "reference", self.reference, REFERENCES)
        _choice(s, "policy_loss", self.policy_loss, POLICY_LOSSES)
        if self.dual_clip_c and (self.dual_clip_c <= 1 or self.policy_loss != "ppo"):
            raise ValueError(f"{s}.dual_clip_c (c) must be > 1 and needs policy_loss=ppo; got "
                             f"{self.dual_clip_c} with policy_loss={self.policy_loss} (0 = off)")
        if not 0 < self.top_entropy_rho <= 1:
            raise ValueError(f"{s}.top_entropy_rho (ρ_H) must be in (0, 1], got {self.top_entropy_rho}")
        rows = self.prompts_per_step * self.num_generations
        if self.micro_batches < 1 or rows % self.micro_batches:
            raise ValueError(f"{s}.micro_batches={self.micro_batches} must be ≥ 1 and divide "
                             f"prompts_per_step·G = {rows}")
        if self.ref_chunk < 0:
            raise ValueError(f"{s}.ref_chunk must be ≥ 0 (0 = one pass), got {self.ref_chunk}")
        if self.ds_max_rounds < 0 or self.ds_min_std < 0:
            raise ValueError(f"{s}: ds_max_rounds and ds_min_std must be ≥ 0")
        if isinstance(self.rollout, dict):  # plain construction from a dict
            self.rollout = RolloutConfig(**self.rollout)
        if isinstance(self.optim, dict):
            self.optim = GRPOOptimConfig(**self.optim)
        if isinstance(self.mismatch, dict):
            self.mismatch = MismatchConfig(**self.mismatch)

    @property
    def batch_size(self) -> int:
        """N = prompts_per_step · G completions per optimizer batch."""
        return self.prompts_per_step * self.num_generations


PROMPT_ORDERS = ("random", "balanced")


@dataclasses.dataclass
class TrainConfig:
    """The host loop (`train`): budget, logging, evaluation, checkpoints."""

    steps: int = 200  # rollout batches (each followed by μ optimizer updates)
    log_every: int = 1
    table_every: int = 10  # sample table (W&B table + samples.jsonl) every N steps; 0 = never
    table_rows: int = 8
    eval_every: int = 25  # held-out composite reward every N steps (and at 0 and the end); 0 = never
    eval_prompts: int = 32  # size of the fixed held-out prompt set
    eval_split: str = "heldout"  # data split of the held-out prompts (data.load_prompts)
    eval_greedy: bool = True  # greedy decoding; else one fixed-key sample per prompt
    eval_bootstrap: int = 1000  # bootstrap resamples for the 95% CI
    ckpt_every: int = 25  # 0 = only the final checkpoint
    ckpt_keep: int = 2
    resume: bool = True  # continue from the latest checkpoint in run_dir if there is one
    progress: bool = True  # tqdm progress bar
    train_split: str = "train"  # data split of the training prompts
    # order of the training prompts: "random" = a fresh seeded permutation per epoch; "balanced" =
    # data.selection.balanced_order (safety issues and out-of-scope topics first, then issues
    # round-robin), the same order every epoch. The split is ~94 % in-scope, so a few random
    # batches rarely show a safety or out-of-scope prompt, a third each of the scored eval.
    prompt_order: str = "random"

    def __post_init__(self):
        if self.prompt_order not in PROMPT_ORDERS:
            raise ValueError(f"train.prompt_order must be one of {PROMPT_ORDERS}, got "
                             f"{self.prompt_order!r}")
        _positive("train", steps=self.steps, eval_prompts=self.eval_prompts,
                  eval_bootstrap=self.eval_bootstrap, log_every=self.log_every)
        for name in ("table_every", "eval_every", "ckpt_every", "table_rows"):
            if getattr(self, name) < 0:
                raise ValueError(f"train.{name} must be ≥ 0, got {getattr(self, name)}")
        _positive("train", ckpt_keep=self.ckpt_keep)


@dataclasses.dataclass
class PolicyConfig:
    """Where π_θ (and, for reference=policy_init, π_ref) starts (`policy`)."""

    source: str = MISSING  # the KD student: a models.save_checkpoint dir (kd run's output), HF dir, .gguf, packaged name, or "random"
    tokenizer: str = ""  # "" = the checkpoint's own tokenizer; else any load_pretrained source or a tokenizer dir
    dtype: str = "float32"
    # mixed precision (bfloat16 activations, or "auto": bf16 where fast, runtime.precision); None: dtype
    compute_dtype: Optional[str] = None
    model: Optional[Dict[str, Any]] = None  # source="random" (tests): ModelConfig fields
    seed: int = 0  # source="random": init seed

    def __post_init__(self):
        if self.source == "random" and not self.model:
            raise ValueError("policy.model must give ModelConfig fields when policy.source='random'")
        if self.source == "random" and not self.tokenizer:
            raise ValueError("policy.tokenizer is required when policy.source='random'")
        check_dtype("policy.dtype", self.dtype)
        check_dtype("policy.compute_dtype", self.compute_dtype, optional=True)


@dataclasses.dataclass
class GRPORunConfig:
    """Top level of `mighty/conf/grpo.yaml` (`python -m mighty.rl.train`). Groups owned by other stages
    (student, teacher, reward, judge, data) stay untyped here and are checked by their owners."""

    seed: int = 0  # root of the PRNG streams init/data/rollout/update/eval
    name: str = "default"  # experiment name: run name grpo__{name}__{seed}__{time}
    run_dir: Optional[str] = None  # None: Hydra's run dir
    output: Optional[str] = None  # final policy checkpoint; None: <run_dir>/policy
    data_dir: Optional[str] = None  # `python -m mighty.data.build` output; None: the default build in memory
    # the label stage's cache: the teacher's answer lengths become LengthPenalty's
    # reference_tokens (rl.lengths); None: the length reward's fixed target_tokens
    label_cache: Optional[str] = None
    grpo: GRPOConfig = dataclasses.field(default_factory=GRPOConfig)
    train: TrainConfig = dataclasses.field(default_factory=TrainConfig)
    policy: PolicyConfig = dataclasses.field(default_factory=PolicyConfig)
    student: Any = None  # conf/student: the KD student's recipe, recorded for lineage
    teacher: Any = None  # conf/teacher: π_ref when grpo.reference=teacher
    reward: Any = None  # conf/reward: the composite, built with hydra.utils.instantiate
    judge: Any = None  # conf/judge: interpolated into reward components
    logger: Any = None  # conf/logger: {wandb: None | wandb.init kwargs}
    mesh: Any = None


def register() -> None:
    cs = ConfigStore.instance()
    cs.store(group="grpo", name="schema", node=GRPOConfig)
    cs.store(name="grpo_schema", node=GRPORunConfig)


def load_run_config(cfg: DictConfig | dict) -> GRPORunConfig:
    """Composed config → validated dataclasses (runs every `__post_init__`).

    The untyped groups (reward, judge, ...) stay DictConfigs so `instantiate` still sees
    their `_target_`s and interpolations."""
    if not isinstance(cfg, DictConfig):
        cfg = OmegaConf.create(cfg)
    run = typed(GRPORunConfig, cfg)  # the code every stage builds its config with
    for name in ("student", "teacher", "reward", "judge", "logger", "mesh"):
        setattr(run, name, cfg.get(name))
    return run


register()
