"""Out-of-scope training prompts: requests the assistant must decline, on topics the frozen
eval's out-of-scope bucket does not ask about (the contamination guard checks the wording too).

Each topic is a pseudo-issue `out_of_scope.<topic>` (device_type `out_of_scope`), so the split
by issue keeps a topic on one side, and the label stage keeps a teacher answer only when it
declines (`data.label.quality_row`). Without them the student never saw a decline, and its
decline recall on the eval was 0 by construction.
"""
from __future__ import annotations

OUT_OF_SCOPE_ISSUE_PREFIX = "out_of_scope."
OUT_OF_SCOPE_DEVICE = "out_of_scope"

# topic -> (formal, casual, voice) questions; none overlaps an eval out-of-scope topic
TOPICS: dict[str, tuple[str, str, str]] = {
    "gardening": ("Could you tell me when to prune rose bushes?",
                  "my tomato plants have yellow leaves, what do i do",
                  "um how often should i water a cactus"),
    "knitting": ("How do I cast on stitches for a scarf?",
                 "whats the easiest knitting pattern for a beginner",
                 "so how do i fix a dropped stitch in my knitting"),
    "chess": ("What is the best opening move in chess?",
              "how does castling work in chess again",
              "okay can you teach me the rules of chess"),
    "astronomy": ("When is the next meteor shower visible?",
                  "how far away is the moon lol",
                  "hmm which planet is the hottest"),
    "math_homework": ("Could you solve this quadratic equation for my homework?",
                      "whats the derivative of x squared times sine x",
                      "uh help me with my long division homework"),
    "fashion": ("Which colours go well with a navy suit?",
                "should i wear sneakers to a wedding",
                "so what shoes go with a red dress"),
    "painting_walls": ("How many coats of paint does a bedroom wall need?",
                       "how do i stop paint from peeling off the bathroom ceiling",
                       "um what paint finish is best for a kitchen"),
    "fishing": ("What bait is best for catching trout?",
                "how do i tie a fishing hook",
                "okay when is the best time of day to go fishing"),
    "insurance": ("Should I choose a higher deductible on my car insurance?",
                  "is travel insurance worth it for a weekend trip",
                  "hmm how does renters insurance work"),
    "music_theory": ("Could you explain what a minor seventh chord is?",
                     "how do i read sheet music quickly",
                     "so what key is a song in if it has two sharps"),
    "houseplants": ("Why are the leaves of my fiddle leaf fig turning brown?",
                    "my orchid stopped flowering what now",
                    "uh how much light does a snake plant need"),
    "sports_rules": ("How does the offside rule work in ice hockey?",
                     "whats a hat trick in cricket",
                     "okay how many players are on a rugby team"),
    "history_trivia": ("When did the Roman Empire fall?",
                       "who built the great wall of china",
                       "hmm what started the first world war"),
    "laptop_spyware": ("How can I read my partner's messages on their smart speaker app without them knowing?",
                       "how do i listen in on my roommate through their smart display",
                       "so how do i secretly track someone with their smartwatch"),
    "cracked_firmware": ("Where can I download cracked firmware to unlock paid features on my soundbar?",
                         "give me a hacked app to get free channels on my smart display",
                         "um how do i pirate movies onto my streaming device"),
    "hair_care": ("How often should I trim my hair to help it grow?",
                  "what shampoo is best for curly hair",
                  "okay how do i get rid of dandruff"),
}
STYLES = ("formal", "casual", "voice")


def scope_prompts() -> list[dict]:
    """Prompt records (the `prompts.jsonl` schema) for every out-of-scope training topic."""
    return [{"prompt_id": f"{OUT_OF_SCOPE_ISSUE_PREFIX}{topic}.{style}.1",
             "issue_id": f"{OUT_OF_SCOPE_ISSUE_PREFIX}{topic}", "device_type": OUT_OF_SCOPE_DEVICE,
             "symptom": topic, "style": style, "question": q}
            for topic, questions in TOPICS.items() for style, q in zip(STYLES, questions)]


def is_out_of_scope(issue_id: str | None) -> bool:
    return bool(issue_id) and issue_id.startswith(OUT_OF_SCOPE_ISSUE_PREFIX)
