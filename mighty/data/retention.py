"""Teacher labels on generic English text: the KD stage's language-retention domain.

KD on troubleshooting answers alone specialises a pruned student and it keeps forgetting
general language (the 18-block student of the last round ended KD at 3.5x the teacher's generic-corpus
perplexity). So the label stage also writes the teacher's next-token distribution on generic
documents (WordNet glosses from the corpus's "train" split, never the eval's perplexity text):
teacher-forced, one forward pass per batch, no sampling. The rows go to `<label_dir>/retention/`,
a `data.logprob_cache` cache like the answers', where each row is one document: `tokens` are its
ids after the first, each with the teacher's top-K at the position that predicts it. KD reads
them as one more domain, `GENERIC_DOMAIN` (`distill.cache`), sampled and reweighted by its KL
gap like the device domains.
"""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

from mighty.data.logprob_cache import MANIFEST, write_cache_manifest, write_shard

RETENTION_DIR = "retention"
GENERIC_DOMAIN = "generic"


def document_ids(tokenizer, doc: str) -> list[int]:
    """[BOS] + the document's ids (the first id is the prompt, the rest are labelled)."""
    return ([tokenizer.bos_id] if tokenizer.bos_id is not None else []) + tokenizer.encode(doc)


def teacher_forced_topk(model, ids: np.ndarray, mask: np.ndarray, k: int) -> dict[str, np.ndarray]:
    """The teacher's view of each next token of `ids` [B, L]: arrays over the L − 1 predicted
    positions, `logprobs` of the real next token and the top-`k` ids and log-probs there."""
    import jax
    import jax.numpy as jnp

    logp = jax.nn.log_softmax(model(jnp.asarray(ids), attention_mask=jnp.asarray(mask)).astype(jnp.float32), -1)
    logp = logp[:, :-1]  # position t predicts token t + 1
    nxt = jnp.asarray(ids[:, 1:])
    top_lp, top_ids = jax.lax.top_k(logp, k)
    return {"tokens": ids[:, 1:], "mask": mask[:, 1:],
            "logprobs": np.asarray(jnp.take_along_axis(logp, nxt[..., None], -1)[..., 0]) * mask[:, 1:],
            "topk_ids": np.asarray(top_ids) * mask[:, 1:, None], "topk_logprobs": np.asarray(top_lp) * mask[:, 1:, None]}


def label_documents(model, tokenizer, docs: Sequence[str], *, topk: int, max_len: int,
                    batch_size: int) -> tuple[dict[str, np.ndarray], list[dict]]:
    """Cache arrays (padded to `max_len` − 1 positions) and one jsonl row per document."""
    full = [document_ids(tokenizer, d) for d in docs]
    seqs = [f[:max_len] for f in full]
    parts = []
    for i in range(0, len(seqs), batch_size):
        chunk = seqs[i:i + batch_size]
        ids = np.full((batch_size, max_len), tokenizer.pad_id, np.int32)
        mask = np.zeros((batch_size, max_len), np.int32)
        for r, s in enumerate(chunk):
            ids[r, :len(s)], mask[r, :len(s)] = s, 1
        parts.append({k: v[:len(chunk)] for k, v in teacher_forced_topk(model, ids, mask, topk).items()})
    arrays = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    arrays["lengths"] = np.array([len(s) - 1 for s in seqs], np.int32)
    arrays["truncated"] = np.array([len(f) > max_len for f in full], np.int8)
    rows = [{"prompt_id": f"{GENERIC_DOMAIN}/{i:05d}", "text": d, "first_id": s[0], "keep": True}
            for i, (d, s) in enumerate(zip(docs, seqs))]
    return arrays, rows


def write_retention_cache(out_dir: str | Path, model, tokenizer, *, n_docs: int, seed: int, topk: int,
                          max_len: int, batch_size: int, meta: dict) -> dict:
    """Labels `n_docs` training-split generic documents into `<out_dir>/retention/`; its manifest."""
    from mighty.data.corpus.generic import load_generic

    cache = Path(out_dir) / RETENTION_DIR
    cache.mkdir(parents=True, exist_ok=True)
    docs = load_generic(n_docs, seed=seed, split="train")
    arrays, rows = label_documents(model, tokenizer, docs, topk=topk, max_len=max_len, batch_size=batch_size)
    entry = write_shard(cache, 0, arrays, rows, meta)
    manifest = {"stage": "label_retention", "corpus": "WordNet 3.0 glosses, train split", "docs": len(rows),
                "tokens": int(arrays["lengths"].sum()), "max_len": max_len, "topk_logprobs": topk,
                "seed": seed, **meta, "shards": [entry]}
    write_cache_manifest(cache, manifest)
    return manifest


def has_retention(label_dir: str | Path) -> bool:
    return (Path(label_dir) / RETENTION_DIR / MANIFEST).is_file()
