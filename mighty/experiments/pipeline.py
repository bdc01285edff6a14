"""`python -m mighty.experiments.pipeline`: data → label → kd → grpo → eval → report, one config.

Each stage reads its parents' outputs and writes a content-addressed run directory under
`store` (see experiments/stages.py), with its own `manifest.json` (lineage: resolved config
and hash, git commit, input hashes, parent, seed, wall time, tokens, FLOPs, judge calls).
The report goes to this run's Hydra directory. Sweeps: `-m experiment=ablation_k`.
"""
from __future__ import annotations

import dataclasses
import json
import logging
import time
from pathlib import Path
from typing import Any, Mapping

import hydra
from omegaconf import DictConfig, OmegaConf

import mighty.distill.config  # noqa: F401  (registers the stage schemas before Hydra composes)
import mighty.distill.intent.config  # noqa: F401
import mighty.distill.rerank.config  # noqa: F401
import mighty.rl.config  # noqa: F401
from mighty.data.answer_end import fingerprint as answer_end_fingerprint
from mighty.data.prompts import fingerprint as prompt_fingerprint
from mighty.experiments.stages import Stage, StageConfigError, run_stages
from mighty.runtime import atomic_write_json, write_manifest
from mighty.runtime.config import plain, typed

log = logging.getLogger("pipeline")


# ------------------------------------------------------------------ stage bodies


def run_teacher(cfg: DictConfig, out: Path, inputs: Mapping[str, Path]) -> dict:
    """Materialise the teacher: a random tiny teacher (smoke runs) is written as a checkpoint
    with the real tokenizer; any other source is recorded as it is."""
    t = cfg.teacher
    if t.source != "random":
        write_manifest(out, stage="teacher", cfg=plain(t), seed=cfg.seed)
        return {"source": t.source}
    from flax import nnx

    from mighty.models import ModelConfig, Transformer, load_pretrained, save_checkpoint

    _, tok = load_pretrained(t.tokenizer)
    model = Transformer(ModelConfig(**plain(t.model)), rngs=nnx.Rngs(t.seed))
    save_checkpoint(model, out / "model", tokenizer=tok, overwrite=True)
    write_manifest(out, stage="teacher", cfg=plain(t), seed=t.seed)
    return {"source": str(out / "model")}


def teacher_source(cfg: DictConfig, teacher_dir: Path) -> str:
    return str(teacher_dir / "model") if cfg.teacher.source == "random" else cfg.teacher.source


def data_config(cfg: DictConfig, out: Path, inputs: Mapping[str, Path]):
    from mighty.data.config import DataConfig

    return typed(DataConfig, cfg.data, {"out_dir": str(out), "seed": cfg.seed})


def run_data(cfg: DictConfig, out: Path, inputs: Mapping[str, Path]) -> dict:
    from mighty.data.pipeline import build, write_outputs

    started = time.time()
    dcfg = data_config(cfg, out, inputs)
    result = build(dcfg)
    hashes = write_outputs(result, out, dcfg.grounding)
    write_manifest(out, stage="data", cfg=plain(cfg.data), seed=cfg.seed, started=started,
                   outputs=hashes, counts={"train": len(result.train), "val": len(result.val),
                                           "eval": len(result.eval_cases)})
    return {"train": len(result.train), "val": len(result.val), "eval": len(result.eval_cases)}


def label_config(cfg: DictConfig, out: Path, inputs: Mapping[str, Path]):
    from mighty.data.label import LabelConfig

    return typed(LabelConfig, cfg.label, {
        "teacher": teacher_source(cfg, inputs["teacher"]), "prompts": str(inputs["data"] / "train.jsonl"),
        "out_dir": str(out), "seed": cfg.seed, "progress": cfg.progress})


def run_label(cfg: DictConfig, out: Path, inputs: Mapping[str, Path]) -> dict:
    from mighty.data import label

    lcfg = label_config(cfg, out, inputs)
    prompts, grounder, hashes = label.load_inputs(lcfg)
    model, tok = label.load_teacher(lcfg)
    manifest = label.run(lcfg, model, tok, prompts, grounder, hashes)
    return {"rows": manifest["rows"], "tokens": manifest["tokens"], "quality": manifest["quality"]}


