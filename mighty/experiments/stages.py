"""Content-addressed pipeline stages.

A stage's directory is `<store>/<stage>/<key>`, where `key` hashes the config the stage runs
with together with the keys of its parents. A stage with a `config` builder is keyed on
exactly what it is handed (its validated run config, with placeholder paths, since paths
follow from keys); the others on their `slice` of the pipeline config. Every key is computed,
and so every stage config validated, before the first stage runs: a typo in a KD knob fails
in a second, not after the teacher has labelled for minutes. Change `kd.temperature` and the kd, grpo and
eval stages get new directories while data and label are reused; a sweep over
`grpo.num_generations` shares one data/label/kd run. A stage whose directory holds a
complete manifest is skipped; `force=true` reruns it.
"""
from __future__ import annotations

import dataclasses
import json
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping

from omegaconf import DictConfig, OmegaConf

from mighty.runtime import config_hash
from mighty.runtime.config import plain

DONE = "stage_done.json"


class StageConfigError(ValueError):
    """A stage's config failed validation; raised before the first stage runs."""


Builder = Callable[[DictConfig, Path, Mapping[str, Path]], Any]


@dataclass(frozen=True)
class Stage:
    name: str
    parents: tuple[str, ...]
    slice: Callable[[DictConfig], Any] | None     # the config this stage's output depends on
    run: Callable[[DictConfig, Path, Mapping[str, Path]], dict]  # -> stats for stage_done.json
    optional: tuple[str, ...] = ()                # parents used when the run includes them
                                                  # (eval without grpo scores the KD student)
    config: Builder | None = None                 # (cfg, out dir, parent dirs) -> the validated
                                                  # config `run` builds the same way and runs with
    code: Callable[[], str] | None = None         # a fingerprint of code the output depends on
                                                  # beyond its config (the data stage: the prompt
                                                  # builder), so editing it does not reuse stale outputs


OUT_PLACEHOLDER = Path("<out>")


def keyed_config(stage: Stage, cfg: DictConfig, parents: tuple[str, ...] | list[str]) -> Any:
    """What the key hashes: the built config with placeholder paths (`<out>`, `<kd>`, ...),
    so the key does not depend on where the store lives; the parents' keys cover their dirs."""
    if stage.config is None:
        return plain(stage.slice(cfg))
    return plain(stage.config(cfg, OUT_PLACEHOLDER, {p: Path(f"<{p}>") for p in parents}))


def stage_key(stage: Stage, cfg: DictConfig, parent_keys: Mapping[str, str]) -> str:
    payload = {"stage": stage.name, "config": keyed_config(stage, cfg, list(parent_keys)),
               "parents": dict(parent_keys)}
    if stage.code is not None:
        payload["code"] = stage.code()
    return config_hash(payload)[:16]


def plan_keys(stages: list[Stage], cfg: DictConfig) -> dict[str, tuple[str, list[str]]]:
    """{stage: (key, parents used)} for every stage, in order, before anything runs."""
    keys: dict[str, str] = {}
    plan = {}
    for stage in stages:
        missing = [p for p in stage.parents if p not in keys]
        if missing:
            raise ValueError(f"stage {stage.name!r} needs {missing} earlier in the run; add them to "
                             f"`stages` (got {[s.name for s in stages]})")
        parents = [*stage.parents, *(p for p in stage.optional if p in keys)]
        try:
            keys[stage.name] = stage_key(stage, cfg, {p: keys[p] for p in parents})
        except Exception as e:  # a typo or a bad value: name the stage, before any stage runs
            raise StageConfigError(f"stage {stage.name!r}: invalid config, so nothing has run "
                                   f"({type(e).__name__}: {e})") from e
        plan[stage.name] = (keys[stage.name], parents)
    return plan


def is_done(stage_dir: Path, key: str) -> bool:
    marker = stage_dir / DONE
    if not marker.exists():
        return False
    return json.loads(marker.read_text()).get("key") == key


def run_stages(stages: list[Stage], cfg: DictConfig, store: Path, *, force: bool | list = False,
               log: Callable[[str], None] = print) -> dict[str, dict]:
    """Runs (or skips) each stage in order; returns {stage: {dir, key, skipped, seconds,
    computed_seconds}}: `seconds` this invocation spent, `computed_seconds` what the stage took
    when it was computed (here, or by the run that stored it).

    `force` is True (rerun every stage) or a list of stage names to rerun. Keys depend on
    configs, not outputs, so forcing one stage reruns exactly that stage.
    """
    plan = plan_keys(stages, cfg)
    keys = {name: key for name, (key, _) in plan.items()}
    out: dict[str, dict] = {}
    forced = set(s.name for s in stages) if force is True else set(force or [])
    for stage in stages:
        parents = plan[stage.name][1]
        stage_dir = store / stage.name / keys[stage.name]
        inputs = {p: Path(out[p]["dir"]) for p in parents}
        if is_done(stage_dir, keys[stage.name]) and stage.name not in forced:
            log(f"[{stage.name}] up to date: {stage_dir}")
            took = json.loads((stage_dir / DONE).read_text()).get("seconds")
            out[stage.name] = {"dir": str(stage_dir), "key": keys[stage.name], "skipped": True, "seconds": 0.0,
                               "computed_seconds": took}
            continue
        if stage_dir.exists() and stage.name in forced:
            shutil.rmtree(stage_dir)  # a forced rerun starts clean (no resume from stale state)
        stage_dir.mkdir(parents=True, exist_ok=True)
        log(f"[{stage.name}] running -> {stage_dir}")
        t0 = time.time()
        stats = stage.run(cfg, stage_dir, inputs) or {}
        seconds = round(time.time() - t0, 2)
        log(f"[{stage.name}] done in {seconds:.0f} s")
        marker = {"key": keys[stage.name], "stage": stage.name, "seconds": seconds,
                  "parents": {p: out[p]["key"] for p in parents}, "stats": stats}
        (stage_dir / DONE).write_text(json.dumps(marker, indent=2, sort_keys=True, default=str))
        out[stage.name] = {"dir": str(stage_dir), "key": keys[stage.name], "skipped": False, "seconds": seconds,
                           "computed_seconds": seconds}
    return out

