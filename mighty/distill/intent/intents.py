"""The router's intent set and the original question templates for intents the corpus lacks.

Ten intents: one troubleshoot intent per device family (the 14 corpus device types grouped
by how a support team would staff them), plus safety escalation, out-of-scope,
needs-clarification and the account/returns hand-off. The corpus gives the troubleshoot,
safety (kb `safety` issues) and out-of-scope (data.corpus.scope) questions; the clarify and
account/returns questions come from the templates below (written for this project), with
separate template sets for training and the frozen eval so no eval wording is trained on.
"""
from __future__ import annotations

import random

FAMILIES: dict[str, tuple[str, ...]] = {
    "troubleshoot_headphones": ("over_ear_headphones", "true_wireless_earbuds", "wired_headset"),
    "troubleshoot_speakers": ("bluetooth_speaker", "soundbar", "smart_speaker"),
    "troubleshoot_video": ("smart_display", "streaming_stick", "video_doorbell"),
    "troubleshoot_network": ("wifi_router", "smart_plug"),
    "troubleshoot_home": ("smart_bulb", "smart_thermostat"),
    "troubleshoot_wearable": ("smartwatch",),
}
SAFETY, OUT_OF_SCOPE, CLARIFY, ACCOUNT = ("safety_escalation", "out_of_scope", "needs_clarification",
                                         "account_returns")
INTENTS: tuple[str, ...] = (*FAMILIES, SAFETY, OUT_OF_SCOPE, CLARIFY, ACCOUNT)
FAMILY_OF = {dev: fam for fam, devs in FAMILIES.items() for dev in devs}

# what each intent means, for the LLM adjudicator's prompt
DESCRIPTIONS = {
    "troubleshoot_headphones": "headphones, earbuds, headset",
    "troubleshoot_speakers": "speaker, soundbar",
    "troubleshoot_video": "display, streaming stick, doorbell",
    "troubleshoot_network": "wifi router, smart plug",
    "troubleshoot_home": "bulb, thermostat",
    "troubleshoot_wearable": "smartwatch",
    SAFETY: "smoke, heat, burning, swelling, shock",
    OUT_OF_SCOPE: "not about our devices",
    CLARIFY: "too vague",
    ACCOUNT: "order, refund, return, warranty, account",
}

_DEVICES = ("headphones", "earbuds", "speaker", "soundbar", "router", "smart plug", "bulbs",
            "thermostat", "doorbell", "streaming stick", "smartwatch", "smart display")
_ACCOUNT_TRAIN = (
    "I want to return my {d}, how do I start a return?",
    "can i get a refund for the {d} i bought last week",
    "My order of a {d} never arrived, where is it?",
    "how do i cancel my order for the {d}",
    "I was charged twice for my {d}, please fix the billing.",
    "um is my {d} still under warranty",
    "I need to change the delivery address on my {d} order",
    "how do I reset the password on my account",
    "the {d} arrived damaged in the box, I want a replacement",
    "can you send me the invoice for my {d}",
)
_ACCOUNT_EVAL = (
    "Where do I print a returns label for the {d}?",
    "so the {d} came with the wrong colour, can i swap it",
    "Please close my customer account and delete my data.",
    "how long does a refund take once you get the {d} back",
    "I'd like to claim the warranty on my {d}; what do you need from me?",
    "my discount code didn't apply when i ordered the {d}",
)
_CLARIFY_TRAIN = (
    "it stopped working", "it won't turn on", "the light is flashing", "how do i set it up",
    "it keeps making a noise", "something is wrong with it", "hey can you help me",
    "it's broken again", "why does it keep doing that", "the app says error",
    "nothing happens when I press the button", "it was fine and now it isn't",
    "can you fix it", "it disconnects", "the thing won't respond",
)


def _fill(templates: tuple[str, ...], n: int, rng: random.Random) -> list[str]:
    out = []
    for i in range(n):
        t = templates[i % len(templates)]
        out.append(t.format(d=rng.choice(_DEVICES)) if "{d}" in t else t)
    return out


def template_rows(split: str, *, n_account: int, n_clarify: int, seed: int) -> list[dict]:
    """Seeded, deterministic question rows for the template intents. `split`: "train" or
    "eval" (account templates only, disjoint from training's). Each row: text, intent, group (the template, for
    issue-style splitting), source."""
    if split not in ("train", "eval"):
        raise ValueError(f"template_rows: split must be 'train' or 'eval', got {split!r}")
    rng = random.Random(f"{seed}:{split}")
    if split == "train":
        acc, clar = _fill(_ACCOUNT_TRAIN, n_account, rng), _fill(_CLARIFY_TRAIN, n_clarify, rng)
    else:
        # the frozen eval's clarify cases are eval.jsonl's boundary/clarify ones, not templates
        acc, clar = _fill(_ACCOUNT_EVAL, n_account, rng), []
    return ([{"text": t, "intent": ACCOUNT, "group": f"tmpl.{split}.account.{i % 10}", "source": "template"}
             for i, t in enumerate(acc)]
            + [{"text": t, "intent": CLARIFY, "group": f"tmpl.{split}.clarify.{i % 15}", "source": "template"}
               for i, t in enumerate(clar)])
