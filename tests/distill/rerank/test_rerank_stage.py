"""Tiny end-to-end reranker runs: the Hydra entry point composes and runs, and the stage with
a tiny random teacher trains a student that beats the BM25 order on held-out issues (the
frozen eval's in-scope cases: issues no training question is about)."""
import json

import numpy as np
import pytest
from flax import nnx
from hydra import compose, initialize_config_dir

from mighty import models
from mighty.distill.rerank.stage import run
from mighty.distill.rerank.train import load_run_config
from mighty.models.reranker import load_reranker
from tests.evals.conftest import CharTokenizer

CONF = str(__import__("pathlib").Path(__file__).parents[3] / "mighty" / "conf")


def tiny_cfg(*overrides):
    with initialize_config_dir(config_dir=CONF, version_base="1.3"):
        return load_run_config(compose("rerank", overrides=["rerank=tiny", *overrides]))


def test_shipped_configs_compose_and_typos_fail():
    assert tiny_cfg().rerank.steps == 250
    with initialize_config_dir(config_dir=CONF, version_base="1.3"):
        assert load_run_config(compose("rerank")).rerank.k == 10
    with pytest.raises(Exception):
        tiny_cfg("rerank.alhpa=0.3")
    with pytest.raises(ValueError, match="alpha"):
        tiny_cfg("rerank.alpha=1.5")


@pytest.mark.slow  # ~50 s on a quiet 2-core machine, 90 s on a busy one
def test_tiny_run_beats_bm25_order_on_heldout_issues(tmp_path):
    rc = tiny_cfg()
    teacher = (models.Transformer(models.ModelConfig.tiny(max_position_embeddings=4096), rngs=nnx.Rngs(0)),
               CharTokenizer())
    rc.rerank.teacher_max_tokens = 2048
    rc.rerank.eval_limit = 0
    summary = run(rc.rerank, tmp_path, teacher_source="tiny-random", seed=0, teacher=teacher, progress=False)
    res = json.loads((tmp_path / "results.json").read_text())
    assert res["teacher"]["questions_scored"] == 4 and "bm25+teacher" in res["systems"]
    assert res["n_eval"] == 82
    d = res["vs_bm25"]["bm25+student"]["ndcg@10"]
    assert d["ci_low"] > 0, d  # the student reorders BM25's candidates for the better (paired CI)
    assert summary["bm25+student/ndcg@10"] > summary["bm25/ndcg@10"]
    # the teacher's training scores were cached and a rerun reuses them (same numbers)
    assert (tmp_path / "teacher_scores_train.npz").exists()
    losses = [r["rerank/mse"] for r in map(json.loads, open(tmp_path / "metrics.jsonl")) if "rerank/mse" in r]
    assert all(np.isfinite(losses)) and max(losses) > 0  # the MSE term saw teacher scores
    scorer = load_reranker(tmp_path / "model")
    assert scorer.meta["k"] == rc.rerank.k
