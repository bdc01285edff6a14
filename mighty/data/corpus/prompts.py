"""Training prompts: seeded paraphrases of each issue's symptom descriptions in four styles."""
from __future__ import annotations

from . import PROMPT_STYLES, device_module
from .dsl import Issue
from .textnoise import add_typos, rng_for, to_voice

PER_STYLE = {"formal": 4, "casual": 4, "voice": 3, "misspelt": 3}  # 14 prompts per training issue

FORMAL = [
    "{Say}{ctx}. {ask}",
    "Hello, {say}{ctx}. {ask}",
    "I would appreciate some help: {say}{ctx}. {ask}",
    "Good afternoon. {Say}{ctx}. Is there a recommended procedure to resolve this?",
    "{Say}{ctx}. What steps should I take to fix this?",
    "Could you advise me? {Say}{ctx}.",
    "I have a problem: {say}{ctx}. {ask}",
    "Dear support, {say}{ctx}. Please tell me how to correct it.",
]
FORMAL_ASK = [
    "How can I resolve this?", "What should I do?", "Could you explain how to fix it?",
    "What do you recommend?", "How do I correct this?", "Which settings should I check?",
]
SAFETY_ASK = ["Is it safe to keep using it?", "What should I do?", "Should I be worried?",
              "What do you recommend?", "Can I still charge it?"]
FORMAL_CTX = ["", "", " since this morning", " even after a restart", " since the last update",
              ", although it worked correctly last week", " and I have already tried switching it off and on"]

CASUAL = [
    "{say}{ctx}... any ideas?",
    "help!! {say}{ctx}",
    "so {say}{ctx}. how do i fix this",
    "anyone know why {say}?",
    "{Say}{ctx} lol. what am I missing?",
    "ugh, {say}{ctx}. fix?",
    "quick q: {say}{ctx}. what do I do",
    "{Say}. tried everything{ctx}, pls help",
    "hey, {say}{ctx} - any tips?",
    "ok this is annoying, {say}{ctx}",
]
CASUAL_CTX = ["", "", " again", " since yesterday", " out of nowhere", " after the update", " and I already restarted it"]

VOICE = [
    "hey {filler} {say} {ctx}what should i do",
    "okay so {say} {ctx}can you help me fix that",
    "{say} {ctx}how do i fix it",
    "hi there um so basically {say} {ctx}and yeah what do i do",
    "{filler} {say} {ctx}what's the fix for that",
    "can you help {say} {ctx}",
    "so {filler} {say} {ctx}is there something i can try",
]
VOICE_CTX = ["", "", "since this morning ", "again ", "even after i restarted it "]
VOICE_FILLERS = ["um", "uh", "so", "okay", "hmm", "like"]


SUBJECTLESS = {"can't", "cannot", "need", "have", "keep", "tried"}


def device_phrases(issue: Issue) -> list[str]:
    mod = device_module(issue.device_type)
    short = mod.FAMILIES[issue.family_alias][1]
    return [n.format(short=short) for n in mod.NOUNS]


def render_say(say: str, dev: str) -> str:
    """Fills ``{dev}``; a description written without a subject ("can't get {dev} to pair") gets "I"."""
    text = say.replace("{dev}", dev)
    if text.split(" ", 1)[0].lower() in SUBJECTLESS:
        text = "I " + text
    return text


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _one(issue: Issue, style: str, rng) -> str:
    dev = rng.choice(device_phrases(issue))
    say = render_say(rng.choice(issue.says), dev)
    if issue.safety:  # "even after a restart" makes no sense for a burn or a swollen battery
        ctx_f, ctx_c, ctx_v, asks = [""], [""], [""], SAFETY_ASK
    else:
        ctx_f, ctx_c, ctx_v, asks = FORMAL_CTX, CASUAL_CTX, VOICE_CTX, FORMAL_ASK
    if style == "formal":
        tpl = rng.choice(FORMAL)
        return tpl.format(Say=_cap(say), say=say, ctx=rng.choice(ctx_f), ask=rng.choice(asks))
    if style in ("casual", "misspelt"):
        tpl = rng.choice(CASUAL)
        text = tpl.format(Say=_cap(say), say=say, ctx=rng.choice(ctx_c))
        return add_typos(text, rng) if style == "misspelt" else text
    if style == "voice":
        tpl = rng.choice(VOICE)
        text = tpl.format(say=say, ctx=rng.choice(ctx_v), filler=rng.choice(VOICE_FILLERS))
        return to_voice(text, rng)
    raise ValueError(f"unknown prompt style {style!r}; expected one of {PROMPT_STYLES}")


def issue_prompts(issue: Issue, seed: int) -> list[dict]:
    rng = rng_for(seed, "prompts", issue.issue_id)
    seen: set[str] = set()
    out = []
    for style in PROMPT_STYLES:
        made, tries = 0, 0
        while made < PER_STYLE[style]:
            tries += 1
            if tries > 200:
                raise RuntimeError(f"{issue.issue_id}: could not make {PER_STYLE[style]} distinct "
                                   f"{style} prompts; add more 'S' descriptions in devices/{issue.device_type}.py")
            q = _one(issue, style, rng)
            key = q.lower()
            if key in seen:
                continue
            seen.add(key)
            made += 1
            out.append({"prompt_id": f"{issue.issue_id}.{style}.{made}", "issue_id": issue.issue_id,
                        "device_type": issue.device_type, "symptom": issue.symptom, "style": style, "question": q})
    return out


def build_prompts(issues: list[Issue], heldout: set[str], seed: int) -> list[dict]:
    return [p for issue in issues if issue.issue_id not in heldout for p in issue_prompts(issue, seed)]
