"""Shared fixtures of the KD trainer tests: the tiny teacher of conf/teacher/tiny.yaml and a
toy label cache it generated (built once per session: the sampler compile dominates)."""
from pathlib import Path

import jax
import pytest
from hydra import compose, initialize_config_dir

CONF = str(Path(__file__).resolve().parents[2] / "mighty" / "conf")


def compose_kd(*overrides: str):
    import mighty.distill.config  # noqa: F401  (registers kd_schema)

    with initialize_config_dir(config_dir=CONF, version_base="1.3"):
        return compose("kd", overrides=list(overrides))


@pytest.fixture(scope="session", name="compose_kd")
def compose_kd_fixture():
    return compose_kd


@pytest.fixture(scope="session")
def tiny_run_config():
    from mighty.distill.config import load_run_config

    return load_run_config(compose_kd("experiment=kd_tiny", "label_cache=unused"))


@pytest.fixture(scope="session")
def tiny_teacher(tiny_run_config):
    from mighty.distill.student import load_teacher

    return load_teacher(tiny_run_config.teacher)


@pytest.fixture(scope="session")
def toy_examples(tiny_teacher):
    from tests.distill.toy_cache import make_toy_examples

    teacher, tok = tiny_teacher
    return make_toy_examples(teacher, 96, key=jax.random.key(0), tokenizer=tok)


@pytest.fixture(scope="session")
def toy_cache(toy_examples, tmp_path_factory):
    from tests.distill.toy_cache import write_toy_cache

    return write_toy_cache(tmp_path_factory.mktemp("toy_cache"), toy_examples)
