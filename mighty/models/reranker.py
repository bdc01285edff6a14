"""The distilled reranker: a small Flax scorer of (question, KB entry) pairs.

Both texts go through one shared `models.textbag.BagEncoder` (hashed word + char n-grams);
a small MLP reads [q, d, q⊙d, |q−d|] plus the lexical evidence of the first-stage retriever
(BM25 score relative to the best candidate, reciprocal rank, is-top) and gives one logit per
pair. σ(logit) is the student's relevance probability (what the MSE to the teacher's p(Yes)
compares); the logits order the candidates.

Host-side use: `RerankScorer.score(question, entries, lexical_scores)` -> logits [n]. KB entry
embeddings are cached by document text, so the KB side is encoded once per process
(`RerankScorer.prepare(kb)` does it up front). Imports nothing from distill/ or torch: the demo
loads the artefact with `load_reranker(dir)`.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import jax.numpy as jnp
import numpy as np
from flax import nnx

from mighty.models.artefact import load_into, read_doc, save_module
from mighty.models.textbag import BagConfig, BagEncoder, featurize

LEXICAL_FEATURES = ("bm25_rel", "reciprocal_rank", "is_top")
WEIGHTS_FILE, META_FILE = "reranker.safetensors", "reranker.json"


@dataclass(frozen=True)
class RerankerConfig:
    bag: BagConfig = field(default_factory=lambda: BagConfig(buckets=1 << 15, dim=128, max_ids=512))
    hidden: int = 128  # MLP width

    def __post_init__(self):
        if self.hidden < 1:
            raise ValueError(f"RerankerConfig.hidden must be >= 1, got {self.hidden}")

    @classmethod
    def from_dict(cls, d: dict) -> "RerankerConfig":
        return cls(bag=BagConfig(**d["bag"]), hidden=int(d["hidden"]))


def entry_document(entry: dict) -> str:
    """What the student reads of a KB entry: device, family, title, symptom, causes."""
    return " ".join([entry.get("device_type", "").replace("_", " "), entry.get("model_family", ""),
                     entry.get("title", ""), entry.get("symptom", "")] + list(entry.get("causes", [])))


def lexical_features(scores_k: np.ndarray) -> np.ndarray:
    """[k, 3] float32 from first-stage scores in first-stage order (best first): score / best
    score (0 when nothing matched), 1 / (1 + rank), 1 at rank 0. Scale-free, so the BM25 units
    (which grow with the question's length) do not leak into the student."""
    s_k = np.asarray(scores_k, np.float64)
    top = s_k.max() if s_k.size else 0.0
    rel_k = s_k / top if top > 0 else np.zeros_like(s_k)
    rank_k = np.arange(s_k.size)
    return np.stack([rel_k, 1.0 / (1.0 + rank_k), (rank_k == 0).astype(np.float64)], -1).astype(np.float32)


class Reranker(nnx.Module):
    """`model(q_ids_bl, kb_ids_nl, cand_bk, lex_bkf) -> logits_bk`: question b's score of KB
    entry `cand_bk[b, j]` (training path: the KB is encoded once per call, then gathered)."""

    def __init__(self, cfg: RerankerConfig, *, rngs: nnx.Rngs):
        self.cfg = cfg
        self.encoder = BagEncoder(cfg.bag, rngs=rngs)
        self.hidden = nnx.Linear(2 * cfg.bag.dim + 1 + len(LEXICAL_FEATURES), cfg.hidden, rngs=rngs)
        self.out = nnx.Linear(cfg.hidden, 1, rngs=rngs)
        self.lexical = nnx.Linear(len(LEXICAL_FEATURES), 1, rngs=rngs)  # the BM25 prior, a skip path

    def head(self, q_bd: jnp.ndarray, d_bkd: jnp.ndarray, lex_bkf: jnp.ndarray) -> jnp.ndarray:
        q_bkd = jnp.broadcast_to(q_bd[:, None, :], d_bkd.shape)
        cos_bk1 = (q_bkd * d_bkd).sum(-1, keepdims=True) / jnp.maximum(
            jnp.linalg.norm(q_bkd, axis=-1, keepdims=True) * jnp.linalg.norm(d_bkd, axis=-1, keepdims=True), 1e-6)
        # only symmetric interactions: a feature of d alone would let the MLP learn which
        # entries are gold in training, and the eval's entries are never gold there
        x = jnp.concatenate([q_bkd * d_bkd, jnp.abs(q_bkd - d_bkd), cos_bk1, lex_bkf], -1)
        return (self.out(nnx.relu(self.hidden(x))) + self.lexical(lex_bkf))[..., 0]

    def __call__(self, q_ids_bl, kb_ids_nl, cand_bk, lex_bkf) -> jnp.ndarray:
        kb_nd = self.encoder(kb_ids_nl)
        return self.head(self.encoder(q_ids_bl), kb_nd[cand_bk], lex_bkf)


@nnx.jit
def _encode(model: Reranker, ids_bl):
    return model.encoder(ids_bl)


@nnx.jit
def _head(model: Reranker, q_1d, d_1kd, lex_1kf):
    return model.head(q_1d, d_1kd, lex_1kf)


class RerankScorer:
    """Host-side scoring with a cache of KB entry embeddings (keyed by document text)."""

    def __init__(self, model: Reranker, meta: dict | None = None):
        self.model, self.cfg, self.meta = model, model.cfg, dict(meta or {})
        self._docs: dict[str, np.ndarray] = {}

    def _embed(self, texts: Sequence[str]) -> np.ndarray:
        return np.asarray(_encode(self.model, jnp.asarray(featurize(list(texts), self.cfg.bag))))

    def prepare(self, entries: Sequence[dict]) -> None:
        """Encode (and cache) every entry's document now, e.g. the whole KB at load."""
        todo = sorted({entry_document(e) for e in entries} - set(self._docs))
        for i in range(0, len(todo), 128):
            chunk = todo[i:i + 128]
            self._docs.update(zip(chunk, self._embed(chunk)))

    def score(self, question: str, entries: Sequence[dict],
              lexical_scores: Sequence[float] | None = None) -> np.ndarray:
        """Logits [len(entries)] of `entries` (given in first-stage order, best first) for
        `question`; higher is more relevant. `lexical_scores`: their first-stage scores (None:
        no lexical evidence, treated as ties)."""
        n = len(entries)
        if n == 0:
            return np.zeros(0, np.float32)
        lex = np.ones(n) if lexical_scores is None else np.asarray(lexical_scores, np.float64)
        if lex.shape != (n,):
            raise ValueError(f"RerankScorer.score: {n} entries but lexical_scores of shape {lex.shape}")
        self.prepare(entries)
        d_kd = np.stack([self._docs[entry_document(e)] for e in entries])
        pad = -n % 8  # few distinct shapes -> few compiles
        d_kd = np.pad(d_kd, ((0, pad), (0, 0)))
        lex_kf = np.pad(lexical_features(lex), ((0, pad), (0, 0)))
        q_1d = self._embed([question])
        out = _head(self.model, jnp.asarray(q_1d), jnp.asarray(d_kd[None]), jnp.asarray(lex_kf[None]))
        return np.asarray(out[0, :n], np.float32)


def save_reranker(out_dir: str | Path, model: Reranker, meta: dict[str, Any] | None = None) -> Path:
    """`out_dir/reranker.safetensors` (named parameters) + `reranker.json` (config and `meta`)."""
    doc = {"config": dataclasses.asdict(model.cfg), "meta": dict(meta or {})}
    return save_module(out_dir, model, doc, weights=WEIGHTS_FILE, meta=META_FILE)


def load_reranker(model_dir: str | Path) -> RerankScorer:
    """The scorer saved by `save_reranker` (its meta in `.meta`)."""
    doc = read_doc(model_dir, weights=WEIGHTS_FILE, meta=META_FILE, train_with="python -m mighty.distill.rerank.train")
    model = load_into(Reranker(RerankerConfig.from_dict(doc["config"]), rngs=nnx.Rngs(0)), model_dir,
                      weights=WEIGHTS_FILE)
    return RerankScorer(model, doc["meta"])
