"""The pipeline's eval stages: the same suite on the teacher and the base student (eval_ref,
shared by every run of a sweep) and on the KD and GRPO students (eval).

The judge is canaried first (eval_ref runs `evals.suite.judge_validity`; the eval stage, whose
judge is the same teacher under the same eval config, reads that verdict from eval_ref's
results.json): an INVALID judge leaves `accuracy`, and its win rates are reported apart.
Each system also gets its cost per 1,000 answers and p50/p95 latency (`evals.gates.serving_cost`)."""
from __future__ import annotations

import dataclasses
import json
import logging
import time
from pathlib import Path
from typing import Mapping, NamedTuple, Sequence

from omegaconf import DictConfig, OmegaConf

from mighty.runtime.ci import Estimate
from mighty.evals.gates import serving_cost
from mighty.evals.suite import (SuiteConfig, SystemEval, compare_systems, evaluate_system, headline_pairs, judge_validity,
                         paired_differences)
from mighty.runtime import MetricsLogger, RngStreams, atomic_write_json, write_manifest


log = logging.getLogger(__name__)

REFERENCES = ("teacher", "base_student")  # the same for every student: evaluated once per store


def eval_teacher(cfg: DictConfig, teacher: str):
    """(teacher in its inference dtype, tokenizer): the teacher as a system and as the judge,
    loaded by the KD stage's own loader (distill.student.load_teacher)."""
    from mighty.distill.config import TeacherConfig
    from mighty.distill.student import load_teacher

    return load_teacher(TeacherConfig(source=teacher, dtype=cfg.eval.get("teacher_dtype") or cfg.teacher.dtype))


def served(model, cfg: DictConfig):
    """A student as the eval serves it: in `eval.student_dtype` (null: its parameter dtype, as
    `load_pretrained` computes a checkpoint)."""
    from mighty.models import with_dtype

    return with_dtype(model, cfg.eval.get("student_dtype") or model.cfg.param_dtype)


def base_student(cfg: DictConfig, teacher: str):
    """The base student exactly as the KD stage initialised it (same config, same `init` PRNG
    stream), cut from the teacher's exact weights, served in `eval.student_dtype`."""
    from mighty.distill.config import StudentConfig
    from mighty.distill.student import init_student
    from mighty.distill.train import STREAMS
    from mighty.models import load_pretrained

    t_model, tok = load_pretrained(teacher, dtype=cfg.teacher.dtype)
    student_cfg = OmegaConf.to_object(OmegaConf.merge(OmegaConf.structured(StudentConfig), cfg.student))
    # Without adapters: a LoRA student starts with B = 0, i.e. exactly this model.
    student_cfg = dataclasses.replace(student_cfg, lora=None)
    base = init_student(student_cfg, t_model, RngStreams(cfg.seed, STREAMS).at("init", 0), tokenizer=tok)
    return served(base, cfg)


def trained_students(cfg: DictConfig, inputs: Mapping[str, Path]) -> dict:
    """{name: model} of the pipeline's trained students present in `inputs`, in report order,
    served in `eval.student_dtype`."""
    from mighty.models import load_pretrained

    found = {"kd_student": ("kd", "student"), "grpo_student": ("grpo", "policy")}
    return {name: served(load_pretrained(inputs[stage] / sub)[0], cfg) for name, (stage, sub) in found.items()
            if stage in inputs}


class SuiteInputs(NamedTuple):
    cfg: SuiteConfig
    judge: object | None   # rewards.judge_jax.JaxJudge, or None with eval.judge false
    cases: Sequence[dict]
    kb: Mapping[str, dict]
    docs: Sequence[str]    # generic-corpus documents for perplexity
    qa: Sequence[dict]     # general-QA items
    grounder: object       # data.grounding.Grounder: the prompts every system answers


def _suite_inputs(cfg: DictConfig, out: Path, t_model, tok, teacher: str, data_dir: Path) -> SuiteInputs:
    """What every system is evaluated with; the judge (if on) is the teacher; the prompts are
    grounded as the data stage chose (`<data_dir>/grounding.json`)."""
    from mighty import data
    from mighty.data.grounding import Grounder
    from mighty.data.corpus.generic import load_generic
    from mighty.evals.retention import load_general_qa

    ecfg = SuiteConfig(**OmegaConf.to_container(cfg.eval, resolve=True))
    judge = None
    if ecfg.judge:
        from mighty.rewards.judge_jax import JaxJudge

        judge = JaxJudge(t_model, tok, judge_id=f"jax:{teacher}", cache=out / "judge_cache",
                         max_prompt_tokens=ecfg.judge_max_prompt_tokens)
    docs = load_generic(ecfg.generic_docs, seed=ecfg.seed, split="eval") if ecfg.generic_docs else []
    return SuiteInputs(ecfg, judge, data.load_eval(), data.kb_by_id(), docs,
                       load_general_qa()[:ecfg.general_qa], Grounder.from_data_dir(data_dir))


