"""A tiny end-to-end intent stage: composed from conf/intent/tiny.yaml, the ensemble without
the LLM member (it has its own test), students that must beat the majority class on the
frozen eval."""
import json

import numpy as np
import pytest
from hydra import compose, initialize_config_dir

from mighty.distill.intent.config import IntentRunConfig, register
from mighty.runtime.config import typed

pytestmark = pytest.mark.slow  # ~40 s alone (MiniLM over ~800 questions + 3 students), more on a busy machine

ROOT = __import__("pathlib").Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    from mighty.distill.intent.stage import run

    register()
    with initialize_config_dir(str(ROOT / "mighty" / "conf"), version_base="1.3"):
        cfg = compose("intent", overrides=["intent=tiny", "teacher_source=none"])
    rc = typed(IntentRunConfig, cfg)
    out = tmp_path_factory.mktemp("intent")
    summary = run(rc.intent, out, teacher_source=rc.teacher_source, seed=0)
    return out, summary, json.loads((out / "results.json").read_text())


def test_students_beat_majority_on_frozen_eval(tiny_run):
    _, _, res = tiny_run
    sysm = res["systems"]
    for name in ("hard", "blend", "teacher"):
        assert sysm[name]["macro_f1"] > sysm["majority"]["macro_f1"] + 0.1, name
        assert sysm[name]["accuracy"] > sysm["majority"]["accuracy"], name


def test_results_record_gates_tables_and_combination(tiny_run):
    out, summary, res = tiny_run
    assert set(res["gates"]) == {"macro_f1", "rare_recall", "latency_p95_ms", "ece"}
    assert res["combination"]["rule"] == "log_linear" and res["combination"]["rule_override"] is True
    assert res["combination"]["teacher_source"] == "none"
    for name in ("hard", "soft", "blend", "teacher"):
        assert set(res["systems"][name]["per_class_recall"]) == set(res["labels"])
        assert res["systems"][name]["latency"]["p95_ms"] > 0
    assert "blend_minus_hard_rare_recall" in res["ci"]
    assert (out / "manifest.json").exists()


def test_saved_router_loads_and_predicts(tiny_run):
    from mighty.models.intent import load_intent_model

    out, _, res = tiny_run
    router = load_intent_model(out / "model")
    assert router.labels == res["labels"]
    p = router.predict_proba(["my smart plug keeps going offline", "i want a refund"])
    assert p.shape == (2, len(res["labels"])) and np.allclose(p.sum(1), 1, atol=1e-5)