def kd_config(cfg: DictConfig, out: Path, inputs: Mapping[str, Path]):
    """The KD stage's `distill.config.KDRunConfig`, from the pipeline's choices alone: groups
    the pipeline does not set take the dataclass defaults, never conf/kd.yaml's own defaults
    list (which once handed a `student=tiny` pipeline the default student's compute dtype)."""
    from mighty.distill.config import KDRunConfig

    return typed(KDRunConfig, {
        "seed": cfg.seed, "teacher": {"source": teacher_source(cfg, inputs["teacher"]), "dtype": cfg.teacher.dtype},
        # the data stage's config as it ran (its seed is the run's), recorded for lineage
        "data": plain(data_config(cfg, inputs["data"], {})),
        "student": cfg.student, "kd": cfg.kd, "logger": _logger(cfg, "kd"),
        "mesh": cfg.mesh, "label_cache": str(inputs["label"]), "run_dir": str(out),
        "output": str(out / "student"), "progress": cfg.progress})


def run_kd(cfg: DictConfig, out: Path, inputs: Mapping[str, Path]) -> dict:
    from mighty.distill.train import run_training

    run = kd_config(cfg, out, inputs)
    final = run_training(run, out, plain(run))
    return {"final": final}


def grpo_config(cfg: DictConfig, out: Path, inputs: Mapping[str, Path]) -> DictConfig:
    """The GRPO stage's config on the `rl.config.GRPORunConfig` schema (validated: an unknown
    key fails), from the pipeline's choices alone. It stays a DictConfig because the reward and
    judge are `_target_` nodes that `rl.train` instantiates."""
    from mighty.rl.config import GRPORunConfig, load_run_config

    node = OmegaConf.merge(OmegaConf.structured(GRPORunConfig), {
        "seed": cfg.seed, "name": cfg.name, "grpo": plain(cfg.grpo), "reward": plain(cfg.reward),
        "judge": plain(cfg.judge), "student": plain(cfg.student),
        "teacher": {"source": teacher_source(cfg, inputs["teacher"]), "dtype": cfg.teacher.dtype},
        "logger": _logger(cfg, "grpo"), "train": plain(cfg.grpo_train), "mesh": plain(cfg.mesh),
        "policy": {"source": str(inputs["kd"] / "student"),  # the KD student's precision
                   "compute_dtype": cfg.student.get("compute_dtype")},
        "data_dir": str(inputs["data"]), "label_cache": str(inputs["label"]),
        "run_dir": str(out), "output": str(out / "policy")})
    load_run_config(node)  # runs every __post_init__ now, not when the stage starts
    return node


def run_grpo(cfg: DictConfig, out: Path, inputs: Mapping[str, Path]) -> dict:
    from mighty.rl import train as rl_train

    last = rl_train.run(grpo_config(cfg, out, inputs))
    return {"final": {k: v for k, v in last.items() if k.startswith("eval/")}}


def run_eval_ref(cfg: DictConfig, out: Path, inputs: Mapping[str, Path]) -> dict:
    from mighty.experiments.evaluate import evaluate_references

    return evaluate_references(cfg, out, inputs, teacher=teacher_source(cfg, inputs["teacher"]))


def run_eval(cfg: DictConfig, out: Path, inputs: Mapping[str, Path]) -> dict:
    from mighty.experiments.evaluate import evaluate_pipeline

    return evaluate_pipeline(cfg, out, inputs, teacher=teacher_source(cfg, inputs["teacher"]))


def rerank_config(cfg: DictConfig, out: Path, inputs: Mapping[str, Path]) -> dict:
    """What the reranker stage runs with (and its key hashes): its typed slice and the seed."""
    from mighty.distill.rerank.config import RerankConfig

    return {"rerank": typed(RerankConfig, cfg.rerank), "seed": cfg.seed}


def intent_config(cfg: DictConfig, out: Path, inputs: Mapping[str, Path]) -> dict:
    """What the router stage runs with (and its key hashes): its typed slice and the seed."""
    from mighty.distill.intent.config import IntentConfig

    return {"intent": typed(IntentConfig, cfg.intent), "seed": cfg.seed}


def run_router(cfg: DictConfig, out: Path, inputs: Mapping[str, Path]) -> dict:
    """Distil the intent ensemble (escalation rules, MiniLM probe, the LLM as adjudicator) into
    the router's small classifier (distill.intent); registered with `registry.router` gates."""
    from mighty.distill.intent.stage import run

    c = intent_config(cfg, out, inputs)
    return {"summary": run(c["intent"], out, teacher_source=teacher_source(cfg, inputs["teacher"]), seed=c["seed"])}


def _split(data_dir: Path, name: str) -> list[dict]:
    from mighty.data.corpus import read_jsonl

    return read_jsonl(data_dir / name)


