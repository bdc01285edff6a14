"""The memory planner with `student.lora`: the KD step's parameter column is the adapters plus
the frozen base as stored (float32, or NF4 codes + float32 scales), its optimizer column Adam's
two moments of the adapters only, both checked against the shapes by hand (reduced
paper_qwen: 1 block, 8 fake devices, mesh=fsdp)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
GiB = 1024 ** 3
REDUCED = ["experiment=paper_qwen", "devices=8", "device_memory_gb=80", "mesh=fsdp",
           "student.model.num_layers=1", "teacher.model.num_layers=1", "kd.grad_accum=2", "kd.batch_size=16",
           "kd.prompt_buckets=[128]", "kd.completion_buckets=[128]", "programs=[kd_step]", "+student/lora=default"]


def _kd_row(*extra):
    env = {**os.environ, "JAX_PLATFORMS": "cpu"}
    env.pop("XLA_FLAGS", None)
    proc = subprocess.run([sys.executable, "-m", "mighty.experiments.plan_memory", *REDUCED, *extra], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-4000:]
    lines = [line for line in proc.stdout.splitlines() if line.startswith("|")]
    cols = [c.strip() for c in lines[0].strip("|").split("|")]
    row = dict(zip(cols, [c.strip() for c in lines[2].strip("|").split("|")]))
    assert row["program"] == "kd_step" and row["fits"] == "yes"
    return row


# Qwen2.5-1.5B with one block, tied embeddings; fsdp = 8. r = 512 on all seven projections, so
# that the adapters (0.06 GiB) and their moments show at the table's 0.01 GiB resolution.
D, V, F, Q, KV, R = 1536, 151936, 8960, 12 * 128, 2 * 128, 512
KERNELS = D * (Q + 2 * KV) + Q * D + 3 * D * F


def _adapter_bytes_per_device():
    split = R * (D * 5 + D * 2) / 8  # A of q k v gate up, B of o down: an `embed` axis, on fsdp
    replicated = R * (Q + 2 * KV) + Q * R + 2 * R * F + F * R  # heads / mlp axes: `tensor` (size 1)
    return 4 * (split + replicated)


@pytest.mark.slow
@pytest.mark.parametrize("quant", ["none", "nf4"])
def test_planner_counts_lora_and_qlora_by_hand(quant):
    row = _kd_row(f"student.lora.quant={quant}", f"student.lora.rank={R}")
    small = V * D + 3 * D  # embedding and norms stay float32 in QLoRA
    if quant == "none":
        frozen = 4 * (small + KERNELS) / 8
    else:
        frozen = 4 * small / 8 + KERNELS / 2 / 8 + 4 * KERNELS / 64 / 8  # 4-bit codes + f32 scale per 64
    frozen += 4 * (Q + 2 * KV)  # qkv biases: no embed axis, replicated
    adapters = _adapter_bytes_per_device()
    assert adapters / GiB > 0.05
    assert abs(float(row["params"]) - (frozen + adapters) / GiB) < 0.006, row
    assert abs(float(row["optimizer"]) - 2 * adapters / GiB) < 0.006, row
