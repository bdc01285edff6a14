"""Every scale config composes with the entry points that use it, and the paper shapes are the
real models' (parameter counts as published)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hydra import compose, initialize_config_dir

import mighty.distill.config  # noqa: F401  (schemas)
import mighty.rl.config  # noqa: F401
from mighty.models.mesh import mesh_rules, mesh_shape, remat_policy

CONF = str(Path(__file__).parents[2] / "mighty" / "conf")
MESHES = ("single", "data", "fsdp", "fsdp_tensor")
# published sizes (billions), tied embeddings counted once
PAPER = {"paper_qwen": {"teacher": 7.62, "student": 1.54}, "paper_llama": {"teacher": 8.03, "student": 1.24}}


def _compose(name, overrides, hydra_cfg=False):
    with initialize_config_dir(config_dir=CONF, version_base="1.3"):
        return compose(config_name=name, overrides=overrides, return_hydra_config=hydra_cfg)


@pytest.mark.parametrize("mesh", MESHES)
@pytest.mark.parametrize("primary", ["kd", "grpo", "plan_memory"])
def test_mesh_configs_compose(primary, mesh):
    cfg = _compose(primary, [f"mesh={mesh}"])
    assert remat_policy(cfg.mesh) == "none" and mesh_rules(cfg.mesh)
    sizes = mesh_shape(cfg.mesh, 8)
    assert int(np.prod(sizes)) == (1 if mesh == "single" else 8), sizes


@pytest.mark.parametrize("experiment", sorted(PAPER))
@pytest.mark.parametrize("primary", ["pipeline", "plan_memory"])
def test_paper_configs_compose_and_have_the_published_sizes(primary, experiment):
    from omegaconf import OmegaConf

    from mighty.models import ModelConfig
    from mighty.rl.config import GRPOConfig

    import mighty.experiments.pipeline  # noqa: F401  (registers every stage schema the pipeline composes)

    cfg = _compose(primary, [f"experiment={experiment}"])
    assert cfg.mesh.shape.fsdp == -1 and remat_policy(cfg.mesh) != "none"
    g = OmegaConf.to_object(cfg.grpo)
    assert isinstance(g, GRPOConfig) and g.micro_batches > 1 and g.ref_offload and g.ref_chunk > 0
    assert cfg.kd.batch_size % cfg.kd.grad_accum == 0
    for role, billions in PAPER[experiment].items():
        c = ModelConfig(**OmegaConf.to_container(cfg[role].model))  # validates the fields
        d, q, kv = c.hidden_size, c.num_heads * c.head_dim, c.num_kv_heads * c.head_dim
        block = d * (q + 2 * kv) + q * d + 3 * d * c.intermediate_size + 2 * d + c.qkv_bias * (q + 2 * kv)
        n = c.vocab_size * d * (1 if c.tie_embeddings else 2) + c.num_layers * block + d
        assert abs(n / 1e9 - billions) < 0.01, (role, n)
    assert cfg.teacher.model.param_dtype == "bfloat16" and cfg.student.model.dtype == "bfloat16"


def test_slurm_launcher_composes():
    cfg = _compose("grpo", ["hydra/launcher=slurm", "hydra.launcher.nodes=2"], hydra_cfg=True)
    launcher = cfg.hydra.launcher
    assert launcher._target_.endswith("SlurmLauncher")
    assert launcher.nodes == 2 and launcher.tasks_per_node == launcher.gpus_per_node == 8
