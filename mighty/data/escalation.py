"""Escalation keywords: phrases that, said near an electronic device, mean "stop and get help".

Below both the demo's router (which sends such questions to the teacher) and the intent
router's teacher (whose rules override the learned pool), so both read one list and one matcher.
"""
from __future__ import annotations

import re
from typing import Sequence

# Said near an electronic device these mean "stop and get help", never "try step 3".
DEFAULT_ESCALATION_KEYWORDS = [
    "burning smell", "smell of burning", "smells like burning", "burnt smell", "smoke",
    "smoking", "sparks", "sparking", "spark", "electric shock", "shocked me", "shock",
    "swollen battery", "battery is swollen", "battery swelling", "bulging battery",
    "battery bulging", "melted", "melting", "caught fire", "on fire", "flames", "overheating", "too hot to touch",
    "exploded", "leaking battery", "battery leak",
]


def _keyword_re(keywords: Sequence[str]) -> re.Pattern | None:
    words = sorted({k.strip().lower() for k in keywords if k.strip()}, key=len, reverse=True)
    if not words:
        return None
    # Whole words only, so "shock" does not fire on "shockproof" and "spark" not on "sparkle".
    alt = "|".join(r"\s+".join(map(re.escape, w.split())) for w in words)
    return re.compile(rf"(?<![\w-])(?:{alt})(?![\w-])", re.IGNORECASE)


_CACHE: dict[tuple[str, ...], re.Pattern | None] = {}


def find_escalation(question: str, keywords: Sequence[str]) -> str | None:
    """The first escalation keyword in `question` (lower-cased), or None."""
    key = tuple(keywords)
    if key not in _CACHE:
        _CACHE[key] = _keyword_re(keywords)
    pat = _CACHE[key]
    m = pat.search(question) if pat else None
    return re.sub(r"\s+", " ", m.group(0).lower()) if m else None
