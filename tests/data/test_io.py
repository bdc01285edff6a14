import json

import pytest

from mighty.data.io import DataError, load_records, validate_record, write_jsonl

GOOD = {"prompt_id": "p1", "issue_id": "i1", "device_type": "earbuds", "symptom": "no_sound",
        "style": "formal", "question": "No sound?"}


def _write_lines(path, lines):
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_malformed_lines_name_file_and_line(tmp_path):
    bad_type = dict(GOOD, prompt_id="p2", question=5)
    path = _write_lines(tmp_path / "prompts.jsonl", [json.dumps(GOOD), "", json.dumps(bad_type)])
    with pytest.raises(DataError, match=r"prompts\.jsonl:3: field 'question' should be str"):
        load_records(path, "prompt")


def test_bad_json_reports_line(tmp_path):
    path = _write_lines(tmp_path / "p.jsonl", [json.dumps(GOOD), '{"prompt_id": "p2",'])
    with pytest.raises(DataError, match=r"p\.jsonl:2: bad JSON"):
        load_records(path, "prompt")


def test_skip_counts_every_error_kind(tmp_path):
    missing = {k: v for k, v in GOOD.items() if k != "style"} | {"prompt_id": "p3"}
    lines = [json.dumps(GOOD), "not json", json.dumps(missing), json.dumps(dict(GOOD, style="shouty",
             prompt_id="p4")), json.dumps(GOOD), json.dumps(dict(GOOD, prompt_id="p5"))]
    recs, rep = load_records(_write_lines(tmp_path / "p.jsonl", lines), "prompt", on_error="skip")
    assert [r["prompt_id"] for r in recs] == ["p1", "p5"]
    assert dict(rep.errors) == {"bad_json": 1, "missing_field": 1, "bad_value": 1, "duplicate_id": 1}
    assert rep.n_lines == 6 and rep.n_skipped == 4
    assert any(":3: missing field 'style'" in m for m in rep.messages)


def test_nullable_and_nested_types():
    case = {"case_id": "e", "bucket": "out_of_scope", "question": "q", "issue_id": None,
            "expected": "decline", "device_type": None}
    assert validate_record(case, "eval") == []
    assert validate_record(dict(case, bucket="nope"), "eval")[0][0] == "bad_value"


def test_kb_required_keywords_type(tiny_corpus):
    recs, _ = load_records(tiny_corpus / "kb.jsonl", "kb")
    bad = dict(recs[0], required_keywords=["not", "nested"])
    assert validate_record(bad, "kb")[0][0] == "wrong_type"


def test_load_from_disk_dataset(tmp_path):
    from datasets import Dataset

    Dataset.from_list([GOOD, dict(GOOD, prompt_id="p2")]).save_to_disk(str(tmp_path / "ds"))
    recs, rep = load_records(tmp_path / "ds", "prompt")
    assert [r["prompt_id"] for r in recs] == ["p1", "p2"] and rep.n_loaded == 2


def test_write_jsonl_roundtrip(tmp_path):
    n = write_jsonl(tmp_path / "out.jsonl", [GOOD, dict(GOOD, prompt_id="p2", question="é ✓")])
    recs, _ = load_records(tmp_path / "out.jsonl", "prompt")
    assert n == 2 and recs[1]["question"] == "é ✓"


def test_missing_file_says_how_to_fix(tmp_path):
    with pytest.raises(FileNotFoundError, match="mighty.data.corpus.generate"):
        load_records(tmp_path / "nope.jsonl", "kb")


def test_a_skipped_line_is_said_on_the_console_and_the_json_error_reads_well(tmp_path, caplog):
    import logging

    from mighty.data.io import load_records

    f = tmp_path / "p.jsonl"
    f.write_text('{"prompt_id": "a\n')  # unterminated string
    with caplog.at_level(logging.WARNING):
        recs, rep = load_records(f, "prompt", on_error="skip")
    assert recs == [] and rep.n_skipped == 1
    msg = rep.messages[0]
    assert "at at" not in msg and "bad JSON at column" in msg and f"{f}:1:" in msg
    warned = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("skipped 1 malformed prompt record(s)" in w and f"{f}:1:" in w for w in warned)
