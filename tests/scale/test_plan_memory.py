"""`python -m mighty.experiments.plan_memory` compiles every program AOT for 8 fake devices and prints
the per-device table. A reduced paper_qwen (1 block each, smaller batches) keeps CI fast; the
parameter and optimizer columns are checked against the shapes by hand."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
GiB = 1024 ** 3
REDUCED = ["experiment=paper_qwen", "devices=8", "device_memory_gb=80", "mesh=fsdp",
           "student.model.num_layers=1", "teacher.model.num_layers=1", "kd.grad_accum=2", "kd.batch_size=16",
           "kd.prompt_buckets=[128]", "kd.completion_buckets=[128]", "grpo.prompts_per_step=4",
           "grpo.micro_batches=2", "grpo.ref_chunk=16", "grpo.rollout.max_new_tokens=64",
           "grpo.rollout.max_prompt_len=64", "grpo.rollout.overlong_buffer=16", "label.batch_size=8",
           "label.max_new_tokens=32"]


def _table(stdout: str) -> dict[str, dict[str, str]]:
    lines = [line for line in stdout.splitlines() if line.startswith("|")]
    cols = [c.strip() for c in lines[0].strip("|").split("|")]
    return {r[0]: dict(zip(cols, r)) for r in
            ([c.strip() for c in line.strip("|").split("|")] for line in lines[2:])}


@pytest.mark.slow
def test_planner_prints_the_table_for_a_reduced_paper_config():
    env = {**os.environ, "JAX_PLATFORMS": "cpu"}
    env.pop("XLA_FLAGS", None)  # the planner sets its own fake-device count
    proc = subprocess.run([sys.executable, "-m", "mighty.experiments.plan_memory", *REDUCED], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=1500)
    assert proc.returncode == 0, proc.stderr[-4000:]
    rows = _table(proc.stdout)
    assert set(rows) == {"kd_step", "grpo_step", "sampler", "reference", "teacher_labels"}
    # student Qwen2.5-1.5B shapes with 1 block, float32, split 8 ways over fsdp; Adam: 2 moments
    d, v, f, q, kv = 1536, 151936, 8960, 12 * 128, 2 * 128
    n = v * d + d * (q + 2 * kv) + q * d + 3 * d * f + 2 * d + d
    bias = q + 2 * kv  # (heads, head_dim) biases: no embed dim, so replicated
    per_device = ((n * 4) / 8 + bias * 4) / GiB
    for prog in ("kd_step", "grpo_step"):
        assert abs(float(rows[prog]["params"]) - per_device) < 0.01, rows[prog]
        assert abs(float(rows[prog]["optimizer"]) - 2 * per_device) < 0.015, rows[prog]
    for prog, row in rows.items():
        assert float(row["xla_total"]) >= float(row["activations"]) > 0, row
        assert row["fits"] == "yes"
    # the train state stays on the devices during a rollout and π_ref's pass
    assert abs(float(rows["sampler"]["resident"]) - 2 * per_device) < 0.015
    assert abs(float(rows["reference"]["resident"]) - 3 * per_device) < 0.02
    assert float(rows["grpo_step"]["resident"]) == 0.0  # π_ref offloaded
    assert re.search(r"^FITS: peak [\d.]+ GiB per device", proc.stdout, re.M), proc.stdout


def test_verdict_says_when_it_does_not_fit():
    from mighty.experiments.plan_memory import Row, format_table, verdict

    rows = [Row("kd_step", 1.0, 2.0, 30.0, 0.0, 0.0, 33.0, 9.0), Row("sampler", 1.0, 0.0, 20.0, 5.0, 40.0, 26.0, 5.0)]
    ok, text = verdict(rows, 80, 0.9)  # sampler peak 66 GiB < 0.9 · 80 GB = 67.06 GiB
    assert ok and text.startswith("FITS: peak 66.00 GiB per device (sampler)")
    ok, text = verdict(rows, 70, 0.9)
    assert not ok and text.startswith("DOES NOT FIT")
    table = _table(format_table(rows, 70, 0.9))
    assert table["kd_step"]["fits"] == "yes" and table["sampler"]["fits"] == "NO"
    assert table["sampler"]["peak"] == "66.00"
