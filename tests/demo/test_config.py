"""conf/serve.yaml merges onto the ServeConfig schema; typos and bad values fail early."""
import subprocess
import sys
from pathlib import Path

import pytest
from omegaconf.errors import ConfigKeyError, ValidationError

from mighty.demo.config import DEFAULT_CONFIG, ServeConfig, load_config, resolve_student

REPO = Path(__file__).resolve().parents[2]


def test_shipped_config_loads():
    cfg = load_config()
    assert cfg.student == "latest" and cfg.teacher == "smollm2-135m-instruct"
    assert cfg.engine.temperature == 0.0 and cfg.limits.max_concurrency == 1
    assert cfg.engine.dtype == "auto"  # served in the dtype the eval times and costs
    assert "swollen battery" in cfg.router.escalation_keywords
    # every key in the yaml is one the schema knows, with the dataclass defaults elsewhere
    assert load_config(None) == ServeConfig()


def test_latest_student_is_what_the_registry_serves(tmp_path):
    from mighty.runtime.registry import Registry

    # no run yet: the packaged model, and the UI is told why
    source, origin = resolve_student("latest", tmp_path)
    assert source == "smollm2-135m-instruct" and "no trained student yet" in origin
    reg = Registry(tmp_path / "registry")
    ckpts = [tmp_path / "grpo" / name / "policy" for name in ("a", "b")]
    passed = [{"name": "max_accuracy_gap", "value": 0.05, "threshold": "<= 0.1", "status": "pass"}]
    failed = [{"name": "max_accuracy_gap", "value": 0.3, "threshold": "<= 0.1", "status": "FAIL"}]
    for ckpt in ckpts:
        ckpt.mkdir(parents=True)
    good = reg.register("generator", ckpts[0], manifest={"run": "a"}, metrics={}, gates=passed)
    # registered but not promoted: the newest candidate is served, marked unpromoted
    source, origin = resolve_student("latest", tmp_path)
    assert source == str(ckpts[0]) and origin.startswith(f"UNPROMOTED generator candidate {good}")
    reg.promote("generator", good)
    reg.register("generator", ckpts[1], manifest={"run": "b"}, metrics={}, gates=failed)
    source, origin = resolve_student("latest", tmp_path)  # the pointer wins over a newer candidate
    assert source == str(ckpts[0]) and origin.startswith(f"promoted generator {good}")
    ckpts[0].rmdir()  # a pointer to a deleted checkpoint is an error that says what to do
    with pytest.raises(FileNotFoundError, match="rerun `make demo`, roll back"):
        resolve_student("latest", tmp_path)
    assert resolve_student("/some/dir", tmp_path) == ("/some/dir", "configured: /some/dir")


def test_overrides_and_student_path():
    cfg = load_config(DEFAULT_CONFIG, ["student=/ckpt/kd", "engine.max_new_tokens=32",
                                       "limits.client_header=X-Client-Id", "engine.warmup_batches=[1,8]"])
    assert cfg.student == "/ckpt/kd" and cfg.engine.max_new_tokens == 32
    assert cfg.limits.client_header == "X-Client-Id" and cfg.engine.warmup_batches == [1, 8]


def test_typo_fails():
    with pytest.raises(ConfigKeyError, match="max_new_tokenz"):
        load_config(DEFAULT_CONFIG, ["engine.max_new_tokenz=3"])


def test_wrong_type_fails():
    with pytest.raises(ValidationError):
        load_config(DEFAULT_CONFIG, ["engine.max_new_tokens=lots"])


@pytest.mark.parametrize("override,msg", [
    ("engine.max_new_tokens=0", "max_new_tokens"),
    ("router.min_confidence=1.5", "min_confidence"),
    ("limits.burst=0", "burst"),
    ("port=70000", "port"),
    ("engine.dtype=float8", "engine.dtype"),
])
def test_bad_values_fail_in_post_init(override, msg):
    with pytest.raises(ValueError, match=msg):
        load_config(DEFAULT_CONFIG, [override])


def test_cli_reports_bad_config_without_starting():
    r = subprocess.run([sys.executable, "-m", "mighty.demo.server", "limits.burstt=3"], cwd=REPO,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode != 0 and "bad config" in r.stderr and "burstt" in r.stderr
    r = subprocess.run([sys.executable, "-m", "mighty.demo.server", "--print-config", "student=/tmp/ckpt"],
                       cwd=REPO, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and "student: /tmp/ckpt" in r.stdout
