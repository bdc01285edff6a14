"""The evaluation suite: one function per system, one per comparison.

`judge_validity` runs the judge over canaries (evals.canaries) before its scores are used: an
INVALID judge leaves `accuracy` (accuracy = rubric) and its win rates are reported apart.
`evaluate_system` answers the frozen eval set greedily and scores every item (rubric,
judge, completeness, utility, behaviour, hallucination, language), then measures retention
and efficiency. `compare_systems` adds what needs two systems (win rates, the fraction of the
teacher gap each student recovers) and `paired_differences` the headline: per-case paired
differences between systems with bootstrap CIs and the minimum detectable difference.
Every aggregate carries a bootstrap 95% CI.
"""
from __future__ import annotations

import logging
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Iterator, Mapping, Sequence

import numpy as np

from mighty.evals import canaries, efficiency, pairwise, retention
from mighty.evals.answers import answer_questions
from mighty.runtime.ci import (Estimate, bootstrap, bootstrap_indices, gap_recovered, min_detectable_difference,
                      paired_bootstrap, resolved)
from mighty.evals.hallucination import hallucinated
from mighty.evals.metrics import behaviour, paired_wins, precision_recall, utility
from mighty.rewards.lang import LangQuality
from mighty.rewards.tech import TechRubric

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
    """Knobs of the eval suite (`mighty/conf/eval/*.yaml`)."""

    max_new_tokens: int = 160
    end_at_repeat: bool = True        # an answer ends at its first repeated line or sentence, as labels do
    batch_size: int = 16
    limit: int | None = None          # first N eval cases per bucket (smoke runs); None = all
    generic_docs: int = 128           # generic-corpus documents for perplexity
    generic_max_len: int = 128
    general_qa: int = 50              # general-QA sanity items (0: off)
    judge: bool = True                # tech judge score + pairwise win rates
    w_judge: float = 0.5              # accuracy = (1 − w) · rubric + w · judge / 10
    pairwise: str = "final"           # win rates for: all students | the final one | none
    invalid_judge: str = "show"       # a judge the canaries find INVALID: show (score, report apart) | skip
    judge_max_prompt_tokens: int = 768
    teacher_dtype: str | None = None  # the teacher's dtype as a system and as the judge (None: teacher.dtype)
    student_dtype: str | None = None  # every student's dtype as a system: parameters and compute (None:
                                      # as trained). The teacher is served in bf16 where that is fast, so
                                      # students answer in the same dtype for a like-for-like cost
    canary: canaries.CanaryConfig | Mapping = canaries.CanaryConfig()  # judge validation (evals.canaries)
    cost: Mapping = field(default_factory=lambda: {"price_per_compute_s": 0.0005})  # experiments.routed.CostConfig
    n_boot: int = 1000
    seed: int = 0

    def __post_init__(self):
        if isinstance(self.canary, Mapping):
            object.__setattr__(self, "canary", canaries.CanaryConfig(**self.canary))
        if self.max_new_tokens < 1 or self.batch_size < 1:
            raise ValueError("SuiteConfig: max_new_tokens and batch_size must be >= 1")
        from mighty.runtime.precision import check_dtype

        check_dtype("eval.teacher_dtype", self.teacher_dtype, optional=True)
        check_dtype("eval.student_dtype", self.student_dtype, optional=True)
        if self.invalid_judge not in ("show", "skip"):
            raise ValueError(f"SuiteConfig: invalid_judge must be show|skip, got {self.invalid_judge!r}")
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
                kb: Mapping[str, dict], *, judge=None, w_judge: float = 0.5,
                shown: Sequence[Sequence[dict]] | None = None) -> list[dict]:
    """Per-item scores; pure given the answers (the judge is cached and deterministic).
    `shown`: the KB entries each case's prompt showed (with the gold entry, what an answer
    may draw on without hallucinating); None: the gold entry only. `w_judge` 0 leaves the
    judge out of accuracy (an INVALID judge) while its scores stay in the `judge` column."""
    entries = [kb.get(c["issue_id"]) if c.get("issue_id") else None for c in cases]
    shown = [[] for _ in cases] if shown is None else shown
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
            "hallucination": hallucinated(answers[i], questions[i], [*shown[i], entries[i]]),
            "shown_ids": [e["issue_id"] for e in shown[i]],
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
        "hallucination": _mean_ci(np.array([r.get("hallucination", np.nan) for r in items], np.float64), cfg),
        "grammar": _mean_ci(col("grammar"), cfg),
        "lang": _mean_ci(col("lang"), cfg),
        "length_tokens": _mean_ci(col("tokens"), cfg),
    }
    for target in ("escalate", "decline"):
        for m, est in _pr_ci(items, target, cfg).items():
            out[f"{target}_{m}"] = est
    return out


