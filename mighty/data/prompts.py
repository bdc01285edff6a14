"""Chat prompts: one builder for every stage and the demo (label, KD, GRPO, eval, serve).

The product is retrieval-grounded: teacher and student answer from the same retrieved
knowledge-base entries, and only the LLM changes. `format_prompt(question, entries=[...])`
is that prompt; `format_prompt(question)` (no `entries`) is the closed-book ablation.
Which entries a question gets is decided by `data.grounding.Grounder`.
"""
from __future__ import annotations

from typing import Sequence

# The closed-book system prompt is short on purpose: every token of it is paid for in every KD,
# GRPO and eval forward pass (it was ~140 tokens, 60% of a typical prompt).
SYSTEM = (
    "You are Mighty, a troubleshooting assistant for headphones, earbuds, speakers and "
    "smart-home devices. Answer with short numbered steps, one action per step. If there is a "
    "safety risk (hot or swollen battery, burning smell, smoke, sparks, liquid inside), tell "
    "the user to stop using and unplug the device and contact support. If the question is not "
    "about a device problem, say politely that you can only help with device problems."
)

# The grounded prompt: a one-line system prompt and the reference in the user turn.
# SmolLM2-135M ignores a reference buried in a long system prompt (mean step coverage 0.10,
# 0 of 16 answers usable, greedy); next to the question it follows it (0.67, 13 of 16), and
# the prompt is half as long to prefill (session note, issue 4).
GROUNDED_SYSTEM = "You are a helpful troubleshooting assistant. Answer with short numbered steps."

# What the grounded prompt says when retrieval found no entry it trusts (out-of-scope or vague
# questions): the decline / clarify instruction travels only with the questions that need it.
# It carries no safety rule: with SYSTEM's rule added, the 135M teacher called 18 of 45
# out-of-scope questions "a safety issue" (1 before) and kept 28 declines instead of 35. A hazard
# that retrieval misses can be taught from labels instead (`GroundingConfig.teacher_gold_hazards`).
NO_MATCH = ("No troubleshooting article matches this question. If it is not about a problem "
            "with a headphone, speaker or smart-home device, tell me politely that you can only "
            "help with device problems. If it is, ask me which device I have and what happens.")


def kb_context(entry: dict) -> str:
    """A KB entry rendered as the reference block of the grounded user turn."""
    if entry.get("safety"):
        # The teacher copies this line into its safety labels, in the user's voice ("tell me to
        # stop ..."). Reworded as the answer should open ("stop using the device, unplug it and
        # contact support. Do not try to repair it."), 15 of 20 such labels were kept (17 of 22)
        # and the final student escalated 12 of 18 eval hazards instead of 14: it kept "do not
        # try to repair" and dropped "stop using" or "contact support" (one seed, README).
        lines = ["This is a safety issue: tell me to stop using the device, unplug it and "
                 "contact support, and do not suggest any repair. The safe steps, in order:"]
    else:
        lines = ["The fix, in order:"]
    lines += [f"{i}. {s}" for i, s in enumerate(entry["steps"], 1)]
    if entry.get("escalation"):
        lines.append("Contact support if: " + "; ".join(entry["escalation"]) + ".")
    # No closing "Explain these steps to me as a numbered list." line: the teacher copied it
    # into 21% of its answers as a last step, and a KD student into 55%. Without it, greedy
    # step coverage on 48 labelled prompts was 0.88 (0.93 with it), 46 of 48 kept, 0 copies.
    return "\n".join(lines)


def reference_block(entries: Sequence[dict]) -> str:
    """The retrieved entries as one block: a single entry as it is, several titled in rank order."""
    if not entries:
        return NO_MATCH
    if len(entries) == 1:
        return kb_context(entries[0])
    return "\n\n".join(f"Article {i} ({e.get('title', e['issue_id'])}):\n{kb_context(e)}"
                       for i, e in enumerate(entries, 1))


def format_prompt(question: str, *, entries: Sequence[dict] | None = None,
                  system: str | None = None) -> list[dict[str, str]]:
    """[system, user] messages. `entries=None`: closed-book (the question alone under SYSTEM);
    a list (possibly empty: nothing retrieved): grounded, the reference block after the question."""
    if not isinstance(question, str) or not question.strip():
        raise ValueError(f"format_prompt: question must be a non-empty string, got {question!r}")
    if entries is None:
        return [{"role": "system", "content": SYSTEM if system is None else system},
                {"role": "user", "content": question.strip()}]
    return [{"role": "system", "content": GROUNDED_SYSTEM if system is None else system},
            {"role": "user", "content": f"{question.strip()}\n\n{reference_block(entries)}"}]


def fingerprint() -> str:
    """A hash of every prompt shape the builder makes (closed-book, nothing matched, a fix, a
    safety entry, several entries): it changes whenever the prompt text does, so the pipeline's
    data stage (and so every stage that prompts a model) gets a new key and no stale label is reused."""
    import hashlib
    import json

    fix = {"issue_id": "a.fix", "title": "Fix", "steps": ["Do one thing.", "Do another."],
           "escalation": ["it still fails"], "safety": False}
    hazard = {**fix, "issue_id": "a.hazard", "title": "Hazard", "escalation": [], "safety": True}
    shapes = [format_prompt("q?"), format_prompt("q?", entries=[]), format_prompt("q?", entries=[fix]),
              format_prompt("q?", entries=[hazard]), format_prompt("q?", entries=[fix, hazard])]
    return hashlib.sha256(json.dumps(shapes, sort_keys=True).encode()).hexdigest()[:16]
