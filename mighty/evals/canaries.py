"""Judge canaries: does a scorer rank a known-good answer above known-bad versions of it?

For each chosen in-scope case of the frozen eval, the *reference* is the gold KB entry's steps,
numbered. Each reference gets seven corruptions (`evals.corruptions.CORRUPTIONS`: shuffled,
other_device, scrambled, padded, injected, empty, wrong_fix), all deterministic from a seed.

Any scorer `score(questions, answers, kb_entries) -> array` is run over every canary answer
(`judge_scorer` and `reward_scorers` adapt a judge and the GRPO rewards). Per corruption type
the report gives the share of cases where the reference wins:

  * destructive types (all but `ADDITIVE`) remove or replace content: the reference must
    score strictly above the corruption;
  * additive types (padded, injected) keep every word of the reference and add text: a scorer
    blind to the addition (a tie) is not fooled, one that scores it *above* the reference is.
    (A rubric that reads only the steps ties on them, and must pass.)

plus the Spearman rank correlation of the scorer with the rubric (`rewards.tech.TechRubric`)
over every canary answer and, for a pairwise judge, the same per-type win shares and its
position-bias rate. `validity` turns a report into VALID / INVALID against a configured bar.
"""
from __future__ import annotations

import dataclasses
from typing import Callable, Iterable, Mapping, Sequence

import numpy as np

from mighty.evals.corruptions import ADDITIVE, CORRUPTIONS, case_rng, corrupt, reference_answer
from mighty.rewards.base import call_reward
from mighty.rewards.textproc import words

REFERENCE = "reference"

Scorer = Callable[[list[str], list[str], list[dict | None]], np.ndarray]
# q = P(first answer is better) per item: (questions, kb_entries, first, second) -> (N,)
Preference = Callable[[list[str], list[dict | None], list[str], list[str]], np.ndarray]


@dataclasses.dataclass(frozen=True)
class CanaryConfig:
    """`eval.canary.*`: how a judge is validated before its scores are used."""

    cases: int | None = 12          # in-scope cases canaried (8 judge calls each); None: all
    pairwise_cases: int = 4         # of those, cases the pairwise judge sees (14 prompts each); 0: off
    bar: float = 0.8                # VALID needs every corruption type's pass rate >= bar
    max_position_bias: float = 0.2  # pairwise VALID also needs position bias <= this
    seed: int = 0

    def __post_init__(self):
        if self.cases is not None and self.cases < 1:
            raise ValueError(f"eval.canary.cases must be >= 1 or null (all), got {self.cases}")
        if self.pairwise_cases < 0:
            raise ValueError(f"eval.canary.pairwise_cases must be >= 0, got {self.pairwise_cases}")
        if not (0 <= self.bar <= 1 and 0 <= self.max_position_bias <= 1):
            raise ValueError("eval.canary.bar and max_position_bias must be in [0, 1], got "
                             f"{self.bar} and {self.max_position_bias}")


@dataclasses.dataclass(frozen=True)
class Canary:
    case_id: str
    question: str
    kb_entry: dict
    kind: str      # REFERENCE or one of CORRUPTIONS
    answer: str


# ------------------------------------------------------------------ building the canaries


def canaries_for(items: Iterable[tuple[str, str, dict, str]], kb: Mapping[str, dict], *, seed: int = 0,
                 kinds: Sequence[str] = CORRUPTIONS) -> list[Canary]:
    """Canaries around given answers: each `(case_id, question, kb_entry, answer)` is the
    reference of its group, followed by its corruptions. With the KB's own steps as the answer
    these are the eval's canaries; with a policy's best samples, a check that a reward does not
    prefer their padded or injected versions (`kinds=sorted(ADDITIVE)`)."""
    out = []
    for case_id, question, entry, answer in items:
        out.append(Canary(case_id, question, entry, REFERENCE, answer))
        out += [Canary(case_id, question, entry, k, corrupt(k, answer, entry, kb, case_rng(seed, case_id, k)))
                for k in kinds]
    return out


