"""The pipeline with a LoRA student (the smoke experiment plus `student/lora`, as
the default run's student), through the real Hydra entry point: KD and GRPO train adapters only, each
writes its merged model and PEFT adapter, and eval scores both students."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]


@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_smoke_pipeline_with_a_lora_student(tmp_path):
    env = {**os.environ, "JAX_PLATFORMS": "cpu", "WANDB_MODE": "offline"}
    cmd = [sys.executable, "-m", "mighty.experiments.pipeline", "experiment=smoke", "+student/lora=tiny",
           f"store={tmp_path / 'store'}", "logger=jsonl",
           f"hydra.run.dir={tmp_path / 'run'}"]
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=1700)
    assert proc.returncode == 0, proc.stderr[-4000:]
    (kd,) = (tmp_path / "store" / "kd").iterdir()
    manifest = json.loads((kd / "manifest.json").read_text())
    lora = manifest["lora"]
    assert lora["trainable"] == 4096  # r = 4 on 7 projections of the 1-block, width-64 student
    assert manifest["student_params"] > 100 * lora["trainable"]
    assert (kd / "student_adapter" / "adapter_model.safetensors").is_file()
    (grpo,) = (tmp_path / "store" / "grpo").iterdir()
    g = json.loads((grpo / "manifest.json").read_text())
    assert g["lora"]["trainable"] == 4096 and (grpo / "policy_adapter" / "adapter_config.json").is_file()
    report = (tmp_path / "run" / "report" / "report.md").read_text()
    assert "kd_student" in report and "grpo_student" in report
