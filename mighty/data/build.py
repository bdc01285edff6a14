"""`python -m mighty.data.build [data.out_dir=...] [data.seed=...]`: the data stage as a Hydra app."""
from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import hydra
from hydra.core.config_store import ConfigStore
from hydra.utils import to_absolute_path
from omegaconf import DictConfig, OmegaConf
from rich.console import Console
from rich.table import Table

from mighty.data.config import DataConfig, register
from mighty.data.pipeline import build, write_outputs
from mighty.runtime import atomic_write_json, config_hash, git_commit

register()
ConfigStore.instance().store(name="data_build", node={"defaults": [{"data": "default"}, {"hydra": "default"}, "_self_"]})


def to_config(node: DictConfig) -> DataConfig:
    """The validated dataclass (runs every `__post_init__`)."""
    return OmegaConf.to_object(node) if OmegaConf.get_type(node) is DataConfig else DataConfig(
        **OmegaConf.to_container(node, resolve=True))


def summary_table(report: dict) -> Table:
    table = Table(title="data build")
    table.add_column("stage")
    table.add_column("counts")
    for part in ("prompts", "forum"):
        d = {k: v for k, v in report["dedup"][part].items() if k != "vs_planted"}
        planted = report["dedup"][part].get("vs_planted")
        if planted:
            d |= {"precision": planted["precision"], "recall": planted["recall"]}
        table.add_row(f"dedup ({part})", str(d))
    table.add_row("split", str(report["split"]))
    for part in ("train", "val"):
        c = report["contamination"][part]
        table.add_row(f"contamination ({part})", f"dropped {c['dropped']} by {c['embedding']} "
                                                 f"cosine ≥ {c['threshold']}")
    table.add_row("final", str(report["final"]))
    return table


@hydra.main(version_base="1.3", config_path="../conf", config_name="data_build")
def main(node: DictConfig) -> None:
    cfg = to_config(node.data)
    cfg = dataclasses.replace(cfg, out_dir=to_absolute_path(cfg.out_dir),
                              corpus_dir=to_absolute_path(cfg.corpus_dir) if cfg.corpus_dir else "")
    t0 = time.time()
    result = build(cfg)
    outputs = write_outputs(result, cfg.out_dir, cfg.grounding)
    fields = dataclasses.asdict(cfg)
    atomic_write_json(Path(cfg.out_dir) / "manifest.json", {
        "stage": "data", "config": fields, "config_hash": config_hash(fields)[:16], "seed": cfg.seed,
        "inputs": result.report["inputs"], "outputs": outputs, "wall_time_s": round(time.time() - t0, 3),
        "git_commit": git_commit()})
    Console().print(summary_table(result.report))
    print(f"wrote {cfg.out_dir}")


if __name__ == "__main__":
    main()
