"""Seeded text perturbations: realistic typos, spoken-style transcripts, mojibake, odd whitespace."""
from __future__ import annotations

import hashlib
import random
import re

# Misspellings people really make on these words.
COMMON_MISSPELLINGS = {
    "bluetooth": ["bluetoth", "blutooth", "bluetooh", "blue tooth"],
    "headphones": ["headphnes", "headphons", "hedphones"],
    "earbuds": ["earbugs", "earbds", "ear buds"],
    "wireless": ["wirless", "wireles"],
    "connect": ["conect", "connnect"],
    "connected": ["conected", "connectd"],
    "connection": ["conection", "connecton"],
    "doesn't": ["doesnt", "dosent", "does'nt"],
    "don't": ["dont", "dont'"],
    "won't": ["wont", "wo'nt"],
    "can't": ["cant", "can;t"],
    "isn't": ["isnt"],
    "it's": ["its"],
    "i'm": ["im"],
    "receive": ["recieve"],
    "definitely": ["definately", "defintely"],
    "speaker": ["speeker", "spaeker"],
    "thermostat": ["thermostate", "thermastat", "thermostadt"],
    "router": ["rooter", "routter"],
    "wifi": ["wfi", "wiif", "wi fi"],
    "notifications": ["notifcations", "notificatons"],
    "microphone": ["microphne", "micropone"],
    "battery": ["batery", "battey", "battary"],
    "charging": ["chargin", "chaging", "chargeing"],
    "doorbell": ["dorbell", "doorbel"],
    "because": ["becuase", "becasue"],
    "really": ["realy", "rly"],
    "anyone": ["any1", "anyon"],
    "please": ["plz", "pls", "pleas"],
    "settings": ["setings", "settigns"],
    "subwoofer": ["subwofer", "sub woofer"],
    "weird": ["wierd"],
    "through": ["thru", "throught"],
    "volume": ["volumn", "volum"],
    "turn": ["trun"],
    "the": ["teh", "hte"],
    "with": ["wiht", "wtih"],
    "again": ["agian"],
    "phone": ["phnoe", "phoen"],
    "update": ["updaet", "upadte"],
    "working": ["workin", "wroking"],
    "anything": ["anythign", "anyting"],
}

_KEYBOARD = {
    "a": "qsz", "b": "vn", "c": "xv", "d": "sf", "e": "wr", "f": "dg", "g": "fh", "h": "gj", "i": "uo",
    "j": "hk", "k": "jl", "l": "k", "m": "n", "n": "bm", "o": "ip", "p": "o", "q": "w", "r": "et",
    "s": "ad", "t": "ry", "u": "yi", "v": "cb", "w": "qe", "x": "zc", "y": "tu", "z": "x",
}


def rng_for(*parts: object) -> random.Random:
    """A Random seeded from a stable hash of its parts (Python's hash() is salted per process)."""
    digest = hashlib.sha256("\x1f".join(map(str, parts)).encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def _mangle_word(word: str, rng: random.Random) -> str:
    core = word.lower()
    if core in COMMON_MISSPELLINGS and rng.random() < 0.8:
        return rng.choice(COMMON_MISSPELLINGS[core])
    if len(word) < 4 or not word.isalpha():
        return word
    i = rng.randrange(1, len(word) - 1)
    kind = rng.choice(("drop", "swap", "double", "neighbour"))
    if kind == "drop":
        return word[:i] + word[i + 1:]
    if kind == "swap":
        return word[:i] + word[i + 1] + word[i] + word[i + 2:]
    if kind == "double":
        return word[:i] + word[i] + word[i:]
    near = _KEYBOARD.get(word[i].lower())
    return word[:i] + rng.choice(near) + word[i + 1:] if near else word


def add_typos(text: str, rng: random.Random, *, rate: float = 0.18, min_typos: int = 2) -> str:
    """Lower-cases, drops some apostrophes and misspells words (at least ``min_typos`` of them)."""
    tokens = re.findall(r"[A-Za-z']+|[^A-Za-z']+", text.lower())
    word_idx = [i for i, t in enumerate(tokens) if re.match(r"[a-z']+$", t) and len(t) >= 3]
    if not word_idx:
        return text.lower()
    forced = set(rng.sample(word_idx, min(min_typos, len(word_idx))))
    out = []
    for i, tok in enumerate(tokens):
        if i in forced or (i in word_idx and rng.random() < rate):
            new = _mangle_word(tok, rng)
            if new == tok:  # too short or unlucky: drop the apostrophe or a letter instead
                new = tok.replace("'", "") if "'" in tok else tok[:-1] + tok[-1] * 2
            tok = new
        out.append(tok)
    text = "".join(out)
    if rng.random() < 0.4:
        text = text.replace(" i ", " i ").replace("?", rng.choice(["?", "??", "", "?!"]))
    return text


_SPOKEN = [
    (r"2\.4\s*GHz", "two point four gigahertz"), (r"5\s*GHz", "five gigahertz"), (r"(\d+)\s*%", r"\1 percent"),
    (r"\bwi-?fi\b", "wifi"), (r"&", " and "), (r"\bTV\b", "tv"), (r"\bAC\b", "a c"),
]
FILLERS = ("um", "uh", "like", "so", "you know", "okay so", "hmm")


def to_voice(text: str, rng: random.Random) -> str:
    """A speech-to-text style transcript: lower case, no punctuation, a few fillers."""
    for pat, rep in _SPOKEN:
        text = re.sub(pat, rep, text, flags=re.IGNORECASE)
    text = text.lower()
    text = re.sub(r"(?<=\w)'(?=\w)", "\u0000", text)  # keep in-word apostrophes (won't)
    text = re.sub(r"[^\w\s\u0000]", " ", text).replace("\u0000", "'")
    words = text.split()
    if len(words) > 6 and rng.random() < 0.6:
        pos = rng.randrange(2, len(words) - 2)
        words.insert(pos, rng.choice(FILLERS))
    return " ".join(words)


def mojibake(text: str) -> str:
    """Typographic punctuation encoded as UTF-8 and decoded as cp1252, as bad forum software does."""
    fancy = text.replace("'", "\u2019").replace(" - ", " \u2013 ").replace("...", "\u2026")
    return fancy.encode("utf-8").decode("cp1252", errors="replace")


ODD_SPACES = ("\u00a0", "\u2009", "\u200b", "\u3000", "\u202f")


def odd_whitespace(text: str, rng: random.Random, *, n: int = 3) -> tuple[str, list[str]]:
    spaces = [i for i, c in enumerate(text) if c == " "]
    chosen = sorted(rng.sample(spaces, min(n, len(spaces))))
    chars = list(text)
    used = []
    for i in chosen:
        ch = rng.choice(ODD_SPACES)
        chars[i] = ch if ch != "\u200b" else " \u200b"
        used.append(ch)
    return "".join(chars), sorted(set(used))
