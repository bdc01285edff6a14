"""KD examples, held-out splits, length bucketing and the domain-weighted batch sampler.

An `Example` is one teacher answer from the label cache: the *student* prompt (no KB entry),
the teacher's completion tokens and its top-K logprobs per completion token. Sequences are
padded to a fixed set of (prompt, completion) length buckets, so the step compiles once per
bucket pair. Prompts are left-padded (the last prompt token sits in column P-1), completions
right-padded; prompts longer than the largest bucket are dropped, completions longer than
the largest bucket are cut (the cut tokens are simply not scored).

Sampling is stateless per step: batch indices are a function of the `data` PRNG stream at that
step and of the current domain weights only, so a resumed run redraws exactly the batches
an uninterrupted one would (the data cursor is the step).
"""
from __future__ import annotations

import bisect
import dataclasses
import hashlib
from collections import Counter, defaultdict
from typing import Sequence

import jax
import numpy as np


@dataclasses.dataclass
class Example:
    uid: str
    device_type: str
    prompt_ids: np.ndarray  # (P,) int32 student prompt (chat template, generation prompt)
    completion_ids: np.ndarray  # (N,) int32 teacher answer incl. EOS
    topk_ids: np.ndarray  # (N, K) int32
    topk_logprobs: np.ndarray  # (N, K) float32, log p_teacher at T = 1
    boost: np.ndarray | None = None  # (N,) bool high-stakes tokens (per-token α)
    teacher_prompt_ids: np.ndarray | None = None  # (P_t,) grounded prompt (on-policy scoring)
    question: str = ""
    answer: str = ""  # teacher answer text
    issue_id: str | None = None


def heldout_fraction_key(uid: str) -> float:
    """Deterministic u ∈ [0, 1) per example id: the split never depends on file order."""
    return int(hashlib.sha256(uid.encode()).hexdigest()[:12], 16) / 16**12


def split_examples(examples: Sequence[Example], heldout_frac: float, probe_per_domain: int
                   ) -> tuple[list[Example], list[Example], list[Example]]:
    """-> (train, probe, eval). Held-out = the `heldout_frac` of ids with the smallest hash;
    the probe (domain gaps) takes the first `probe_per_domain` of each device, eval the rest;
    the probe never takes more than half the held-out rows (a prompt set spread over many
    devices would otherwise leave none for eval)."""
    ranked = sorted(examples, key=lambda e: heldout_fraction_key(e.uid))
    n_held = max(int(round(heldout_frac * len(ranked))), 2)
    held, train = ranked[:n_held], ranked[n_held:]
    taken, probe, evals = Counter(), [], []
    for e in held:
        if taken[e.device_type] < probe_per_domain and len(probe) < n_held // 2:
            taken[e.device_type] += 1
            probe.append(e)
        else:
            evals.append(e)
    if not train or not evals:
        raise ValueError(f"split_examples: {len(examples)} examples give {len(train)} train / "
                         f"{len(evals)} eval (heldout_frac={heldout_frac}, probe_per_domain="
                         f"{probe_per_domain}); label more prompts or change these settings")
    return train, probe, evals


def fit_buckets(examples: Sequence[Example], prompt_buckets: Sequence[int],
                completion_buckets: Sequence[int]) -> tuple[list[Example], int]:
    """Drop examples whose prompt exceeds the largest prompt bucket; cut long completions."""
    kept, dropped = [], 0
    n_max = completion_buckets[-1]
    for e in examples:
        if len(e.prompt_ids) > prompt_buckets[-1] or len(e.completion_ids) == 0:
            dropped += 1
            continue
        if len(e.completion_ids) > n_max:
            e = dataclasses.replace(
                e, completion_ids=e.completion_ids[:n_max], topk_ids=e.topk_ids[:n_max],
                topk_logprobs=e.topk_logprobs[:n_max],
                boost=None if e.boost is None else e.boost[:n_max])
        kept.append(e)
    return kept, dropped


def bucket_of(e: Example, prompt_buckets: Sequence[int], completion_buckets: Sequence[int]
              ) -> tuple[int, int]:
    p = prompt_buckets[bisect.bisect_left(prompt_buckets, len(e.prompt_ids))]
    n = completion_buckets[bisect.bisect_left(completion_buckets, len(e.completion_ids))]
    return p, n


