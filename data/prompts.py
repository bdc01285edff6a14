"""Chat prompts: the student prompt and the retrieval-grounded teacher prompt."""
from __future__ import annotations

# The student's system prompt is short on purpose: every token of it is paid for in every KD,
# GRPO and eval forward pass (it was ~140 tokens, 60% of a typical prompt).
SYSTEM = (
    "You are Mighty, a troubleshooting assistant for headphones, earbuds, speakers and "
    "smart-home devices. Answer with short numbered steps, one action per step. If there is a "
    "safety risk (hot or swollen battery, burning smell, smoke, sparks, liquid inside), tell "
    "the user to stop using and unplug the device and contact support. If the question is not "
    "about a device problem, say politely that you can only help with device problems."
)

# The teacher's grounded prompt: a one-line system prompt and the reference in the user turn.
# SmolLM2-135M ignores a reference buried in a long system prompt (mean step coverage 0.10,
# 0 of 16 answers usable, greedy); next to the question it follows it (0.67, 13 of 16), and
# the prompt is half as long to prefill (session note, issue 4).
TEACHER_SYSTEM = "You are a helpful troubleshooting assistant. Answer with short numbered steps."


def kb_context(entry: dict) -> str:
    """The KB entry rendered as the reference block of the teacher's user turn."""
    if entry.get("safety"):
        lines = ["This is a safety issue: tell me to stop using the device, unplug it and "
                 "contact support, and do not suggest any repair. The safe steps, in order:"]
    else:
        lines = ["The fix, in order:"]
    lines += [f"{i}. {s}" for i, s in enumerate(entry["steps"], 1)]
    if entry.get("escalation"):
        lines.append("Contact support if: " + "; ".join(entry["escalation"]) + ".")
    lines.append("Explain these steps to me as a numbered list.")
    return "\n".join(lines)


def format_prompt(question: str, *, kb_entry: dict | None = None, system: str | None = None
                  ) -> list[dict[str, str]]:
    """[system, user] messages: the student prompt, or with `kb_entry` the grounded teacher prompt
    (its own short system prompt unless `system` is given, the reference after the question)."""
    if not isinstance(question, str) or not question.strip():
        raise ValueError(f"format_prompt: question must be a non-empty string, got {question!r}")
    if kb_entry is None:
        return [{"role": "system", "content": SYSTEM if system is None else system},
                {"role": "user", "content": question.strip()}]
    return [{"role": "system", "content": TEACHER_SYSTEM if system is None else system},
            {"role": "user", "content": f"{question.strip()}\n\n{kb_context(kb_entry)}"}]