def run_reranker(cfg: DictConfig, out: Path, inputs: Mapping[str, Path]) -> dict:
    """Distil the LLM's relevance judgement into the small reranker (distill.rerank) on the data
    stage's splits, and register it with its gates (`registry.reranker`)."""
    from mighty.distill.rerank.stage import run

    c = rerank_config(cfg, out, inputs)
    summary = run(c["rerank"], out, teacher_source=teacher_source(cfg, inputs["teacher"]),
                  seed=c["seed"], train_prompts=_split(inputs["data"], "train.jsonl"),
                  val_prompts=_split(inputs["data"], "val.jsonl"), eval_set=_split(inputs["data"], "eval.jsonl"),
                  progress=cfg.progress)
    return {"summary": summary}


def _logger(cfg: DictConfig, job_type: str) -> dict:
    node = plain(cfg.logger)
    if node.get("wandb") is not None:
        node["wandb"] = {**node["wandb"], "group": node["wandb"].get("group") or cfg.name}
    return node


def eval_config(cfg: DictConfig, out: Path, inputs: Mapping[str, Path]) -> dict:
    """What both eval stages read from the pipeline config, validated: the suite's knobs, the
    student recipe (the base student is rebuilt from it), the teacher's dtype and the seed."""
    from mighty.distill.config import StudentConfig
    from mighty.evals.suite import SuiteConfig

    suite = SuiteConfig(**plain(cfg.eval))
    return {"eval": dataclasses.asdict(suite), "student": dataclasses.asdict(typed(StudentConfig, cfg.student)),
            "teacher_dtype": cfg.teacher.dtype, "seed": cfg.seed}


STAGES = [
    Stage("teacher", (), lambda c: c.teacher, run_teacher),
    Stage("data", (), None, run_data, config=data_config, code=prompt_fingerprint),
    Stage("label", ("teacher", "data"), None, run_label, config=label_config, code=answer_end_fingerprint),
    Stage("kd", ("teacher", "data", "label"), None, run_kd, config=kd_config),
    Stage("grpo", ("teacher", "data", "label", "kd"), None, run_grpo, config=grpo_config),
    # the product's other distillations (issue 24): not in the default `stages` (the teacher's
    # labels cost ~10 min (reranker) and ~4.5 min (router) here): experiment=product adds them
    Stage("reranker", ("teacher", "data"), None, run_reranker, config=rerank_config),
    Stage("router", ("teacher",), None, run_router, config=intent_config),
    # teacher and base student: shared by every run of a KD or GRPO sweep
    Stage("eval_ref", ("teacher", "data"), None, run_eval_ref, config=eval_config, code=answer_end_fingerprint),
    Stage("eval", ("teacher", "data", "eval_ref"), None, run_eval, optional=("kd", "grpo", "reranker", "router"),
          config=eval_config, code=answer_end_fingerprint),
]


def objective(results: dict, system: str = "grpo_student", metric: str = "accuracy") -> float:
    """What a sweeper optimises: the final student's held-out accuracy."""
    systems = results["systems"]
    name = system if system in systems else next(s for s in ("kd_student", "base_student") if s in systems)
    return float(systems[name]["summary"][metric]["value"])


def check_blocks(cfg: DictConfig) -> None:
    """The `gate:` and `registry:` blocks are read after the stages; check them before any runs."""
    from mighty.evals.gates import GateConfig
    from mighty.experiments.registry import RegistryConfig

    try:
        GateConfig.from_dict(plain(cfg.gate))
        RegistryConfig(**plain(cfg.registry))
    except (TypeError, ValueError) as e:
        raise StageConfigError(f"invalid `gate:` or `registry:` block, so nothing has run ({e})") from e


EXPERIMENTS = Path(__file__).resolve().parents[1] / "conf" / "experiment"


def check_experiment(choice: str | None) -> None:
    """`experiment=<name>` must name a file: the group is optional (none is the default run), and
    Hydra skips a missing optional config silently, so a typo would run the default pipeline."""
    if choice and not (EXPERIMENTS / f"{choice}.yaml").is_file():
        known = ", ".join(sorted(p.stem for p in EXPERIMENTS.glob("*.yaml")))
        raise StageConfigError(f"experiment={choice}: there is no {EXPERIMENTS / choice}.yaml, so nothing has run;"
                               f" choose one of: {known}")


DISTILLED = (("reranker", "reranker"), ("router", "router"))  # (registry kind, stage): artefact at <stage dir>/model


