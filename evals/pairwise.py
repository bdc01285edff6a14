"""Pairwise win rate with the positions swapped, read from judge token probabilities.

For candidate X against opponent Y on one item, the judge sees (A=X, B=Y) and (A=Y, B=X) and
we read p(A), p(B) of the next token after "Better answer:". With q = p(A) / (p(A) + p(B)):

    win(X, Y) = ½ · q(X first) + ½ · (1 − q(Y first))

so a judge that always prefers position A gives exactly 0.5: position bias cancels.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from rewards.judge import reference_text

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
    """q = p(A) / (p(A) + p(B)) per item, from a `rewards.judge_jax.JaxJudge`'s model."""
    id_a, id_b = _choice_ids(judge.tokenizer)
    seqs = [judge.tokenizer.chat(pair_messages(q, r, x, y))
            for q, r, x, y in zip(questions, references, first, second)]
    lp = judge.next_logprobs(seqs)  # (N, V)
    la, lb = lp[:, id_a], lp[:, id_b]
    return 1.0 / (1.0 + np.exp(lb - la))


def win_rate(judge, questions: Sequence[str], kb_entries: Sequence[dict | None],
             candidate: Sequence[str], opponent: Sequence[str]) -> np.ndarray:
    """Per-item win probability of `candidate` over `opponent`, position-debiased."""
    refs = [reference_text(kb, None) for kb in kb_entries]
    q_first = prefer_first(judge, questions, refs, candidate, opponent)
    q_second = prefer_first(judge, questions, refs, opponent, candidate)
    return 0.5 * q_first + 0.5 * (1.0 - q_second)
