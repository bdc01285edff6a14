"""The demo serves what the model registry's generator pointer names: promote two students,
roll one back, start `python -m mighty.demo.server student=latest`, and the rolled-back-to student is
the one that loads and answers."""
import httpx
import pytest

from tests.demo.conftest import Server


@pytest.fixture(scope="module")
def tiny_students(tmp_path_factory):
    """Two random 2-layer students with the packaged tokenizer, and a tiny teacher."""
    from flax import nnx

    from mighty.models import ModelConfig, Transformer, load_pretrained, save_checkpoint

    tok = load_pretrained("smollm2-135m-instruct")[1]
    root = tmp_path_factory.mktemp("students")
    out = {}
    for i, name in enumerate(("teacher", "a", "b")):
        cfg = ModelConfig.tiny(vocab_size=tok.vocab_size, eos_id=tok.eos_id, pad_id=tok.pad_id,
                               bos_id=tok.bos_id or 0, max_position_embeddings=2048)
        out[name] = root / name
        save_checkpoint(Transformer(cfg, rngs=nnx.Rngs(i)), out[name], tokenizer=tok)
    return out


@pytest.mark.slow
def test_demo_serves_the_registry_pointer_after_promote_and_rollback(tiny_students, tmp_path):
    from mighty.runtime.registry import Registry

    store = tmp_path / "store"
    reg = Registry(store / "registry")
    passed = [{"name": "accuracy gap to teacher", "value": 0.0, "threshold": "<= 0.10", "status": "pass"}]
    va = reg.register("generator", tiny_students["a"], manifest={"run": "a"}, metrics={}, gates=passed)
    vb = reg.register("generator", tiny_students["b"], manifest={"run": "b"}, metrics={}, gates=passed)
    reg.promote("generator", va)
    reg.promote("generator", vb)
    reg.rollback("generator", reason="test")
    from flax import nnx

    from mighty.models.reranker import Reranker, RerankerConfig, save_reranker

    rerank_dir = tmp_path / "reranker"
    save_reranker(rerank_dir, Reranker(RerankerConfig(), rngs=nnx.Rngs(0)), {"k": 5, "confidence": "sigmoid"})
    # registered, not promoted (no gates): a router or reranker is served only once promoted
    reg.register("reranker", rerank_dir, manifest={"run": "r"}, metrics={}, gates=[])
    # a router whose gates passed is promoted, and served
    import dataclasses

    from mighty.models.intent import IntentClassifier, save_intent_model
    from mighty.models.textbag import BagConfig

    labels = ["troubleshoot_speakers", "safety_escalation", "out_of_scope"]
    bag = BagConfig(buckets=1024, dim=8, max_ids=64)
    router_dir = save_intent_model(tmp_path / "router", IntentClassifier(bag, len(labels), 8, rngs=nnx.Rngs(0)),
                                   {"labels": labels, "bag": dataclasses.asdict(bag), "hidden": 8})
    vr = reg.register("router", router_dir, manifest={"run": "i"}, metrics={}, gates=passed)
    reg.promote("router", vr)
    server = Server([f"store={store}", "student=latest", f"teacher={tiny_students['teacher']}",
                     "engine.warmup_batches=[]", "engine.max_new_tokens=4", "stt.enabled=false",
                     "tts.enabled=false", "log_level=info"], tmp_path / "server.log")
    try:
        server.wait_ready(600)
        health = httpx.get(server.url + "/healthz", timeout=10).json()
        assert health["student_checkpoint"].startswith(f"promoted generator {va}")
        assert str(tiny_students["a"]) in health["student_checkpoint"]
        assert health["retrieval_origin"].startswith("bm25 (no reranker promoted")
        assert health["intent_origin"].startswith(f"intent classifier (promoted router {vr}")
        r = httpx.post(server.url + "/v1/chat/completions", timeout=300, json={
            "model": "student", "messages": [{"role": "user", "content": "my speaker will not pair"}],
            "max_tokens": 4})
        assert r.status_code == 200, r.text
    finally:
        server.terminate()
