"""Spelling with pyspellchecker plus a device-vocabulary allowlist.

pyspellchecker's English dictionary ships in the wheel but does not know product words
(`usb`, `hdmi`, `wifi`, `smartphone`, `soundbar`, ...); those are allowlisted so that correct
technical answers are not penalised. Tokens with digits ("5ghz", "a2dp") are skipped.
"""
from __future__ import annotations

import functools
from collections.abc import Iterable

from mighty.rewards.textproc import DEVICE_VOCAB, words


@functools.lru_cache(maxsize=1)
def _checker():
    from spellchecker import SpellChecker
    return SpellChecker(language="en")


class Spelling:
    """Misspelt-word counter. Args: extra allowlist words (case-insensitive)."""

    def __init__(self, allowlist: Iterable[str] = ()):
        self.allow = frozenset(DEVICE_VOCAB) | {w.lower() for w in allowlist}

    def misspelt(self, text: str) -> tuple[int, list[str]]:
        """(number of checked words, misspelt words in order of appearance)."""
        toks = [w for w in words(text) if w.isascii() and not any(c.isdigit() for c in w)]
        checked = [w for w in toks if w not in self.allow
                   and not all(p in self.allow for p in w.split("-"))]
        unknown = _checker().unknown(checked)
        return len(toks), [w for w in checked if w in unknown]
