"""Every GRPO config composes, ablations work as overrides, and bad values fail early."""
from __future__ import annotations

from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir

import mighty.rl.config  # noqa: F401  (registers the schema nodes)
from mighty.rl.config import GRPOConfig, GRPOOptimConfig, RolloutConfig, load_run_config

CONF = Path(__file__).resolve().parents[2] / "mighty" / "conf"
EXPERIMENTS = sorted(p.stem for p in (CONF / "experiment").glob("grpo_*.yaml"))


def _compose(*overrides):
    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        return compose("grpo", overrides=list(overrides))


def test_there_are_grpo_experiments():
    assert {"grpo_tiny", "grpo_dapo", "grpo_tech_only", "grpo_lang_only"} <= set(EXPERIMENTS)


@pytest.mark.parametrize("experiment", EXPERIMENTS)
def test_experiment_composes_and_validates(experiment):
    cfg = _compose(f"experiment={experiment}", "policy.source=/nonexistent/kd_student")
    run = load_run_config(cfg)
    assert isinstance(run.grpo, GRPOConfig)
    assert cfg.reward._target_ == "mighty.rewards.composite.Composite"


@pytest.mark.parametrize("grpo", sorted(p.stem for p in (CONF / "grpo").glob("*.yaml")))
def test_grpo_group_files_compose(grpo):
    load_run_config(_compose(f"grpo={grpo}"))


def test_defaults_are_the_documented_recipe():
    run = load_run_config(_compose())
    g = run.grpo
    assert (g.reference, g.loss_agg, g.kl_estimator) == ("policy_init", "token", "k3")
    assert g.eps_high > g.eps_low  # clip-higher
    assert run.policy.source.endswith("student")
    assert {"tech", "lang"} <= set(run.reward.components)


@pytest.mark.parametrize("reward,enabled", [("tech_only", {"tech"}), ("lang_only", {"lang"})])
def test_reward_ablation_overrides(reward, enabled):
    from hydra.utils import instantiate

    cfg = _compose("experiment=grpo_tiny", f"reward={reward}")
    comps = {k for k, v in cfg.reward.components.items() if v is not None}
    assert comps == enabled
    composite = instantiate(cfg.reward)
    assert set(composite.components) == enabled


@pytest.mark.parametrize("g", [2, 4, 8])
def test_group_size_override(g):
    run = load_run_config(_compose("experiment=grpo_tiny", f"grpo.num_generations={g}"))
    assert run.grpo.num_generations == g and run.grpo.batch_size == g * run.grpo.prompts_per_step


def test_typo_fails_at_compose_time():
    with pytest.raises(Exception, match="num_generation"):
        _compose("grpo.num_generation=4")
    with pytest.raises(Exception):
        _compose("grpo.beta=lots")


@pytest.mark.parametrize("override,message", [
    ("grpo.num_generations=1", "num_generations"),
    ("grpo.loss_agg=mean", "loss_agg"),
    ("grpo.kl_estimator=k4", "kl_estimator"),
    ("grpo.reference=judge", "reference"),
    ("grpo.adv_scale=max", "adv_scale"),
    ("grpo.rollout.overlong_buffer=500", "overlong_buffer"),
    ("grpo.eps_low=1.5", "eps_low"),
    ("grpo.optim.schedule=linear", "schedule"),
    ("train.prompt_order=shuffled", "prompt_order"),
])
def test_bad_values_fail_with_the_field_name(override, message):
    cfg = _compose(override)
    with pytest.raises(ValueError, match=message):
        load_run_config(cfg)


def test_dataclasses_validate_directly():
    with pytest.raises(ValueError, match="top_p"):
        RolloutConfig(top_p=0.0)
    with pytest.raises(ValueError, match="lr"):
        GRPOOptimConfig(lr=0.0)
    assert GRPOConfig(num_generations=4, prompts_per_step=3).batch_size == 12
