"""Intent data (imbalanced, frozen eval disjoint from training) and the router artefact."""
import dataclasses

import numpy as np
import pytest

from mighty.distill.intent.data import DataConfig, build, rare_intents
from mighty.distill.intent.intents import INTENTS
from mighty.distill.intent.training import StudentConfig, student_meta, train_student
from mighty.models.intent import load_intent_model, save_intent_model


@pytest.fixture(scope="module")
def data():
    return build(DataConfig())


def test_intent_set_is_imbalanced_with_rare_classes(data):
    assert len(INTENTS) >= 10
    counts = data["counts"]["train"]
    assert all(counts[i] > 0 for i in INTENTS)
    assert len(rare_intents(counts)) >= 2


def test_eval_is_frozen_and_disjoint(data):
    again = build(DataConfig())
    assert again["eval_sha256"] == data["eval_sha256"]
    train_groups = {r["group"] for r in data["train"] + data["val"]}
    assert not train_groups & {r["group"] for r in data["eval"]}
    assert not {r["group"] for r in data["train"]} & {r["group"] for r in data["val"]}
    assert all(data["counts"]["eval"][i] > 0 for i in INTENTS)


def test_save_load_round_trip(tmp_path):
    cfg = StudentConfig(buckets=512, dim=8, hidden=8, epochs=1, batch_size=2)
    texts = ["my speaker hums", "refund please", "the router drops", "help"]
    model, _ = train_student(texts, np.array([0, 1, 2, 1]), np.full((4, 3), 1 / 3), 3, cfg, alpha=0.5, seed=0)
    save_intent_model(tmp_path, model, student_meta(cfg, ["a", "b", "c"], note="x"))
    router = load_intent_model(tmp_path)
    assert router.labels == ["a", "b", "c"] and router.meta["note"] == "x"
    from mighty.models.textbag import featurize
    import jax
    import jax.numpy as jnp
    ref = np.asarray(jax.nn.softmax(model(jnp.asarray(featurize(texts, cfg.bag())))))
    np.testing.assert_allclose(router.predict_proba(texts), ref, rtol=1e-6)


def test_training_is_deterministic_per_seed():
    cfg = StudentConfig(buckets=512, dim=8, hidden=8, epochs=2, batch_size=2)
    texts = ["a b", "c d", "e f", "g h"]
    args = (texts, np.array([0, 1, 0, 1]), np.full((4, 2), .5), 2, cfg)
    _, l1 = train_student(*args, alpha=0.5, seed=3)
    _, l2 = train_student(*args, alpha=0.5, seed=3)
    assert l1 == l2
