"""The language-retention labels (data.retention): the teacher's view of generic text, cached
like the answers and read by KD as its own domain."""
import numpy as np
import pytest

from mighty.data.corpus.generic import generic_split, load_generic
from mighty.data.logprob_cache import LogprobCache
from mighty.data.retention import (GENERIC_DOMAIN, RETENTION_DIR, has_retention, label_documents,
                                   write_retention_cache)

DOCS = ["pair: the headphones pair with the phone. They paired at once.",
        "reset: hold the power button for seven seconds.",
        "charge: plug the case in and wait for the light; a long document " + "that goes on " * 40]


@pytest.fixture(scope="module")
def teacher(tiny_teacher_dir):
    from mighty.models import load_pretrained

    return load_pretrained(str(tiny_teacher_dir))


def numpy_view(model, tok, doc: str, max_len: int, k: int):
    """Reference: one document alone, full logits, log-softmax and sort in NumPy."""
    ids = ([tok.bos_id] if tok.bos_id is not None else []) + tok.encode(doc)
    ids = ids[:max_len]
    logits = np.asarray(model(np.array([ids], np.int32), attention_mask=np.ones((1, len(ids)), np.int32)),
                        np.float64)[0]
    logp = logits - np.log(np.exp(logits - logits.max(-1, keepdims=True)).sum(-1, keepdims=True)) - logits.max(-1, keepdims=True)
    nxt = np.array(ids[1:])
    order = np.argsort(-logp[:-1], axis=-1, kind="stable")[:, :k]
    return ids, logp[np.arange(len(nxt)), nxt], order, np.take_along_axis(logp[:-1], order, -1)


def test_labels_match_a_numpy_teacher_forward(teacher):
    model, tok = teacher
    arrays, rows = label_documents(model, tok, DOCS, topk=5, max_len=24, batch_size=2)
    for r, doc in enumerate(DOCS):
        ids, lp, top_ids, top_lp = numpy_view(model, tok, doc, 24, 5)
        n = len(ids) - 1
        assert arrays["lengths"][r] == n and rows[r]["first_id"] == ids[0]
        np.testing.assert_array_equal(arrays["tokens"][r, :n], ids[1:])
        np.testing.assert_allclose(arrays["logprobs"][r, :n], lp, atol=1e-4)
        np.testing.assert_allclose(arrays["topk_logprobs"][r, :n], top_lp, atol=1e-4)
        np.testing.assert_array_equal(np.sort(arrays["topk_ids"][r, :n], -1), np.sort(top_ids, -1))
        assert not arrays["mask"][r, n:].any() and not arrays["topk_logprobs"][r, n:].any()
    assert arrays["truncated"].tolist() == [0, 0, 1]  # only the long document was cut


def test_cached_nll_is_the_eval_perplexity_nll(teacher):
    """The retention rows and the eval's perplexity see a document the same way."""
    from mighty.evals.retention import per_doc_nll

    model, tok = teacher
    arrays, _ = label_documents(model, tok, DOCS[:2], topk=5, max_len=64, batch_size=2)
    nll, count = per_doc_nll(model, tok, DOCS[:2], max_len=64)
    np.testing.assert_allclose(-arrays["logprobs"].sum(1), nll, rtol=1e-4)
    np.testing.assert_array_equal(arrays["lengths"], count)


def test_the_cache_round_trips_into_kd_examples(teacher, tmp_path, monkeypatch):
    from mighty.data.corpus import generic
    from mighty.distill.cache import read_retention_examples

    model, tok = teacher
    monkeypatch.setattr(generic, "load_generic", lambda n, seed, split: DOCS[:n])
    assert not has_retention(tmp_path)
    manifest = write_retention_cache(tmp_path, model, tok, n_docs=2, seed=0, topk=5, max_len=32,
                                     batch_size=2, meta={"teacher": "tiny"})
    assert has_retention(tmp_path) and manifest["docs"] == 2
    rows = list(LogprobCache(tmp_path / RETENTION_DIR).iter_rows())
    examples = read_retention_examples(tmp_path)
    assert [e.device_type for e in examples] == [GENERIC_DOMAIN] * 2
    for e, row in zip(examples, rows):
        assert e.prompt_ids.tolist() == [tok.bos_id] and e.answer == row["text"]
        np.testing.assert_array_equal(e.completion_ids, row["tokens"])
        assert e.topk_ids.shape == (len(row["tokens"]), 5)


def test_generic_train_and_eval_splits_are_disjoint_and_cover_the_corpus():
    try:
        everything = load_generic()
    except FileNotFoundError as e:
        pytest.skip(str(e))
    train, evals = load_generic(split="train"), load_generic(split="eval")
    assert not set(train) & set(evals) and len(train) + len(evals) == len(everything)
    assert 0.03 < len(train) / len(everything) < 0.07
    assert all(generic_split(d) == "train" for d in load_generic(50, seed=3, split="train"))
    with pytest.raises(ValueError, match="split must be one of"):
        load_generic(split="test")


def test_generic_docs_must_be_non_negative():
    from mighty.data.label import LabelConfig

    with pytest.raises(ValueError, match="generic_docs"):
        LabelConfig(generic_docs=-1)
