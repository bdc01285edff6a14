"""Keyword/regex tagging of device type and symptom, for corpora that arrive without tags.

A lexicon maps each label to regex fragments; the label with the most matching fragments wins
(ties go to the label listed first, so more specific labels come first). On our own corpus the given tags
are compared with the lexicon's guesses and the agreement is reported.
"""
from __future__ import annotations

import functools
import re
from collections import Counter
from typing import Any, Mapping, Sequence

# Device types of the bundled corpus, with its product-family names; pass your own for others.
DEVICE_LEXICON: dict[str, list[str]] = {
    "true_wireless_earbuds": [r"ear ?buds?", r"buds?", r"earphones?", r"podpair", r"air ?2", r"pro buds",
                              r"ear[- ]?tips?", r"ear-?hooks?", r"charging case", r"(left|right) (bud|one)"],
    "over_ear_headphones": [r"head ?phones?", r"over-ear", r"on-ear", r"acoustiq (pro|lite) ?\d+",
                            r"(pro|lite) ?[37]00s?", r"vireo", r"studio ?500s?", r"ear ?cups?",
                            r"head ?band", r"cans"],
    "wired_headset": [r"head ?sets?", r"wired", r"gaming", r"talkline", r"officevox", r"dongle",
                      r"boom mic", r"g35", r"3\.5 ?mm", r"usb-?[ac]", r"teams|zoom|discord"],
    "soundbar": [r"sound ?bars?", r"cinemabar", r"sub ?woofer|sub\b", r"hdmi|arc|earc", r"optical",
                 r"rears?|rear speakers?", r"dolby|atmos|surround", r"tv", r"dialogue"],
    "smart_display": [r"smart display", r"displays?", r"homeecho view|view ?(8|10)", r"screen",
                      r"touch ?screen", r"photo frame|photos?", r"camera", r"video calls?"],
    "smart_speaker": [r"smart speakers?", r"homeecho (mini|studio)", r"voice assistant",
                      r"wake word", r"assistant", r"routines?", r"alarms?|timers?", r"smart home"],
    "wifi_router": [r"routers?", r"wi-?fi router", r"home wi-?fi", r"netwave", r"mesh", r"gateway",
                    r"modem", r"ax3000", r"5g", r"ethernet", r"internet", r"isp"],
    "smart_plug": [r"smart plugs?", r"plugs?", r"plugmate", r"outlets?", r"sockets?", r"breaker"],
    "smart_bulb": [r"smart (bulbs?|lights?)", r"(light )?bulbs?", r"lumina", r"lamps?", r"gu10", r"zigbee",
                   r"dimm\w*", r"flicker\w*|shimmer\w*"],
    "smart_thermostat": [r"thermostats?", r"thermahome", r"heat(ing|er)?", r"furnace", r"hvac",
                         r"baseboard", r"temperature", r"c-?wire", r"boiler"],
    "smartwatch": [r"smart ?watch(es)?", r"watch", r"pulsewatch", r"pulsefit", r"fitness (watch|band|tracker)",
                   r"band", r"wrist", r"strap", r"steps?|heart rate|gps"],
    "streaming_stick": [r"streaming sticks?", r"(tv )?sticks?", r"streamdot", r"4k", r"netflix|streaming",
                        r"tv remote", r"buffer\w*"],
    "video_doorbell": [r"(video )?doorbells?", r"doorbell cameras?", r"gateview", r"chime", r"door",
                       r"motion", r"night vision", r"porch"],
    "bluetooth_speaker": [r"(bluetooth|portable|party|outdoor) speakers?", r"speakers?", r"boomcube",
                          r"partytower", r"party ?mode", r"stereo pair"],
}

