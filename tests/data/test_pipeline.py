import json
import subprocess
import sys
from pathlib import Path

import pytest

from mighty.data.config import DataConfig, DedupConfig, SplitConfig
from mighty.data.pipeline import build, write_outputs
from mighty.data.paths import EVAL_PATH

REPO = Path(__file__).resolve().parents[2]


def _cfg(corpus, **kw):
    return DataConfig(corpus_dir=str(corpus), dedup=DedupConfig(threshold=0.6, ngram=2),
                      split=SplitConfig(val_frac=0.25), **kw)


def test_build_on_planted_corpus(tiny_corpus, tmp_path):
    res = build(_cfg(tiny_corpus))
    rep = res.report
    # p11 exact dup of p1 (case/punctuation), p12 near dup of p5
    assert rep["dedup"]["prompts"]["exact_dups"] == 1 and rep["dedup"]["prompts"]["near_dups"] == 1
    assert rep["dedup"]["clusters"]["prompts"] == {"p1": ["p11"], "p5": ["p12"]}
    # f4 is a near dup of f1 once URL, signature and "Reposting:" noise are gone
    assert rep["dedup"]["clusters"]["forum"] == {"f1": ["f4"]}
    assert rep["dedup"]["forum"]["vs_planted"]["recall"] == 1.0
    forum = {p["post_id"]: p for p in res.forum}
    assert forum["f2"]["question"] == "The earbuds' case doesn't charge anymore."
    assert forum["f3"]["question"] == "Bulb won't join the wifi." and forum["f3"]["split"] == "no_issue"
    assert "f5" not in forum and res.report["forum_split"]["eval_dropped"] == 1  # f5: held-out issue
    train_issues = {p["issue_id"] for p in res.train}
    val_issues = {p["issue_id"] for p in res.val}
    eval_issues = {"headphones.anc", "bulb.wifi", "speaker.no_sound"}  # held out + named by eval
    assert not (train_issues & val_issues) and not ((train_issues | val_issues) & eval_issues)
    assert {p["issue_id"] for p in res.heldout} == eval_issues
    # every input prompt is accounted for
    n = rep["load"]["prompts"]["loaded"]
    d = rep["dedup"]["prompts"]
    c = rep["contamination"]
    assert n == d["exact_dups"] + d["near_dups"] + len(res.heldout) + len(res.train) + len(res.val) \
        + c["train"]["dropped"] + c["val"]["dropped"]
    hashes = write_outputs(res, tmp_path / "out")
    again = write_outputs(build(_cfg(tiny_corpus)), tmp_path / "out2")
    assert hashes == again  # deterministic
    assert json.loads((tmp_path / "out" / "data_report.json").read_text())["final"] == rep["final"]


def test_contamination_guard_in_pipeline(tiny_corpus):
    # a training prompt that copies an eval question is dropped, and the drop is reported
    rows = [json.loads(line) for line in (tiny_corpus / "prompts.jsonl").read_text().splitlines()]
    rows.append({**rows[0], "prompt_id": "leak", "question": "Why does my smart bulb fail to connect to wifi!",
                 "issue_id": "earbuds.charging"})
    (tiny_corpus / "prompts.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    res = build(_cfg(tiny_corpus))
    dropped = res.report["contamination"]["train"]["examples"] + res.report["contamination"]["val"]["examples"]
    assert [d["id"] for d in dropped] == ["leak"] and dropped[0]["eval_id"] == "e1"


def test_bad_records_skip_or_raise(tiny_corpus):
    with open(tiny_corpus / "prompts.jsonl", "a") as f:
        f.write('{"prompt_id": "x"}\n')
    with pytest.raises(ValueError, match=r"prompts\.jsonl:13: missing field"):
        build(_cfg(tiny_corpus))
    res = build(_cfg(tiny_corpus, on_error="skip"))
    assert res.report["load"]["prompts"]["errors"] == {"missing_field": 1}


def test_hydra_entry_point(tiny_corpus, tmp_path):
    out = tmp_path / "built"
    proc = subprocess.run([sys.executable, "-m", "mighty.data.build", f"data.corpus_dir={tiny_corpus}",
                           f"data.out_dir={out}", "data.dedup.ngram=2", f"hydra.run.dir={tmp_path / 'h'}"],
                          cwd=REPO, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert {p.name for p in out.iterdir()} >= {"train.jsonl", "val.jsonl", "eval.jsonl",
                                               "data_report.json", "manifest.json"}
    bad = subprocess.run([sys.executable, "-m", "mighty.data.build", "data.dedup.treshold=0.5",
                          f"hydra.run.dir={tmp_path / 'h2'}"], cwd=REPO, capture_output=True, text=True)
    assert bad.returncode != 0 and "treshold" in bad.stderr


@pytest.mark.slow
@pytest.mark.skipif(not EVAL_PATH.exists(), reason="bundled corpus not generated")
def test_real_corpus_counts():
    res = build(DataConfig())
    rep = res.report
    print(json.dumps({k: rep[k] for k in ("split", "final")}), json.dumps(rep["dedup"]["forum"]["vs_planted"]))
    assert rep["dedup"]["forum"]["vs_planted"]["recall"] >= 0.9
    assert rep["dedup"]["forum"]["vs_planted"]["precision"] >= 0.95
    kinds = rep["clean"]["forum"]["noise_recovery"]["kinds"]
    for kind in ("url", "signature", "mojibake", "unicode_whitespace", "quoted_text"):
        assert kinds[kind]["removed"] == kinds[kind]["planted"], kind
    assert kinds["off_topic"]["removed"] >= 0.9 * kinds["off_topic"]["planted"]
    assert rep["clean"]["forum"]["noise_recovery"]["clean_word_retention"] >= 0.98
    assert rep["tagging"]["prompts"]["device_type"]["accuracy"] >= 0.85
    assert rep["split"]["train"] > 2000 and rep["contamination"]["train"]["embedding"] == "tfidf"
