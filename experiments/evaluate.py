"""The pipeline's eval stage: the same suite on teacher, base student, KD and GRPO students."""
from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Mapping

from omegaconf import DictConfig, OmegaConf

from evals.suite import SuiteConfig, compare_systems, evaluate_system
from models.runtime import MetricsLogger, RngStreams, atomic_write_json, write_manifest


def load_systems(cfg: DictConfig, inputs: Mapping[str, Path], teacher: str) -> dict:
    """{name: (model, tokenizer)} in report order; the base student is rebuilt exactly as the
    KD stage initialised it (same config, same `init` PRNG stream)."""
    from distill.config import StudentConfig
    from distill.student import init_student
    from distill.train import STREAMS
    from models import load_pretrained, with_compute_dtype

    t_model, tok = load_pretrained(teacher, dtype=cfg.teacher.dtype)
    student_cfg = OmegaConf.to_object(OmegaConf.merge(OmegaConf.structured(StudentConfig), cfg.student))
    base = init_student(student_cfg, t_model, RngStreams(cfg.seed, STREAMS).at("init", 0))
    base = with_compute_dtype(base, base.cfg.param_dtype)  # every student is evaluated in its
    # parameter dtype (load_pretrained below does the same for the trained checkpoints)
    infer_dtype = cfg.eval.get("teacher_dtype") or cfg.teacher.dtype
    if infer_dtype != cfg.teacher.dtype:  # the base student above is cut from the exact weights
        t_model = load_pretrained(teacher, dtype=infer_dtype)[0]
    systems = {"teacher": (t_model, tok), "base_student": (base, tok)}
    if "kd" in inputs:
        systems["kd_student"] = (load_pretrained(inputs["kd"] / "student")[0], tok)
    if "grpo" in inputs:
        systems["grpo_student"] = (load_pretrained(inputs["grpo"] / "policy")[0], tok)
    return systems


def evaluate_pipeline(cfg: DictConfig, out: Path, inputs: Mapping[str, Path], *, teacher: str) -> dict:
    import data
    from data.corpus.generic import load_generic
    from evals.retention import load_general_qa

    started = time.time()
    ecfg = SuiteConfig(**OmegaConf.to_container(cfg.eval, resolve=True))
    systems = load_systems(cfg, inputs, teacher)
    judge = None
    if ecfg.judge:
        from rewards.judge_jax import JaxJudge

        t_model, tok = systems["teacher"]
        judge = JaxJudge(t_model, tok, judge_id=f"jax:{teacher}", cache=out / "judge_cache",
                         max_prompt_tokens=ecfg.judge_max_prompt_tokens)
    cases, kb = data.load_eval(), data.kb_by_id()
    docs = load_generic(ecfg.generic_docs, seed=ecfg.seed) if ecfg.generic_docs else []
    qa = load_general_qa()[:ecfg.general_qa]
    results = {}
    for name, (model, tok) in systems.items():
        results[name] = evaluate_system(name, model, tok, cases, kb, ecfg, judge=judge,
                                        generic_docs=docs, general_qa=qa)
        with open(out / f"items_{name}.jsonl", "w") as f:
            for row in results[name].items:
                f.write(json.dumps(row) + "\n")
    comparison = compare_systems(results, teacher="teacher", base="base_student", cfg=ecfg,
                                 judge=judge, kb=kb)
    payload = {
        "systems": {n: {"summary": {k: e.as_dict() for k, e in r.summary.items()}, "scalars": r.scalars}
                    for n, r in results.items()},
        "compare": {n: {k: e.as_dict() for k, e in row.items()} for n, row in comparison.items()},
        "n_cases": len(next(iter(results.values())).items),
    }
    atomic_write_json(out / "results.json", payload)
    _log(cfg, out, payload)
    judge_stats = vars(judge.stats) if judge is not None else {}
    write_manifest(out, stage="eval", cfg=OmegaConf.to_container(cfg.eval, resolve=True), seed=cfg.seed,
                   inputs={k: v for k, v in inputs.items() if k in ("kd", "grpo")}, started=started,
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
    logger.log(0, row)
    logger.close()