def _evaluate(systems: Mapping[str, tuple], out: Path, suite: SuiteInputs, validity: dict | None) -> dict:
    results = {}
    price = float(suite.cfg.cost["price_per_compute_s"])
    for name, (model, tok) in systems.items():
        results[name] = r = evaluate_system(name, model, tok, suite.cases, suite.kb, suite.cfg,
                                            judge=used_judge(suite, validity), judge_valid=judge_valid(validity),
                                            generic_docs=suite.docs, general_qa=suite.qa, grounder=suite.grounder)
        r.scalars.update(serving_cost(r.column("tokens"), r.scalars["tokens_per_s"], price))
        with open(out / f"items_{name}.jsonl", "w") as f:
            for row in results[name].items:
                f.write(json.dumps(row) + "\n")
    return results


def grounding_report(suite: SuiteInputs) -> dict:
    """How the answers were grounded, and how good that grounding is: recall@1/@3 of the gold
    issue on the eval's in-scope cases, and the calibration of the retrieval confidence (ECE and
    reliability bins, raw softmax and calibrated) on its in-scope and out-of-scope cases (an
    out-of-scope top hit is always wrong). The calibration was fitted on the training split.
    `hazard_moves`: the cases whose top hit the hazard preference changed (data.hazard)."""
    from mighty.data import recall_at_k
    from mighty.data.calibration import calibration_report
    from mighty.data.hazard import hazard_moves

    out = suite.grounder.describe()
    if suite.grounder.retriever is not None:
        cases = [c for c in suite.cases if c["bucket"] == "in_scope"]
        rec = recall_at_k(suite.grounder.retriever, [c["question"] for c in cases],
                          [c["issue_id"] for c in cases], ks=(1, 3))
        out.update({"recall_at_1": rec[1], "recall_at_3": rec[3], "n_in_scope": len(cases)})
        judged = cases + [c for c in suite.cases if c["bucket"] == "out_of_scope"]
        out["reliability"] = calibration_report(suite.grounder.retriever, [c["question"] for c in judged],
                                                [c["issue_id"] for c in judged])
        out["reliability"]["n_out_of_scope"] = len(judged) - len(cases)
        out["hazard_moves"] = hazard_moves(suite.grounder.retriever, suite.cases)
    return out


def judge_valid(validity: dict | None, kind: str = "judge") -> bool:
    """Whether the judge's (kind "judge") or pairwise judge's ("pairwise") numbers may be used
    (no judge: nothing to leave out)."""
    return validity is None or bool(validity[kind]["valid"])


def used_judge(suite: SuiteInputs, validity: dict | None, kind: str = "judge"):
    """The judge to score with: None when the canaries found it INVALID and eval.invalid_judge
    is skip (its numbers would only be shown apart: skipping saves its scoring time)."""
    skip = suite.cfg.invalid_judge == "skip" and not judge_valid(validity, kind)
    return None if skip else suite.judge


def canary_judge(suite: SuiteInputs) -> dict | None:
    """The judge's canary verdicts (None without a judge), timed into the log."""
    if suite.judge is None:
        return None
    t0 = time.perf_counter()
    out = judge_validity(suite.judge, suite.cases, suite.kb, suite.cfg)
    out["seconds"] = time.perf_counter() - t0
    log.info("judge canaries: %s (pairwise %s) in %.1f s", out["judge"]["label"], out["pairwise"]["label"],
             out["seconds"])
    return out


def case_counts(suite: SuiteInputs, results: Mapping[str, SystemEval]) -> dict:
    """How many frozen cases were scored, per bucket, out of how many."""
    items = next(iter(results.values())).items
    buckets: dict[str, int] = {}
    for r in items:
        buckets[r["bucket"]] = buckets.get(r["bucket"], 0) + 1
    return {"n_cases": len(items), "n_frozen": len(suite.cases), "buckets": buckets}


def _as_json(results: Mapping[str, SystemEval]) -> dict:
    return {n: {"summary": {k: e.as_dict() for k, e in r.summary.items()}, "scalars": r.scalars}
            for n, r in results.items()}


def load_references(ref_dir: Path) -> dict[str, SystemEval]:
    """The eval_ref stage's systems, with their per-item rows (pairwise win rates need the answers)."""
    saved = json.loads((ref_dir / "results.json").read_text())["systems"]
    out = {}
    for name in REFERENCES:
        items = [json.loads(line) for line in (ref_dir / f"items_{name}.jsonl").read_text().splitlines()]
        summary = {k: Estimate.from_dict(d) for k, d in saved[name]["summary"].items()}
        out[name] = SystemEval(name, items, summary, saved[name]["scalars"])
    return out


