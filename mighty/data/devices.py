"""Which device a question names, in the knowledge base's own vocabulary.

The vocabulary is derived from the KB: every `device_type` read as words ("bluetooth_speaker" ->
"bluetooth speaker"), every `model_family` by its shortest word prefix no other family shares
("PartyTower 1000 party speaker" -> "partytower", "BoomCube Max IP67 ..." -> "boomcube max"),
and every brand, the first word of a family name ("BoomCube", "AcoustiQ"), for all the device
types it makes. `GENERIC` adds the few everyday nouns people use instead ("earbuds",
"thermostat", "sound bar"); its targets that are not device types of the KB are dropped, so a
small or different KB gets a consistent vocabulary.

Matching is on whole words after the retriever's plural folding (`data.retrieval.stem`), longest
phrase first, each word used once: "bluetooth speaker" is the bluetooth speaker, not also the
"speaker" inside it, and "speakerphone" is no speaker. Deterministic: no model, no randomness.
"""
from __future__ import annotations

import dataclasses
import re
from typing import Iterable, Sequence

_WORD = re.compile(r"[a-z0-9]+")

# Generic nouns -> device types. Words that are also common verbs or parts of other devices
# ("plug", "stick", "display", "screen", "camera", "watch" as a verb is rare, so kept) are left
# out: a wrong mention would filter out the right entry.
GENERIC: dict[str, tuple[str, ...]] = {
    "speaker": ("bluetooth_speaker", "smart_speaker"),
    "portable speaker": ("bluetooth_speaker",), "party speaker": ("bluetooth_speaker",),
    "outdoor speaker": ("bluetooth_speaker",), "wireless speaker": ("bluetooth_speaker",),
    "earbuds": ("true_wireless_earbuds",), "earbud": ("true_wireless_earbuds",),
    "earphones": ("true_wireless_earbuds",), "buds": ("true_wireless_earbuds",),
    "headphones": ("over_ear_headphones",), "headphone": ("over_ear_headphones",),
    "headset": ("wired_headset",),
    "thermostat": ("smart_thermostat",),
    "bulb": ("smart_bulb",), "light bulb": ("smart_bulb",), "lightbulb": ("smart_bulb",),
    "smart light": ("smart_bulb",),
    "smartwatch": ("smartwatch",), "smart watch": ("smartwatch",), "watch": ("smartwatch",),
    "fitness tracker": ("smartwatch",), "fitness band": ("smartwatch",),
    "activity band": ("smartwatch",),
    "soundbar": ("soundbar",), "sound bar": ("soundbar",),
    "streaming stick": ("streaming_stick",), "streaming device": ("streaming_stick",),
    "streamer": ("streaming_stick",), "tv stick": ("streaming_stick",),
    "doorbell": ("video_doorbell",), "security camera": ("video_doorbell",),
    "router": ("wifi_router",), "wi fi router": ("wifi_router",), "mesh": ("wifi_router",),
    "modem": ("wifi_router",),
}


def words(text: str) -> tuple[str, ...]:
    """Lower-cased words with plurals folded as the retriever folds them."""
    from mighty.data.retrieval import stem

    return tuple(stem(w) for w in _WORD.findall(text.lower().replace("_", " ")))


@dataclasses.dataclass(frozen=True)
class Mention:
    """What a question names: device types, and model families (a subset of those types')."""

    types: frozenset[str] = frozenset()
    families: frozenset[str] = frozenset()

    def __bool__(self) -> bool:
        return bool(self.types)


def _family_prefixes(families: Sequence[str]) -> dict[str, tuple[str, ...]]:
    """{family: its shortest word prefix no other family starts with} (whole name if none)."""
    out = {}
    for f in families:
        w = words(f)
        others = [words(g) for g in families if g != f]
        n = next((n for n in range(1, len(w) + 1) if all(o[:n] != w[:n] for o in others)), len(w))
        out[f] = w[:n]
    return out


class DeviceVocab:
    """`DeviceVocab.from_kb(kb).mention(question) -> Mention`."""

    def __init__(self, phrases: dict[tuple[str, ...], tuple[frozenset[str], frozenset[str]]]):
        # phrase words -> (device types, families) it names; longest phrases match first
        self.phrases = phrases
        self._order = sorted(phrases, key=lambda p: (-len(p), p))

    @classmethod
    def from_kb(cls, kb: Iterable[dict]) -> "DeviceVocab":
        kb = list(kb)
        types = sorted({e["device_type"] for e in kb if e.get("device_type")})
        fam_type = {e["model_family"]: e["device_type"] for e in kb if e.get("model_family")}
        phrases: dict[tuple[str, ...], tuple[set, set]] = {}

        def add(phrase: tuple[str, ...], dtypes: Iterable[str], fams: Iterable[str] = ()):
            t, f = phrases.setdefault(phrase, (set(), set()))
            t.update(dtypes)
            f.update(fams)

        for t in types:
            add(words(t), [t])
        for phrase, targets in GENERIC.items():
            if any(t in types for t in targets):
                add(words(phrase), [t for t in targets if t in types])
        for fam, prefix in _family_prefixes(sorted(fam_type)).items():
            add(prefix, [fam_type[fam]], [fam])
            add(words(fam)[:1], [fam_type[fam]])  # the brand alone names its device types
        return cls({p: (frozenset(t), frozenset(f)) for p, (t, f) in phrases.items() if p})

    def mention(self, question: str) -> Mention:
        w = list(words(question))
        used = [False] * len(w)
        types, fams = set(), set()
        for phrase in self._order:
            n = len(phrase)
            for i in range(len(w) - n + 1):
                if tuple(w[i:i + n]) == phrase and not any(used[i:i + n]):
                    used[i:i + n] = [True] * n
                    types |= self.phrases[phrase][0]
                    fams |= self.phrases[phrase][1]
        return Mention(frozenset(types), frozenset(fams))
