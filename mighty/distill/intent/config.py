"""Config schema of the intent router stage (`python -m mighty.distill.intent.train`), registered in
Hydra's ConfigStore like distill/config.py does."""
from __future__ import annotations

from dataclasses import dataclass, field

from .data import DataConfig
from .teacher import EnsembleConfig
from .training import StudentConfig


@dataclass
class IntentConfig:
    data: DataConfig = field(default_factory=DataConfig)
    ensemble: EnsembleConfig = field(default_factory=EnsembleConfig)
    student: StudentConfig = field(default_factory=StudentConfig)
    alpha: float = 0.5  # the blend's weight on CE(hard); hard-only is 1, soft-only 0
    rare_threshold: float = 0.03  # an intent under this share of training rows is "rare"
    latency_n: int = 190  # eval questions timed one by one per student
    teacher_latency_n: int = 30  # ... and for the (much slower) teacher ensemble
    n_boot: int = 2000

    def __post_init__(self):
        if not 0 <= self.alpha <= 1 or not 0 < self.rare_threshold < 1:
            raise ValueError(f"intent: alpha in [0, 1] and rare_threshold in (0, 1), got {self.alpha}, "
                             f"{self.rare_threshold}")
        if self.latency_n < 1 or self.teacher_latency_n < 1:
            raise ValueError("intent: latency_n and teacher_latency_n must be >= 1")


@dataclass
class IntentRunConfig:
    intent: IntentConfig = field(default_factory=IntentConfig)
    seed: int = 0
    teacher_source: str = "smollm2-135m-instruct"  # "none": no LLM member; "random": tiny test LLM
    run_dir: str | None = None  # null: Hydra's run dir


def register() -> None:
    from hydra.core.config_store import ConfigStore

    cs = ConfigStore.instance()
    cs.store(group="intent", name="schema", node=IntentConfig)
    cs.store(name="intent_schema", node=IntentRunConfig)


register()
