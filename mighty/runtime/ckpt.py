"""Orbax checkpoints of a training state pytree plus a JSON sidecar (data cursor, metrics).

Orbax writes each step into a temporary directory and renames it when complete, so a run
killed mid-save leaves the previous checkpoint intact and resumes from it.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import jax
import orbax.checkpoint as ocp


class Checkpointer:
    def __init__(self, directory: str | os.PathLike, *, max_to_keep: int = 2, every: int = 0):
        self.directory = Path(directory).absolute()
        self.every = every
        self._mngr = ocp.CheckpointManager(
            self.directory,
            options=ocp.CheckpointManagerOptions(max_to_keep=max_to_keep, create=True),
        )

    def latest_step(self) -> int | None:
        return self._mngr.latest_step()

    def should_save(self, step: int) -> bool:
        return self.every > 0 and step % self.every == 0

    def save(self, step: int, state: Any, extra: dict | None = None, *, wait: bool = True) -> None:
        self._mngr.save(step, args=ocp.args.Composite(
            state=ocp.args.StandardSave(state), extra=ocp.args.JsonSave(extra or {})))
        if wait:
            self._mngr.wait_until_finished()

    def restore(self, step: int | None, like: Any) -> tuple[Any, dict]:
        """Restore into the structure, dtypes and shardings of `like` (arrays or ShapeDtypeStructs)."""
        step = self.latest_step() if step is None else step
        if step is None:
            raise FileNotFoundError(f"no checkpoint under {self.directory}; nothing to resume from")
        abstract = jax.tree.map(ocp.utils.to_shape_dtype_struct, like)
        out = self._mngr.restore(step, args=ocp.args.Composite(
            state=ocp.args.StandardRestore(abstract), extra=ocp.args.JsonRestore()))
        return out.state, dict(out.extra)

    def close(self) -> None:
        self._mngr.wait_until_finished()
        self._mngr.close()
