"""Grammaticality from link-grammar: the share of words a parser cannot link.

`Sentence(s, Dictionary("en"), ParseOptions(max_null_count=999)).parse()` finds the
linkage with the fewest unlinked ("null") words; `null_count()` is 0 for a grammatical
sentence and grows for word salad. The Dictionary is loaded once per process (≈0.3 s).
Long sentences are capped at `max_words` words (parsing is super-linear in length) and each
parse is bounded by `max_parse_time` seconds; a timed-out parse still reports its best null
count so far.

Needs Debian `python3-link-grammar` + `link-grammar-dictionaries-en`, symlinked into the
venv by `make setup`.
"""
from __future__ import annotations

import atexit
import contextlib
import functools
import logging
import os
import re
import sys
from dataclasses import dataclass

_LIST_MARKER = re.compile(r"^\s*(?:\d+[.)]|[-*•]|step\s+\d+[:.)]?)\s*", re.IGNORECASE)
_SENT_SPLIT = re.compile(r"(?<=[.!?])\s+|\n+")
_WORD = re.compile(r"\S+")


@functools.lru_cache(maxsize=2)
def _dictionary(lang: str):
    try:
        from linkgrammar import Dictionary
    except ImportError as e:  # pragma: no cover - environment problem, not a code path
        raise ImportError(
            "rewards.grammar needs link-grammar: apt-get install python3-link-grammar "
            "link-grammar-dictionaries-en, then `make setup` (symlinks it into .venv)") from e
    from linkgrammar import LG_Error

    with _c_output_silenced():  # its C loader prints locale notices to stdout and stderr
        dictionary = Dictionary(lang)
    # Its parser reports to stderr too ("Contracted word part i’ is in … affix but not in …
    # dict" for a curly apostrophe): those notes go to the log, not the user's terminal.
    LG_Error.set_handler(_log_link_grammar)
    return dictionary


def _log_link_grammar(error, _data) -> None:
    logging.getLogger(__name__).debug("link-grammar %s: %s", error.severity_label, str(error.text).strip())


# Free the dictionary while the interpreter is whole: left to teardown, its __del__ runs after
# linkgrammar's C module is gone and prints a TypeError traceback under the pipeline's last line.
atexit.register(_dictionary.cache_clear)


@contextlib.contextmanager
def _c_output_silenced():
    """Silences file descriptors 1 and 2 (C-level stdout/stderr) for the block."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = [os.dup(1), os.dup(2)]
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 1)
            os.dup2(null.fileno(), 2)
            yield
    finally:
        for fd, copy in zip((1, 2), saved):
            os.dup2(copy, fd)
            os.close(copy)


def split_sentences(text: str) -> list[str]:
    """Sentences of `text`, with list markers ("1.", "-", "Step 2:") stripped."""
    out = []
    for s in _SENT_SPLIT.split(text):
        s = _LIST_MARKER.sub("", s).strip()
        if any(ch.isalpha() for ch in s):
            out.append(s)
    return out


@dataclass(frozen=True)
class GrammarResult:
    words: int        # words parsed (after the length cap)
    null_words: int   # unlinked words
    sentences: int

    @property
    def null_rate(self) -> float:
        return self.null_words / self.words if self.words else 1.0


class LinkGrammar:
    """Counts unlinked words per text.

    Args: max_words per sentence; chunk_words, the longest piece parsed at once; max_parse_time (s).
    link-grammar's parse time on word salad (what an early GRPO policy writes) grows steeply
    past ~25 words (~1 s at 30 words, the 2 s limit at 40), so longer sentences are parsed
    in halves, and a piece that still runs out of time is split again. A cut loses only the
    links across it, and the count never depends on whether the timer fired.
    """

    def __init__(self, lang: str = "en", max_words: int = 40, max_parse_time: int = 2,
                 chunk_words: int = 24):
        self.lang, self.max_words, self.max_parse_time = lang, max_words, max_parse_time
        self.chunk_words = chunk_words

    @functools.cached_property
    def _opts(self):
        from linkgrammar import ParseOptions
        po = ParseOptions(max_null_count=999)
        po.max_parse_time = self.max_parse_time
        po.verbosity = 0
        return po

    def sentence_nulls(self, sentence: str) -> tuple[int, int]:
        """(words, unlinked words) for one sentence, capped at max_words words."""
        return self._nulls(_WORD.findall(sentence)[: self.max_words])

    def _nulls(self, toks: list[str]) -> tuple[int, int]:
        if not toks:
            return 0, 0
        counted = self._parse(toks) if len(toks) <= self.chunk_words else None
        if counted is not None:
            return counted
        if len(toks) == 1:  # a single word that cannot be parsed in time is unlinked
            return 1, 1
        half = len(toks) // 2
        (w1, u1), (w2, u2) = self._nulls(toks[:half]), self._nulls(toks[half:])
        return w1 + w2, u1 + u2

    def _parse(self, toks: list[str]) -> tuple[int, int] | None:
        """(words, unlinked words), or None when the parse ran out of time."""
        from linkgrammar import LG_TimerExhausted, Sentence
        sent = Sentence(" ".join(toks), _dictionary(self.lang), self._opts)
        try:
            linkages = sent.parse()
        except LG_TimerExhausted:
            return None
        if len(linkages) == 0:  # nothing at all parsed: count every word as unlinked
            return len(toks), len(toks)
        return len(toks), min(int(sent.null_count()), len(toks))

    def __call__(self, text: str) -> GrammarResult:
        words = nulls = n = 0
        for s in split_sentences(text):
            w, u = self.sentence_nulls(s)
            words, nulls, n = words + w, nulls + u, n + 1
        return GrammarResult(words=words, null_words=nulls, sentences=n)
