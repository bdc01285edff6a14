"""Language retention: perplexity on a generic English corpus and a general-QA sanity set."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Sequence

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from mighty.evals.answers import answer_questions
from mighty.evals.metrics import qa_match

GENERAL_QA = Path(__file__).resolve().parents[1] / "data" / "corpus" / "general_qa.jsonl"
QA_SYSTEM = "Answer the question with a short phrase or number. Do not explain."


@nnx.jit
def _doc_nll(model, ids, mask):
    """Summed next-token NLL per row and token counts: ids/mask (B, T) -> (B,), (B,)."""
    from mighty.models import token_logprobs

    targets = jnp.roll(ids, -1, axis=1)
    tmask = mask * jnp.roll(mask, -1, axis=1)
    tmask = tmask.at[:, -1].set(0)  # the last position predicts nothing
    lp = token_logprobs(model, ids, mask, targets) * tmask
    return -lp.sum(1), tmask.sum(1)


def per_doc_nll(model, tokenizer, docs: Sequence[str], *, max_len: int = 128,
                batch_size: int = 16) -> tuple[np.ndarray, np.ndarray]:
    """(summed NLL, predicted-token count) per document, right-padded to `max_len` tokens
    (longer documents are cut: the same cut for every model, so the comparison is fair)."""
    from mighty.data.retention import document_ids  # the same ids KD's retention rows are labelled on

    seqs = [document_ids(tokenizer, d)[:max_len] for d in docs]
    nll, count = [], []
    for i in range(0, len(seqs), batch_size):
        chunk = seqs[i:i + batch_size]
        n = len(chunk)
        ids = np.full((batch_size, max_len), tokenizer.pad_id, np.int32)
        mask = np.zeros((batch_size, max_len), np.int32)
        for r, s in enumerate(chunk):
            ids[r, :len(s)], mask[r, :len(s)] = s, 1
        a, c = _doc_nll(model, jnp.asarray(ids), jnp.asarray(mask))
        nll.append(np.asarray(a)[:n])
        count.append(np.asarray(c)[:n])
    return np.concatenate(nll), np.concatenate(count)


def perplexity(nll: np.ndarray, count: np.ndarray) -> float:
    return float(np.exp(nll.sum() / max(count.sum(), 1)))


def load_general_qa(path: str | Path = GENERAL_QA) -> list[dict]:
    rows = []
    with open(path) as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                assert isinstance(row["question"], str) and isinstance(row["answers"], list)
            except (json.JSONDecodeError, KeyError, AssertionError) as e:
                raise ValueError(f"{path}:{n}: a general-QA line needs {{question: str, answers: "
                                 f"[str]}} ({type(e).__name__}); fix or remove the line") from e
            rows.append(row)
    return rows


def general_qa_scores(model, tokenizer, items: Sequence[dict], *, batch_size: int = 16,
                      max_new_tokens: int = 24) -> tuple[np.ndarray, list[str]]:
    out = answer_questions(model, tokenizer, [it["question"] for it in items],
                           max_new_tokens=max_new_tokens, batch_size=batch_size,
                           system=QA_SYSTEM, desc="general QA")
    return np.array([qa_match(t, it["answers"]) for t, it in zip(out.texts, items)]), out.texts
