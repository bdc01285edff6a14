"""experiments/reproduce.py: the README section it rewrites, the sweep axes it reuses, and one
real smoke-sized reproduction (main table only) into a scratch README."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from mighty.experiments import reproduce

ROOT = Path(__file__).resolve().parents[2]


def test_update_readme_replaces_only_the_marked_section(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text(f"# Title\n\nintro\n\n{reproduce.START}\nold numbers\n{reproduce.END}\n\n## After\nkeep\n")
    reproduce.update_readme(readme, "new numbers")
    text = readme.read_text()
    assert "old numbers" not in text and "new numbers" in text
    assert text.startswith("# Title\n\nintro") and text.endswith("## After\nkeep\n")
    reproduce.update_readme(readme, "newer")  # idempotent: still exactly one section
    assert readme.read_text().count(reproduce.START) == 1 and "new numbers" not in readme.read_text()


def test_update_readme_appends_a_section_when_markers_are_missing(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text("# Title\n")
    reproduce.update_readme(readme, "numbers")
    assert "## Reproduced results" in readme.read_text() and "numbers" in readme.read_text()


@pytest.mark.parametrize("name", reproduce.ABLATIONS)
def test_every_ablation_has_sweep_axes(name):
    axes = reproduce.sweep_axes(name)
    assert axes and all("=" in a and "," in a for a in axes), axes  # at least one multi-value axis


@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_quick_reproduction_writes_results_and_the_readme_section(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text(f"# Mighty\n\n{reproduce.START}\n{reproduce.END}\n")
    env = {**os.environ, "WANDB_MODE": "offline", "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, "-m", "mighty.experiments.reproduce", "--quick", "--ablations", "none",
           "--store", str(tmp_path / "store"), "--results", str(tmp_path / "results"),
           "--runs", str(tmp_path / "runs"), "--readme", str(readme)]
    out = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=1700)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-6000:]
    text = readme.read_text()
    section = text[text.index(reproduce.START):text.index(reproduce.END)]
    assert "wall time" in section and "cores" in section
    for system in ("teacher", "base_student", "kd_student", "grpo_student"):
        assert system in section
    assert "| accuracy |" in section
    meta = json.loads((tmp_path / "results" / "reproduce.json").read_text())
    assert meta["quick"] and meta["ablations"] == "none" and meta["wall_s"] >= meta["main_wall_s"] > 0
    assert (tmp_path / "results" / "main" / "report.md").exists()


def test_quick_ablations_run_the_default_models_and_narrow_only_the_kd_grid():
    rewards, system = reproduce.sweep_overrides("ablation_rewards", "quick", smoke=False)
    assert "experiment=smoke" not in rewards and system == "grpo_student"
    assert [a for a in rewards if a.startswith("reward=")] == ["reward=default,tech_only,lang_only"]
    kd, system = reproduce.sweep_overrides("ablation_kd", "quick", smoke=False)
    assert system == "kd_student" and "stages=[data,label,kd,eval]" in kd
    assert "kd.divergence=forward_kl,reverse_kl,jsd" in kd and not any(a.startswith("kd.alpha") for a in kd)
    assert reproduce.sweep_overrides("ablation_kd", "full", smoke=False) == (["experiment=ablation_kd"], "grpo_student")
    smoke, _ = reproduce.sweep_overrides("ablation_kd", "quick", smoke=True)
    assert smoke[0] == "experiment=smoke" and "kd.alpha=0.0,0.5" in smoke
