"""Parser for the compact issue notation the device modules are written in.

Each device module (``mighty/data/corpus/devices/<device_type>.py``) defines ``DEVICE``, ``NOUNS``,
``FAMILIES``, ``UNSAFE``, ``ESCALATION`` and an ``ISSUES`` string in this notation::

    == <symptom> <family-alias> <manual|guide|faq|forum> [safety]
    T <title>
    C <cause>; <cause>; ...
    S <how a user says it, with {dev} for the device>; ...
    1 <step text with {keyword|synonym|...} marking what a good answer must contain>
    2 ...
    E <escalation condition>; ...          (optional: defaults to the module's ESCALATION)
    U <unsafe phrase>; ...                 (optional: added to the module's UNSAFE)

Every step is required and carries one keyword group: the union of its ``{...}`` markers.
The first alternative of each marker is the text that appears in the rendered step.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

SOURCE_STYLES = ("manual", "guide", "faq", "forum")
_MARK = re.compile(r"\{([^{}]+)\}")
_SNAKE = re.compile(r"^[a-z][a-z0-9_]*$")


class CorpusSyntaxError(ValueError):
    """A device module's ISSUES text does not follow the notation above."""


@dataclass
class Issue:
    device_type: str
    symptom: str
    family_alias: str
    source_style: str
    safety: bool
    title: str = ""
    causes: list[str] = field(default_factory=list)
    says: list[str] = field(default_factory=list)
    steps: list[str] = field(default_factory=list)
    required_keywords: list[list[str]] = field(default_factory=list)
    escalation: list[str] = field(default_factory=list)
    unsafe: list[str] = field(default_factory=list)

    @property
    def issue_id(self) -> str:
        return f"{self.device_type}.{self.symptom}.{self.family_alias}"


def render_step(raw: str) -> tuple[str, list[str]]:
    """``"Hold the {case button|button} for 3 s"`` -> (``"Hold the case button for 3 s"``, [...])."""
    keywords: list[str] = []
    for group in _MARK.findall(raw):
        for alt in group.split("|"):
            alt = alt.strip().lower()
            if alt and alt not in keywords:
                keywords.append(alt)
    text = _MARK.sub(lambda m: m.group(1).split("|")[0].strip(), raw)
    return text, keywords


def _split(rest: str) -> list[str]:
    return [part.strip() for part in rest.split(";") if part.strip()]


def parse_issues(text: str, *, device_type: str, where: str) -> list[Issue]:
    issues: list[Issue] = []
    cur: Issue | None = None
    for lineno, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        loc = f"{where}: ISSUES line {lineno}"
        if line.startswith("=="):
            parts = line[2:].split()
            if len(parts) not in (3, 4) or (len(parts) == 4 and parts[3] != "safety"):
                raise CorpusSyntaxError(f"{loc}: header must be '== symptom alias style [safety]', got {line!r}")
            symptom, alias, style = parts[:3]
            if not _SNAKE.match(symptom):
                raise CorpusSyntaxError(f"{loc}: symptom {symptom!r} is not snake_case")
            if style not in SOURCE_STYLES:
                raise CorpusSyntaxError(f"{loc}: source style {style!r} not in {SOURCE_STYLES}")
            cur = Issue(device_type, symptom, alias, style, safety=len(parts) == 4)
            issues.append(cur)
            continue
        if cur is None:
            raise CorpusSyntaxError(f"{loc}: text before the first '==' header")
        key, _, rest = line.partition(" ")
        rest = rest.strip()
        if key.isdigit():
            if int(key) != len(cur.steps) + 1:
                raise CorpusSyntaxError(f"{loc}: step {key} out of order in {cur.issue_id}")
            step, keywords = render_step(rest)
            if not keywords:
                raise CorpusSyntaxError(f"{loc}: step {key} of {cur.issue_id} marks no {{keyword}}")
            cur.steps.append(step)
            cur.required_keywords.append(keywords)
        elif key == "T":
            cur.title = rest
        elif key == "C":
            cur.causes = _split(rest)
        elif key == "S":
            cur.says = _split(rest)
        elif key == "E":
            cur.escalation = _split(rest)
        elif key == "U":
            cur.unsafe = _split(rest)
        else:
            raise CorpusSyntaxError(f"{loc}: unknown line key {key!r} (expected T C S E U, a step number or '==')")
    for issue in issues:
        missing = [n for n, v in (("T", issue.title), ("C", issue.causes), ("S", issue.says)) if not v]
        if missing:
            raise CorpusSyntaxError(f"{where}: {issue.issue_id} lacks {missing}")
        if not 3 <= len(issue.steps) <= 7:
            raise CorpusSyntaxError(f"{where}: {issue.issue_id} has {len(issue.steps)} steps, need 3-7")
    return issues
