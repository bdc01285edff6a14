"""Held-out evaluation of the KD student.

- Teacher-forced on the teacher's held-out answers: forward KL(p_teacher ‖ q_student) per
  token (T = 1, top-K + tail), the CE of the teacher's tokens, top-1 agreement.
- Greedy student answers to the held-out questions: ROUGE-L F1 (rouge_score, stemmed) and
  exact match (case/whitespace-normalised) against the teacher's answers; rubric step
  coverage (rewards.tech.TechRubric: fraction of the KB entry's required steps mentioned)
  and the full rubric score, next to the teacher's own coverage on the same questions.

ROUGE-L uses `rouge_score` directly (`evaluate.load("rouge")` needs the hub).
"""
from __future__ import annotations

import re
from collections import defaultdict
from typing import Callable, Sequence

import jax
import numpy as np
from flax import nnx

from mighty.distill.batching import Example, bucket_of, collate, left_pad


def normalise(text: str) -> str:
    return re.sub(r"\s+", " ", text.strip().lower())


def rouge_l(predictions: Sequence[str], references: Sequence[str]) -> np.ndarray:
    from rouge_score import rouge_scorer

    scorer = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=True)
    return np.array([scorer.score(r, p)["rougeL"].fmeasure for p, r in zip(predictions, references)])


def exact_match(predictions: Sequence[str], references: Sequence[str]) -> np.ndarray:
    return np.array([float(normalise(p) == normalise(r)) for p, r in zip(predictions, references)])


def _chunks(items: list, size: int):
    """Fixed-size chunks; the last is padded by repeating its first item (one shape per bucket)."""
    for i in range(0, len(items), size):
        chunk = items[i:i + size]
        yield chunk + [chunk[0]] * (size - len(chunk)), len(chunk)


class Evaluator:
    """Scores student params on held-out examples; all shapes are fixed per bucket."""

    def __init__(self, score_fn: Callable, examples: Sequence[Example], *, prompt_buckets,
                 completion_buckets, batch_size: int, pad_id: int, eos_id: int,
                 tokenizer=None, kb_by_id: dict | None = None, n_kl: int = 32,
                 n_generate: int = 16, max_new_tokens: int = 128):
        self.score_fn, self.pad_id, self.eos_id = score_fn, pad_id, eos_id
        self.pb, self.cb, self.batch_size = list(prompt_buckets), list(completion_buckets), batch_size
        self.kl_examples = list(examples)[:n_kl]
        self.gen_examples = list(examples)[:n_generate] if tokenizer is not None else []
        self.tokenizer, self.kb = tokenizer, kb_by_id or {}
        self.max_new_tokens = max_new_tokens
        from mighty.rewards.tech import TechRubric

        self.rubric = TechRubric()
        self.teacher_rubric = self._rubric([e.answer for e in self.gen_examples], self.gen_examples)

    # -- teacher-forced ------------------------------------------------------------------
    def score_examples(self, params, examples: Sequence[Example]) -> dict[str, np.ndarray]:
        """Per-example kl, ce, top1 (token means) and tokens, in the order given."""
        groups = defaultdict(list)
        for i, e in enumerate(examples):
            groups[bucket_of(e, self.pb, self.cb)].append(i)
        out = {k: np.zeros(len(examples)) for k in ("kl", "ce", "top1", "tokens")}
        for (P, N), idx in sorted(groups.items()):
            for chunk, n in _chunks(idx, self.batch_size):
                mb = collate([examples[i] for i in chunk], P, N, self.pad_id)
                mb.pop("boost")
                res = jax.device_get(self.score_fn(params, mb))
                for k, v in zip(("kl", "ce", "top1", "tokens"), res):
                    out[k][chunk[:n]] = np.asarray(v)[:n]
        return out

    def kl_metrics(self, params) -> dict[str, float]:
        s = self.score_examples(params, self.kl_examples)
        w = s["tokens"] / max(s["tokens"].sum(), 1.0)
        return {"eval/kl": float(np.sum(w * s["kl"])), "eval/ce": float(np.sum(w * s["ce"])),
                "eval/top1_agreement": float(np.sum(w * s["top1"]))}

    # -- generation ----------------------------------------------------------------------
    def answers(self, model, key) -> list[str]:
        from mighty.models.sampler import generate

        texts = []
        P = max(len(e.prompt_ids) for e in self.gen_examples)
        for chunk, n in _chunks(self.gen_examples, self.batch_size):
            ids, mask = left_pad([e.prompt_ids for e in chunk], P, self.pad_id)
            out = generate(model, ids, mask, key, max_new_tokens=self.max_new_tokens,
                           temperature=0.0, eos_id=self.eos_id, pad_id=self.pad_id)
            toks, m = jax.device_get((out.tokens, out.mask))
            texts += [self.tokenizer.decode(t[mk > 0]) for t, mk in zip(toks[:n], m[:n])]
        return texts

    def _rubric(self, texts: Sequence[str], examples: Sequence[Example]) -> dict[str, float]:
        cov, score = [], []
        for t, e in zip(texts, examples):
            kb = self.kb.get(e.issue_id)
            if kb is None:
                continue
            r = self.rubric.score_one(t, kb, None)
            cov.append(r["coverage"])
            score.append(r["rubric"])
        if not cov:
            return {}
        return {"rubric_coverage": float(np.mean(cov)), "rubric": float(np.mean(score))}

    def generation_metrics(self, graphdef, params, rest, key) -> tuple[dict, list[dict]]:
        if not self.gen_examples:
            return {}, []
        model = nnx.merge(graphdef, params, rest)
        texts = self.answers(model, key)
        refs = [e.answer for e in self.gen_examples]
        m = {"eval/rouge_l": float(rouge_l(texts, refs).mean()),
             "eval/exact_match": float(exact_match(texts, refs).mean())}
        m.update({f"eval/{k}": v for k, v in self._rubric(texts, self.gen_examples).items()})
        m.update({f"eval/teacher_{k}": v for k, v in self.teacher_rubric.items()})
        rows = [{"uid": e.uid, "question": e.question, "student": t, "teacher": e.answer}
                for e, t in zip(self.gen_examples, texts)]
        return m, rows
