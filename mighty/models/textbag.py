"""A tiny text encoder for the distilled router and reranker: hashed n-grams → embedding bag.

fastText-style (Joulin et al. 2017): a text becomes the ids of its word uni/bi-grams and
character n-grams hashed into `buckets` rows; the encoder averages their embeddings. It is
what fits the router's latency target (< 15 ms p95 on 2 CPU cores): featurising a question
costs tens of microseconds and the forward pass one gather and one mean, where even one
decoder block of the 135M teacher costs milliseconds. Character n-grams keep typos and
spoken-style transcripts ("blue tooth", "conect") close to the clean words.

The hash is `zlib.crc32`, not Python's `hash`, so ids are the same in every process and a
trained artefact means the same thing when the demo server loads it.
"""
from __future__ import annotations

import re
import zlib
from dataclasses import dataclass
from typing import Sequence

import jax.numpy as jnp
import numpy as np
from flax import nnx

_WORD = re.compile(r"[a-z0-9]+")


@dataclass(frozen=True)
class BagConfig:
    """Featuriser and encoder sizes; saved with every artefact that uses them."""

    buckets: int = 1 << 16  # rows of the hashed embedding table
    dim: int = 64  # embedding width
    word_ngrams: int = 2  # word 1..n-grams
    char_min: int = 3  # character n-grams of each word (with boundary marks), min..max
    char_max: int = 5
    max_ids: int = 256  # ids kept per text (the first ones; a longer text is truncated)

    def __post_init__(self):
        if self.buckets < 2 or self.dim < 1 or self.max_ids < 1:
            raise ValueError(f"BagConfig: buckets >= 2, dim >= 1 and max_ids >= 1 required, got {self}")
        if not 1 <= self.char_min <= self.char_max or self.word_ngrams < 1:
            raise ValueError(f"BagConfig: need 1 <= char_min <= char_max and word_ngrams >= 1, got {self}")


def _bucket(feature: str, buckets: int) -> int:
    # id 0 is padding, so real features use 1..buckets-1
    return 1 + zlib.crc32(feature.encode("utf-8")) % (buckets - 1)


def text_features(text: str, cfg: BagConfig) -> list[str]:
    """The n-gram strings of `text`: word n-grams (`w:`), then character n-grams (`c:`)."""
    words = _WORD.findall(text.lower())
    feats = [f"w:{' '.join(words[i:i + n])}" for n in range(1, cfg.word_ngrams + 1)
             for i in range(len(words) - n + 1)]
    for w in words:
        marked = f"<{w}>"
        feats += [f"c:{marked[i:i + n]}" for n in range(cfg.char_min, cfg.char_max + 1)
                  for i in range(len(marked) - n + 1)]
    return feats


def featurize(texts: Sequence[str], cfg: BagConfig) -> np.ndarray:
    """`ids_bl` int32 [len(texts), cfg.max_ids]; 0 pads. A text with no word gives all zeros."""
    ids_bl = np.zeros((len(texts), cfg.max_ids), np.int32)
    for row, text in enumerate(texts):
        ids = [_bucket(f, cfg.buckets) for f in text_features(text, cfg)][: cfg.max_ids]
        ids_bl[row, : len(ids)] = ids
    return ids_bl


class BagEncoder(nnx.Module):
    """`encoder(ids_bl) -> [B, dim]`: the mean embedding of a text's non-padding ids (zeros for
    an empty text)."""

    def __init__(self, cfg: BagConfig, *, rngs: nnx.Rngs):
        self.cfg = cfg
        self.embed = nnx.Embed(cfg.buckets, cfg.dim, embedding_init=nnx.initializers.normal(0.1), rngs=rngs)

    def __call__(self, ids_bl: jnp.ndarray) -> jnp.ndarray:
        mask_bl1 = (ids_bl > 0)[..., None].astype(jnp.float32)
        e_bld = self.embed(ids_bl) * mask_bl1
        return e_bld.sum(1) / jnp.maximum(mask_bl1.sum(1), 1.0)
