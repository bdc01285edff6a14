"""The evaluation suite: one function per system, one per comparison.

`evaluate_system` answers the frozen eval set greedily and scores every item (rubric,
judge, completeness, utility, behaviour, language), then measures retention and efficiency.
`compare_systems` adds what needs two systems (win rates, the fraction of the teacher gap
each student recovers). Every aggregate carries a bootstrap 95% CI.
"""
from __future__ import annotations

import logging
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Iterator, Mapping, Sequence

import numpy as np

from evals import efficiency, pairwise, retention
from evals.answers import answer_questions
from evals.ci import Estimate, bootstrap, bootstrap_indices, gap_recovered
from evals.metrics import behaviour, precision_recall, utility
from rewards.lang import LangQuality
from rewards.tech import TechRubric

log = logging.getLogger(__name__)


@contextmanager
def timed(seconds: dict[str, float], phase: str) -> Iterator[None]:
    """Adds the wall time of the block to `seconds["time_<phase>_s"]` (where eval time goes)."""
    t0 = time.perf_counter()
    try:
        yield
    finally:
        key = f"time_{phase}_s"
        seconds[key] = seconds.get(key, 0.0) + time.perf_counter() - t0


@dataclass(frozen=True)
class SuiteConfig:
    """Knobs of the eval suite (`conf/eval/*.yaml`)."""

    max_new_tokens: int = 160
    batch_size: int = 16
    limit: int | None = None          # first N eval cases per bucket (smoke runs); None = all
    generic_docs: int = 128           # generic-corpus documents for perplexity
    generic_max_len: int = 128
    general_qa: int = 50              # general-QA sanity items (0: off)
    judge: bool = True                # tech judge score + pairwise win rates
    w_judge: float = 0.5              # accuracy = (1 − w) · rubric + w · judge / 10
    pairwise: str = "final"           # win rates for: all students | the final one | none
    judge_max_prompt_tokens: int = 768
    teacher_dtype: str | None = None  # the teacher's dtype as a system and as the judge (None: teacher.dtype)
    n_boot: int = 1000
    seed: int = 0

    def __post_init__(self):
        if self.max_new_tokens < 1 or self.batch_size < 1:
            raise ValueError("SuiteConfig: max_new_tokens and batch_size must be >= 1")
        if self.pairwise not in ("all", "final", "none"):
            raise ValueError(f"SuiteConfig: pairwise must be all|final|none, got {self.pairwise!r}")
        if not 0 <= self.w_judge <= 1:
            raise ValueError(f"SuiteConfig: w_judge must be in [0, 1], got {self.w_judge}")


@dataclass
class SystemEval:
    name: str
    items: list[dict]                         # one row per eval case (answer + every score)
    summary: dict[str, Estimate] = field(default_factory=dict)
    scalars: dict[str, Any] = field(default_factory=dict)   # efficiency, no CI

    def column(self, key: str) -> np.ndarray:
        return np.array([r[key] for r in self.items], dtype=np.float64)


def select_cases(cases: Sequence[dict], limit: int | None) -> list[dict]:
    """All cases, or the first `limit` of each bucket (stable: the file order)."""
    if limit is None:
        return list(cases)
    seen: dict[str, int] = {}
    out = []
    for c in cases:
        if seen.get(c["bucket"], 0) < limit:
            seen[c["bucket"]] = seen.get(c["bucket"], 0) + 1
            out.append(c)
    return out


def score_items(cases: Sequence[dict], answers: Sequence[str], lengths: Sequence[int],
                kb: Mapping[str, dict], *, judge=None, w_judge: float = 0.5) -> list[dict]:
    """Per-item scores; pure given the answers (the judge is cached and deterministic)."""
    entries = [kb.get(c["issue_id"]) if c.get("issue_id") else None for c in cases]
    expected = [c["expected"] for c in cases]
    questions = [c["question"] for c in cases]
    rubric, rinfo = TechRubric()(questions, list(answers), kb_entry=entries, expected=expected)
    lang, linfo = LangQuality()(questions, list(answers), kb_entry=entries)
    judged = (judge.score_batch(questions, list(answers), kb_entries=entries, references=None,
                                aspect="tech") if judge is not None else None)
    rows = []
    for i, c in enumerate(cases):
        acc = rubric[i] if judged is None else (1 - w_judge) * rubric[i] + w_judge * judged[i] / 10
        rows.append({
            "case_id": c["case_id"], "issue_id": c.get("issue_id"), "bucket": c["bucket"], "expected": expected[i],
            "question": questions[i], "answer": answers[i], "tokens": int(lengths[i]),
            "rubric": float(rubric[i]), "judge": float("nan") if judged is None else float(judged[i]),
            "accuracy": float(acc), "completeness": float(rinfo["coverage"][i]),
            "utility": utility(answers[i]), "behaviour": behaviour(answers[i]),
            "grammar": float(linfo["grammar"][i]), "lang": float(lang[i]),
        })
    return rows


def _mean_ci(values: np.ndarray, cfg: SuiteConfig) -> Estimate:
    values = values[np.isfinite(values)]
    if values.size == 0:
        return Estimate(float("nan"), float("nan"), float("nan"), 0)
    return bootstrap(values, n_boot=cfg.n_boot, seed=cfg.seed)


