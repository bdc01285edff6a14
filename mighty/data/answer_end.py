"""Where a teacher answer ends: at the first line that repeats an earlier one.

A greedy small teacher seldom ends its list with EOS; the label stage cuts the loop
(`repeat_cut`) and ends the row there with the teacher's own EOS (`end_answer`).
"""
from __future__ import annotations

import re
from typing import Sequence

import numpy as np

_LIST_MARKER = re.compile(r"^\s*(?:\d+\s*[.):]|[-*\u2022])\s*")


def _line_key(text: str) -> str:
    """A line without its list marker, case or spacing: what makes two steps the same step."""
    return " ".join(_LIST_MARKER.sub("", text).lower().split())


def repeat_cut(pieces: Sequence[str]) -> int | None:
    """Index of the first token of the first line that repeats an earlier line, else None.

    `pieces` is the decoded text of each generated token. A greedy small teacher seldom ends
    its list with EOS: it loops on the last step ("7. Contact support. 8. Contact support. …")
    or restarts the list after a "Here is a numbered list:" line, until max_new_tokens. The
    answer is over where the loop starts, and lines that are not list items just before it
    (that preamble, blank lines) go with it. A final unfinished line counts when it is
    already ≥ 16 characters of an earlier line.
    """
    seen: set[str] = set()
    lines: list[tuple[int, bool]] = []  # (first token, is a list item) of each finished line
    start, text = 0, ""

    def cut_before(line_start: int) -> int:
        kept, cut = [ln for ln in lines if ln[0] < line_start], line_start
        while len(kept) > 1 and not kept[-1][1] and any(item for _, item in kept[:-1]):
            cut = kept.pop()[0]  # a trailing non-list line (preamble of the repeat, blank line)
        return cut

    for i, piece in enumerate(pieces):
        if "\n" not in piece:
            text += piece
            continue
        line = text + piece.split("\n", 1)[0]
        key = _line_key(line)
        if key and key in seen:
            return cut_before(start)
        seen.add(key)
        lines.append((start, bool(_LIST_MARKER.match(line))))
        start, text = i + 1, piece.rsplit("\n", 1)[1]
    partial = _line_key(text)
    if len(partial) >= 16 and any(k.startswith(partial) for k in seen):
        return cut_before(start)
    return None


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
