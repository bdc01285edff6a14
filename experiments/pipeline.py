"""`python -m experiments.pipeline`: data → label → kd → grpo → eval → report, one config.

Each stage reads its parents' outputs and writes a content-addressed run directory under
`store` (see experiments/stages.py), with its own `manifest.json` (lineage: resolved config
and hash, git commit, input hashes, parent, seed, wall time, tokens, FLOPs, judge calls).
The report goes to this run's Hydra directory. Sweeps: `-m experiment=ablation_k`.
"""
from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import Mapping

import hydra
from omegaconf import DictConfig, OmegaConf

import distill.config  # noqa: F401  (registers the stage schemas before Hydra composes)
import rl.config  # noqa: F401
from experiments.stages import Stage, plain, run_stages
from models.runtime import atomic_write_json, write_manifest

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

    from models import ModelConfig, Transformer, load_pretrained, save_checkpoint

    _, tok = load_pretrained(t.tokenizer)
    model = Transformer(ModelConfig(**plain(t.model)), rngs=nnx.Rngs(t.seed))
    save_checkpoint(model, out / "model", tokenizer=tok, overwrite=True)
    write_manifest(out, stage="teacher", cfg=plain(t), seed=t.seed)
    return {"source": str(out / "model")}


def teacher_source(cfg: DictConfig, teacher_dir: Path) -> str:
    return str(teacher_dir / "model") if cfg.teacher.source == "random" else cfg.teacher.source


def run_data(cfg: DictConfig, out: Path, inputs: Mapping[str, Path]) -> dict:
    from data.config import DataConfig
    from data.pipeline import build, write_outputs

    started = time.time()
    dcfg = OmegaConf.to_object(OmegaConf.merge(OmegaConf.structured(DataConfig), plain(cfg.data),
                                               {"out_dir": str(out), "seed": cfg.seed}))
    result = build(dcfg)
    hashes = write_outputs(result, out, dcfg.grounding)
    write_manifest(out, stage="data", cfg=plain(cfg.data), seed=cfg.seed, started=started,
                   outputs=hashes, counts={"train": len(result.train), "val": len(result.val),
                                           "eval": len(result.eval_cases)})
    return {"train": len(result.train), "val": len(result.val), "eval": len(result.eval_cases)}


def run_label(cfg: DictConfig, out: Path, inputs: Mapping[str, Path]) -> dict:
    from data import label

    lcfg = OmegaConf.to_object(OmegaConf.merge(
        OmegaConf.structured(label.LabelConfig), plain(cfg.label),
        {"teacher": teacher_source(cfg, inputs["teacher"]), "prompts": str(inputs["data"] / "train.jsonl"),
         "out_dir": str(out), "seed": cfg.seed, "progress": cfg.progress}))
    prompts, grounder, hashes = label.load_inputs(lcfg)
    model, tok = label.load_teacher(lcfg)
    manifest = label.run(lcfg, model, tok, prompts, grounder, hashes)
    return {"rows": manifest["rows"], "tokens": manifest["tokens"], "quality": manifest["quality"]}


def stage_config(name: str, cfg: DictConfig, overrides: dict) -> DictConfig:
    """The stage's own primary config (conf/<name>.yaml) with the pipeline's groups on top,
    so the stage validates it against its own schema."""
    from hydra import compose

    base = compose(config_name=name)
    return OmegaConf.merge(base, overrides)


def run_kd(cfg: DictConfig, out: Path, inputs: Mapping[str, Path]) -> dict:
    from distill.config import load_run_config
    from distill.train import run_training

    node = stage_config("kd", cfg, {
        "seed": cfg.seed, "teacher": {"source": teacher_source(cfg, inputs["teacher"]), "dtype": cfg.teacher.dtype},
        "student": plain(cfg.student), "kd": plain(cfg.kd), "logger": _logger(cfg, "kd"), "mesh": plain(cfg.mesh),
        "label_cache": str(inputs["label"]), "run_dir": str(out), "output": str(out / "student"),
        "progress": cfg.progress})
    final = run_training(load_run_config(node), out, plain(node))
    return {"final": final}


def run_grpo(cfg: DictConfig, out: Path, inputs: Mapping[str, Path]) -> dict:
    from rl import train as rl_train

    node = stage_config("grpo", cfg, {
        "seed": cfg.seed, "name": cfg.name, "grpo": plain(cfg.grpo), "reward": plain(cfg.reward),
        "judge": plain(cfg.judge), "student": plain(cfg.student),
        "teacher": {"source": teacher_source(cfg, inputs["teacher"]), "dtype": cfg.teacher.dtype},
        "logger": _logger(cfg, "grpo"), "train": plain(cfg.grpo_train), "mesh": plain(cfg.mesh),
        "policy": {"source": str(inputs["kd"] / "student"),  # the KD student's precision
                   "compute_dtype": cfg.student.get("compute_dtype")},
        "data_dir": str(inputs["data"]), "label_cache": str(inputs["label"]),
        "run_dir": str(out), "output": str(out / "policy")})
    last = rl_train.run(node)
    return {"final": {k: v for k, v in last.items() if k.startswith("eval/")}}


