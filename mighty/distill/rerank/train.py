"""Hydra entry point of the reranker stage: `python -m mighty.distill.rerank.train [rerank=tiny] ...`.

Schema: distill.rerank.config.RerankRunConfig (typos and wrong types fail at compose time)."""
from __future__ import annotations

import json
from pathlib import Path

import hydra
from omegaconf import DictConfig

from mighty.distill.rerank.config import RerankRunConfig  # noqa: F401  (registers the schema)
from mighty.runtime.config import typed


def load_run_config(cfg) -> RerankRunConfig:
    return typed(RerankRunConfig, cfg)


@hydra.main(config_path="../../conf", config_name="rerank", version_base="1.3")
def main(cfg: DictConfig) -> None:
    from hydra.core.hydra_config import HydraConfig

    from mighty.distill.rerank.stage import run

    rc = load_run_config(cfg)
    out = Path(rc.run_dir or HydraConfig.get().runtime.output_dir)
    print(json.dumps(run(rc.rerank, out, teacher_source=rc.teacher_source, seed=rc.seed), indent=2, default=str))


if __name__ == "__main__":
    main()
