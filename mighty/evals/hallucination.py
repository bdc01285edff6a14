"""Hallucination: an answer that names settings, parts or steps absent from its KB entry.

The *sources* of an answer are what it may draw on: the KB entries shown in its prompt (as the
prompt renders them, `data.prompts.kb_context`, plus each entry's title and causes), the gold
entry of its case, and the question; an entry that lists escalation conditions also supports
the stock contact-support wording (`rewards.tech.CONTACT_PHRASES`: "contact the manufacturer's
customer service" is what its "Contact support if: ..." line asks for). An answer hallucinates
when either

  * a numbered step is **unsupported**: fewer than `min_support` of its content words
    (`rewards.textproc.content_words`: stemmed, stop words and words under 3 letters dropped)
    occur together in any one source line (a KB step, cause, title, escalation line or the
    question): support(step) = max_line |W(step) ∩ W(line)| / |W(step)|; or
  * it names an **invented term**: a device, part or setting phrase of the corpus vocabulary
    (`corpus_vocabulary`: the KB's required-keyword phrases of several words or with a digit,
    hyphen or slash, and single keywords that are device words of `rewards.textproc.DEVICE_VOCAB`;
    phrases made only of action verbs and particles, such as "turn off", name nothing)
    or a quantity ("15 seconds", "5 GHz") whose number no source contains, that occurs in the
    answer but in no source (matched on stemmed whole words).

Answers without a KB entry (out of scope, clarify) are not scored (NaN): there is nothing to
be faithful to, and declining is checked elsewhere.
"""
from __future__ import annotations

import dataclasses
import functools
import re
from typing import Iterable, Mapping, Sequence

import numpy as np

from mighty.evals.metrics import ACTION_VERBS, step_texts
from mighty.rewards.tech import CONTACT_PHRASES
from mighty.rewards.textproc import DEVICE_VOCAB, content_words, find_phrase, stem, stems, words

MIN_SUPPORT = 0.5
_ENUM = re.compile(r"^\s*\d+[.)]\s+")
_PARTICLES = frozenset("off on up down out in back again it its the a using".split())
_QUANTITY = re.compile(r"\b(\d+(?:\.\d+)?)\s*(%|percent|seconds?|secs?|minutes?|mins?|hours?|metres?|meters?|"
                       r"m|cm|feet|ft|ghz|mhz|khz|hz|v|volts?|w|watts?|a|amps?|gb|mb|db|°|degrees?)\b",
                       re.IGNORECASE)


@dataclasses.dataclass(frozen=True)
class HallucinationCheck:
    unsupported_steps: tuple[str, ...]
    invented_terms: tuple[str, ...]

    @property
    def hallucinated(self) -> bool:
        return bool(self.unsupported_steps or self.invented_terms)


def is_named_term(phrase: str) -> bool:
    """A keyword that names a setting, part or value rather than a generic action word."""
    if all(w in ACTION_VERBS or w in _PARTICLES for w in phrase.split()):
        return False
    return (" " in phrase or any(ch.isdigit() for ch in phrase) or "-" in phrase or "/" in phrase
            or phrase in DEVICE_VOCAB)


def vocabulary(kb_entries: Iterable[Mapping]) -> tuple[tuple[str, ...], ...]:
    """Stemmed term phrases (see module doc) from the required keywords of `kb_entries`."""
    phrases = {k.strip().lower() for e in kb_entries for group in e.get("required_keywords") or []
               for k in group}
    return tuple(sorted({tuple(stems(p)) for p in phrases if is_named_term(p) and stems(p)}))


@functools.lru_cache(maxsize=1)
def corpus_vocabulary() -> tuple[tuple[str, ...], ...]:
    """The vocabulary of the whole bundled KB (data/corpus/kb.jsonl)."""
    from mighty.data import load_kb

    return vocabulary(load_kb())


def source_lines(entries: Sequence[Mapping], question: str) -> list[str]:
    """Each line an answer may draw on: the rendered prompt block, title and causes of every
    entry, and the question."""
    from mighty.data.prompts import kb_context

    lines = [question]
    for e in entries:
        lines += [e.get("title", "")] + list(e.get("causes") or []) + kb_context(e).splitlines()
    if any(e.get("escalation") or e.get("safety") for e in entries):
        lines.append(" ".join(CONTACT_PHRASES))
    return [line for line in lines if line.strip()]


def step_support(step: str, lines: Sequence[str]) -> float:
    """max over source lines of the share of the step's content words found in that line
    (1.0 for a step with no content words: it names nothing)."""
    w = content_words(step)
    if not w:
        return 1.0
    return max((len(w & content_words(line)) / len(w) for line in lines), default=0.0)


def _unstem(tokens: Sequence[str], words_: Sequence[str], phrase: tuple[str, ...]) -> str:
    i = find_phrase(tokens, phrase)
    return " ".join(words_[i:i + len(phrase)])


def invented_terms(answer: str, lines: Sequence[str], vocab: Sequence[tuple[str, ...]]) -> list[str]:
    """Vocabulary terms and quantities the answer names that no source line contains."""
    ans_words = words(answer)
    ans = [stem(w) for w in ans_words]
    src = stems("\n".join(lines))
    out = [_unstem(ans, ans_words, t) for t in vocab
           if find_phrase(ans, list(t)) >= 0 and find_phrase(src, list(t)) < 0]
    # the prompt's own step numbering ("4. Update the speaker.") supports no value
    numbers = set(re.findall(r"\d+(?:\.\d+)?", "\n".join(_ENUM.sub("", line) for line in lines)))
    out += [m.group(0) for m in _QUANTITY.finditer(answer) if m.group(1) not in numbers]
    return list(dict.fromkeys(out))


def check(answer: str, question: str, entries: Sequence[Mapping], *, vocab: Sequence[tuple[str, ...]] | None = None,
          min_support: float = MIN_SUPPORT) -> HallucinationCheck:
    """The unsupported steps and invented terms of one answer against its sources."""
    if not entries:
        raise ValueError("hallucination.check needs at least one KB entry (the answer's sources)")
    lines = source_lines(entries, question)
    vocab = corpus_vocabulary() if vocab is None else vocab
    steps = tuple(s for s in step_texts(answer) if step_support(s, lines) < min_support)
    return HallucinationCheck(steps, tuple(invented_terms(answer, lines, vocab)))


def hallucinated(answer: str, question: str, entries: Sequence[Mapping | None], **kw) -> float:
    """1.0 / 0.0 for an answer with sources; NaN when it has none (no KB entry)."""
    entries = [e for e in entries if e]
    if not entries:
        return float("nan")
    return float(check(answer, question, entries, **kw).hallucinated)


def hallucination_rate(answers: Sequence[str], questions: Sequence[str],
                       sources: Sequence[Sequence[Mapping | None]], **kw) -> float:
    """Share of answers with sources that hallucinate (NaN if none has sources)."""
    flags = np.array([hallucinated(a, q, s, **kw) for a, q, s in zip(answers, questions, sources)])
    flags = flags[np.isfinite(flags)]
    return float(flags.mean()) if flags.size else float("nan")