def evaluate_references(cfg: DictConfig, out: Path, inputs: Mapping[str, Path], *, teacher: str) -> dict:
    """The eval_ref stage: the suite on the teacher and the base student. Its key depends on the
    teacher, the data, the eval and student configs and the seed only, so every run of a sweep
    over KD or GRPO settings reuses it."""
    started = time.time()
    t_model, tok = eval_teacher(cfg, teacher)
    suite = _suite_inputs(cfg, out, t_model, tok, teacher, inputs["data"])
    validity = canary_judge(suite)
    systems = {"teacher": (t_model, tok), "base_student": (base_student(cfg, teacher), tok)}
    results = _evaluate(systems, out, suite, validity)
    counts = case_counts(suite, results)
    atomic_write_json(out / "results.json", {"systems": _as_json(results), **counts, "judge_validity": validity,
                                             "grounding": grounding_report(suite)})
    judge_stats = vars(suite.judge.stats) if suite.judge is not None else {}
    write_manifest(out, stage="eval_ref", cfg=OmegaConf.to_container(cfg.eval, resolve=True), seed=cfg.seed,
                   started=started, judge_calls=judge_stats, systems=list(results))
    return {"n_cases": counts["n_cases"], "judge": judge_stats}


def evaluate_pipeline(cfg: DictConfig, out: Path, inputs: Mapping[str, Path], *, teacher: str) -> dict:
    """The eval stage: the suite on the trained students, next to the eval_ref stage's teacher and
    base student; win rates and the teacher-gap fraction; results.json with every system."""
    started = time.time()
    t_model, tok = eval_teacher(cfg, teacher)  # the judge (and the pairwise opponent's judge)
    suite = _suite_inputs(cfg, out, t_model, tok, teacher, inputs["data"])
    # eval_ref canaried this judge (same teacher, same eval config: the same key inputs)
    ref_results = json.loads((inputs["eval_ref"] / "results.json").read_text())
    validity = ref_results.get("judge_validity") if "judge_validity" in ref_results else canary_judge(suite)
    students = {name: (model, tok) for name, model in trained_students(cfg, inputs).items()}
    results = {**load_references(inputs["eval_ref"]), **_evaluate(students, out, suite, validity)}
    comparison = compare_systems(results, teacher="teacher", base="base_student", cfg=suite.cfg,
                                 judge=used_judge(suite, validity, "pairwise"), kb=suite.kb)
    payload = {
        "systems": _as_json(results),
        "compare": {n: {k: e.as_dict() for k, e in row.items()} for n, row in comparison.items()},
        "differences": paired_differences(results, headline_pairs(list(results)), suite.cfg),
        **case_counts(suite, results),
        "judge_validity": validity,
        "grounding": grounding_report(suite),
    }
    final = next((n for n in ("grpo_student", "kd_student") if n in results), None)
    if final is not None:  # the product as served: router + validator with teacher fallback
        from mighty.experiments.routed import routed_system

        retriever = None
        if "reranker" in inputs:  # the served answer path: BM25 + the distilled reranker
            from mighty.data.rerank import calibrated_reranked_retriever

            retriever = calibrated_reranked_retriever(list(suite.kb.values()), inputs["reranker"] / "model")
        intent_router = None
        if "router" in inputs:  # the served router: hand rules + the distilled intent classifier
            from mighty.models.intent import load_intent_model

            intent_router = load_intent_model(inputs["router"] / "model")
        payload["routed"] = routed_system(results, final, suite, tok, suite.cfg, retriever=retriever,
                                          intent_router=intent_router)
    atomic_write_json(out / "results.json", payload)
    _log(cfg, out, payload)
    judge_stats = vars(suite.judge.stats) if suite.judge is not None else {}
    write_manifest(out, stage="eval", cfg=OmegaConf.to_container(cfg.eval, resolve=True), seed=cfg.seed,
                   inputs={k: v for k, v in inputs.items() if k in ("kd", "grpo", "eval_ref", "reranker", "router")}, started=started,
                   judge_calls=judge_stats, systems=list(results))
    return {"n_cases": payload["n_cases"], "judge": judge_stats}


def _log(cfg: DictConfig, out: Path, payload: dict) -> None:
    """eval/<system>/<metric> to metrics.jsonl and W&B (job_type eval), one step."""
    wandb = OmegaConf.to_container(cfg.logger, resolve=True).get("wandb")
    if wandb is not None:
        wandb = {**wandb, "group": wandb.get("group") or cfg.name, "job_type": "eval"}
    logger = MetricsLogger(out, config=OmegaConf.to_container(cfg, resolve=True), wandb=wandb)
    row = {}
    for name, sys in payload["systems"].items():
        row.update({f"eval/{name}/{k}": v["value"] for k, v in sys["summary"].items()})
        row.update({f"perf/{name}/{k}": v for k, v in sys["scalars"].items()
                    if isinstance(v, (int, float))})  # metrics are numbers; dtype is in results.json
    for name, comp in payload["compare"].items():
        row.update({f"eval/{name}/{k}": v["value"] for k, v in comp.items()})
    for d in payload["differences"]:
        row[f"eval/diff/{d['a']}-{d['b']}/{d['metric']}"] = d["diff"]["value"]
    logger.log(0, row)
    logger.close()
