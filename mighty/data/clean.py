"""Text cleaning: mojibake repair, NFKC + whitespace normalisation, URL/signature/chatter removal.

`clean_text` is pure and returns the cleaned text plus the kinds of change it made, so the
pipeline can report exactly what changed (never silently).
"""
from __future__ import annotations

import dataclasses
import re
import unicodedata
from collections import Counter
from typing import Any, Sequence

try:
    import ftfy
except ImportError:  # optional; a cp1252 round-trip covers the common cases
    ftfy = None

CHANGE_KINDS = ("mojibake", "unicode", "whitespace", "quote", "url", "email", "signature", "chatter")

_MOJIBAKE_HINT = re.compile("[ÃÂâ][\u0080-\u00ff\u0152-\u0192\u02c6-\u02dc\u2013-\u203a\u20ac\u2122]")
_ZERO_WIDTH = re.compile("[\u200b-\u200d\u2060\ufeff\u00ad]")
_CONTROL = re.compile("[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]")
_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"',
                         "\u2013": "-", "\u2014": " - ", "\u2026": "..."})
_URL = re.compile(r"(?:\(\s*)?(?:\b(?:see|more at|details at|link|source|at)\s*:?\s*)?"
                  r"(?:https?://|www\.)[^\s<>\"')\]]+(?:\s*\))?", re.I)
_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+\.[\w.-]+\b")
_NAME = r"(?-i:[A-Z])[\w.'-]*"
# a line that starts a signature block; everything from it to the end is dropped
_SIG_START = re.compile(
    rf"^\s*(--\s*$|--\s+\S|__+\s*$|sent (from|via|using) my\b|sent from\b|get outlook for\b|"
    rf"/\s*{_NAME}\b[^\n]*\(|(cheers|regards|best regards|kind regards|thanks|best|many thanks|ta)"
    rf"\b[^|\n]{{0,40}}\|)", re.I)
_SIG_LINE = re.compile(
    r"^\s*(sent from my [\w\s-]+|sent (via|using) [\w\s-]+|get outlook for \w+|"
    r"(thanks|thank you|thx|cheers|regards|best regards|kind regards|best|many thanks|ta)"
    rf"( in advance)?[,.!]*(\s+{_NAME}){{0,2}}|[-~]\s*{_NAME}( {_NAME})?)\s*$", re.I)
_NAME_LINE = re.compile(rf"^\s*{_NAME}( {_NAME}){{0,2}}\s*$")
_CHATTER = re.compile(
    r"^\s*(bump+|\+1([,.!]? *(same|me too)[\w ]*[.!]*)?|lol+|lmao|rofl|ha(ha)+|same here[.!]*|me too[.!]*|any ?one\?*|any help\?*|"
    r"edit:.*|update:? nvm.*|:\)|:\(|:d|xd|\*+|\.+)\s*$", re.I)
# an aside that is off topic unless it mentions a device or symptom (see `_on_topic`)
_ASIDE = re.compile(r"^\s*(btw|by the way|unrelated\b|p\.?s\.?\b|off[- ]?topic|anyway,|"
                    r"also,?\s+(does\s+)?any ?one (know|selling|seen|recommend)\b|any ?one selling\b)", re.I)


def _on_topic(sentence: str) -> bool:
    from mighty.data.tagging import domain_pattern

    return bool(domain_pattern().search(sentence))


def fix_mojibake(text: str) -> str:
    """Undoes UTF-8-read-as-cp1252/latin-1 damage (e.g. `Ã©` -> `é`, `â€™` -> `’`)."""
    if ftfy is not None:
        return ftfy.fix_encoding(text)
    if not _MOJIBAKE_HINT.search(text):
        return text
    for codec in ("cp1252", "latin-1"):
        try:
            return text.encode(codec).decode("utf-8")
        except (UnicodeEncodeError, UnicodeDecodeError):
            continue
    return text


def normalize_unicode(text: str) -> str:
    """NFKC, ASCII quotes/dashes, no zero-width or control characters."""
    text = unicodedata.normalize("NFKC", text).translate(_QUOTES)
    return _CONTROL.sub("", _ZERO_WIDTH.sub("", text))


def normalize_whitespace(text: str) -> str:
    """One space between words, no trailing spaces, at most one blank line in a row."""
    lines = [re.sub(r"[ \t\u00a0]+", " ", ln).strip() for ln in text.replace("\r\n", "\n").split("\n")]
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def strip_urls(text: str) -> tuple[str, int, int]:
    """Removes URLs and e-mail addresses; returns (text, n_urls, n_emails)."""
    text, n_url = _URL.subn("", text)
    text, n_email = _EMAIL.subn("", text)
    return text, n_url, n_email