def _pr_ci(items: list[dict], target: str, cfg: SuiteConfig) -> dict[str, Estimate]:
    pred = np.array([r["behaviour"] == target for r in items])
    actual = np.array([r["expected"] == target for r in items])
    return {m: bootstrap_indices(len(items), lambda idx, m=m: precision_recall(pred[idx], actual[idx])[m],
                                 n_boot=cfg.n_boot, seed=cfg.seed)
            for m in ("precision", "recall")}


def summarise(items: list[dict], cfg: SuiteConfig) -> dict[str, Estimate]:
    col = lambda k, rows=items: np.array([r[k] for r in rows], np.float64)  # noqa: E731
    in_scope = [r for r in items if r["bucket"] == "in_scope"]
    out = {
        "accuracy": _mean_ci(col("accuracy"), cfg),
        "rubric": _mean_ci(col("rubric"), cfg),
        "judge": _mean_ci(col("judge"), cfg),
        "completeness": _mean_ci(col("completeness"), cfg),
        "utility": _mean_ci(col("utility", in_scope), cfg) if in_scope else _mean_ci(col("utility"), cfg),
        "grammar": _mean_ci(col("grammar"), cfg),
        "lang": _mean_ci(col("lang"), cfg),
        "length_tokens": _mean_ci(col("tokens"), cfg),
    }
    for target in ("escalate", "decline"):
        for m, est in _pr_ci(items, target, cfg).items():
            out[f"{target}_{m}"] = est
    return out


def evaluate_system(name: str, model, tokenizer, cases: Sequence[dict], kb: Mapping[str, dict],
                    cfg: SuiteConfig, *, judge=None, generic_docs: Sequence[str] = (),
                    general_qa: Sequence[dict] = (), grounder=None) -> SystemEval:
    """`grounder` (data.grounding.Grounder) builds each case's prompt as every other stage does;
    None asks the questions closed-book."""
    cases = select_cases(cases, cfg.limit)
    seconds: dict[str, float] = {}
    prompts = [c["question"] if grounder is None else
               grounder.messages(c["question"], gold=kb.get(c["issue_id"]) if c.get("issue_id") else None)
               for c in cases]
    with timed(seconds, "answers"):
        ans = answer_questions(model, tokenizer, prompts,
                               max_new_tokens=cfg.max_new_tokens, batch_size=cfg.batch_size,
                               seed=cfg.seed, desc=f"eval {name}")
    with timed(seconds, "judge"):
        items = score_items(cases, ans.texts, ans.lengths, kb, judge=judge if cfg.judge else None,
                            w_judge=cfg.w_judge)
    result = SystemEval(name, items, summarise(items, cfg))
    if generic_docs:
        with timed(seconds, "perplexity"):
            nll, cnt = retention.per_doc_nll(model, tokenizer, generic_docs, max_len=cfg.generic_max_len,
                                             batch_size=cfg.batch_size)
        result.summary["perplexity"] = bootstrap_indices(
            len(nll), lambda idx: retention.perplexity(nll[idx], cnt[idx]), n_boot=cfg.n_boot, seed=cfg.seed)
    if general_qa:
        with timed(seconds, "general_qa"):
            qa, _ = retention.general_qa_scores(model, tokenizer, general_qa, batch_size=cfg.batch_size)
        result.summary["general_qa"] = bootstrap(qa, n_boot=cfg.n_boot, seed=cfg.seed)
    # tokens/s is the answers' own batches net of compile time (no extra generations: on a
    # one-batch eval set those cost the teacher ~1 minute per eval)
    with timed(seconds, "efficiency"):
        stats = {**efficiency.param_stats(model), "tokens_per_s": ans.tokens_per_second,
                 "forward_peak_mb": efficiency.forward_peak_mb(model)}
    result.scalars = {**stats, "dtype": model.cfg.dtype, **seconds}  # size and tokens/s depend on dtype
    log.info("eval %s: %s", name, ", ".join(f"{k[5:-2]} {v:.1f} s" for k, v in seconds.items()))
    return result


def compare_systems(systems: Mapping[str, SystemEval], *, teacher: str, base: str,
                    cfg: SuiteConfig, judge=None, kb: Mapping[str, dict] | None = None
                    ) -> dict[str, dict[str, Any]]:
    """Cross-system numbers: the fraction of the teacher–base gap each student recovers on
    accuracy, and position-debiased win rates against the teacher and the base student."""
    t, b = systems[teacher], systems[base]
    students = [n for n in systems if n not in (teacher, base)]
    judged = set(students if cfg.pairwise == "all" else students[-1:] if cfg.pairwise == "final" else [])
    out: dict[str, dict[str, Any]] = {}
    for name in students:
        s = systems[name]
        row: dict[str, Any] = {"gap_recovered": gap_recovered(
            s.column("accuracy"), b.column("accuracy"), t.column("accuracy"),
            n_boot=cfg.n_boot, seed=cfg.seed)}
        if judge is not None and cfg.judge and name in judged:
            t0 = time.perf_counter()
            for opp_name, opp in (("teacher", t), ("base", b)):
                entries = [(kb or {}).get(r["issue_id"]) if r["issue_id"] else None for r in s.items]
                w = pairwise.win_rate(judge, [r["question"] for r in s.items], entries,
                                      [r["answer"] for r in s.items], [r["answer"] for r in opp.items])
                row[f"win_vs_{opp_name}"] = bootstrap(w, n_boot=cfg.n_boot, seed=cfg.seed)
            log.info("eval %s: pairwise %.1f s", name, time.perf_counter() - t0)
        out[name] = row
    return out
