import numpy as np
import pytest

from mighty.data.paths import EVAL_PATH, KB_PATH
from mighty.data.retrieval import Retriever, recall_at_k, tokenize



@pytest.fixture
def kb(tiny_corpus):
    from mighty.data.io import load_records

    return load_records(tiny_corpus / "kb.jsonl", "kb")[0]


@pytest.mark.parametrize("method", ["bm25", "tfidf"])
def test_finds_right_entry_for_paraphrases(kb, method):
    r = Retriever(kb, method=method)
    queries = {"my earbuds won't charge when I put them in the case": "earbuds.charging",
               "smart bulb can't connect to the wifi network": "bulb.wifi",
               "hissing sound from my headphones with noise cancelling": "headphones.anc"}
    for q, iid in queries.items():
        hits = r.search(q, k=3)
        assert hits[0][0]["issue_id"] == iid and hits[0][1] >= hits[1][1] >= hits[2][1]
    assert recall_at_k(r, list(queries), list(queries.values())) == {1: 1.0, 3: 1.0}


def test_confidence_is_low_out_of_scope_and_in_unit_interval(kb):
    r = Retriever(kb)
    c_in = r.confidence("my earbuds are not charging in the case")
    c_out = r.confidence("what is the capital of France")
    assert 0.0 <= c_out < 0.5 < c_in <= 1.0
    hits, conf = r.search_with_confidence("earbuds not charging", 2)
    assert len(hits) == 2 and conf == r.confidence("earbuds not charging")


def test_calibrate_fits_probability(kb):
    r = Retriever(kb)
    qs = ["earbuds not charging in the case", "bulb won't join wifi", "capital of France",
          "recipe for pancakes", "speaker has no sound", "tax return deadline"]
    ids = ["earbuds.charging", "bulb.wifi", None, None, "speaker.no_sound", None]
    fit = r.calibrate(qs, ids)
    assert fit["n"] == 6 and r.confidence("bulb won't join wifi") > r.confidence("recipe for pancakes")


def test_tokenize_folds_plurals_and_stopwords():
    assert tokenize("My Speakers keep Charging") == ["speaker", "charg"]
    with pytest.raises(ValueError, match="non-empty"):
        Retriever([])


@pytest.mark.skipif(not EVAL_PATH.exists(), reason="bundled corpus not generated")
def test_recall_floor_on_heldout_paraphrases():
    """The eval's in-scope questions paraphrase held-out issues the retriever never saw asked."""
    from mighty import data

    kb, cases = data.load_kb(KB_PATH), [c for c in data.load_eval() if c["bucket"] == "in_scope"]
    r = Retriever(kb)
    rec = recall_at_k(r, [c["question"] for c in cases], [c["issue_id"] for c in cases])
    print(f"retriever bm25 on {len(cases)} held-out paraphrases: recall@1={rec[1]:.3f} recall@3={rec[3]:.3f}")
    assert rec[3] >= 0.72 and rec[1] >= 0.55  # measured 0.793 / 0.634
    oos = [c["question"] for c in data.load_eval() if c["bucket"] == "out_of_scope"]
    assert np.mean([r.confidence(q) for q in oos]) < np.mean([r.confidence(c["question"]) for c in cases])