def strip_signature(text: str) -> tuple[str, bool]:
    """Drops a trailing signature: a `--` delimiter line onwards, or sign-off lines at the end."""
    lines = text.split("\n")
    delim = next((i for i in range(1, len(lines)) if _SIG_START.match(lines[i])), len(lines))
    cut = delim
    while cut > 1:
        line = lines[cut - 1]
        if not line.strip() or _SIG_LINE.match(line):
            cut -= 1
        elif cut > 2 and _NAME_LINE.match(line) and _SIG_LINE.match(lines[cut - 2]):
            cut -= 2  # "Cheers,\nBob"
        else:
            break
    if cut == delim and not any(line.strip() for line in lines[cut:]):
        return text, False
    return "\n".join(lines[:cut]).rstrip(), True


def unwrap_quotes(text: str) -> tuple[str, int]:
    """`> quoted` reply lines lose their marker (the quoted text then dedups against its source)."""
    return re.subn(r"(?m)^\s*>+\s?", "", text)


def drop_chatter(text: str) -> tuple[str, int]:
    """Removes chatter lines/sentences (lol, bump, +1) and off-topic asides (btw/PS/unrelated …
    that mention no device or symptom); returns (text, sentences removed)."""
    kept, n = [], 0
    for ln in text.split("\n"):
        parts = re.split(r"(?<=[.!?])\s+", ln) if ln.strip() else [ln]
        good = [p for p in parts if not (p.strip() and (_CHATTER.match(p) or
                                                        (_ASIDE.match(p) and not _on_topic(p))))]
        n += len(parts) - len(good)
        if good or not ln.strip():
            kept.append(" ".join(good))
    return "\n".join(kept), n


def clean_text(text: str, *, chatter: bool = True, signatures: bool = True,
               urls: bool = True) -> tuple[str, list[str]]:
    """Returns (cleaned text, sorted change kinds from `CHANGE_KINDS`)."""
    changes = set()
    fixed = fix_mojibake(text)
    if fixed != text:
        changes.add("mojibake")
    uni = normalize_unicode(fixed)
    if uni != fixed:
        changes.add("unicode")
    out = normalize_whitespace(uni)
    if out != uni:
        changes.add("whitespace")
    out, n_quote = unwrap_quotes(out)
    changes |= {"quote"} if n_quote else set()
    if urls:
        out, n_url, n_email = strip_urls(out)
        changes |= {"url"} if n_url else set()
        changes |= {"email"} if n_email else set()
    if signatures:
        out, had_sig = strip_signature(out)
        changes |= {"signature"} if had_sig else set()
    if chatter:
        dropped, n_chat = drop_chatter(out)
        if n_chat and dropped.strip():  # never drop a text's only content
            out = dropped
            changes.add("chatter")
    return normalize_whitespace(out), sorted(changes)


@dataclasses.dataclass
class CleanReport:
    n_records: int = 0
    n_changed: int = 0
    n_emptied: int = 0  # records whose text became empty; they are dropped and counted here
    changes: Counter = dataclasses.field(default_factory=Counter)  # change kind -> records
    changed_ids: dict[str, list[str]] = dataclasses.field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"records": self.n_records, "changed": self.n_changed, "emptied": self.n_emptied,
                "changes": dict(sorted(self.changes.items()))}


def clean_records(records: Sequence[dict], fields: Sequence[str], *, id_field: str,
                  light_fields: Sequence[str] = (), **opts) -> tuple[list[dict], CleanReport]:
    """Cleans `fields` fully and `light_fields` (e.g. KB steps) with normalisation only.

    Returns new records (inputs untouched); records whose every full field ends up empty are
    dropped and counted in `n_emptied`.
    """
    report, out = CleanReport(), []
    for rec in records:
        report.n_records += 1
        new, kinds = dict(rec), set()
        for name in fields:
            if isinstance(rec.get(name), str):
                new[name], ch = clean_text(rec[name], **opts)
                kinds.update(ch)
        for name in light_fields:
            new[name], ch = _clean_light(rec.get(name))
            kinds.update(ch)
        if kinds:
            report.n_changed += 1
            report.changes.update(kinds)
            report.changed_ids[str(rec.get(id_field))] = sorted(kinds)
        if fields and not any(new.get(f) for f in fields if isinstance(rec.get(f), str)):
            report.n_emptied += 1
            continue
        out.append(new)
    return out, report


def _clean_light(value: Any) -> tuple[Any, set[str]]:
    """Normalisation only (no content removal), recursing into lists."""
    if isinstance(value, str):
        return clean_text(value, chatter=False, signatures=False, urls=False)
    if isinstance(value, list):
        pairs = [_clean_light(v) for v in value]
        return [p[0] for p in pairs], set().union(*(p[1] for p in pairs)) if pairs else set()
    return value, set()