def run_eval_ref(cfg: DictConfig, out: Path, inputs: Mapping[str, Path]) -> dict:
    from experiments.evaluate import evaluate_references

    return evaluate_references(cfg, out, inputs, teacher=teacher_source(cfg, inputs["teacher"]))


def run_eval(cfg: DictConfig, out: Path, inputs: Mapping[str, Path]) -> dict:
    from experiments.evaluate import evaluate_pipeline

    return evaluate_pipeline(cfg, out, inputs, teacher=teacher_source(cfg, inputs["teacher"]))


def _logger(cfg: DictConfig, job_type: str) -> dict:
    node = plain(cfg.logger)
    if node.get("wandb") is not None:
        node["wandb"] = {**node["wandb"], "group": node["wandb"].get("group") or cfg.name}
    return node


def eval_slice(c: DictConfig) -> dict:
    return {"eval": c.eval, "student": c.student, "seed": c.seed}


STAGES = [
    Stage("teacher", (), lambda c: c.teacher, run_teacher),
    Stage("data", (), lambda c: {"data": c.data, "seed": c.seed}, run_data),
    Stage("label", ("teacher", "data"), lambda c: {"label": c.label, "seed": c.seed}, run_label),
    Stage("kd", ("teacher", "label"),
          lambda c: {"kd": c.kd, "student": c.student, "mesh": c.mesh, "seed": c.seed}, run_kd),
    Stage("grpo", ("teacher", "data", "label", "kd"),
          lambda c: {"grpo": c.grpo, "reward": c.reward, "judge": c.judge, "train": c.grpo_train,
                     "mesh": c.mesh, "seed": c.seed}, run_grpo),
    # teacher and base student: shared by every run of a KD or GRPO sweep
    Stage("eval_ref", ("teacher", "data"), eval_slice, run_eval_ref),
    Stage("eval", ("teacher", "data", "eval_ref"), eval_slice, run_eval, optional=("kd", "grpo")),
]


def objective(results: dict, system: str = "grpo_student", metric: str = "accuracy") -> float:
    """What a sweeper optimises: the final student's held-out accuracy."""
    systems = results["systems"]
    name = system if system in systems else next(s for s in ("kd_student", "base_student") if s in systems)
    return float(systems[name]["summary"][metric]["value"])


LATEST_STUDENT = "latest_student.json"


def write_latest_student(store: Path, done: Mapping[str, dict], run_dir: Path) -> Path | None:
    """`<store>/latest_student.json`: the checkpoint of this run's final student (GRPO, else KD),
    which `python -m demo.server` serves by default."""
    for stage, sub in (("grpo", "policy"), ("kd", "student")):
        if stage in done:
            path = store / LATEST_STUDENT
            atomic_write_json(path, {"checkpoint": str(Path(done[stage]["dir"]) / sub), "stage": stage,
                                     "run": str(run_dir)})
            return path
    return None


def run_pipeline(cfg: DictConfig, run_dir: Path) -> tuple[Path, float | None]:
    from experiments.report import read_metrics, write_report

    store = Path(cfg.store).expanduser().absolute()
    force = plain(cfg.force)
    wanted = set(cfg.stages) | {"teacher"} | ({"eval_ref"} if "eval" in cfg.stages else set())
    stages = [s for s in STAGES if s.name in wanted]
    done = run_stages(stages, cfg, store, force=force, log=log.info)
    atomic_write_json(run_dir / "pipeline.json", {"name": cfg.name, "store": str(store), "stages": done,
                                                  "config": plain(cfg)})
    write_latest_student(store, done, run_dir)
    if "eval" not in done:
        return run_dir / "pipeline.json", None
    results = json.loads((Path(done["eval"]["dir"]) / "results.json").read_text())
    grpo_metrics = read_metrics(Path(done["grpo"]["dir"]) / "metrics.jsonl") if "grpo" in done else []
    kd_metrics = read_metrics(Path(done["kd"]["dir"]) / "metrics.jsonl") if "kd" in done else []
    report = write_report(results, run_dir / "report", gate=plain(cfg.gate), grpo_metrics=grpo_metrics,
                          kd_metrics=kd_metrics, title=f"Mighty pipeline report: {cfg.name}")
    return report, objective(results)


@hydra.main(config_path="../conf", config_name="pipeline", version_base="1.3")
def main(cfg: DictConfig) -> float | None:
    from hydra.core.hydra_config import HydraConfig

    run_dir = Path(HydraConfig.get().runtime.output_dir)
    t0 = time.time()
    out, value = run_pipeline(cfg, run_dir)
    print(f"\npipeline '{cfg.name}' finished in {time.time() - t0:.0f} s; report: {out}")
    return value


if __name__ == "__main__":
    main()