def evaluate_system(name: str, model, tokenizer, cases: Sequence[dict], kb: Mapping[str, dict],
                    cfg: SuiteConfig, *, judge=None, judge_valid: bool = True, generic_docs: Sequence[str] = (),
                    general_qa: Sequence[dict] = (), grounder=None) -> SystemEval:
    """`grounder` (data.grounding.Grounder) builds each case's prompt as every other stage does;
    None asks the questions closed-book. `judge_valid` False (the canaries found the judge
    INVALID): accuracy is the rubric alone; the judge's scores are kept apart."""
    cases = select_cases(cases, cfg.limit)
    seconds: dict[str, float] = {}
    golds = [kb.get(c["issue_id"]) if c.get("issue_id") else None for c in cases]
    prompts = [c["question"] if grounder is None else grounder.messages(c["question"], gold=g)
               for c, g in zip(cases, golds)]
    shown = [[] if grounder is None else grounder.entries(c["question"], gold=g) or []
             for c, g in zip(cases, golds)]
    with timed(seconds, "answers"):
        ans = answer_questions(model, tokenizer, prompts,
                               max_new_tokens=cfg.max_new_tokens, batch_size=cfg.batch_size,
                               end_at_repeat=cfg.end_at_repeat, seed=cfg.seed, desc=f"eval {name}")
    with timed(seconds, "judge"):
        items = score_items(cases, ans.texts, ans.lengths, kb, judge=judge if cfg.judge else None,
                            w_judge=cfg.w_judge if judge_valid else 0.0, shown=shown)
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
    accuracy, its per-case accuracy win rate over the base student (no judge: 1 above, ½ tie),
    and position-debiased pairwise-judge win rates against the teacher and the base student."""
    t, b = systems[teacher], systems[base]
    students = [n for n in systems if n not in (teacher, base)]
    judged = set(students if cfg.pairwise == "all" else students[-1:] if cfg.pairwise == "final" else [])
    out: dict[str, dict[str, Any]] = {}
    for name in students:
        s = systems[name]
        _check_aligned(s, b)
        row: dict[str, Any] = {
            "gap_recovered": gap_recovered(s.column("accuracy"), b.column("accuracy"), t.column("accuracy"),
                                           n_boot=cfg.n_boot, seed=cfg.seed),
            "win_vs_base_accuracy": bootstrap(paired_wins(s.column("accuracy"), b.column("accuracy")),
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


def _check_aligned(a: SystemEval, b: SystemEval) -> None:
    ids_a, ids_b = [r["case_id"] for r in a.items], [r["case_id"] for r in b.items]
    if ids_a != ids_b:
        raise ValueError(f"paired comparison of {a.name} and {b.name}: they were scored on different cases "
                         f"({len(ids_a)} vs {len(ids_b)}; first difference at "
                         f"{next((x, y) for x, y in zip(ids_a + [None], ids_b + [None]) if x != y)}); "
                         f"rerun both with the same eval config (eval.limit)")


# Per-case metrics of the headline table; recalls are means of "did it" over the cases that expect it.
PAIRED_METRICS = ("accuracy", "rubric", "completeness", "utility", "escalate_recall", "decline_recall",
                  "hallucination", "lang")


def case_values(items: Sequence[dict], metric: str) -> np.ndarray:
    """(n_cases,) per-case values of `metric`, NaN where it does not apply, so that the mean
    over finite values is the summary's number (utility: in-scope cases; a recall: the cases
    whose expected behaviour is its target)."""
    if metric.endswith("_recall"):
        target = metric[: -len("_recall")]
        return np.array([float(r["behaviour"] == target) if r["expected"] == target else np.nan for r in items])
    if metric == "utility":
        return np.array([r["utility"] if r["bucket"] == "in_scope" else np.nan for r in items])
    return np.array([r.get(metric, np.nan) for r in items], np.float64)


def headline_pairs(names: Sequence[str], *, teacher: str = "teacher", base: str = "base_student"
                   ) -> list[tuple[str, str]]:
    """(a, b) for a − b: teacher − base (the gap), each trained stage − its parent, final − teacher."""
    stages = [n for n in ("kd_student", "grpo_student") if n in names]
    pairs = [(teacher, base)]
    parents = [base] + stages
    pairs += [(s, parents[i]) for i, s in enumerate(stages)]
    if stages:
        pairs.append((stages[-1], teacher))
    return [p for p in pairs if p[0] in names and p[1] in names]


def paired_differences(systems: Mapping[str, SystemEval], pairs: Sequence[tuple[str, str]], cfg: SuiteConfig,
                       metrics: Sequence[str] = PAIRED_METRICS) -> list[dict]:
    """One row per (pair, metric): the paired bootstrap CI of mean(a − b) over the cases both
    scored, whether it is resolved (CI excludes 0) and the minimum detectable difference
    (runtime.ci.min_detectable_difference) at this eval's size."""
    rows = []
    for a, b in pairs:
        _check_aligned(systems[a], systems[b])
        for m in metrics:
            va, vb = case_values(systems[a].items, m), case_values(systems[b].items, m)
            if not (np.isfinite(va) & np.isfinite(vb)).any():
                continue
            est = paired_bootstrap(va, vb, n_boot=cfg.n_boot, seed=cfg.seed)
            rows.append({"a": a, "b": b, "metric": m, "diff": est.as_dict(), "resolved": resolved(est),
                         "mdd": min_detectable_difference(va, vb)})
    return rows


def judge_validity(judge, cases: Sequence[dict], kb: Mapping[str, dict], cfg: SuiteConfig) -> dict:
    """The judge on the canaries (pointwise always; pairwise when win rates are on), and the
    verdicts: `{"report": CanaryReport dict, "judge": Validity dict, "pairwise": Validity dict}`."""
    c = cfg.canary
    cans = canaries.build_canaries(cases, kb, n_cases=c.cases, seed=c.seed)
    report = canaries.run_canaries(canaries.judge_scorer(judge), cans, name=judge.judge_id)
    if c.pairwise_cases and cfg.pairwise != "none":
        report.pairwise, report.position_bias = canaries.pairwise_canaries(
            pairwise.judge_preference(judge), cans, n_cases=c.pairwise_cases)
    return {"report": report.as_dict(), "judge": canaries.validity(report, c.bar).as_dict(),
            "pairwise": canaries.validity(report, c.bar, pairwise=True,
                                          max_position_bias=c.max_position_bias).as_dict()}
