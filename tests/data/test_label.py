"""Teacher labeling: resumable byte-identical cache, quality filter, round trip."""
import dataclasses
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from mighty.data.label import LabelConfig, load_inputs, load_teacher, run
from mighty.data.logprob_cache import CacheError, LogprobCache, write_shard
from mighty.data.quality import covered_steps, step_coverage

REPO = Path(__file__).resolve().parents[2]


def cache_bytes(d: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(d.iterdir()) if p.name != "run_info.json"}


def _cfg(corpus: Path, teacher: Path, out: Path, **kw) -> LabelConfig:
    base = dict(teacher=str(teacher), dtype="float32", prompts=str(corpus / "prompts.jsonl"),
                kb=str(corpus / "kb.jsonl"), out_dir=str(out), batch_size=2, shard_rows=4,
                max_new_tokens=6, topk_logprobs=5, temperature=1.0, top_p=1.0, limit=11,
                min_coverage=0.0, progress=False)
    return LabelConfig(**{**base, **kw})


@pytest.mark.slow
def test_stop_and_resume_is_byte_identical(tiny_corpus, tiny_teacher_dir, tmp_path):
    cfg = _cfg(tiny_corpus, tiny_teacher_dir, tmp_path / "full")
    prompts, kb, inputs = load_inputs(cfg)
    model, tok = load_teacher(cfg)
    full = run(cfg, model, tok, prompts, kb, inputs)
    assert full["rows"] == 11 and [s["rows"] for s in full["shards"]] == [4, 4, 3]

    part = dataclasses.replace(cfg, out_dir=str(tmp_path / "part"), stop_after_shards=1)
    assert run(part, model, tok, prompts, kb, inputs) is None
    assert sorted(p.name for p in (tmp_path / "part").iterdir()) == ["shard_00000.jsonl",
                                                                    "shard_00000.safetensors"]
    resumed = run(dataclasses.replace(part, stop_after_shards=None), model, tok, prompts, kb, inputs)
    assert resumed == full
    assert cache_bytes(tmp_path / "part") == cache_bytes(tmp_path / "full")

    # a different seed gives a different cache (the comparison above can fail)
    other = run(dataclasses.replace(cfg, out_dir=str(tmp_path / "seed1"), seed=1), model, tok,
                prompts, kb, inputs)
    assert other["shards"][0]["safetensors_sha256"] != full["shards"][0]["safetensors_sha256"]

    # resuming into a cache written under another config is refused
    with pytest.raises(CacheError, match="config hash"):
        run(dataclasses.replace(cfg, temperature=0.5), model, tok, prompts, kb, inputs)


def test_cache_round_trips_generate_output(tiny_corpus, tiny_teacher_dir, tmp_path):
    cfg = _cfg(tiny_corpus, tiny_teacher_dir, tmp_path / "c", limit=3, shard_rows=2)  # shards 2+1
    prompts, kb, inputs = load_inputs(cfg)
    model, tok = load_teacher(cfg)
    run(cfg, model, tok, prompts, kb, inputs)
    cache = LogprobCache(tmp_path / "c")
    rows = list(cache.iter_rows())
    assert len(cache) == 3 and [r["prompt_id"] for r in rows] == [p["prompt_id"] for p in prompts]
    arr = cache.arrays()
    assert arr["topk_ids"].shape == (3, 6, 5) and arr["tokens"].dtype == np.int32
    # the sampled token's logprob is never above the top-1 logprob, top-K sorted descending
    m = arr["mask"].astype(bool)
    assert np.all(arr["logprobs"][m] <= arr["topk_logprobs"][..., 0][m] + 1e-5)
    assert np.all(np.diff(arr["topk_logprobs"][m], axis=-1) <= 1e-6)
    for r in rows:
        assert r["answer"] == tok.decode(r["tokens"]) and len(r["tokens"]) == len(r["logprobs"])


