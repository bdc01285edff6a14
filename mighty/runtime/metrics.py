"""Metrics go to `<run_dir>/metrics.jsonl` and to W&B (offline unless configured otherwise)."""
from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any, Mapping

import numpy as np

METRICS = "metrics.jsonl"


def _to_python(value: Any) -> Any:
    if hasattr(value, "item") and np.ndim(value) == 0:
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)  # JSON has no NaN/inf; keep them visible instead of dropping them
    if isinstance(value, (np.ndarray, list, tuple)):
        return [_to_python(v) for v in np.asarray(value).tolist()]
    return value


def truncate_after(path: Path, step: int) -> None:
    """Drop lines logged after `step` (a resumed run re-logs them; no duplicates)."""
    if not path.exists():
        return
    kept = [line for line in path.read_text().splitlines() if line and json.loads(line)["step"] <= step]
    tmp = path.with_suffix(".tmp")
    tmp.write_text("".join(line + "\n" for line in kept))
    os.replace(tmp, path)


class MetricsLogger:
    """One logger per stage run.

    `wandb` is None (jsonl only) or a dict of `wandb.init` kwargs (project, group, job_type,
    mode, name, tags). `resume_step` truncates `metrics.jsonl` after that step so a run killed
    and resumed writes the same file as an uninterrupted one.
    """

    def __init__(self, run_dir: str | os.PathLike, *, config: Mapping[str, Any] | None = None,
                 wandb: Mapping[str, Any] | None = None, resume_step: int | None = None,
                 enabled: bool = True):
        self.run_dir = Path(run_dir)
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.path = self.run_dir / METRICS
        self.enabled = enabled
        if resume_step is None and enabled:
            self.path.unlink(missing_ok=True)
        elif enabled:
            truncate_after(self.path, resume_step)
        self._wandb = None
        if wandb is not None and enabled:
            self._wandb = _init_wandb(self.run_dir, dict(wandb), dict(config or {}))

    def log(self, step: int, metrics: Mapping[str, Any]) -> None:
        if not self.enabled:
            return
        row = {"step": int(step), **{k: _to_python(v) for k, v in sorted(metrics.items())}}
        with open(self.path, "a") as f:
            f.write(json.dumps(row) + "\n")
        if self._wandb is not None:
            self._wandb.log({k: v for k, v in row.items() if k != "step" and not isinstance(v, (str, list))},
                            step=int(step))

    def log_table(self, name: str, rows: list[Mapping[str, Any]], step: int | None = None) -> None:
        """Rows go to `<name>.jsonl` in the run dir and, when W&B is on, to a `wandb.Table`."""
        if not self.enabled or not rows:
            return
        with open(self.run_dir / f"{name.replace('/', '_')}.jsonl", "a") as f:
            for r in rows:
                f.write(json.dumps({"step": step, **{k: _to_python(v) for k, v in r.items()}}) + "\n")
        if self._wandb is not None:
            import wandb

            cols = list(rows[0].keys())
            table = wandb.Table(columns=cols, data=[[_to_python(r[c]) for c in cols] for r in rows])
            self._wandb.log({name: table}, step=step)

    def summary(self, values: Mapping[str, Any]) -> None:
        if self._wandb is not None:
            for k, v in values.items():
                self._wandb.summary[k] = _to_python(v)

    def close(self) -> None:
        if self._wandb is not None:
            self._wandb.finish()
            self._wandb = None


def _init_wandb(run_dir: Path, kwargs: dict, config: dict):
    import wandb

    os.environ.setdefault("WANDB_MODE", kwargs.pop("mode", None) or "offline")
    os.environ.setdefault("WANDB_SILENT", "true")
    kwargs.setdefault("dir", str(run_dir))
    return wandb.init(config=config, reinit="finish_previous", **kwargs)
