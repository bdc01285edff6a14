"""Loading corpus records (JSONL or a `datasets` dir) with per-kind schema validation.

Every problem is reported as `path:line: what is wrong (how to fix)`. With `on_error="skip"`
bad records are dropped but counted per error kind in the returned `LoadReport`.
"""
from __future__ import annotations

import dataclasses
import json
import logging
from collections import Counter
from pathlib import Path
from typing import Any, Iterable, Iterator

log = logging.getLogger(__name__)

STR, BOOL, INT = "str", "bool", "int"
LIST_STR, LIST_LIST_STR = "list[str]", "list[list[str]]"

# field -> (type, nullable, allowed values or None[, required=True]). Extra fields are allowed.
SCHEMAS: dict[str, dict[str, tuple]] = {
    "kb": {
        "issue_id": (STR, False, None),
        "device_type": (STR, False, None),
        "model_family": (STR, False, None),
        "symptom": (STR, False, None),
        "title": (STR, False, None),
        "causes": (LIST_STR, False, None),
        "steps": (LIST_STR, False, None),
        "required_keywords": (LIST_LIST_STR, False, None),
        "escalation": (LIST_STR, False, None),
        "safety": (BOOL, False, None),
        "unsafe_phrases": (LIST_STR, False, None),
        "source_style": (STR, False, ("manual", "guide", "faq", "forum")),
    },
    "prompt": {
        "prompt_id": (STR, False, None),
        "issue_id": (STR, False, None),
        "device_type": (STR, False, None),
        "symptom": (STR, False, None),
        "style": (STR, False, ("formal", "casual", "voice", "misspelt")),
        "question": (STR, False, None),
    },
    "eval": {
        "case_id": (STR, False, None),
        "bucket": (STR, False, ("in_scope", "boundary", "out_of_scope")),
        "question": (STR, False, None),
        "issue_id": (STR, True, None),
        "expected": (STR, False, ("answer", "clarify", "decline", "escalate")),
        "device_type": (STR, True, None),
    },
    "forum": {  # noisy forum Q&A (data/corpus/forum_raw.jsonl); issue/tags optional for user data
        "post_id": (STR, False, None),
        "question": (STR, False, None),
        "answer": (STR, False, None),
        "issue_id": (STR, True, None, False),
        "device_type": (STR, True, None, False),
        "symptom": (STR, True, None, False),
        "noise": (LIST_STR, False, None, False),
        "duplicate_of": (STR, True, None, False),
    },
}
ID_FIELD = {"kb": "issue_id", "prompt": "prompt_id", "eval": "case_id", "forum": "post_id"}


class DataError(ValueError):
    """A malformed corpus file or record; the message starts with `path:line:`."""


@dataclasses.dataclass
class LoadReport:
    path: str
    kind: str
    n_lines: int = 0
    n_loaded: int = 0
    errors: Counter = dataclasses.field(default_factory=Counter)  # error kind -> count
    messages: list[str] = dataclasses.field(default_factory=list)  # first few, for humans

    @property
    def n_skipped(self) -> int:
        return sum(self.errors.values())

    def as_dict(self) -> dict[str, Any]:
        return {"path": self.path, "kind": self.kind, "lines": self.n_lines,
                "loaded": self.n_loaded, "skipped": self.n_skipped,
                "errors": dict(self.errors), "examples": self.messages[:10]}


def _type_ok(value: Any, type_name: str) -> bool:
    if type_name == STR:
        return isinstance(value, str)
    if type_name == BOOL:
        return isinstance(value, bool)
    if type_name == INT:
        return isinstance(value, int) and not isinstance(value, bool)
    if type_name == LIST_STR:
        return isinstance(value, list) and all(isinstance(v, str) for v in value)
    if type_name == LIST_LIST_STR:
        return isinstance(value, list) and all(_type_ok(v, LIST_STR) for v in value)
    raise KeyError(type_name)


