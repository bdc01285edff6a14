"""Every shipped primary config and every conf/experiment/*.yaml composes (typos and wrong
types fail here, not an hour into a sweep)."""
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra

import mighty.distill.config  # noqa: F401  (registers schemas)
import mighty.distill.intent.config  # noqa: F401
import mighty.distill.rerank.config  # noqa: F401
import mighty.rl.config  # noqa: F401

CONF = Path(__file__).resolve().parents[2] / "mighty" / "conf"
EXPERIMENTS = sorted(p.stem for p in (CONF / "experiment").glob("*.yaml"))


def primary_for(experiment: str) -> str:
    """kd_* experiments belong to distill.train, grpo_* to rl.train, the rest to the pipeline."""
    if experiment.startswith("kd_"):
        return "kd"
    if experiment.startswith("grpo_"):
        return "grpo"
    return "pipeline"


@pytest.fixture(autouse=True)
def hydra_conf():
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        yield
    GlobalHydra.instance().clear()


@pytest.mark.parametrize("experiment", EXPERIMENTS)
def test_experiment_composes(experiment):
    cfg = compose(config_name=primary_for(experiment), overrides=[f"experiment={experiment}"],
                  return_hydra_config=True)
    assert cfg.seed is not None


@pytest.mark.parametrize("primary", ["pipeline", "kd", "grpo"])
def test_primary_configs_compose(primary):
    overrides = ["label_cache=/tmp/x"] if primary == "kd" else []
    assert compose(config_name=primary, overrides=overrides)


def test_sweep_configs_declare_their_axes():
    k = compose(config_name="pipeline", overrides=["experiment=ablation_k"], return_hydra_config=True)
    assert k.hydra.sweeper.params["grpo.num_generations"] == "2,4,8"
    r = compose(config_name="pipeline", overrides=["experiment=ablation_rewards"], return_hydra_config=True)
    assert r.hydra.sweeper.params["reward"] == "default,tech_only,lang_only"


def test_typo_fails_at_compose_time():
    from hydra.errors import ConfigCompositionException

    with pytest.raises(ConfigCompositionException, match="temprature"):
        compose(config_name="kd", overrides=["label_cache=/x", "kd.temprature=2"])