def choose_cases(cases: Sequence[dict], kb: Mapping[str, dict], n: int | None, seed: int = 0) -> list[dict]:
    """`n` in-scope cases with a KB entry, spread over issues (one per issue before a second
    case of any issue), chosen by a seeded shuffle."""
    pool = [c for c in cases if c.get("bucket") == "in_scope" and c.get("issue_id") in kb]
    if not pool:
        raise ValueError("canaries: no in-scope eval case has a KB entry (check data.load_eval / kb_by_id)")
    case_rng(seed, "cases").shuffle(pool)
    seen: dict[str, int] = {}
    ranked = []
    for i, c in enumerate(pool):
        ranked.append((seen.get(c["issue_id"], 0), i, c))
        seen[c["issue_id"]] = seen.get(c["issue_id"], 0) + 1
    return [c for _, _, c in sorted(ranked, key=lambda t: t[:2])][:n]


def build_canaries(cases: Sequence[dict], kb: Mapping[str, dict], *, n_cases: int | None = None,
                   seed: int = 0) -> list[Canary]:
    """The eval's canaries: reference + every corruption for `n_cases` in-scope cases."""
    chosen = choose_cases(cases, kb, n_cases, seed)
    return canaries_for(((c["case_id"], c["question"], kb[c["issue_id"]], reference_answer(kb[c["issue_id"]]))
                         for c in chosen), kb, seed=seed)


# ------------------------------------------------------------------ scorers


def judge_scorer(judge, aspect: str = "tech") -> Scorer:
    """A `rewards.judge.Judge` as a scorer (its `score_batch` against the KB entry)."""
    return lambda q, a, kb: judge.score_batch(q, a, kb_entries=kb, aspect=aspect)


def reward_fields(canaries: Sequence[Canary], tokenizer=None) -> dict[str, list]:
    """The per-item fields a GRPO reward reads. Completion lengths are the tokenizer's counts
    (pass the policy's tokenizer) or, without one, word counts; each case is one group. The
    case's reference answer plays the teacher's answer (`reference_tokens`, its length)."""
    count = (lambda t: len(tokenizer.encode(t))) if tokenizer is not None else (lambda t: len(words(t)))
    groups = {c: i for i, c in enumerate(dict.fromkeys(x.case_id for x in canaries))}
    reference = {c.case_id: count(c.answer) for c in canaries if c.kind == REFERENCE}
    return {"kb_entry": [c.kb_entry for c in canaries], "expected": ["answer"] * len(canaries),
            "completion_tokens": [count(c.answer) for c in canaries],
            "reference_tokens": [reference.get(c.case_id) for c in canaries],
            "group_ids": np.array([groups[c.case_id] for c in canaries])}


def reward_scores(reward, canaries: Sequence[Canary], *, tokenizer=None) -> dict[str, np.ndarray]:
    """{component: scores} of a reward over the canaries: every component of a
    `rewards.composite.Composite` plus its "total", or {"total": ...} for a plain reward."""
    q, a = [c.question for c in canaries], [c.answer for c in canaries]
    fields = reward_fields(canaries, tokenizer)
    if hasattr(reward, "evaluate"):
        res = reward.evaluate(q, a, **fields)
        return {**res.components, "total": res.total}
    return {"total": call_reward(getattr(reward, "name", "reward"), reward, q, a, **fields)[0]}


def reward_scorer(reward, *, tokenizer=None) -> Scorer:
    """A reward `reward(prompts, completions, **fields)` as a scorer (in-scope fields; the
    whole batch is one group for a group-normalised composite)."""
    def score(q, a, kb):
        cans = [Canary("batch", qi, e, REFERENCE, ai) for qi, ai, e in zip(q, a, kb)]
        return reward_scores(reward, cans, tokenizer=tokenizer)["total"]
    return score


def rubric_scores(canaries: Sequence[Canary]) -> np.ndarray:
    """TechRubric over the canaries: what every other scorer is rank-correlated with."""
    from mighty.rewards.tech import TechRubric

    return reward_scorer(TechRubric())([c.question for c in canaries], [c.answer for c in canaries],
                                       [c.kb_entry for c in canaries])


