"""Each pipeline stage runs with exactly the pipeline's choices, its key hashes what it runs
with, and a typo fails before the first stage.

The leak these guard against: KD and GRPO once composed their own conf/kd.yaml / grpo.yaml
(with those files' default groups) and merged the pipeline's values on top, so with
`student=tiny` the KD stage ran with the default student's `compute_dtype` and `strategy`,
which the pipeline never chose, while the key hashed the pipeline's view."""
from __future__ import annotations

from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf

import mighty.distill.config  # noqa: F401  (registers the schemas)
import mighty.rl.config  # noqa: F401
from mighty.distill.config import KDConfig, StudentConfig
from mighty.experiments.pipeline import STAGES, grpo_config, kd_config
from mighty.experiments.stages import StageConfigError, plan_keys, run_stages
from mighty.runtime.config import plain, typed
from mighty.rl.config import GRPOConfig, TrainConfig

CONF = Path(__file__).resolve().parents[2] / "mighty" / "conf"
# kd_tiny and grpo_tiny configure the stage entry points (python -m mighty.distill.train / rl.train:
# a tokenizer-less tiny teacher, a random policy); every other experiment is a pipeline's
STAGE_ONLY = {"kd_tiny", "grpo_tiny"}
EXPERIMENTS = sorted(p.stem for p in (CONF / "experiment").glob("*.yaml") if p.stem not in STAGE_ONLY)
PATHS = {p: Path(f"<{p}>") for p in ("teacher", "data", "label", "kd")}


def pipeline(*overrides: str):
    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        return compose("pipeline", overrides=list(overrides))


@pytest.mark.parametrize("experiment", EXPERIMENTS)
def test_kd_and_grpo_run_with_the_pipelines_resolved_slice(experiment):
    cfg = pipeline(f"experiment={experiment}")
    kd = kd_config(cfg, Path("<out>"), PATHS)
    assert kd.student == typed(StudentConfig, cfg.student)
    assert kd.kd == typed(KDConfig, cfg.kd)
    assert plain(kd.data) == {**plain(cfg.data), "seed": cfg.seed, "out_dir": "<data>"}
    assert kd.mesh == plain(cfg.mesh) and kd.seed == cfg.seed
    assert kd.teacher.dtype == cfg.teacher.dtype
    g = OmegaConf.to_object(grpo_config(cfg, Path("<out>"), PATHS))
    assert g.grpo == typed(GRPOConfig, cfg.grpo) and g.train == typed(TrainConfig, cfg.grpo_train)
    for name in ("reward", "judge", "student", "mesh"):
        assert plain(getattr(g, name)) == plain(cfg[name]), name
    assert g.policy.compute_dtype == cfg.student.get("compute_dtype")
    assert g.seed == cfg.seed and g.name == cfg.name


def test_a_student_without_a_compute_dtype_gets_the_schema_default_in_kd_and_grpo():
    cfg = pipeline("student=tiny")  # conf/student/tiny.yaml sets neither compute_dtype nor strategy
    kd = kd_config(cfg, Path("<out>"), PATHS)
    grpo = OmegaConf.to_object(grpo_config(cfg, Path("<out>"), PATHS))
    default = StudentConfig()
    assert kd.student.compute_dtype == default.compute_dtype == grpo.policy.compute_dtype
    assert kd.student.strategy == default.strategy  # not the pruned default student's "influence"


def keys(*overrides: str) -> dict[str, str]:
    return {name: key for name, (key, _) in plan_keys(STAGES, pipeline(*overrides)).items()}


def test_a_stage_key_changes_exactly_when_its_config_changes():
    base = keys()
    changed = lambda *o: {n for n, k in keys(*o).items() if k != base[n]}  # noqa: E731
    every = {"teacher", "data", "label", "kd", "grpo", "eval_ref", "eval", "reranker", "router"}
    assert changed("kd.temperature=2") == {"kd", "grpo", "eval"}
    assert changed("grpo.beta=0.1") == {"grpo", "eval"}
    assert changed("label.limit=10") == {"label", "kd", "grpo", "eval"}
    assert changed("eval.limit=5") == {"eval_ref", "eval"}
    assert changed("data.grounding.k=3") == every - {"teacher", "router"}  # the router reads no data stage
    assert changed("rerank.alpha=0.3") == {"reranker", "eval"}  # the eval's routed row reads it
    assert changed("intent.alpha=0.3") == {"router", "eval"}
    assert changed("seed=3") == every - {"teacher"}
    assert changed("student.num_layers=12") == {"kd", "grpo", "eval_ref", "eval"}
    assert changed("student.compute_dtype=float32") >= {"kd", "grpo"}  # auto resolves per CPU
    assert changed("logger.wandb.group=other", "progress=false") == set()  # not what is computed


