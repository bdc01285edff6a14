"""Where an answer ends: at the first line that repeats an earlier line, or the first sentence
that repeats an earlier sentence of its own line.

A greedy small model seldom ends its answer with EOS: it loops on its last step ("7. Contact
support. 8. Contact support. …"), or inside one paragraph ("If you have a device problem, I
can help. If you have a device problem, I can help. …"). The label stage cuts the teacher's
loop (`repeat_cut`) and ends the row there with the teacher's own EOS (`end_answer`). The eval
ends every system's answer by the same rule (`eval.end_at_repeat`): the reader never sees the
loop, and no system is scored on text it repeats.
"""
from __future__ import annotations

import re
from typing import Sequence

import numpy as np

_LIST_MARKER = re.compile(r"^\s*(?:\d+\s*[.):]|[-*\u2022])\s*")
_SENTENCE_END = re.compile(r"[.!?][\"')\]]*$")
_PARTIAL_CHARS = 16  # an unfinished line or sentence this long that starts an earlier one repeats it


def _line_key(text: str) -> str:
    """A line without its list marker, case or spacing: what makes two steps the same step."""
    return " ".join(_LIST_MARKER.sub("", text).lower().split())


def _starts_one_of(unfinished: str, keys: set[str]) -> bool:
    """Whether unfinished text is already `_PARTIAL_CHARS` characters of one of `keys`."""
    partial = _line_key(unfinished)
    return len(partial) >= _PARTIAL_CHARS and any(k.startswith(partial) for k in keys)


class _RepeatScanner:
    """`repeat_cut`'s state, one decoded token at a time: `push(piece)` returns the cut once the
    text holds a finished line or sentence that repeats; `finish()` also judges the unfinished
    last line and sentence of a text that ran out at max_new_tokens."""

    def __init__(self):
        self.n = 0                              # tokens pushed
        self.cut: int | None = None
        self.lines: list[tuple[int, bool]] = []  # (first token, is a list item) of each finished line
        self.line_keys: set[str] = set()
        self.line_start, self.line = 0, ""
        self.sentence_keys: set[str] = set()    # the current line's finished sentences
        self.sentence_start, self.sentence = 0, ""

    def push(self, piece: str) -> int | None:
        if self.cut is None:
            self.cut = self._push(piece)
        self.n += 1
        return self.cut

    def finish(self) -> int | None:
        if self.cut is not None:
            return self.cut
        if _starts_one_of(self.line, self.line_keys):
            return self._cut_before(self.line_start)
        if _starts_one_of(self.sentence, self.sentence_keys):
            return self.sentence_start
        return None

    def _push(self, piece: str) -> int | None:
        i = self.n
        if "\n" not in piece:
            if self._sentence_ends(piece):
                key = _line_key(self.sentence)
                if key in self.sentence_keys:
                    return self.sentence_start
                if key:  # not a bare list marker ("1.")
                    self.sentence_keys.add(key)
                self.sentence_start, self.sentence = i, ""
            self.line += piece
            self.sentence += piece
            return None
        head = piece.split("\n", 1)[0]
        line = self.line + head
        key = _line_key(line)
        if key and key in self.line_keys:
            return self._cut_before(self.line_start)
        if _line_key(self.sentence + head) in self.sentence_keys:  # the line's last sentence
            return self.sentence_start
        self.line_keys.add(key)
        self.lines.append((self.line_start, bool(_LIST_MARKER.match(line))))
        self.line_start, self.line = i + 1, piece.rsplit("\n", 1)[1]
        self.sentence_keys, self.sentence_start, self.sentence = set(), i + 1, self.line
        return None

    def _sentence_ends(self, piece: str) -> bool:
        """Whether the current sentence ended before `piece`: it ends in . ! or ? and a space
        follows (as its last character or `piece`'s first), so "3.5 mm" is one sentence."""
        body = self.sentence.rstrip()
        return bool(_SENTENCE_END.search(body)) and (body != self.sentence or piece[:1].isspace())

    def _cut_before(self, line_start: int) -> int:
        kept, cut = [ln for ln in self.lines if ln[0] < line_start], line_start
        while len(kept) > 1 and not kept[-1][1] and any(item for _, item in kept[:-1]):
            cut = kept.pop()[0]  # a trailing non-list line (preamble of the repeat, blank line)
        return cut


def repeat_cut(pieces: Sequence[str], *, eos: bool = False) -> int | None:
    """Index of the first token where the answer stops being new, else None.

    `pieces` is the decoded text of each generated token, EOS left out. The answer is over at
    the first line that repeats an earlier line (lines that are not list items just before it,
    such as a "Here is a numbered list:" preamble or blank lines, go with it) or at the first
    sentence that repeats an earlier sentence of its own line (a sentence may recur across
    steps: "Wait ten seconds."). `eos`: the answer ended with EOS, which finishes its last line.
    Else it ran out at max_new_tokens, and its unfinished last line or sentence counts when it
    is already ≥ 16 characters of an earlier one.
    """
    scanner = _RepeatScanner()
    for piece in pieces:
        if scanner.push(piece) is not None:
            return scanner.cut
    return scanner.push("\n") if eos else scanner.finish()


def answer_cut(tokenizer, tokens: Sequence[int], *, eos: bool) -> int | None:
    """`repeat_cut` of a generated row (`tokens`: up to its length, its EOS last when `eos`)."""
    body = tokens[:-1] if eos else tokens
    return repeat_cut([tokenizer.decode([int(t)]) for t in body], eos=eos)


def fingerprint() -> str:
    """A hash of where `repeat_cut` ends a few hand-made answers: it changes whenever the rule
    does, so the label and eval stages get new keys and no answer cut by an old rule is reused."""
    import hashlib

    texts = ["1. Off.\n2. Call.\n3. Call.\n", "Intro\n1. A.\n\nHere:\n1. A.\n", "1. Hold the button now.\n2. Hold the butt",
             "I can help you. I can help you. I", "1. Wait now. Stop.\n2. Wait now.\n", "Ask us. Call. Ask us.\n",
             "I can help with devices. I can help with dev", "Set it to 3.5 mm. Set it to 3.5 mm."]
    words = [[w + " " for w in t.replace("\n", " \n ").split(" ") if w] for t in texts]
    cuts = [repeat_cut(pieces, eos=eos) for pieces in words for eos in (False, True)]
    return hashlib.sha256(repr(cuts).encode()).hexdigest()[:16]


def end_answer(arrays: dict[str, np.ndarray], eos_logprobs: np.ndarray, row: int, cut: int,
               eos_id: int, pad_id: int) -> None:
    """Ends `row` with EOS at position `cut` (in place). The EOS's logprob is the teacher's own
    log p(EOS) there, and its top-K row is the teacher's distribution at that position, so KD
    sees the teacher's real beliefs while the hard label (α) teaches where the answer ends."""
    arrays["tokens"][row, cut], arrays["tokens"][row, cut + 1:] = eos_id, pad_id
    arrays["logprobs"][row, cut], arrays["logprobs"][row, cut + 1:] = eos_logprobs[row, cut], 0.0
    arrays["mask"][row, cut + 1:] = 0
    arrays["topk_ids"][row, cut + 1:], arrays["topk_logprobs"][row, cut + 1:] = 0, 0.0
    arrays["lengths"][row], arrays["truncated"][row] = cut + 1, False