# ------------------------------------------------------------------ the report


@dataclasses.dataclass(frozen=True)
class TypeResult:
    """How the reference fared against one corruption type over the canaried cases."""

    pass_rate: float  # destructive: reference strictly above; additive: reference not below
    above: float      # share of cases the reference scored strictly above the corruption
    tie: float
    below: float      # share of cases the scorer preferred the corruption
    n: int


def compare(ref: np.ndarray, corr: np.ndarray, kind: str, eps: float = 1e-9) -> TypeResult:
    ref, corr = np.asarray(ref, np.float64), np.asarray(corr, np.float64)
    above, below = ref > corr + eps, corr > ref + eps
    tie = ~above & ~below
    passed = above | tie if kind in ADDITIVE else above
    return TypeResult(float(passed.mean()), float(above.mean()), float(tie.mean()), float(below.mean()),
                      int(ref.size))


@dataclasses.dataclass
class CanaryReport:
    scorer: str
    n_cases: int
    types: dict[str, TypeResult]
    spearman: float                      # vs the rubric over every canary answer (NaN: constant)
    pairwise: dict[str, TypeResult] | None = None
    position_bias: float | None = None   # share of pairs whose verdict follows the position

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: Mapping) -> "CanaryReport":
        tr = lambda m: None if m is None else {k: TypeResult(**v) for k, v in m.items()}  # noqa: E731
        return cls(d["scorer"], d["n_cases"], tr(d["types"]), d["spearman"], tr(d.get("pairwise")),
                   d.get("position_bias"))


def _by_kind(canaries: Sequence[Canary], scores: np.ndarray) -> dict[str, dict[str, float]]:
    """{kind: {case_id: score}}."""
    if len(scores) != len(canaries):
        raise ValueError(f"canaries: the scorer returned {len(scores)} scores for {len(canaries)} answers")
    out: dict[str, dict[str, float]] = {}
    for c, s in zip(canaries, np.asarray(scores, np.float64)):
        out.setdefault(c.kind, {})[c.case_id] = float(s)
    return out


def type_results(canaries: Sequence[Canary], scores: np.ndarray) -> dict[str, TypeResult]:
    by = _by_kind(canaries, scores)
    ref = by[REFERENCE]
    return {k: compare(np.array([ref[c] for c in by[k]]), np.array(list(by[k].values())), k)
            for k in by if k != REFERENCE}


def spearman(x: np.ndarray, y: np.ndarray) -> float:
    from scipy.stats import spearmanr

    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    if np.ptp(x) == 0 or np.ptp(y) == 0:
        return float("nan")  # a constant scorer ranks nothing
    return float(spearmanr(x, y).statistic)


def canary_report(name: str, canaries: Sequence[Canary], scores: np.ndarray,
                  rubric: np.ndarray | None = None) -> CanaryReport:
    rubric = rubric_scores(canaries) if rubric is None else rubric
    return CanaryReport(name, len({c.case_id for c in canaries}), type_results(canaries, scores),
                        spearman(scores, rubric))


def run_canaries(scorer: Scorer, canaries: Sequence[Canary], *, name: str,
                 rubric: np.ndarray | None = None) -> CanaryReport:
    """Score every canary answer with `scorer` and report per corruption type."""
    scores = np.asarray(scorer([c.question for c in canaries], [c.answer for c in canaries],
                               [c.kb_entry for c in canaries]), np.float64)
    return canary_report(name, canaries, scores, rubric)


