"""`python -m mighty.distill.intent.train [intent=tiny] [teacher_source=none] [run_dir=...]`: the intent
router stage (distill.intent.stage.run) under Hydra; schema distill.intent.config."""
from __future__ import annotations

import json
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig

from mighty.runtime.config import typed

from .config import IntentRunConfig, register

register()


@hydra.main(config_path="../../conf", config_name="intent", version_base="1.3")
def main(cfg: DictConfig) -> None:
    from .stage import run

    rc: IntentRunConfig = typed(IntentRunConfig, cfg)
    out = Path(rc.run_dir or HydraConfig.get().runtime.output_dir)
    print(json.dumps(run(rc.intent, out, teacher_source=rc.teacher_source, seed=rc.seed), indent=1))


if __name__ == "__main__":
    main()