def test_round_trip_and_tamper_detection(tmp_path):
    rng = np.random.default_rng(0)
    arrays = {"tokens": rng.integers(0, 50, (3, 4)), "mask": np.ones((3, 4)),
              "logprobs": rng.normal(size=(3, 4)), "topk_ids": rng.integers(0, 50, (3, 4, 2)),
              "topk_logprobs": rng.normal(size=(3, 4, 2)), "lengths": np.array([4, 2, 1]),
              "truncated": np.array([1, 0, 0])}
    rows = [{"prompt_id": f"p{i}", "keep": i != 1} for i in range(3)]
    entry = write_shard(tmp_path, 0, arrays, rows, {"config_hash": "x"})
    from mighty.data.logprob_cache import write_cache_manifest
    write_cache_manifest(tmp_path, {"shards": [entry]})
    cache = LogprobCache(tmp_path)
    got = list(cache.iter_rows())
    np.testing.assert_array_equal(got[1]["tokens"], arrays["tokens"][1, :2])
    np.testing.assert_allclose(got[0]["topk_logprobs"], arrays["topk_logprobs"][0].astype(np.float32))
    assert [r["prompt_id"] for r in cache.iter_rows(only_kept=True)] == ["p0", "p2"]
    (tmp_path / "shard_00000.jsonl").write_text('{"prompt_id": "evil"}\n')
    with pytest.raises(CacheError, match="sha256"):
        LogprobCache(tmp_path)


def test_step_coverage_in_order():
    rk = [["reset", "factory reset"], ["forget", "remove"], ["pair"]]
    assert step_coverage("1. Reset it. 2. Forget the speaker. 3. Pair again.", rk) == 1.0
    assert covered_steps("Pair it, then reset, then remove it.", rk) == 2  # reset, remove
    assert covered_steps("pairing is hard", rk) == 0  # whole words only
    assert covered_steps("Reset and reset", [["reset"], ["reset"], ["reset"]]) == 2
    assert step_coverage("anything", []) == 1.0


