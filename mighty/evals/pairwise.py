"""Pairwise win rate with the positions swapped, read from judge token probabilities.

For candidate X against opponent Y on one item, the judge sees (A=X, B=Y) and (A=Y, B=X) and
we read p(A), p(B) of the next token after "Better answer:". With q = p(A) / (p(A) + p(B)):

    win(X, Y) = ½ · q(X first) + ½ · (1 − q(Y first))

so a judge that always prefers position A gives exactly 0.5: position bias cancels.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from mighty.rewards.judge import reference_text

SYSTEM = ("You are a strict reviewer of consumer-electronics troubleshooting answers. "
          "Prefer the answer that is correct, complete, safe and gives clear numbered steps.")


def pair_messages(question: str, reference: str, first: str, second: str) -> list[dict]:
    user = (f"Question:\n{question.strip()}\n\nReference steps:\n{reference.strip()}\n\n"
            f"Answer A:\n{first.strip()}\n\nAnswer B:\n{second.strip()}\n\n"
            "Which answer is better, A or B? Better answer:")
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": user}]


def _choice_ids(tokenizer) -> tuple[int, int]:
    a, b = tokenizer.encode("A"), tokenizer.encode("B")
    if len(a) != 1 or len(b) != 1:
        raise ValueError(f"pairwise judge needs single-token 'A'/'B', got {a} and {b}")
    return a[0], b[0]


def prefer_first(judge, questions: Sequence[str], references: Sequence[str],
                 first: Sequence[str], second: Sequence[str]) -> np.ndarray:
    """q = p(A) / (p(A) + p(B)) per item, from a `rewards.judge_jax.JaxJudge`'s model.

    Prompts go to the judge shortest first: each batch is padded to its longest prompt
    (rounded up to 256 tokens), so batches of similar lengths pad less than the input order."""
    id_a, id_b = _choice_ids(judge.tokenizer)
    seqs = [judge.tokenizer.chat(pair_messages(q, r, x, y))
            for q, r, x, y in zip(questions, references, first, second)]
    order = np.argsort([len(s) for s in seqs], kind="stable")
    lp = np.empty((len(seqs), 2))
    if len(seqs):
        lp[order] = judge.next_logprobs([seqs[i] for i in order])[:, [id_a, id_b]]  # (N, 2)
    return 1.0 / (1.0 + np.exp(lp[:, 1] - lp[:, 0]))


def judge_preference(judge):
    """`prefer(questions, kb_entries, first, second) -> q` of a judge, as `evals.canaries` takes it."""
    def prefer(questions, kb_entries, first, second):
        return prefer_first(judge, questions, [reference_text(kb, None) for kb in kb_entries], first, second)
    return prefer


def win_rate(judge, questions: Sequence[str], kb_entries: Sequence[dict | None],
             candidate: Sequence[str], opponent: Sequence[str]) -> np.ndarray:
    """Per-item win probability of `candidate` over `opponent`, position-debiased. Both orders
    go to the judge in one call, so its length-sorted batches mix them."""
    n = len(candidate)
    q = judge_preference(judge)(list(questions) * 2, list(kb_entries) * 2,
                                list(candidate) + list(opponent), list(opponent) + list(candidate))
    return 0.5 * q[:n] + 0.5 * (1.0 - q[n:])