def collate(examples: Sequence[Example], P: int, N: int, pad_id: int, micro: int | None = None
            ) -> dict[str, np.ndarray]:
    """Pad to (P, N); with `micro`, order the rows by `balanced_microbatches` and reshape the
    batch axis to (M, micro)."""
    B, K = len(examples), examples[0].topk_ids.shape[-1]
    if micro:  # the loss is token-weighted over the whole batch, so which row goes where is free
        order = balanced_microbatches([min(len(e.completion_ids), N) for e in examples], micro)
        examples = [examples[i] for i in order]
    out = {
        "prompt_ids": np.full((B, P), pad_id, np.int32), "prompt_mask": np.zeros((B, P), np.int32),
        "completion_ids": np.full((B, N), pad_id, np.int32),
        "completion_mask": np.zeros((B, N), np.int32), "boost": np.zeros((B, N), bool),
        "topk_ids": np.zeros((B, N, K), np.int32), "topk_logprobs": np.zeros((B, N, K), np.float32),
    }
    for i, e in enumerate(examples):
        p, n = len(e.prompt_ids), min(len(e.completion_ids), N)
        out["prompt_ids"][i, P - p:] = e.prompt_ids
        out["prompt_mask"][i, P - p:] = 1
        out["completion_ids"][i, :n] = e.completion_ids[:n]
        out["completion_mask"][i, :n] = 1
        out["topk_ids"][i, :n] = e.topk_ids[:n]
        out["topk_logprobs"][i, :n] = e.topk_logprobs[:n]
        if e.boost is not None:
            out["boost"][i, :n] = e.boost[:n]
    if micro:
        out = {k: v.reshape(B // micro, micro, *v.shape[1:]) for k, v in out.items()}
        out.update(token_rows(out["completion_mask"]))
    return out


def balanced_microbatches(lengths: Sequence[int], micro: int) -> list[int]:
    """An order of the rows, `micro` consecutive rows per microbatch, that balances the
    microbatches' completion tokens: longest first, each row to the microbatch with the fewest
    tokens that still has room (ties: the lowest index). The step scores R token rows per
    microbatch, R set by the fullest one (`token_rows`), so balancing shrinks R; the maths is
    unchanged (accumulation is token-weighted)."""
    if len(lengths) % micro:
        raise ValueError(f"balanced_microbatches: {len(lengths)} rows do not split into "
                         f"microbatches of {micro}; make the batch size a multiple of micro_batch")
    groups = [[] for _ in range(len(lengths) // micro)]
    totals = [0] * len(groups)
    for row in sorted(range(len(lengths)), key=lambda r: (-lengths[r], r)):
        with_room = [m for m, rows in enumerate(groups) if len(rows) < micro]
        emptiest = min(with_room, key=lambda m: (totals[m], m))
        groups[emptiest].append(row)
        totals[emptiest] += lengths[row]
    return [row for rows in groups for row in rows]


ROW_BUCKETS = 8  # distinct compiled row counts R per (P, N) bucket, at most
TOKEN_ROW_KEYS = ("token_index", "token_mask")


def token_rows(completion_mask, buckets: int = ROW_BUCKETS) -> dict[str, np.ndarray]:
    """(M, b, N) completion mask -> `token_index`, `token_mask` (M, R) int32.

    Row i of `token_index` lists microbatch i's real completion slots (flat indices into its
    b·N slots, in order), padded with slot 0 and mask 0. R is the largest real count rounded
    up to a multiple of ⌈b·N / buckets⌉, so the step unembeds and scores only real tokens
    (plus < 1/buckets of padding) while compiling at most `buckets` row counts per shape.
    """
    real = np.asarray(completion_mask).reshape(len(completion_mask), -1) > 0  # (M, b·N)
    quantum = -(-real.shape[1] // buckets)
    rows = min(real.shape[1], quantum * max(1, -(-int(real.sum(1).max()) // quantum)))
    index = np.zeros((len(real), rows), np.int32)
    mask = np.zeros((len(real), rows), np.int32)
    for i, r in enumerate(real):
        slots = np.flatnonzero(r)
        index[i, :len(slots)], mask[i, :len(slots)] = slots, 1
    return {"token_index": index, "token_mask": mask}


def left_pad(seqs: Sequence[np.ndarray], length: int, pad_id: int) -> tuple[np.ndarray, np.ndarray]:
    ids = np.full((len(seqs), length), pad_id, np.int32)
    mask = np.zeros((len(seqs), length), np.int32)
    for i, s in enumerate(seqs):
        ids[i, length - len(s):] = s
        mask[i, length - len(s):] = 1
    return ids, mask


def host_rng(key: jax.Array) -> np.random.Generator:
    """A NumPy generator seeded from a JAX key (host-side draws stay on the PRNG streams)."""
    return np.random.default_rng(np.asarray(jax.random.key_data(key)).astype(np.uint64))


class BucketedSampler:
    """Draws one bucket-homogeneous batch per step from domain-weighted example probabilities.

    p(e) ∝ w[device(e)] / n[device(e)] (uniform over examples when w ∝ n). An anchor example
    is drawn from p; the other B-1 are drawn (with replacement) from p restricted to the
    anchor's (P, N) bucket. Every example's marginal inclusion rate stays ∝ p(e), while the
    batch has one shape.
    """

    def __init__(self, examples: Sequence[Example], prompt_buckets: Sequence[int],
                 completion_buckets: Sequence[int], batch_size: int):
        self.examples = list(examples)
        self.batch_size = batch_size
        self.buckets = [bucket_of(e, prompt_buckets, completion_buckets) for e in self.examples]
        self.domains = sorted({e.device_type for e in self.examples})
        self._dom = np.array([self.domains.index(e.device_type) for e in self.examples])
        self._count = np.bincount(self._dom, minlength=len(self.domains)).astype(np.float64)
        self._members = defaultdict(list)
        for i, b in enumerate(self.buckets):
            self._members[b].append(i)
        self._members = {b: np.array(v) for b, v in self._members.items()}

    def natural_weights(self) -> dict[str, float]:
        """Domain weights that make sampling uniform over examples."""
        return {d: float(c / self._count.sum()) for d, c in zip(self.domains, self._count)}

    def probabilities(self, weights: dict[str, float]) -> np.ndarray:
        w = np.array([weights.get(d, 0.0) for d in self.domains], np.float64)
        p = w[self._dom] / self._count[self._dom]
        if not p.sum() > 0:
            raise ValueError(f"BucketedSampler: domain weights {weights} give zero probability to every example")
        return p / p.sum()

    def draw(self, key: jax.Array, weights: dict[str, float]) -> tuple[list[int], tuple[int, int]]:
        rng = host_rng(key)
        p = self.probabilities(weights)
        anchor = int(rng.choice(len(p), p=p))
        bucket = self.buckets[anchor]
        members = self._members[bucket]
        q = p[members] / p[members].sum()
        rest = rng.choice(members, size=self.batch_size - 1, p=q, replace=True)
        return [anchor, *map(int, rest)], bucket