def test_editing_the_prompt_builder_reruns_every_stage_that_prompts_a_model(monkeypatch):
    """Stage keys hash configs, not code; the prompt text is code that every labelled, trained
    and scored answer depends on, so the data stage's key carries its fingerprint."""
    import mighty.data.prompts as prompts

    base = keys()
    monkeypatch.setattr(prompts, "NO_MATCH", prompts.NO_MATCH + " Be brief.")
    changed = {n for n, k in keys().items() if k != base[n]}
    assert changed == {"data", "label", "kd", "grpo", "eval_ref", "eval", "reranker"}
    monkeypatch.undo()
    assert keys() == base


def test_editing_where_answers_end_reruns_the_labels_and_the_evals(monkeypatch):
    """The repeat rule cuts the teacher's labels and every system's eval answers: the label and
    eval stages' keys carry its fingerprint (and KD and GRPO follow their labels)."""
    import mighty.data.answer_end as answer_end

    base = keys()
    monkeypatch.setattr(answer_end, "_PARTIAL_CHARS", 12)
    changed = {n for n, k in keys().items() if k != base[n]}
    assert changed == {"label", "kd", "grpo", "eval_ref", "eval"}
    monkeypatch.undo()
    assert keys() == base


def test_a_typo_fails_before_the_first_stage(tmp_path):
    store = tmp_path / "store"
    for typo, where in (("+kd.temprature=2", "'kd'"), ("+grpo.bta=0.1", "'grpo'"),
                        ("+label.limt=3", "'label'"), ("+data.sede=1", "'data'")):
        with pytest.raises(StageConfigError, match=rf"stage {where}: invalid config, so nothing has run"):
            run_stages(STAGES, pipeline("experiment=smoke", typo), store, log=lambda _: None)
    assert not store.exists() or not any(store.iterdir())  # no stage directory was made


def _pipeline_cli(tmp_path, *overrides: str):
    """The pipeline's real entry point in a subprocess, its store and run dir under tmp_path."""
    import os
    import subprocess
    import sys

    root = CONF.parent
    return subprocess.run([sys.executable, "-m", "mighty.experiments.pipeline", *overrides,
                           f"store={tmp_path / 'store'}", f"hydra.run.dir={tmp_path / 'run'}"],
                          cwd=root, env={**os.environ, "PYTHONPATH": str(root)}, capture_output=True,
                          text=True, timeout=300)


def test_the_cli_names_the_typo_without_a_traceback(tmp_path):
    r = _pipeline_cli(tmp_path, "experiment=smoke", "+kd.temprature=2")
    assert r.returncode != 0 and "Traceback" not in r.stderr
    assert "stage 'kd': invalid config, so nothing has run" in r.stderr and "temprature" in r.stderr
    assert not (tmp_path / "store").exists()


def test_an_unknown_experiment_fails_before_the_first_stage(tmp_path):
    """Hydra skips a missing optional config silently: `experiment=smok` ran the default pipeline."""
    from mighty.experiments.pipeline import check_experiment

    for name in EXPERIMENTS:
        check_experiment(name)
    check_experiment(None)
    r = _pipeline_cli(tmp_path, "experiment=smok")
    assert r.returncode != 0 and "Traceback" not in r.stderr
    assert "experiment=smok: there is no" in r.stderr and "smoke" in r.stderr
    assert not (tmp_path / "store").exists()


def _restated(node: dict, defaults: dict, prefix: str = "") -> list[str]:
    """Keys of a group YAML whose value equals the dataclass default (nested)."""
    out = []
    for k, v in node.items():
        if k == "defaults" or k not in defaults:
            continue
        if isinstance(v, dict) and isinstance(defaults[k], dict):
            out += _restated(v, defaults[k], f"{prefix}{k}.")
        elif v == defaults[k]:
            out.append(prefix + k)
    return out


@pytest.mark.parametrize("group, schema", [("kd/default", "mighty.distill.config:KDConfig"),
                                           ("grpo/default", "mighty.rl.config:GRPOConfig"),
                                           ("data/default", "mighty.data.config:DataConfig")])
def test_group_yamls_only_change_dataclass_defaults(group, schema):
    """Dataclasses own the defaults: a group YAML that restates one keeps two copies in step."""
    import importlib

    import yaml
    from omegaconf import OmegaConf

    mod, cls = schema.split(":")
    defaults = OmegaConf.to_container(OmegaConf.structured(getattr(importlib.import_module(mod), cls)))
    node = yaml.safe_load((Path(__file__).resolve().parents[2] / "mighty" / "conf" / f"{group}.yaml").read_text())
    assert _restated(node, defaults) == [], f"conf/{group}.yaml restates dataclass defaults"