@pytest.mark.slow
def test_sigkill_then_resume_matches(tiny_corpus, tiny_teacher_dir, tmp_path):
    """A real crash: SIGKILL the labeling process once its first shard exists, then resume."""
    def args(out):
        c = _cfg(tiny_corpus, tiny_teacher_dir, out, limit=None, shard_rows=2, batch_size=2)
        return [sys.executable, "-m", "mighty.data.label", f"hydra.run.dir={tmp_path / 'hydra'}"] + [
            f"label.{k}={'null' if v is None else v}" for k, v in dataclasses.asdict(c).items()]

    env = {**os.environ, "JAX_PLATFORMS": "cpu"}
    ref_cfg = _cfg(tiny_corpus, tiny_teacher_dir, tmp_path / "ref", limit=None, shard_rows=2)
    model, tok = load_teacher(ref_cfg)
    run(ref_cfg, model, tok, *load_inputs(ref_cfg))  # in-process reference: also checks cross-process determinism
    killed = tmp_path / "killed"
    proc = subprocess.Popen(args(killed), cwd=REPO, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.time() + 300
    while not (killed / "shard_00000.safetensors").exists():
        assert proc.poll() is None and time.time() < deadline, "labeling died before shard 0"
        time.sleep(0.01)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not (killed / "manifest.json").exists(), "run finished before the kill; test is vacuous"
    again = subprocess.run(args(killed), cwd=REPO, env=env, capture_output=True, text=True)
    assert again.returncode == 0, again.stderr[-2000:]
    assert cache_bytes(killed) == cache_bytes(tmp_path / "ref")


def _pieces(text: str) -> list[str]:
    """Word-level 'tokens' with each newline its own token (as SmolLM2 tokenizes them)."""
    out = []
    for line in text.split("\n"):
        out += [w + " " for w in line.split(" ") if w] + ["\n"]
    return out[:-1]


@pytest.mark.parametrize("text, kept", [
    # loops on its last step: the answer ends before the first repeat
    ("1. Turn it off.\n2. Contact support now.\n3. Contact support now.\n4. Contact",
     "1. Turn it off.\n2. Contact support now.\n"),
    # restarts the list after a preamble: the preamble and the blank line go too
    ("1. Unplug it.\n2. Reset it.\n\nHere is a numbered list:\n1. Unplug it.\n2. Reset",
     "1. Unplug it.\n2. Reset it.\n"),
    # an unfinished last line that is already 16+ characters of an earlier line
    ("1. Hold the power button.\n2. Pair it.\n3. Hold the power butt",
     "1. Hold the power button.\n2. Pair it.\n"),
    # blank lines and distinct steps are not repeats; a short unfinished line is not judged
    ("1. Hold power.\n\n2. Pair it.\n\n3. Hold", None),
    # a paragraph that loops: the answer ends before the sentence's second time
    ("If you need help, ask me. I fix devices. If you need help, ask me. If you",
     "If you need help, ask me. I fix devices. "),
    # ... also when the repeat is its line's last sentence, or unfinished but 16+ characters
    ("Stop using it. Call support. Stop using it.\nMore text", "Stop using it. Call support. "),
    ("I can help with devices. I can help with dev", "I can help with devices. "),
    # a sentence may recur in another step; "3.5 mm" and the list marker "1." end no sentence
    ("1. Unplug it. Wait ten seconds.\n2. Plug it in. Wait ten seconds.\n3. Use the 3.5 mm jack.", None),
])
def test_repeat_cut_hand_worked(text, kept):
    from mighty.data.answer_end import repeat_cut

    pieces = _pieces(text)
    cut = repeat_cut(pieces)
    got = None if cut is None else "".join(pieces[:cut]).replace(" \n", "\n")
    assert got == kept


def test_eos_finishes_the_last_line_which_may_repeat():
    from mighty.data.answer_end import repeat_cut

    pieces = _pieces("Stop it. Call us. Stop it.")  # too short to judge unfinished
    assert repeat_cut(pieces) is None
    assert "".join(pieces[:repeat_cut(pieces, eos=True)]) == "Stop it. Call us. "
    pieces = _pieces("1. Unplug it.\n2. Call us.\n3. Unplug it.")
    assert repeat_cut(pieces) is None and "".join(pieces[:repeat_cut(pieces, eos=True)]) == "1. Unplug it. \n2. Call us. \n"


def test_end_answer_puts_the_teachers_eos_where_the_loop_starts():
    from mighty.data.answer_end import end_answer

    rng = np.random.default_rng(0)
    arrays = {"tokens": rng.integers(3, 50, (2, 6)).astype(np.int32), "mask": np.ones((2, 6), np.int8),
              "logprobs": rng.normal(size=(2, 6)).astype(np.float32),
              "topk_ids": rng.integers(0, 50, (2, 6, 3)).astype(np.int32),
              "topk_logprobs": rng.normal(size=(2, 6, 3)).astype(np.float32),
              "lengths": np.array([6, 6], np.int32), "truncated": np.array([1, 1], np.int8)}
    before = {k: v.copy() for k, v in arrays.items()}
    eos_lp = rng.normal(size=(2, 6)).astype(np.float32)
    end_answer(arrays, eos_lp, row=1, cut=2, eos_id=2, pad_id=0)
    for k in arrays:  # row 0 untouched
        np.testing.assert_array_equal(arrays[k][0], before[k][0])
    assert arrays["tokens"][1].tolist() == before["tokens"][1, :2].tolist() + [2, 0, 0, 0]
    assert arrays["mask"][1].tolist() == [1, 1, 1, 0, 0, 0]
    assert arrays["logprobs"][1, 2] == eos_lp[1, 2] and not arrays["logprobs"][1, 3:].any()
    np.testing.assert_array_equal(arrays["topk_ids"][1, :3], before["topk_ids"][1, :3])
    assert arrays["lengths"][1] == 3 and arrays["truncated"][1] == 0


def test_rows_record_the_student_context_and_kd_rebuilds_that_prompt(tiny_corpus, tiny_teacher_dir, tmp_path):
    """One prompt builder: the KD student's prompt holds exactly the entries retrieved at label time."""
    from mighty.data.grounding import GroundingConfig, write_grounding
    from mighty.data.prompts import format_prompt
    from mighty.distill.cache import read_label_cache

    write_grounding(tiny_corpus, GroundingConfig(min_confidence=0.0))  # beside prompts.jsonl
    cfg = _cfg(tiny_corpus, tiny_teacher_dir, tmp_path / "c", limit=3, shard_rows=2)
    prompts, grounder, inputs = load_inputs(cfg)
    model, tok = load_teacher(cfg)
    run(cfg, model, tok, prompts, grounder, inputs)
    rows = list(LogprobCache(tmp_path / "c").iter_rows())
    for p, r in zip(prompts, rows):
        assert r["context"] == list(grounder.retrieve(p["question"])[0]) and len(r["context"]) == 1
    examples = read_label_cache(tmp_path / "c", tok, grounder.kb)
    for r, ex in zip(rows, examples):
        want = tok.chat(format_prompt(r["question"], entries=[grounder.kb[i] for i in r["context"]]))
        assert ex.prompt_ids.tolist() == want
    # a closed-book data dir changes the label cache's key
    write_grounding(tiny_corpus, GroundingConfig(mode="closed_book"))
    assert load_inputs(cfg)[2]["grounding"] != inputs["grounding"]


def test_select_prompts_spreads_over_issues_safety_first():
    from mighty.data.selection import select_prompts

    kb = {"a": {}, "b": {"safety": True}, "c": {}}
    prompts = [{"prompt_id": f"{i}{n}", "issue_id": i} for i in "aaabbc" for n in [0]]
    for n, p in enumerate(prompts):
        p["prompt_id"] = f"p{n}"
    got = select_prompts(prompts, 4, kb, seed=0)
    assert got[0]["issue_id"] == "b"                                # safety first
    assert sorted(p["issue_id"] for p in got[:3]) == ["a", "b", "c"]  # one per issue per round
    assert got[3]["issue_id"] in "ab" and len({p["prompt_id"] for p in got}) == 4
    assert select_prompts(prompts, None, kb, 0) == prompts
    assert select_prompts(prompts, 4, kb, 0) == got                   # deterministic
    # rare_rounds: both prompts of the safety issue before any round-robin over the rest
    got = select_prompts(prompts, 4, kb, seed=0, rare_rounds=2)
    assert [p["issue_id"] for p in got[:2]] == ["b", "b"]
    assert sorted(p["issue_id"] for p in got[2:]) == ["a", "c"]
    assert len({p["prompt_id"] for p in got}) == 4                     # nothing twice


def test_out_of_scope_labels_are_kept_only_when_they_decline():
    from mighty.data.grounding import Grounder, GroundingConfig
    from mighty.data.label import gold_entry, quality_reference, quality_row

    g = Grounder([{"issue_id": "x.y", "device_type": "x", "title": "t", "steps": ["a", "b", "c"],
                   "required_keywords": [["a"], ["b"], ["c"]], "escalation": [], "safety": False,
                   "unsafe_phrases": []}], GroundingConfig())
    p = {"prompt_id": "out_of_scope.chess.formal.1", "issue_id": "out_of_scope.chess", "question": "chess?"}
    assert gold_entry(p, g) is None
    ref = quality_reference(p, g)
    assert quality_row(p, "Sorry, I can only help with device problems.", ref, 0.5)["keep"]
    assert not quality_row(p, "1. Move the pawn. 2. Castle early.", ref, 0.5)["keep"]
    with pytest.raises(KeyError, match="not in the KB"):
        gold_entry({"prompt_id": "p", "issue_id": "nope", "question": "q"}, g)


def test_safety_labels_are_kept_only_when_they_escalate():
    """A safety entry's label must escalate as the eval reads it (stop + contact support), like an
    out-of-scope label must decline; a non-safety label is judged on coverage alone."""
    from mighty.data.label import quality_row, quality_summary, LabelConfig

    entry = {"issue_id": "h.hot", "required_keywords": [["breaker"], ["electrician"], ["support"]],
             "unsafe_phrases": ["bypass the breaker"], "safety": True}
    p = {"prompt_id": "h.hot.1", "issue_id": "h.hot", "question": "heater stays on"}
    steps_only = ("1. Turn the heater off at its breaker. 2. Book an electrician. "
                  "3. Contact support with the purchase details.")
    escalates = ("1. Turn the heater off at its breaker and stop using that circuit. 2. Book an electrician. "
                 "3. Contact support with the purchase details.")
    dropped, kept = quality_row(p, steps_only, entry, 0.5), quality_row(p, escalates, entry, 0.5)
    assert dropped["coverage"] == kept["coverage"] == 1.0
    assert (dropped["keep"], dropped["unescalated"]) == (False, True)
    assert (kept["keep"], kept["unescalated"]) == (True, False)
    assert quality_row(p, steps_only, {**entry, "safety": False}, 0.5)["keep"]
    assert quality_row(p, steps_only, entry, 0.0)["keep"]  # min_coverage 0: the filter is off
    summary = quality_summary([dropped, kept], LabelConfig(out_dir="x"))
    assert (summary["kept"], summary["dropped_unescalated"]) == (1, 1)


def test_a_hazard_label_without_its_entry_is_judged_on_escalating():
    """Retrieval missed the hazard's entry (the student's prompt shows another entry, or none):
    no answer can cover steps it was not shown, so the label is kept when it escalates and
    dropped when it does not; with the entry shown, coverage still counts."""
    from mighty.data.label import quality_row

    entry = {"issue_id": "case.swollen", "required_keywords": [["tray"], ["photo"], ["support"]],
             "unsafe_phrases": ["squeeze it shut"], "safety": True}
    p = {"prompt_id": "case.swollen.1", "issue_id": "case.swollen", "question": "case is bulging"}
    escalates = "Stop using the case, unplug it and contact support."
    asks = "Which device do you have, and what happens?"
    for context in ([], ["case.battery_drain"]):
        kept = quality_row(p, escalates, entry, 0.5, context=context)
        dropped = quality_row(p, asks, entry, 0.5, context=context)
        assert kept["coverage"] < 0.5 and kept["keep"]
        assert not dropped["keep"] and dropped["unescalated"]
        assert not quality_row(p, escalates + " Or squeeze it shut.", entry, 0.5, context=context)["keep"]
    # the entry was shown: the steps it lists must be covered
    assert not quality_row(p, escalates, entry, 0.5, context=["case.swollen"])["keep"]
    # closed-book (context None) keeps the coverage rule, as does a non-safety entry
    assert not quality_row(p, escalates, entry, 0.5, context=None)["keep"]
    assert not quality_row(p, escalates, {**entry, "safety": False}, 0.5, context=[])["keep"]


@pytest.mark.slow
def test_a_label_cut_at_its_repeat_is_the_full_decode_up_to_there(tiny_corpus, tmp_path):
    """The packaged teacher, greedy: a label cut at its repeat holds exactly the tokens,
    logprobs and top-K of the full decode up to its cut, then the teacher's EOS."""
    import jax

    from mighty.data.label import label_batch

    cfg = _cfg(tiny_corpus, "smollm2-135m-instruct", tmp_path / "c", batch_size=8, max_new_tokens=96,
               temperature=0.0, limit=8, shard_rows=8)
    prompts, grounder, _ = load_inputs(cfg)
    model, tok = load_teacher(cfg)
    key = jax.random.key(0)
    cut, rows = label_batch(model, tok, prompts, grounder, key, cfg)
    full, _ = label_batch(model, tok, prompts, grounder, key, dataclasses.replace(cfg, end_at_repeat=False))
    ended = [r["ended"] for r in rows]
    assert "repeat" in ended, "no label repeated itself: the test proves nothing"
    for i, how in enumerate(ended):
        n = int(cut["lengths"][i])
        body = n - 1 if how == "repeat" else n  # a repeat's last token is the EOS put at its cut
        for k in ("tokens", "logprobs", "topk_ids", "topk_logprobs"):
            np.testing.assert_array_equal(cut[k][i, :body], full[k][i, :body], err_msg=f"{k} row {i}")
        if how == "repeat":
            assert cut["tokens"][i, body] == tok.eos_id and not cut["truncated"][i]
            assert n <= int(full["lengths"][i])