def pairwise_canaries(prefer: Preference, canaries: Sequence[Canary], *, n_cases: int
                      ) -> tuple[dict[str, TypeResult], float]:
    """(per-type results, position-bias rate) of a pairwise judge on the first `n_cases` cases.

    Each (reference, corruption) pair is judged in both orders, q1 = P(A) with A = reference
    and q2 = P(A) with A = corruption; the reference's position-debiased win is
    ½·q1 + ½·(1 − q2), compared with 0.5 as scores are. The pair is position-biased when the
    verdict does not follow the answer: the reference wins in one order and loses in the other."""
    keep = list(dict.fromkeys(c.case_id for c in canaries))[:n_cases]
    ref = {c.case_id: c.answer for c in canaries if c.kind == REFERENCE and c.case_id in keep}
    pairs = [c for c in canaries if c.kind != REFERENCE and c.case_id in ref]
    if not pairs:
        return {}, float("nan")
    q = [c.question for c in pairs] * 2
    kbs = [c.kb_entry for c in pairs] * 2
    first = [ref[c.case_id] for c in pairs] + [c.answer for c in pairs]
    second = [c.answer for c in pairs] + [ref[c.case_id] for c in pairs]
    p = np.asarray(prefer(q, kbs, first, second), np.float64)  # one call: the judge batches both orders
    q1, q2 = p[:len(pairs)], p[len(pairs):]
    win = 0.5 * q1 + 0.5 * (1.0 - q2)
    kinds = np.array([c.kind for c in pairs])
    results = {k: compare(win[kinds == k], 1.0 - win[kinds == k], k) for k in dict.fromkeys(kinds)}
    return results, float(np.mean((q1 > 0.5) != (q2 < 0.5)))


# ------------------------------------------------------------------ the verdict


@dataclasses.dataclass(frozen=True)
class Validity:
    valid: bool
    failing: tuple[str, ...]  # what failed, with its number: "padded 0.40 < 0.80"

    @property
    def label(self) -> str:
        return "VALID" if self.valid else "INVALID (" + "; ".join(self.failing) + ")"

    def as_dict(self) -> dict:
        return {"valid": self.valid, "failing": list(self.failing), "label": self.label}


def validity(report: CanaryReport, bar: float, *, pairwise: bool = False,
             max_position_bias: float | None = None, kinds: Iterable[str] | None = None) -> Validity:
    """VALID when every corruption type (of `kinds`, default all in the report) passes at
    rate >= `bar`; with `pairwise`, judged on the pairwise results, whose position-bias rate
    must also be <= `max_position_bias`. A missing measurement is a failure, not a pass."""
    types = report.pairwise if pairwise else report.types
    if not types:
        return Validity(False, ("no canaries were scored",))
    wanted = list(types) if kinds is None else list(kinds)
    failing = [f"{k} missing" if k not in types else f"{k} {types[k].pass_rate:.2f} < {bar:.2f}"
               for k in wanted if k not in types or types[k].pass_rate < bar]
    if pairwise and max_position_bias is not None:
        pb = report.position_bias
        if pb is None or not np.isfinite(pb) or pb > max_position_bias:
            failing.append(f"position bias {pb if pb is None else round(pb, 2)} > {max_position_bias:.2f}")
    return Validity(not failing, tuple(failing))


def canary_metrics(reports: Mapping[str, CanaryReport], bar: float, prefix: str = "canary") -> dict[str, float]:
    """`canary/<scorer>/<type>` pass rates, `.../prefers_<type>` and `.../valid` for a logger."""
    out: dict[str, float] = {}
    for name, rep in reports.items():
        for kind, r in rep.types.items():
            out[f"{prefix}/{name}/{kind}"] = r.pass_rate
            out[f"{prefix}/{name}/prefers_{kind}"] = r.below
        out[f"{prefix}/{name}/spearman_rubric"] = rep.spearman
        out[f"{prefix}/{name}/valid"] = float(validity(rep, bar).valid)
    return out


def check_reward(reward, canaries: Sequence[Canary], *, bar: float = 0.8, tokenizer=None
                 ) -> tuple[dict[str, CanaryReport], dict[str, Validity]]:
    """For the GRPO trainer: canary reports and verdicts for every reward component and the
    total. The total is what GRPO optimises: it must be VALID. A component may be blind to a
    corruption another component catches (a tie), so read a component's `below` (it prefers
    the corruption) as the hack to fix."""
    scores = reward_scores(reward, canaries, tokenizer=tokenizer)
    rubric = rubric_scores(canaries)
    reports = {n: canary_report(n, canaries, s, rubric) for n, s in scores.items()}
    return reports, {n: validity(r, bar) for n, r in reports.items()}
