"""The teacher cross-encoder: the LLM's p("Yes") that a KB entry fixes a question.

The prompt (chat template + generation prompt) asks for Yes or No; from the next-token
distribution at the last position, p = p(Yes) / (p(Yes) + p(No)) (renormalised over the two
answers) and `mass` = p(Yes) + p(No) before renormalising (a health check: a small mass means
the model is not answering Yes/No). The forward pass is the judge's (rewards.judge_jax): only
the last positions are unembedded. Each question's k candidates form one batch, so the
measured time per batch is the teacher's latency per question.
"""
from __future__ import annotations

import time
from typing import Any, Sequence

import numpy as np

SYSTEM = ("You check a troubleshooting knowledge base. Given a user's question and one entry, "
          "answer Yes if the entry is about the user's device and problem, otherwise No.")


def entry_text(entry: dict, max_chars: int | None = None) -> str:
    text = (f"Device: {entry.get('device_type', '').replace('_', ' ')} ({entry.get('model_family', '')})\n"
            f"Title: {entry.get('title', '')}\nSymptom: {entry.get('symptom', '')}\n"
            f"Causes: {'; '.join(entry.get('causes', []))}")
    return text if max_chars is None else text[:max_chars]


def teacher_messages(question: str, entry: dict, max_chars: int | None = None) -> list[dict]:
    user = (f"Question: {question}\n\nEntry:\n{entry_text(entry, max_chars)}\n\n"
            "Does this entry fix the problem in the question? Answer Yes or No.")
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": user}]


def answer_ids(tokenizer: Any) -> tuple[int, int]:
    """First token ids of "Yes" and "No" (they must differ)."""
    yes, no = tokenizer.encode("Yes"), tokenizer.encode("No")
    if not yes or not no or yes[0] == no[0]:
        raise ValueError(f"teacher tokenizer: 'Yes' {yes} and 'No' {no} need distinct first tokens")
    return yes[0], no[0]


def prompt_ids(tokenizer: Any, question: str, entry: dict, max_tokens: int) -> list[int]:
    ids = tokenizer.chat(teacher_messages(question, entry))
    cut = None
    while len(ids) > max_tokens:  # shorten the entry, never the question
        cut = int(len(entry_text(entry)) * 0.8) if cut is None else int(cut * 0.8)
        if cut < 20:
            raise ValueError(f"teacher prompt exceeds rerank.teacher_max_tokens={max_tokens} even with "
                             f"the entry cut; raise it (question: {question[:60]!r})")
        ids = tokenizer.chat(teacher_messages(question, entry, cut))
    return ids


def score_candidates(model: Any, tokenizer: Any, questions: Sequence[str], entries_qk: Sequence[Sequence[dict]],
                     *, batch_size: int, max_tokens: int, progress: bool = True
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """-> (p_yes_qk, mass_qk, seconds_q): per question the wall time of its batches (the
    first question's includes compilation and is excluded when reporting latency)."""
    import jax.numpy as jnp
    from tqdm import tqdm
    from mighty.rewards.judge_jax import _last_logprobs_fn

    fn, (yes, no) = _last_logprobs_fn(), answer_ids(tokenizer)
    p_out, m_out, secs = [], [], []
    for q, entries in tqdm(list(zip(questions, entries_qk)), desc="teacher p(Yes)", disable=not progress):
        t0, lp = time.perf_counter(), []
        seqs = [prompt_ids(tokenizer, q, e, max_tokens) for e in entries]
        for i in range(0, len(seqs), batch_size):
            chunk = seqs[i:i + batch_size]
            chunk = chunk + [chunk[-1]] * (batch_size - len(chunk))  # fixed batch shape
            ids, mask = tokenizer.batch(chunk, padding_side="left", bucket=128)
            lp.append(np.asarray(fn(model, jnp.asarray(ids), jnp.asarray(mask)))[:, 1])
        lp_kv = np.concatenate(lp)[: len(seqs)]
        py, pn = np.exp(lp_kv[:, yes]), np.exp(lp_kv[:, no])
        p_out.append(py / np.maximum(py + pn, 1e-30))
        m_out.append(py + pn)
        secs.append(time.perf_counter() - t0)
    return np.asarray(p_out, np.float32), np.asarray(m_out, np.float32), np.asarray(secs)
