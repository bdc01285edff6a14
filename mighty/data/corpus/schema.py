"""Record checks for the corpus files (field sets and types from docs/CONTRACTS.md, section data/)."""
from __future__ import annotations

import re

from . import EVAL_BUCKETS, EVAL_EXPECTED, EVAL_FIELDS, KB_FIELDS, PROMPT_FIELDS, PROMPT_STYLES
from .dsl import SOURCE_STYLES

_SNAKE = re.compile(r"^[a-z][a-z0-9_]*$")


class SchemaError(ValueError):
    pass


def _need(cond: bool, where: str, msg: str) -> None:
    if not cond:
        raise SchemaError(f"{where}: {msg}")


def _str_list(x) -> bool:
    return isinstance(x, list) and all(isinstance(s, str) and s.strip() for s in x)


def check_kb(rec: dict) -> None:
    w = f"kb record {rec.get('issue_id')!r}"
    _need(tuple(rec) == KB_FIELDS, w, f"fields {tuple(rec)} != {KB_FIELDS}")
    for f in ("issue_id", "device_type", "model_family", "symptom", "title", "source_style"):
        _need(isinstance(rec[f], str) and rec[f].strip(), w, f"{f} must be a non-empty str")
    _need(bool(_SNAKE.match(rec["device_type"])) and bool(_SNAKE.match(rec["symptom"])), w,
          "device_type and symptom must be snake_case")
    for f in ("causes", "steps", "escalation", "unsafe_phrases"):
        _need(_str_list(rec[f]) and rec[f], w, f"{f} must be a non-empty list of str")
    _need(3 <= len(rec["steps"]) <= 7, w, f"{len(rec['steps'])} steps, need 3-7")
    kws = rec["required_keywords"]
    _need(isinstance(kws, list) and all(_str_list(k) and k for k in kws), w,
          "required_keywords must be a list of non-empty lists of str")
    _need(len(kws) == len(rec["steps"]), w, "one required_keywords group per step")
    _need(isinstance(rec["safety"], bool), w, "safety must be a bool")
    _need(rec["source_style"] in SOURCE_STYLES, w, f"source_style not in {SOURCE_STYLES}")


def check_prompt(rec: dict) -> None:
    w = f"prompt {rec.get('prompt_id')!r}"
    _need(tuple(rec) == PROMPT_FIELDS, w, f"fields {tuple(rec)} != {PROMPT_FIELDS}")
    _need(all(isinstance(rec[f], str) and rec[f].strip() for f in PROMPT_FIELDS), w, "all fields are non-empty str")
    _need(rec["style"] in PROMPT_STYLES, w, f"style not in {PROMPT_STYLES}")


def check_eval(rec: dict) -> None:
    w = f"eval case {rec.get('case_id')!r}"
    _need(tuple(rec) == EVAL_FIELDS, w, f"fields {tuple(rec)} != {EVAL_FIELDS}")
    _need(rec["bucket"] in EVAL_BUCKETS and rec["expected"] in EVAL_EXPECTED, w, "bad bucket or expected")
    _need(isinstance(rec["question"], str) and rec["question"].strip(), w, "question must be non-empty str")
    _need(rec["issue_id"] is None or isinstance(rec["issue_id"], str), w, "issue_id must be str or null")
    _need(rec["device_type"] is None or isinstance(rec["device_type"], str), w, "device_type must be str or null")
    if rec["bucket"] == "out_of_scope":
        _need(rec["issue_id"] is None and rec["expected"] == "decline", w, "out_of_scope cases have no issue and expect decline")
    if rec["bucket"] == "in_scope":
        _need(rec["issue_id"] is not None and rec["expected"] == "answer", w, "in_scope cases name an issue and expect answer")
    if rec["expected"] == "escalate":
        _need(rec["issue_id"] is not None, w, "escalate cases name the safety issue")
