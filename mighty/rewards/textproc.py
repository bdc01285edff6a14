"""Shared text helpers for the host-side rewards: word tokens, stemming, phrase search.

Everything here is plain Python on strings; rewards and `rl.diagnostics` share it so that
"a keyword matched" and "a completion is boilerplate" mean the same thing everywhere.
"""
from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence

from nltk.stem import PorterStemmer  # pure code, needs no NLTK data download

# Words with an internal apostrophe or hyphen stay one token ("don't", "wi-fi").
_WORD_RE = re.compile(r"[a-z0-9]+(?:['\u2019-][a-z0-9]+)*")
_STEMMER = PorterStemmer()

# Device and connectivity vocabulary: a spelling allowlist and the "on topic" lexicon.
DEVICE_VOCAB: frozenset[str] = frozenset("""
usb usb-c hdmi hdmi-arc arc earc wifi wi-fi bluetooth app apps firmware smartphone smartphones
earbuds earbud soundbar soundbars router routers mesh modem ethernet subwoofer tv tvs
headphones headphone headset speaker speakers airpods chromecast roku alexa siri ios android
aux optical toslink dac amp amplifier nfc anc lan wlan ssid dns dhcp ip mac pc laptop tablet
charger charging cable adapter dongle remote thermostat doorbell hub plug smartwatch watch
smart device devices battery batteries mic microphone volume bass treble eq equalizer
reboot unpair unpaired repair pairing powercycle reconnect bootloader
""".split())

# Symptom words used to decide whether a completion talks about the prompt's problem.
SYMPTOM_VOCAB: frozenset[str] = frozenset("""
pair pairing paired connect connection disconnect disconnects drop drops dropping sound audio
noise static crackle crackling buzz buzzing hum echo latency lag delay sync distort distorted
distortion silent mute muted quiet loud volume charge charging battery drain overheat overheating
hot smell smoke swell swollen spark sparks power boot freeze frozen crash crashes update firmware
reset restart screen display flicker signal wifi bluetooth range stutter stuttering cut cuts
microphone mic button buttons light led blink blinking
""".split())

# Stock filler that adds length without content (the boilerplate the length reward punishes).
FILLER_PHRASES: tuple[str, ...] = (
    "i hope this helps",
    "hope this helps",
    "let me know if you have any other questions",
    "let me know if you need anything else",
    "feel free to ask",
    "feel free to reach out",
    "happy to help",
    "great question",
    "as an ai",
    "as a language model",
    "i'm sorry to hear that",
    "i am sorry to hear that",
    "it is important to note that",
    "it's important to note that",
    "in conclusion",
    "thank you for reaching out",
    "i understand your frustration",
)

_STOPWORDS: frozenset[str] = frozenset("""
a an the and or but if then so to of in on at by for with from into onto over under up down out
is are was were be been being am do does did doing have has had having i me my we our you your
he she it its they them their this that these those there here what which who whom whose when
where why how not no yes can could would should will shall may might must just also very too
please thanks thank hi hello hey get got any some all more most much many again still even
""".split())


def words(text: str) -> list[str]:
    """Lower-cased word tokens (letters/digits, internal apostrophes and hyphens kept)."""
    return _WORD_RE.findall(text.lower().replace("\u2019", "'"))


@functools.lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """Porter stem of one lower-case word ("charging", "charged" -> "charg")."""
    return _STEMMER.stem(word)


def stems(text: str) -> list[str]:
    return [stem(w) for w in words(text)]


def find_phrase(tokens: Sequence[str], phrase: Sequence[str]) -> int:
    """Index of the first occurrence of token sequence `phrase` in `tokens`, or -1.

    Matching whole tokens gives word boundaries for free: "arc" never matches "search".
    """
    m = len(phrase)
    if m == 0:
        return -1
    first = phrase[0]
    for i in range(len(tokens) - m + 1):
        if tokens[i] == first and list(tokens[i:i + m]) == list(phrase):
            return i
    return -1


def first_match(tokens: Sequence[str], phrases: Iterable[str]) -> int:
    """Earliest position at which any of `phrases` (stemmed, multi-word allowed) occurs; -1 if none."""
    best = -1
    for p in phrases:
        pos = find_phrase(tokens, stems(p))
        if pos >= 0 and (best < 0 or pos < best):
            best = pos
    return best


def content_words(text: str) -> set[str]:
    """Stemmed words that are not stop words and have at least 3 letters."""
    return {stem(w) for w in words(text) if w not in _STOPWORDS and len(w) >= 3}


def domain_keywords(text: str, vocab: Iterable[str] = DEVICE_VOCAB | SYMPTOM_VOCAB) -> set[str]:
    """Stems of the words of `text` that belong to the device/symptom lexicon."""
    lex = {stem(v) for v in vocab}
    return {s for s in stems(text) if s in lex}


def count_filler(text: str, phrases: Iterable[str] = FILLER_PHRASES) -> int:
    """Number of occurrences of stock filler phrases (word-boundary, case-insensitive)."""
    norm = " " + " ".join(words(text)) + " "
    return sum(norm.count(" " + " ".join(words(p)) + " ") for p in phrases)


def longest_increasing_subsequence(seq: Sequence[int]) -> int:
    """Length of the longest strictly increasing subsequence (patience sorting, O(n log n))."""
    import bisect

    tails: list[int] = []
    for x in seq:
        i = bisect.bisect_left(tails, x)
        if i == len(tails):
            tails.append(x)
        else:
            tails[i] = x
    return len(tails)
