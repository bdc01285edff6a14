"""Per-token α for KD: boost the hard-CE weight on high-stakes tokens.

In ``kd_loss`` α weighs the hard cross-entropy on the teacher's token against the soft
divergence. Tokens that must come out exactly (step numbers, device and setting names) get
``α · multiplier`` (clipped to [0, 1]): the student is pushed to reproduce the teacher's
token, not merely its distribution.

Two stages:
1. host, once per tokenizer: ``boost_vocab_mask(token_strings, ...)`` → bool ``[V]`` from the
   decoded string of every vocab id (``[tok.decode([i]) for i in range(V)]``, so leading
   spaces are real spaces, not ``Ġ``/``▁``);
2. jitted, per batch: ``token_alpha(labels_bt, mask_v, base_alpha=..., multiplier=...)``.

Matching is per token: a lexicon term that the tokenizer splits into several pieces only
matches through ``lexicon_span_mask`` (host side, per sequence), whose ``[B, T]`` result goes
to ``alpha_from_boost``.
"""
from __future__ import annotations

import re
from typing import Iterable, Sequence

import jax.numpy as jnp
import numpy as np

STEP_NUMBER = r"^\s*\d+[.)]?$"
DEFAULT_PATTERNS = (STEP_NUMBER,)
# token classes; tested against the token string with surrounding whitespace removed
TOKEN_CLASSES = {
    "digits": r"^\d+$",
    "step_number": r"^\d+[.)]$",
    "capitalised": r"^[A-Z][a-z]+$",  # cannot tell names from sentence starts at token level
    "acronym": r"^[A-Z][A-Z0-9]+$",  # ANC, EQ, USB, A2DP
}


def _compile(patterns: Iterable[str], classes: Iterable[str]):
    unknown = sorted(set(classes) - set(TOKEN_CLASSES))
    if unknown:
        raise ValueError(f"boost_vocab_mask: unknown token classes {unknown}; "
                         f"choose from {sorted(TOKEN_CLASSES)}.")
    raw = [re.compile(p) for p in patterns]
    stripped = [re.compile(TOKEN_CLASSES[c]) for c in classes]
    return raw, stripped


def boost_vocab_mask(
    token_strings: Sequence[str],
    *,
    patterns: Iterable[str] = DEFAULT_PATTERNS,
    lexicon: Iterable[str] = (),
    classes: Iterable[str] = (),
) -> np.ndarray:
    """Bool ``[V]``: True for vocab ids whose token is high-stakes.

    A token is boosted when any of: a regex in ``patterns`` matches the raw decoded string
    (``re.search``; the default matches step numbers ``"3"``, ``" 3."``, ``"3)"``); its
    whitespace-stripped, case-folded text equals a ``lexicon`` term (single-token device and
    setting names); or its stripped text falls in one of the named ``classes``
    (``TOKEN_CLASSES``).
    """
    raw, stripped = _compile(patterns, classes)
    words = {w.strip().casefold() for w in lexicon if w.strip()}
    out = np.zeros(len(token_strings), dtype=bool)
    for i, tok in enumerate(token_strings):
        core = tok.strip()
        out[i] = (
            any(r.search(tok) for r in raw)
            or (core.casefold() in words)
            or any(r.search(core) for r in stripped)
        )
    return out


def lexicon_span_mask(
    ids_bt: np.ndarray, token_strings: Sequence[str], lexicon: Iterable[str]
) -> np.ndarray:
    """Bool ``[B, T]``: positions whose token overlaps a whole-word, case-insensitive
    occurrence of a lexicon term in the decoded row (catches multi-token names)."""
    terms = [t.strip() for t in lexicon if t.strip()]
    if not terms:
        return np.zeros(np.shape(ids_bt), dtype=bool)
    alternation = "|".join(re.escape(t) for t in sorted(terms, key=len, reverse=True))
    pattern = re.compile(rf"(?<!\w)(?:{alternation})(?!\w)", re.IGNORECASE)
    out = np.zeros(np.shape(ids_bt), dtype=bool)
    for b, row in enumerate(np.asarray(ids_bt)):
        pieces = [token_strings[i] for i in row]
        ends = np.cumsum([len(p) for p in pieces])
        starts = ends - np.array([len(p) for p in pieces], dtype=ends.dtype)
        for m in pattern.finditer("".join(pieces)):
            out[b] |= (starts < m.end()) & (ends > m.start()) & (ends > starts)
    return out


def alpha_from_boost(boost_bt, *, base_alpha, multiplier):
    """α_bt = clip(base_α · where(boost, multiplier, 1), 0, 1); jittable."""
    scale_bt = jnp.where(boost_bt, multiplier, 1.0)
    return jnp.clip(base_alpha * scale_bt, 0.0, 1.0)


def token_alpha(labels_bt, boost_mask_v, *, base_alpha, multiplier):
    """α per label token from the vocab mask of ``boost_vocab_mask``; jittable."""
    boost_bt = jnp.asarray(boost_mask_v)[labels_bt]
    return alpha_from_boost(boost_bt, base_alpha=base_alpha, multiplier=multiplier)