def register_distilled(cfg: DictConfig, store: Path, done: Mapping[str, dict], run_dir: Path) -> list[dict]:
    """Register the router / reranker artefacts this run produced, gated by `registry.<kind>`
    over their stage's results.json, and promote each whose gates all pass (auto_promote)."""
    from mighty.experiments.registry import RegistryConfig, register_and_promote
    from mighty.runtime.registry import check_gates

    reg_cfg = RegistryConfig(**plain(cfg.registry))
    outcomes = []
    for kind, stage in DISTILLED:
        if stage not in done:
            continue
        stage_dir = Path(done[stage]["dir"])
        results = json.loads((stage_dir / "results.json").read_text())
        outcomes.append(register_and_promote(
            store, kind, stage_dir / "model", manifest=json.loads((stage_dir / "manifest.json").read_text()),
            metrics={"systems": results.get("systems", {})}, gates=check_gates(results, getattr(reg_cfg, kind)),
            auto_promote=reg_cfg.auto_promote, source_run=str(run_dir)))
    return outcomes


def register_final_student(cfg: DictConfig, store: Path, done: Mapping[str, dict], run_dir: Path,
                           results: Mapping | None) -> dict | None:
    """Register this run's final student (GRPO, else KD) with its manifest and the eval's gate
    results (evals.gates), and promote it when `registry.auto_promote` and every gate passed.
    The demo serves what the registry's generator pointer names (demo.config.resolve_student)."""
    from mighty.evals.gates import GateConfig, evaluate_gates
    from mighty.experiments.registry import register_and_promote

    for stage, sub, system in (("grpo", "policy", "grpo_student"), ("kd", "student", "kd_student")):
        if stage not in done:
            continue
        stage_dir = Path(done[stage]["dir"])
        gates = []
        if results is not None and system in results["systems"]:
            gates = [dataclasses.asdict(g) for g in
                     evaluate_gates(results, GateConfig.from_dict(plain(cfg.gate)), system)]
        manifest = json.loads((stage_dir / "manifest.json").read_text())
        return register_and_promote(store, "generator", stage_dir / sub, manifest=manifest,
                                    metrics=(results or {}).get("systems", {}).get(system, {}).get("summary", {}),
                                    gates=gates, auto_promote=cfg.registry.auto_promote, source_run=str(run_dir))
    return None


def run_pipeline(cfg: DictConfig, run_dir: Path) -> tuple[Path, float | None]:
    from mighty.experiments.report import read_metrics, write_report

    store = Path(cfg.store).expanduser().absolute()
    force = plain(cfg.force)
    check_blocks(cfg)
    wanted = set(cfg.stages) | {"teacher"} | ({"eval_ref"} if "eval" in cfg.stages else set())
    stages = [s for s in STAGES if s.name in wanted]
    done = run_stages(stages, cfg, store, force=force, log=log.info)
    atomic_write_json(run_dir / "pipeline.json", {"name": cfg.name, "store": str(store), "stages": done,
                                                  "config": plain(cfg)})
    results = (json.loads((Path(done["eval"]["dir"]) / "results.json").read_text())
               if "eval" in done else None)
    from mighty.experiments.registry import describe

    registered = [o for o in [register_final_student(cfg, store, done, run_dir, results),
                              *register_distilled(cfg, store, done, run_dir)] if o is not None]
    for o in registered:
        log.info("registry: %s", describe(o))
    from mighty.experiments.report_distilled import distilled_sections

    extra = distilled_sections(done)
    if registered:
        extra += ["## Model registry", "", *[f"- {describe(o)}" for o in registered], ""]
    if results is None:
        return run_dir / "pipeline.json", None
    grpo_metrics = read_metrics(Path(done["grpo"]["dir"]) / "metrics.jsonl") if "grpo" in done else []
    kd_metrics = read_metrics(Path(done["kd"]["dir"]) / "metrics.jsonl") if "kd" in done else []
    seconds = {name: d["computed_seconds"] for name, d in done.items()}
    if any(v is None for v in seconds.values()):
        seconds = None  # a stage stored before its time was recorded
    report = write_report(results, run_dir / "report", gate=plain(cfg.gate), grpo_metrics=grpo_metrics,
                          kd_metrics=kd_metrics, stage_seconds=seconds,
                          title=f"Mighty pipeline report: {cfg.name}", extra_sections=extra)
    return report, objective(results)


@hydra.main(config_path="../conf", config_name="pipeline", version_base="1.3")
def main(cfg: DictConfig) -> float | None:
    from hydra.core.hydra_config import HydraConfig

    run_dir = Path(HydraConfig.get().runtime.output_dir)
    t0 = time.time()
    try:
        check_experiment(HydraConfig.get().runtime.choices.get("experiment"))
        out, value = run_pipeline(cfg, run_dir)
    except StageConfigError as e:  # a typo or bad value, found before any stage ran: no traceback
        raise SystemExit(f"pipeline: {e}") from None
    print(f"\npipeline '{cfg.name}' finished in {time.time() - t0:.0f} s; report: {out}")
    return value


if __name__ == "__main__":
    main()
