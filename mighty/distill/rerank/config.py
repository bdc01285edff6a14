"""Typed config of the reranker stage (`RerankConfig`), registered in Hydra's ConfigStore.

Paper symbol: α weighs the supervised relevance term against the MSE to the teacher,
loss = α · supervised + (1 − α) · MSE(σ(student logit), teacher p(Yes)).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

from hydra.core.config_store import ConfigStore

SUPERVISED = ("listwise", "bce")
CONFIDENCE = ("softmax", "sigmoid")


@dataclass
class RerankConfig:
    k: int = 10  # BM25 candidates per question (what the reranker reorders; NDCG@k)
    alpha: float = 0.5  # α: weight of the supervised term
    supervised: str = "listwise"  # "listwise": softmax CE over the k candidates; "bce": per pair
    teacher_questions: int = 32  # training questions the teacher scores (its cost bounds the stage)
    teacher_batch: int = 10  # prompts per teacher forward pass
    teacher_max_tokens: int = 256  # a longer teacher prompt has its entry text cut
    teacher_eval: bool = True  # also score the eval candidates with the teacher (BM25 + teacher row)
    train_questions: int = 0  # training questions for the student (0: all of the training split)
    teacher_frac: float = 0.5  # share of each batch drawn from teacher-scored questions
    steps: int = 400
    eval_every: int = 25  # val NDCG@10 every this many steps; the best parameters are kept
    batch_size: int = 64  # questions per step
    lr: float = 3e-3
    weight_decay: float = 1e-4
    train_encoder: bool = True  # False: the hashed embedding stays random (see distill.rerank.step.trainable)
    mask_unseen: bool = True  # leave entries no training question is about out of the loss (stage._known_mask)
    hidden: int = 128
    dim: int = 128
    buckets: int = 32768
    max_ids: int = 512  # n-gram ids per text: a 30-word question has ~300; 192 cut its last words off
    confidence: str = "sigmoid"  # RerankedRetriever confidence: σ(top logit) (eval ECE 0.086) or softmax over the k logits (0.241)
    eval_limit: int = 0  # first N in-scope eval cases only (0: all); tests
    n_boot: int = 2000

    def __post_init__(self):
        if self.supervised not in SUPERVISED:
            raise ValueError(f"rerank.supervised must be one of {SUPERVISED}, got {self.supervised!r}")
        if self.confidence not in CONFIDENCE:
            raise ValueError(f"rerank.confidence must be one of {CONFIDENCE}, got {self.confidence!r}")
        if not 0.0 <= self.alpha <= 1.0:
            raise ValueError(f"rerank.alpha={self.alpha} must lie in [0, 1]")
        if not 0.0 <= self.teacher_frac < 1.0:
            raise ValueError(f"rerank.teacher_frac={self.teacher_frac} must lie in [0, 1)")
        for name in ("k", "teacher_batch", "steps", "eval_every", "batch_size", "hidden", "dim", "max_ids", "n_boot"):
            if getattr(self, name) < 1:
                raise ValueError(f"rerank.{name} must be >= 1, got {getattr(self, name)}")
        if self.k < 2:
            raise ValueError(f"rerank.k must be >= 2 (one candidate leaves nothing to rerank), got {self.k}")
        if min(self.teacher_questions, self.train_questions, self.eval_limit) < 0 or self.lr <= 0:
            raise ValueError("rerank: question counts must be >= 0 and lr > 0")


@dataclass
class RerankRunConfig:
    rerank: RerankConfig = field(default_factory=RerankConfig)
    teacher_source: str = "smollm2-135m-instruct"  # packaged name, .gguf, HF dir, or "none" (α → supervised only)
    seed: int = 0
    run_dir: Optional[str] = None  # null: Hydra's run dir


def register() -> None:
    cs = ConfigStore.instance()
    cs.store(group="rerank", name="schema", node=RerankConfig)
    cs.store(name="rerank_schema", node=RerankRunConfig)


register()
