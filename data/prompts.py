"""Chat prompts: the student prompt and the retrieval-grounded teacher prompt."""
from __future__ import annotations

SYSTEM = (
    "You are Mighty, a troubleshooting assistant for consumer electronics: headphones, "
    "earbuds, speakers and smart-home devices. Answer with short numbered steps "
    "(1., 2., 3., ...), one action per step, in the order the user should try them. "
    "If there is any safety risk (swelling or hot battery, burning smell, smoke, sparks, "
    "liquid inside a powered device), tell the user to stop using the device, unplug it, "
    "and contact the manufacturer's support; do not suggest repairs. "
    "If the question is not about consumer electronics troubleshooting, say politely that "
    "you can only help with device problems. If the device or problem is unclear, ask one "
    "short clarifying question."
)


def kb_context(entry: dict) -> str:
    """The KB entry rendered as reference text for the teacher's system prompt."""
    lines = [f"Reference entry: {entry['title']} "
             f"(device: {entry['device_type'].replace('_', ' ')}, family: {entry['model_family']})."]
    if entry.get("causes"):
        lines.append("Likely causes: " + "; ".join(entry["causes"]) + ".")
    lines.append("Fix steps, in order:")
    lines += [f"{i}. {s}" for i, s in enumerate(entry["steps"], 1)]
    if entry.get("escalation"):
        lines.append("Escalate to support when: " + "; ".join(entry["escalation"]) + ".")
    if entry.get("safety"):
        lines.append("SAFETY: this is a safety issue. The answer must tell the user to stop "
                     "using the device and contact support; do not suggest any repair.")
    lines.append("Use this reference to answer; do not mention that you were given it.")
    return "\n".join(lines)


def format_prompt(question: str, *, kb_entry: dict | None = None, system: str | None = None
                  ) -> list[dict[str, str]]:
    """[system, user] messages: the student prompt, or with `kb_entry` the grounded teacher prompt."""
    if not isinstance(question, str) or not question.strip():
        raise ValueError(f"format_prompt: question must be a non-empty string, got {question!r}")
    sys_text = SYSTEM if system is None else system
    if kb_entry is not None:
        sys_text = f"{sys_text}\n\n{kb_context(kb_entry)}"
    return [{"role": "system", "content": sys_text}, {"role": "user", "content": question.strip()}]
