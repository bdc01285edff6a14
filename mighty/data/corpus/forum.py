"""Forum-style Q&A with planted noise, so cleaning and dedup can be tested against known truth.

Each post records ``noise`` (the kinds planted), ``planted`` (the exact strings inserted, where a
kind inserts text), ``duplicate_of`` (the post it copies, for exact/near duplicates and quoting
replies) and ``clean_question`` / ``clean_answer`` (the text before noise was added).
"""
from __future__ import annotations

from .dsl import Issue
from .prompts import device_phrases, render_say
from .textnoise import add_typos, mojibake, odd_whitespace, rng_for

NOISE_KINDS = ("typos", "signature", "url", "off_topic", "mojibake", "unicode_whitespace",
               "exact_duplicate", "near_duplicate", "quoted_text")

APPLY_ORDER = ("typos", "mojibake", "unicode_whitespace", "signature", "url", "off_topic")

OPENERS = ["Hi all,", "Hey everyone.", "Long time lurker, first post.", "Hoping someone can help.",
           "Morning folks,", "Not sure if this is the right board but", ""]
CLOSERS = ["Any ideas?", "Thanks in advance!", "What am I doing wrong?", "Is it broken?",
           "Has anyone fixed this?", "Driving me mad."]
ANSWER_OPENERS = ["Had the exact same thing. What fixed it for me:", "Try this, in this order:",
                  "This is a common one. Steps:", "Support walked me through this last month:",
                  "Same here until I did the following:"]
ANSWER_CLOSERS = ["Good luck!", "Worked for me, hope it does for you.", "Let us know how it goes.", ""]
SIGNATURES = ["-- sent from my phone", "Cheers, Dave | My rig: 5800X, 32 GB, two monitors and too many cables",
              "Sent from my tablet", "-- \nMarta | home lab tinkerer since 2009",
              "Regards, K. | \"It worked yesterday\"", "/ Tom (forum moderator, volunteer)"]
URLS = ["https://forum.example.net/t/same-problem/48213", "http://imgur.example.com/a/Xk29fQ",
        "https://www.example.org/support/kb?id=7731&lang=en", "www.example.com/deals/black-friday",
        "https://pastebin.example.com/raw/9fj2Ka"]
OFF_TOPIC = ["Also, does anyone know a good pizza place near the station? lol",
             "Unrelated but the new season of that baking show is great.",
             "btw my cat just knocked my coffee over while typing this.",
             "Off topic: anyone selling a used bike in the area?",
             "PS: happy Friday everyone!"]


def _question(issue: Issue, rng) -> str:
    say = render_say(rng.choice(issue.says), rng.choice(device_phrases(issue)))
    parts = [rng.choice(OPENERS), say[:1].upper() + say[1:] + ".", rng.choice(CLOSERS)]
    return " ".join(p for p in parts if p)


def _answer(issue: Issue, rng) -> str:
    keep = len(issue.steps) if rng.random() < 0.7 else max(3, len(issue.steps) - 1)
    lines = [rng.choice(ANSWER_OPENERS)] + [f"{i}. {s}" for i, s in enumerate(issue.steps[:keep], 1)]
    closer = rng.choice(ANSWER_CLOSERS)
    return "\n".join(lines + ([closer] if closer else []))


def _apply(post: dict, kind: str, rng) -> None:
    field = rng.choice(("question", "answer"))
    planted = post["planted"]
    if kind == "typos":
        post["question"] = add_typos(post["question"], rng, rate=0.1)
    elif kind == "signature":
        sig = rng.choice(SIGNATURES)
        post[field] += "\n\n" + sig
        planted["signature"] = [sig]
    elif kind == "url":
        url = rng.choice(URLS)
        post[field] += rng.choice([" (see {} )", " Pics here: {}", "\nMore at {}"]).format(url)
        planted["url"] = [url]
    elif kind == "off_topic":
        line = rng.choice(OFF_TOPIC)
        post[field] += " " + line
        planted["off_topic"] = [line]
    elif kind == "mojibake":
        for f in ("question", "answer"):
            post[f] = mojibake(post[f])
        found = sorted({m for m in ("â€™", "â€“", "â€¦") if m in post["question"] + post["answer"]})
        if not found:  # no apostrophe to mangle: add a mangled word so the noise is really there
            post["answer"] += " Merci, cafÃ© regular here."
            found = ["Ã©"]
        planted["mojibake"] = found
    elif kind == "unicode_whitespace":
        post[field], used = odd_whitespace(post[field], rng)
        planted["unicode_whitespace"] = [f"U+{ord(c):04X}" for c in used]
    else:
        raise ValueError(kind)
    post["noise"].append(kind)


def _base_post(issue: Issue, rng, post_id: str) -> dict:
    q, a = _question(issue, rng), _answer(issue, rng)
    post = {"post_id": post_id, "issue_id": issue.issue_id, "device_type": issue.device_type,
            "symptom": issue.symptom, "question": q, "answer": a, "noise": [], "planted": {},
            "duplicate_of": None, "clean_question": q, "clean_answer": a}
    if rng.random() < 0.75:
        kinds = rng.sample(NOISE_KINDS[:6], rng.choice((1, 1, 2, 3)))
        # Order matters: typos and mojibake rewrite whole fields, odd whitespace replaces spaces,
        # and appended strings (signature, url, chatter) must survive verbatim for the tests.
        for kind in sorted(kinds, key=APPLY_ORDER.index):
            _apply(post, kind, rng)
    return post


def _copy(src: dict, post_id: str, rng) -> dict:
    kind = rng.choice(("exact_duplicate", "near_duplicate", "near_duplicate", "quoted_text"))
    post = {**src, "post_id": post_id, "noise": list(src["noise"]), "planted": dict(src["planted"]),
            "duplicate_of": src["post_id"]}
    if kind == "near_duplicate":
        q = src["question"]
        variants = [q.upper(), q.lower(), q.rstrip(".?! ") + "!!!", "Reposting: " + q,
                    q.replace(". ", ", ").replace("?", " ??")]
        post["question"] = rng.choice([v for v in variants if v != q])
        text = post["question"] + "\n" + post["answer"]
        post["planted"] = {k: [next((c for c in (v, v.upper(), v.lower()) if c in text), v) for v in vs]
                           for k, vs in post["planted"].items()}
    elif kind == "quoted_text":
        quoted = "\n".join("> " + line for line in src["question"].splitlines())
        post["question"] = quoted + "\n\n" + rng.choice(["+1, same problem here.", "Bump. Exactly this.",
                                                          "Same issue on mine, any update?"])
        post["planted"]["quoted_text"] = [quoted]
    post["noise"].append(kind)
    return post


def build_forum(issues: list[Issue], heldout: set[str], seed: int) -> list[dict]:
    rng = rng_for(seed, "forum")
    posts: list[dict] = []
    for issue in issues:
        if issue.issue_id in heldout:
            continue
        for _ in range(2 if rng.random() < 0.3 else 1):
            posts.append(_base_post(issue, rng_for(seed, "forum", issue.issue_id, len(posts)), f"fp-{len(posts) + 1:05d}"))
    originals = list(posts)
    for src in rng.sample(originals, k=len(originals) // 4):
        posts.append(_copy(src, f"fp-{len(posts) + 1:05d}", rng))
    order = sorted(range(len(posts)), key=lambda i: rng_for(seed, "forum-order", i).random())
    return [posts[i] for i in order]
