"""Every shipped KD config composes and validates; typos and bad values fail early."""
import glob
import os
from pathlib import Path

import pytest

from mighty.distill.config import KDRunConfig, load_run_config

EXPERIMENTS = sorted(Path(p).stem for p in glob.glob(
    os.path.join(Path(__file__).resolve().parents[2], "mighty", "conf", "experiment", "kd_*.yaml")))


@pytest.mark.parametrize("experiment", [None, *EXPERIMENTS])
def test_shipped_configs_compose_and_validate(compose_kd, experiment):
    overrides = ["label_cache=/some/cache"] + ([f"experiment={experiment}"] if experiment else [])
    run = load_run_config(compose_kd(*overrides))
    assert isinstance(run, KDRunConfig)
    assert run.label_cache == "/some/cache"


def test_experiment_list_is_not_empty():
    assert {"kd_tiny", "kd_seqkd", "kd_onpolicy"} <= set(EXPERIMENTS)


def test_default_student_and_seqkd_setting(compose_kd):
    run = load_run_config(compose_kd("label_cache=x"))
    assert (run.student.init, run.student.num_layers, run.student.strategy, run.teacher.source) == (
        "pruned", 28, "influence", "smollm2-135m-instruct")
    assert run.student.lora.rank == 16  # trained through adapters (student/pruned_smollm2_lora)
    assert load_run_config(compose_kd("label_cache=x", "experiment=kd_seqkd")).kd.alpha == 1.0


def test_typo_fails_at_compose_time(compose_kd):
    with pytest.raises(Exception, match="alpah"):
        compose_kd("label_cache=x", "kd.alpah=0.5")


@pytest.mark.parametrize("override, message", [
    ("kd.alpha=1.5", "kd.alpha"),
    ("kd.divergence=kl", "kd.divergence"),
    ("kd.batch_size=7", "multiple of kd.grad_accum"),
    ("kd.completion_buckets=[128,64]", "strictly increasing"),
    ("kd.domain.mode=linear", "kd.domain.mode"),
    ("student.init=distil", "student.init"),
    ("kd.lam=-0.1", "kd.lam"),
])
def test_bad_values_fail_validation(compose_kd, override, message):
    with pytest.raises(ValueError, match=message):
        load_run_config(compose_kd("label_cache=x", override))


def test_missing_label_cache_is_reported(compose_kd):
    with pytest.raises(Exception, match="label_cache"):
        load_run_config(compose_kd())
