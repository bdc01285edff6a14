"""The intent teacher: an ensemble of escalation rules, a MiniLM probe and the LLM adjudicator.

Members
- rules: data.escalation.find_escalation over the escalation keywords (the same phrases
  the product routes on), a 0/1 flag per question;
- probe: logistic regression over MiniLM sentence embeddings; on training rows its
  probabilities are out-of-fold (grouped by issue) so soft labels are not memorised ones;
- llm: the packaged LLM reads the intent list and the question; the next-token
  probabilities of the intent numbers "0".."9" (one token each) renormalised over them are
  its distribution, read as rewards/judge_jax.py reads score tokens. It is asked only where
  the probe's top probability is below `llm_threshold`, within `max_llm_calls`.

Combination (configurable, recorded in results): `log_linear` pools
w_probe · log p_probe + w_llm · log p_llm (the LLM term only where it was asked), `linear`
mixes the probabilities; either is then divided by a temperature fitted on the val split
(NLL grid search). A fired rule then overrides: `rule_mass` of the probability goes to
safety_escalation (`rule_override`), or, without override, the rule joins the log-linear
pool with weight `w_rule` as a distribution peaked on safety.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from mighty.data.escalation import DEFAULT_ESCALATION_KEYWORDS, find_escalation

from .intents import DESCRIPTIONS, INTENTS, SAFETY

EPS = 1e-6


@dataclass
class EnsembleConfig:
    combine: str = "log_linear"  # "log_linear" | "linear"
    w_probe: float = 1.0
    w_llm: float = 0.5
    w_rule: float = 2.0  # only when rule_override is false
    rule_override: bool = True
    rule_mass: float = 0.9  # share of probability a fired rule moves onto safety_escalation
    calibrate: bool = True  # fit the pool's temperature on val
    llm_threshold: float = 0.6  # ask the LLM where the probe's top probability is below this
    max_llm_calls: int = 300  # on train + val, the least confident first
    max_llm_eval_calls: int = 100  # on the frozen eval (the teacher system's own predictions)
    llm_batch_size: int = 8
    probe_c: float = 4.0  # inverse L2 strength of the logistic probe
    probe_folds: int = 5

    def __post_init__(self):
        if self.combine not in ("log_linear", "linear"):
            raise ValueError(f"intent.ensemble.combine must be 'log_linear' or 'linear', got {self.combine!r}")
        if not 0 <= self.rule_mass <= 1 or not 0 <= self.llm_threshold <= 1:
            raise ValueError("intent.ensemble: rule_mass and llm_threshold must be in [0, 1]")
        if min(self.w_probe, self.w_llm, self.w_rule) < 0 or self.w_probe + self.w_llm == 0:
            raise ValueError("intent.ensemble: weights must be >= 0 and w_probe + w_llm > 0")
        if self.probe_folds < 2 or min(self.max_llm_calls, self.max_llm_eval_calls) < 0 or self.llm_batch_size < 1:
            raise ValueError("intent.ensemble: probe_folds >= 2, max_llm_calls >= 0, llm_batch_size >= 1")


# ---------------------------------------------------------------- rules
def rule_flags(texts: Sequence[str], keywords: Sequence[str] | None = None) -> np.ndarray:
    """bool [N]: an escalation keyword fires (whole words, as the demo router matches)."""
    kw = list(DEFAULT_ESCALATION_KEYWORDS if keywords is None else keywords)
    return np.array([find_escalation(t, kw) is not None for t in texts], bool)


# ---------------------------------------------------------------- probe
def _fit_probe(x_nd: np.ndarray, y_n: np.ndarray, c: float):
    from sklearn.linear_model import LogisticRegression
    return LogisticRegression(C=c, max_iter=2000).fit(x_nd, y_n)


def _proba_full(clf, x_nd: np.ndarray, n_classes: int) -> np.ndarray:
    """Probabilities over all classes (a fold missing a class gives it ~0)."""
    p = np.full((len(x_nd), n_classes), EPS)
    p[:, clf.classes_] = clf.predict_proba(x_nd)
    return p / p.sum(1, keepdims=True)


def probe_probs(train_x: np.ndarray, train_y: np.ndarray, groups: Sequence[str], others: list[np.ndarray],
                cfg: EnsembleConfig, n_classes: int) -> tuple[np.ndarray, list[np.ndarray], object]:
    """-> (out-of-fold probs for the training rows, probs for each of `others`, full probe)."""
    from sklearn.model_selection import GroupKFold

    oof = np.zeros((len(train_x), n_classes))
    for fit_idx, held_idx in GroupKFold(cfg.probe_folds).split(train_x, train_y, list(groups)):
        oof[held_idx] = _proba_full(_fit_probe(train_x[fit_idx], train_y[fit_idx], cfg.probe_c),
                                    train_x[held_idx], n_classes)
    full = _fit_probe(train_x, train_y, cfg.probe_c)
    return oof, [_proba_full(full, x, n_classes) for x in others], full


# ---------------------------------------------------------------- LLM adjudicator
def adjudicator_messages(question: str, labels: Sequence[str] = INTENTS) -> list[dict]:
    # kept short: the prompt fits the 256-token padding bucket (half the compute of 512)
    menu = "\n".join(f"{i} {DESCRIPTIONS.get(name, name)}" for i, name in enumerate(labels))
    return [{"role": "system", "content": "Classify the support message. Reply with one digit."},
            {"role": "user", "content": f"{menu}\nMessage: {question}\nDigit:"}]


class LLMAdjudicator:
    """p(intent | question) from the LLM's next-token probabilities of the intent numbers,
    cached by question text in `cache_path` (JSON) so reruns do not ask again."""

    def __init__(self, model, tokenizer, labels: Sequence[str] = INTENTS, *, batch_size: int = 8,
                 cache_path: Path | None = None):
        if len(labels) > 10:
            raise ValueError(f"LLMAdjudicator: intent numbers must be single digits, got {len(labels)} intents")
        self.model, self.tok, self.labels, self.batch_size = model, tokenizer, list(labels), batch_size
        ids = [tokenizer.encode(str(i)) for i in range(len(labels))]
        if any(len(t) != 1 for t in ids):
            raise ValueError(f"LLMAdjudicator: each intent number must be one token, got {ids}")
        self.token_ids = np.array([t[0] for t in ids])
        self.cache_path = cache_path
        self.cache: dict[str, list[float]] = (json.loads(cache_path.read_text())
                                              if cache_path and cache_path.exists() else {})
        self.calls = 0

    @staticmethod
    def _key(text: str) -> str:
        return hashlib.sha256(text.encode()).hexdigest()[:20]

    def _forward(self, texts: list[str]) -> np.ndarray:
        import jax.numpy as jnp
        from mighty.rewards.judge_jax import _last_logprobs_fn

        fn, seqs = _last_logprobs_fn(), [self.tok.chat(adjudicator_messages(t, self.labels)) for t in texts]
        out = []
        for i in range(0, len(seqs), self.batch_size):
            chunk = seqs[i:i + self.batch_size]
            chunk = chunk + [chunk[-1]] * (self.batch_size - len(chunk))  # one compiled shape
            ids, mask = self.tok.batch(chunk, padding_side="left", bucket=256)
            lp_bv = np.asarray(fn(self.model, jnp.asarray(ids), jnp.asarray(mask)))[:, 1]
            out.append(lp_bv[:, self.token_ids])
        lp_nc = np.concatenate(out)[: len(texts)]
        p_nc = np.exp(lp_nc - lp_nc.max(1, keepdims=True))
        return p_nc / p_nc.sum(1, keepdims=True)

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        todo = sorted({t for t in texts if self._key(t) not in self.cache})
        step = self.batch_size * 4
        for i in range(0, len(todo), step):  # saved as it goes: a stopped run keeps its answers
            chunk = todo[i:i + step]
            for t, p in zip(chunk, self._forward(chunk)):
                self.cache[self._key(t)] = p.tolist()
            self.calls += len(chunk)
            if self.cache_path:
                from mighty.runtime import atomic_write_json
                atomic_write_json(self.cache_path, self.cache)
        return np.array([self.cache[self._key(t)] for t in texts]).reshape(len(texts), len(self.labels))


def load_llm(teacher_source: str):
    """-> (model, tokenizer), or None for "none". "random": a random tiny decoder with the real
    tokenizer (tests); anything else goes to models.load_pretrained."""
    if teacher_source == "none":
        return None
    from mighty.models import load_pretrained
    if teacher_source == "random":
        from mighty.distill.student import random_model
        from mighty.models.config import ModelConfig
        tok = load_pretrained("smollm2-135m-instruct")[1]
        cfg = ModelConfig(vocab_size=49152, hidden_size=64, num_layers=2, num_heads=4, num_kv_heads=2,
                          head_dim=16, intermediate_size=128, tie_embeddings=True)
        return random_model(cfg, seed=1), tok
    return load_pretrained(teacher_source, dtype="float32")


def ask_llm(probe_p_nc: np.ndarray, texts: Sequence[str], llm: Callable | None, *, threshold: float,
            budget: int | None) -> np.ndarray:
    """LLM distributions where the probe is unsure (NaN rows elsewhere): the least confident
    first, at most `budget` (None: all of them)."""
    out = np.full(probe_p_nc.shape, np.nan)
    if llm is None:
        return out
    top_n = probe_p_nc.max(1)
    idx = np.flatnonzero(top_n < threshold)
    idx = idx[np.argsort(top_n[idx], kind="stable")][: budget]
    if len(idx):
        out[idx] = llm([texts[i] for i in idx])
    return out


# ---------------------------------------------------------------- combination
def pool(probe_p_nc: np.ndarray, llm_p_nc: np.ndarray, rule_n: np.ndarray, cfg: EnsembleConfig,
         temperature: float = 1.0, labels: Sequence[str] = INTENTS) -> np.ndarray:
    """Calibrated soft labels [N, C] from the members (llm rows NaN where not asked)."""
    asked_n1 = ~np.isnan(llm_p_nc).any(1, keepdims=True)
    llm = np.where(asked_n1, llm_p_nc, 1.0)
    w_llm_n1 = cfg.w_llm * asked_n1
    if cfg.combine == "log_linear":
        score_nc = (cfg.w_probe * np.log(np.clip(probe_p_nc, EPS, 1)) + w_llm_n1 * np.log(np.clip(llm, EPS, 1)))
        score_nc = score_nc / (cfg.w_probe + w_llm_n1)
    else:
        mix_nc = (cfg.w_probe * probe_p_nc + w_llm_n1 * llm) / (cfg.w_probe + w_llm_n1)
        score_nc = np.log(np.clip(mix_nc, EPS, 1))
    k = list(labels).index(SAFETY)
    rule_nc = np.zeros_like(probe_p_nc)
    rule_nc[:, k] = 1.0
    if not cfg.rule_override:  # the rule as a pool member, peaked on safety
        rule_logp = np.log(np.clip(np.where(rule_nc > 0, cfg.rule_mass, (1 - cfg.rule_mass) / (len(labels) - 1)), EPS, 1))
        score_nc = score_nc + cfg.w_rule * rule_n[:, None] * rule_logp
    z = score_nc / temperature
    p = np.exp(z - z.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    if cfg.rule_override:
        p = np.where(rule_n[:, None], cfg.rule_mass * rule_nc + (1 - cfg.rule_mass) * p, p)
    return p


def fit_temperature(probe_p_nc, llm_p_nc, rule_n, y_n, cfg: EnsembleConfig) -> float:
    """The pool temperature minimising NLL of the true intents (val split); 1.0 without calibration."""
    if not cfg.calibrate:
        return 1.0
    grid = np.exp(np.linspace(np.log(0.25), np.log(4.0), 41))
    nll = [-np.log(np.clip(pool(probe_p_nc, llm_p_nc, rule_n, cfg, t)[np.arange(len(y_n)), y_n], 1e-12, 1)).mean()
           for t in grid]
    return float(grid[int(np.argmin(nll))])


