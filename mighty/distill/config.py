"""Config schema of the KD stage (`python -m mighty.distill.train`), registered in Hydra's ConfigStore.

`mighty/conf/kd.yaml` starts from the `kd_schema` node, so every group file (teacher/, student/, kd/,
logger/) is merged into a typed, closed node: a misspelt key or a wrong type fails at compose
time. Value checks live in `__post_init__` and run when the entry point converts the composed
config (`load_run_config`, through `runtime.config.typed` as the pipeline does).

Paper symbols: T (temperature), α (weight of the hard CE on the teacher's tokens), β
(generalized-JSD interpolation, GKD), λ (fraction of on-policy batches, GKD), τ (temperature
of the domain re-weighting).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

from hydra.core.config_store import ConfigStore
from omegaconf import MISSING, DictConfig

from mighty.distill.losses import DIVERGENCES
from mighty.models.lora import LoRAConfig
from mighty.runtime.config import typed
from mighty.runtime.precision import check_dtype
from mighty.training import OptimConfig

STUDENT_INITS = ("scratch", "pruned", "pretrained")
PRUNE_STRATEGIES = ("even", "first_last_every_k", "influence")
DOMAIN_MODES = ("power", "softmax")


def _positive(owner: str, **values):
    for name, v in values.items():
        if v is None or v <= 0:
            raise ValueError(f"{owner}.{name} must be > 0, got {v}")


def _unit(owner: str, name: str, v: float, *, low_open=False, high_open=False):
    bad = v < 0 or v > 1 or (low_open and v == 0) or (high_open and v == 1)
    if bad:
        lo, hi = "(" if low_open else "[", ")" if high_open else "]"
        raise ValueError(f"{owner}.{name}={v} must lie in {lo}0, 1{hi}")


@dataclass
class TeacherConfig:
    """Where the teacher comes from. Only on-policy batches (λ > 0) run it live; otherwise
    its knowledge arrives through the label cache and only its tokenizer is loaded."""

    source: str = "smollm2-135m-instruct"  # packaged name, .gguf path, HF dir, or "random"
    dtype: str = "float32"  # or "auto": bf16 where this machine computes it fast (runtime.precision)
    # source="random" (tests): ModelConfig fields, the init seed and a logit sharpening factor
    model: Optional[Dict[str, Any]] = None
    seed: int = 0
    logit_scale: float = 1.0

    def __post_init__(self):
        if self.source == "random" and not self.model:
            raise ValueError("teacher.model must give ModelConfig fields when teacher.source='random'")
        _positive("teacher", logit_scale=self.logit_scale)
        check_dtype("teacher.dtype", self.dtype)


@dataclass
class StudentConfig:
    """Student initialisation (distill/student.py).

    init="pruned": keep `keep_layers` of the teacher (or `num_layers` chosen by `strategy`),
    copying embeddings, final norm and head. init="scratch": a fresh `ModelConfig` from the
    teacher's config with `model` overrides. init="pretrained": `models.load_pretrained(source)`.
    """

    init: str = "pruned"
    num_layers: int = 6
    keep_layers: Optional[List[int]] = None
    strategy: str = "even"  # even | first_last_every_k | influence (block influence on KB text)
    every_k: int = 4  # strategy=first_last_every_k
    model: Dict[str, Any] = field(default_factory=dict)
    source: Optional[str] = None
    dtype: str = "float32"
    # Mixed precision: parameters stay `dtype`, activations run in this dtype with float32
    # accumulation (models.with_compute_dtype). None: compute in `dtype`. "auto": bfloat16
    # where the CPU has AMX-BF16/AVX512-BF16 or on an accelerator, else float32
    # (runtime.precision; the default student, conf/student/pruned_smollm2.yaml, says auto).
    compute_dtype: Optional[str] = None
    # LoRA / QLoRA adapters (models/lora.py, conf/student/lora/): train only the adapters on a
    # frozen (optionally quantised) base. None: full fine-tuning. GRPO reads the same node.
    lora: Optional[LoRAConfig] = None

    def __post_init__(self):
        if self.init not in STUDENT_INITS:
            raise ValueError(f"student.init={self.init!r}; choose one of {STUDENT_INITS}")
        if self.strategy not in PRUNE_STRATEGIES:
            raise ValueError(f"student.strategy={self.strategy!r}; choose one of {PRUNE_STRATEGIES}")
        if self.init == "pretrained" and not self.source:
            raise ValueError("student.source must name an HF dir / .gguf / checkpoint when init='pretrained'")
        _positive("student", num_layers=self.num_layers, every_k=self.every_k)
        check_dtype("student.dtype", self.dtype)
        check_dtype("student.compute_dtype", self.compute_dtype, optional=True)
        if self.keep_layers is not None:
            if not self.keep_layers or len(set(self.keep_layers)) != len(self.keep_layers):
                raise ValueError(f"student.keep_layers={self.keep_layers} must be non-empty and without repeats")
            if min(self.keep_layers) < 0:
                raise ValueError(f"student.keep_layers={self.keep_layers} has negative indices")


@dataclass
class AlphaConfig:
    """Per-token α (distill/alpha.py): α_t = clip(α · multiplier, 0, 1) on high-stakes tokens."""

    multiplier: float = 2.0
    patterns: List[str] = field(default_factory=lambda: [r"^\s*\d+[.)]?$"])
    classes: List[str] = field(default_factory=lambda: ["acronym"])
    # extra terms; device types and model families from the knowledge base are always added
    lexicon: List[str] = field(default_factory=list)
    use_kb_lexicon: bool = True

    def __post_init__(self):
        if self.multiplier < 0:
            raise ValueError(f"kd.alpha_boost.multiplier must be >= 0, got {self.multiplier}")


@dataclass
class DomainConfig:
    """Domain-aware sampling (distill/domain.py).

    Every `every` steps the forward KL(teacher ‖ student) per device_type is measured on a
    held-out probe slice of `probe_per_domain` examples per device, and the sampling weight of
    device d becomes w_d ∝ gap_d^(1/τ) ("power") or softmax(gap_d/τ) ("softmax"), mixed with
    uniform by `floor` so no device starves. every=0 keeps uniform-over-examples sampling.
    """

    every: int = 50
    tau: float = 1.0
    mode: str = "power"
    floor: float = 0.1
    probe_per_domain: int = 4

    def __post_init__(self):
        if self.every < 0:
            raise ValueError(f"kd.domain.every must be >= 0 (0 disables), got {self.every}")
        if self.mode not in DOMAIN_MODES:
            raise ValueError(f"kd.domain.mode={self.mode!r}; choose one of {DOMAIN_MODES}")
        _positive("kd.domain", tau=self.tau)
        _unit("kd.domain", "floor", self.floor)
        if self.probe_per_domain < 1:
            raise ValueError("kd.domain.probe_per_domain must be >= 1")


@dataclass
class EvalConfig:
    """Held-out evaluation (distill/evaluate.py) every `every` steps, at step 0 and at the end."""

    every: int = 100
    n_kl: int = 32  # held-out examples for KL / CE (teacher-forced)
    n_generate: int = 16  # held-out questions answered greedily (ROUGE-L, EM, rubric)
    max_new_tokens: int = 128
    batch_size: int = 8

    def __post_init__(self):
        if self.every < 0 or self.n_kl < 1 or self.n_generate < 0:
            raise ValueError("kd.eval: every >= 0, n_kl >= 1, n_generate >= 0")
        _positive("kd.eval", max_new_tokens=self.max_new_tokens, batch_size=self.batch_size)


@dataclass
class KDConfig:
    """The KD algorithm. Loss per completion token (distill/losses.py):
    ℓ = α_t · CE(student, teacher token) + (1 − α_t) · T² · D(p_T ‖ q_T).
    α = 1 is sequence-level KD (hard CE on the teacher's outputs) in the same trainer.
    """

    steps: int = 300
    batch_size: int = 8  # sequences per optimizer step = micro_batch × grad_accum
    grad_accum: int = 1  # microbatches, accumulated by lax.scan inside the step
    temperature: float = 1.0  # T
    alpha: float = 0.5  # α
    divergence: str = "forward_kl"
    beta: float = 0.5  # β of the generalized JSD
    skew: float = 0.1  # skew coefficient of the DistiLLM skew KLs
    lam: float = 0.0  # λ: fraction of on-policy batches (student samples, live teacher)
    on_policy_temperature: float = 1.0
    prompt_buckets: List[int] = field(default_factory=lambda: [192, 256])
    completion_buckets: List[int] = field(default_factory=lambda: [64, 128])
    heldout_frac: float = 0.1  # cache examples kept out of training for eval and the probe
    ckpt_every: int = 50
    log_every: int = 1
    alpha_boost: AlphaConfig = field(default_factory=AlphaConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    domain: DomainConfig = field(default_factory=DomainConfig)
    eval: EvalConfig = field(default_factory=EvalConfig)

    def __post_init__(self):
        _positive("kd", steps=self.steps, batch_size=self.batch_size, grad_accum=self.grad_accum,
                  temperature=self.temperature, log_every=self.log_every)
        if self.batch_size % self.grad_accum:
            raise ValueError(f"kd.batch_size={self.batch_size} must be a multiple of kd.grad_accum={self.grad_accum}")
        if self.divergence not in DIVERGENCES:
            raise ValueError(f"kd.divergence={self.divergence!r}; choose one of {DIVERGENCES}")
        _unit("kd", "alpha", self.alpha)
        _unit("kd", "beta", self.beta, low_open=True, high_open=True)
        _unit("kd", "skew", self.skew, high_open=True)
        _unit("kd", "lam", self.lam)
        _unit("kd", "heldout_frac", self.heldout_frac, high_open=True)
        _positive("kd", on_policy_temperature=self.on_policy_temperature)
        for name in ("prompt_buckets", "completion_buckets"):
            b = list(getattr(self, name))
            if not b or sorted(set(b)) != b or b[0] <= 0:
                raise ValueError(f"kd.{name}={b} must be a strictly increasing list of positive lengths")
        if self.ckpt_every < 0:
            raise ValueError("kd.ckpt_every must be >= 0 (0: only the final checkpoint)")

    @property
    def micro_batch(self) -> int:
        return self.batch_size // self.grad_accum


@dataclass
class LoggerConfig:
    wandb: Optional[Dict[str, Any]] = None  # wandb.init kwargs; None: metrics.jsonl only


@dataclass
class KDRunConfig:
    """Top level of `mighty/conf/kd.yaml`. Inputs and outputs are paths so the pipeline can chain
    stages: `label_cache` (the label stage's output) in, `output` (student checkpoint) out."""

    seed: int = 0
    label_cache: str = MISSING
    kb: Optional[str] = None  # knowledge-base jsonl; None: data.load_kb()'s default
    run_dir: Optional[str] = None  # None: Hydra's output dir
    output: Optional[str] = None  # None: <run_dir>/student
    resume: bool = True  # continue from <run_dir>/ckpt when it holds a checkpoint
    progress: bool = True
    teacher: TeacherConfig = field(default_factory=TeacherConfig)
    student: StudentConfig = field(default_factory=StudentConfig)
    kd: KDConfig = field(default_factory=KDConfig)
    logger: LoggerConfig = field(default_factory=LoggerConfig)
    mesh: Optional[Dict[str, Any]] = None  # conf/mesh (single device for KD on CPU)
    data: Any = None  # conf/data (the data build this run's labels descend from; recorded only)


def register() -> None:
    from mighty.data.config import register as register_data

    register_data()
    cs = ConfigStore.instance()
    cs.store(group="kd", name="schema", node=KDConfig)  # conf/kd/*.yaml only override it
    cs.store(name="kd_schema", node=KDRunConfig)


def load_run_config(cfg: DictConfig | dict) -> KDRunConfig:
    """Composed config → validated dataclasses (runs every `__post_init__`), by the same code
    the pipeline's KD stage builds its config with (runtime.config.typed)."""
    return typed(KDRunConfig, cfg)


def to_dict(cfg: KDRunConfig) -> dict:
    return dataclasses.asdict(cfg)


register()