def validate_record(record: Any, kind: str) -> list[tuple[str, str]]:
    """Returns [(error_kind, message)]; empty when `record` matches `SCHEMAS[kind]`."""
    if kind not in SCHEMAS:
        raise KeyError(f"unknown record kind {kind!r} (one of {sorted(SCHEMAS)})")
    if not isinstance(record, dict):
        return [("not_an_object", f"expected a JSON object, got {type(record).__name__}")]
    problems = []
    for name, (type_name, nullable, allowed, *req) in SCHEMAS[kind].items():
        if name not in record and req and not req[0]:
            continue
        if name not in record:
            problems.append(("missing_field", f"missing field {name!r} (add it; {kind} records "
                                              f"need {', '.join(_required(kind))})"))
            continue
        value = record[name]
        if value is None and nullable:
            continue
        if not _type_ok(value, type_name):
            problems.append(("wrong_type", f"field {name!r} should be {type_name}"
                                           f"{' or null' if nullable else ''}, "
                                           f"got {type(value).__name__} {value!r:.40}"))
        elif allowed is not None and value not in allowed:
            problems.append(("bad_value", f"field {name!r} is {value!r}; allowed: {list(allowed)}"))
    if kind == "kb" and not problems and len(record["required_keywords"]) > len(record["steps"]):
        problems.append(("bad_value", "required_keywords has more groups than there are steps"))
    return problems


def _required(kind: str) -> list[str]:
    return [n for n, spec in SCHEMAS[kind].items() if len(spec) < 4 or spec[3]]


def _iter_jsonl(path: Path) -> Iterator[tuple[int, Any, str | None]]:
    """Yields (line_no, parsed_or_None, json_error_or_None), skipping blank lines."""
    with open(path, encoding="utf-8") as f:
        for line_no, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                yield line_no, json.loads(line), None
            except json.JSONDecodeError as e:
                # e.msg may itself end in "at" ("Unterminated string starting at"): column first
                yield line_no, None, f"bad JSON at column {e.colno}: {e.msg} (one object per line)"


def _iter_hf(path: Path) -> Iterator[tuple[int, Any, str | None]]:
    from datasets import load_from_disk  # slow import; only when needed

    ds = load_from_disk(str(path))
    if hasattr(ds, "keys"):  # DatasetDict: refuse to guess which split
        raise DataError(f"{path}:0: is a DatasetDict with splits {list(ds.keys())} "
                        f"(pass the split's directory, e.g. {path}/{next(iter(ds.keys()))})")
    for i, row in enumerate(ds, 1):
        yield i, dict(row), None


def iter_raw(path: str | Path) -> Iterator[tuple[int, Any, str | None]]:
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file (build the corpus with "
                                f"`python -m mighty.data.corpus.generate` or fix the path)")
    return _iter_hf(path) if path.is_dir() else _iter_jsonl(path)


def load_records(path: str | Path, kind: str, *, on_error: str = "raise",
                 unique_ids: bool = True) -> tuple[list[dict], LoadReport]:
    """Loads and validates `kind` records from a JSONL file or a `save_to_disk` directory."""
    if on_error not in ("raise", "skip"):
        raise ValueError(f"on_error must be 'raise' or 'skip', got {on_error!r}")
    report, records, seen = LoadReport(str(path), kind), [], set()
    for line_no, obj, json_err in iter_raw(path):
        report.n_lines += 1
        problems = [("bad_json", json_err)] if json_err else validate_record(obj, kind)
        if not problems and unique_ids:
            rid = obj[ID_FIELD[kind]]
            if rid in seen:
                problems = [("duplicate_id", f"duplicate {ID_FIELD[kind]} {rid!r} (ids must be unique)")]
            seen.add(rid)
        if problems:
            msg = f"{path}:{line_no}: " + "; ".join(m for _, m in problems)
            if on_error == "raise":
                raise DataError(msg)
            report.errors.update(k for k, _ in problems[:1])
            report.messages.append(msg)
            continue
        records.append(obj)
    report.n_loaded = len(records)
    if report.n_skipped:  # counted in data_report.json, and said where a person sees it
        log.warning("%s: skipped %d malformed %s record(s) (on_error=skip): %s", path, report.n_skipped,
                    kind, " | ".join(report.messages[:3]) + (" | ..." if report.n_skipped > 3 else ""))
    return records, report


def write_jsonl(path: str | Path, records: Iterable[dict]) -> int:
    """Writes records one per line (sorted keys, UTF-8) atomically; returns the count."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp, n = path.with_suffix(path.suffix + ".tmp"), 0
    with open(tmp, "w", encoding="utf-8") as f:
        for r in records:
            f.write(json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n")
            n += 1
    tmp.replace(path)
    return n