# Coarse symptom categories: the corpus's ~130 fine symptom slugs map onto these by the same
# lexicon (applied to the slug), so agreement is measured category to category.
SYMPTOM_LEXICON: dict[str, list[str]] = {
    "safety": [r"swell\w*|swollen|bulg\w*|puff\w*", r"burning|smoke|smell", r"melt\w*|sparks?",
               r"(too|very|gets|getting|is) hot|hot\b", r"overheat\w*", r"water|wet|liquid|spill\w*"],
    "microphone": [r"mics?|microphones?", r"can'?t hear me|cannot hear me|hear me",
                   r"calls?", r"background noise", r"muted?"],
    "pairing": [r"pair\w*", r"bluetooth", r"multipoint", r"won'?t connect|can'?t connect|connect to",
                r"not (showing|found|appear\w*)|doesn'?t (show|appear)|don'?t (show|appear)",
                r"app (can'?t|won'?t) find|find", r"setup|set up|set it up"],
    "connectivity": [r"wi-?fi", r"offline", r"router", r"drops?|dropping|disconnect\w*",
                     r"cuts? out|cutting out", r"buffer\w*", r"cast\w*", r"out of sync|sync"],
    "power": [r"charg\w*", r"battery|drain\w*|dies", r"(won'?t|doesn'?t|does not|not) (turn|power|switch) on",
              r"turns? (off|on)|power\w*|shut\w* (off|down)", r"restart\w*|reboot\w*|boot\w*",
              r"dead|stuck on (the )?logo"],
    "audio": [r"sound|audio", r"volume|loud|quiet", r"distort\w*|crackl\w*|static|buzz\w*|hum\w*|hiss\w*",
              r"tinny|muffled|robotic", r"echo\w*", r"bass", r"lag|delay|lip ?sync",
              r"anc|noise[- ]cancel\w*|whistl\w*", r"one (side|ear|bud)|left|right", r"dialogue"],
    "controls": [r"touch|tap|buttons?|remote", r"firmware|update\w*", r"wake word|wakes?|hey \w+",
                 r"screen|display|bright\w*|flicker\w*|camera", r"routines?|alarms?|timers?|language",
                 r"app\b|settings?", r"respond\w*|unresponsive|ignores?"],
}

# Tag fields whose reference is derived from another field of a tagged record.
REFERENCE_FROM = {"symptom_category": "symptom"}


@functools.lru_cache(maxsize=1)
def domain_pattern() -> re.Pattern:
    """Matches any device or symptom term of the default lexicons (is a sentence on topic?)."""
    frags = [p for lex in (DEVICE_LEXICON, SYMPTOM_LEXICON) for pats in lex.values() for p in pats]
    return re.compile(r"\b(?:" + "|".join(f"(?:{p})" for p in frags) + r")\b", re.I)


def compile_lexicon(lexicon: Mapping[str, Sequence[str]]) -> list[tuple[str, list[re.Pattern]]]:
    out = []
    for label, patterns in lexicon.items():
        try:
            out.append((label, [re.compile(rf"\b(?:{p})\b", re.I) for p in patterns]))
        except re.error as e:
            raise ValueError(f"lexicon label {label!r}: bad regex ({e}); fix the pattern") from e
    return out


def tag(text: str, lexicon: list[tuple[str, list[re.Pattern]]]) -> str | None:
    """The label with most pattern hits in `text` (first listed wins ties); None if no hit."""
    best, best_n = None, 0
    for label, pats in lexicon:
        n = sum(bool(p.search(text)) for p in pats)
        if n > best_n:
            best, best_n = label, n
    return best


def reference_tag(rec: dict, field: str, lexicon) -> str | None:
    """The given tag for `field`, or for derived fields the lexicon's tag of the source slug."""
    if field in REFERENCE_FROM:
        slug = rec.get(REFERENCE_FROM[field])
        return tag(slug.replace("_", " "), lexicon) if isinstance(slug, str) else None
    return rec.get(field)


def tag_records(records: Sequence[dict], *, text_field: str, lexicons: Mapping[str, Mapping],
                ) -> tuple[list[dict], dict[str, Any]]:
    """Fills missing tags (absent or None) from `text_field`; measures agreement where one is given.

    Returns (records with tags, and `tag_source` naming lexicon-filled fields; a report per
    field: filled, untagged, compared, accuracy, top confusions "given->guess").
    """
    compiled = {f: compile_lexicon(lex) for f, lex in lexicons.items()}
    stats = {f: {"filled": 0, "untagged": 0, "compared": 0, "agree": 0, "confusions": Counter()}
             for f in compiled}
    out = []
    for rec in records:
        new, source = dict(rec), dict(rec.get("tag_source") or {})
        for field, lex in compiled.items():
            guess, given, st = tag(rec[text_field], lex), reference_tag(rec, field, lex), stats[field]
            if rec.get(field) is None:
                new[field] = guess
                if field not in REFERENCE_FROM:
                    source[field] = "lexicon"
                st["filled"] += guess is not None
                st["untagged"] += guess is None
            if given is not None:
                st["compared"] += 1
                st["agree"] += guess == given
                if guess != given:
                    st["confusions"][f"{given}->{guess}"] += 1
        if source:
            new["tag_source"] = source
        out.append(new)
    report = {f: {"filled": s["filled"], "untagged": s["untagged"], "compared": s["compared"],
                  "accuracy": round(s["agree"] / s["compared"], 4) if s["compared"] else None,
                  "top_confusions": dict(s["confusions"].most_common(8))}
              for f, s in stats.items()}
    return out, report
