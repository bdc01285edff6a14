"""The bundled troubleshooting corpus: knowledge base, training prompts, forum Q&A, frozen eval set.

All troubleshooting text is original, written for this project; ``python -m mighty.data.corpus.generate``
turns the device modules in ``devices/`` into the JSONL files next to this file. The generic
English retention corpus is not ours and is read from an installed package (``generic.py``).
"""
from __future__ import annotations

import importlib
import json
from pathlib import Path
from types import ModuleType
from typing import Iterable, Iterator

from .dsl import Issue, parse_issues

from ..paths import (CORPUS_DIR, EVAL_DIR, EVAL_MANIFEST_PATH, EVAL_PATH, FORUM_PATH,  # noqa: F401
                     GENERAL_QA_PATH, HELDOUT_PATH, KB_PATH, PROMPTS_PATH)

DEVICE_TYPES = (
    "over_ear_headphones", "true_wireless_earbuds", "wired_headset", "bluetooth_speaker", "soundbar",
    "smart_speaker", "smart_display", "wifi_router", "smart_plug", "smart_bulb", "smart_thermostat",
    "video_doorbell", "streaming_stick", "smartwatch",
)

KB_FIELDS = ("issue_id", "device_type", "model_family", "symptom", "title", "causes", "steps",
             "required_keywords", "escalation", "safety", "unsafe_phrases", "source_style")
PROMPT_FIELDS = ("prompt_id", "issue_id", "device_type", "symptom", "style", "question")
EVAL_FIELDS = ("case_id", "bucket", "question", "issue_id", "expected", "device_type")
PROMPT_STYLES = ("formal", "casual", "voice", "misspelt")
EVAL_BUCKETS = ("in_scope", "boundary", "out_of_scope")
EVAL_EXPECTED = ("answer", "clarify", "decline", "escalate")


def device_module(device_type: str) -> ModuleType:
    return importlib.import_module(f"{__name__}.devices.{device_type}")


def load_issues() -> list[Issue]:
    """Every issue from every device module, in DEVICE_TYPES order then file order."""
    issues: list[Issue] = []
    for device_type in DEVICE_TYPES:
        mod = device_module(device_type)
        if mod.DEVICE != device_type:
            raise ValueError(f"{mod.__file__}: DEVICE is {mod.DEVICE!r}, expected {device_type!r}")
        issues.extend(parse_issues(mod.ISSUES, device_type=device_type, where=mod.__file__))
    return issues


def read_jsonl(path: str | Path) -> list[dict]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def iter_jsonl_lines(records: Iterable[dict]) -> Iterator[str]:
    for rec in records:
        yield json.dumps(rec, ensure_ascii=False, sort_keys=False) + "\n"


def write_jsonl(path: str | Path, records: Iterable[dict]) -> int:
    n = 0
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        for line in iter_jsonl_lines(records):
            f.write(line)
            n += 1
    return n
