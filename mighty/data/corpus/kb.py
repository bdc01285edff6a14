"""Issue -> knowledge-base record (schema in docs/CONTRACTS.md, section data/)."""
from __future__ import annotations

from . import device_module
from .dsl import Issue


def _dedup(items: list[str]) -> list[str]:
    seen: set[str] = set()
    return [x for x in items if not (x.lower() in seen or seen.add(x.lower()))]


def family_name(issue: Issue) -> str:
    families = device_module(issue.device_type).FAMILIES
    if issue.family_alias not in families:
        raise KeyError(f"{issue.issue_id}: family alias {issue.family_alias!r} not in FAMILIES of "
                       f"devices/{issue.device_type}.py ({sorted(families)})")
    return families[issue.family_alias][0]


def family_short(issue: Issue) -> str:
    return device_module(issue.device_type).FAMILIES[issue.family_alias][1]


def kb_record(issue: Issue) -> dict:
    mod = device_module(issue.device_type)
    return {
        "issue_id": issue.issue_id,
        "device_type": issue.device_type,
        "model_family": family_name(issue),
        "symptom": issue.symptom,
        "title": issue.title,
        "causes": list(issue.causes),
        "steps": list(issue.steps),
        "required_keywords": [list(k) for k in issue.required_keywords],
        "escalation": list(issue.escalation or mod.ESCALATION),
        "safety": issue.safety,
        "unsafe_phrases": _dedup(list(mod.UNSAFE) + list(issue.unsafe)),
        "source_style": issue.source_style,
    }
