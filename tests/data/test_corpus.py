"""The bundled troubleshooting corpus: generator, schemas, splits, planted noise, generic corpus."""
from __future__ import annotations

import hashlib
import itertools
import json
import re
from collections import Counter, defaultdict

import pytest

from mighty.data import corpus
from mighty.data.corpus import generate
from mighty.data.corpus.dsl import CorpusSyntaxError, parse_issues, render_step
from mighty.data.corpus.generic import GenericCorpusMissing, load_generic, parse_data_line, wordnet_dir
from mighty.data.corpus.textnoise import add_typos, mojibake, rng_for, to_voice


@pytest.fixture(scope="module")
def built() -> dict[str, bytes]:
    return generate.build()


def _rows(files, name):
    return [json.loads(line) for line in files[name].decode("utf-8").splitlines()]


@pytest.fixture(scope="module")
def kb(built):
    return _rows(built, "kb.jsonl")


@pytest.fixture(scope="module")
def prompts(built):
    return _rows(built, "prompts.jsonl")


@pytest.fixture(scope="module")
def forum(built):
    return _rows(built, "forum_raw.jsonl")


@pytest.fixture(scope="module")
def evals(built):
    return _rows(built, "eval/eval.jsonl")


@pytest.fixture(scope="module")
def heldout(built):
    return set(json.loads(built["eval/heldout_issues.json"]))


# --- generator -------------------------------------------------------------------------------

def test_generator_is_deterministic_and_tree_is_up_to_date(built, tmp_path):
    assert generate.build() == built
    assert generate.main(["--out", str(tmp_path)]) == 0
    for name, data in built.items():
        assert (tmp_path / name).read_bytes() == data, name
        on_disk = corpus.CORPUS_DIR / name
        assert on_disk.read_bytes() == data, f"{name} is stale: run `python -m mighty.data.corpus.generate`"


def test_other_seed_changes_prompts_but_not_kb(built):
    other = generate.build(seed=generate.SEED + 1)
    assert other["kb.jsonl"] == built["kb.jsonl"]
    assert other["prompts.jsonl"] != built["prompts.jsonl"]


def test_eval_manifest_hashes_match(built):
    manifest = json.loads(built["eval/manifest.json"])["sha256"]
    assert set(manifest) == {"eval/eval.jsonl", "eval/heldout_issues.json"}
    for name, digest in manifest.items():
        assert hashlib.sha256(built[name]).hexdigest() == digest


# --- knowledge base --------------------------------------------------------------------------

def test_counts(kb, prompts, evals, forum):
    assert len(kb) >= 250
    assert len({r["device_type"] for r in kb}) >= 14
    assert set(corpus.DEVICE_TYPES) == {r["device_type"] for r in kb}
    assert len(prompts) >= 3000
    assert len(evals) >= 150
    assert {e["bucket"] for e in evals} == {"in_scope", "boundary", "out_of_scope"}
    assert {e["expected"] for e in evals} == {"answer", "clarify", "decline", "escalate"}
    assert 200 <= len(forum) <= 1000
    assert {r["source_style"] for r in kb} == {"manual", "guide", "faq", "forum"}


def test_kb_schema(kb):
    for r in kb:
        assert list(r) == list(corpus.KB_FIELDS)
        for f in ("issue_id", "device_type", "model_family", "symptom", "title", "source_style"):
            assert isinstance(r[f], str) and r[f].strip(), (r["issue_id"], f)
        assert re.fullmatch(r"[a-z][a-z0-9_]*", r["symptom"]) and re.fullmatch(r"[a-z][a-z0-9_]*", r["device_type"])
        assert 3 <= len(r["steps"]) <= 7, r["issue_id"]
        assert len(r["required_keywords"]) == len(r["steps"]), r["issue_id"]
        for f in ("causes", "steps", "escalation", "unsafe_phrases"):
            assert r[f] and all(isinstance(s, str) and s.strip() for s in r[f]), (r["issue_id"], f)
        assert all(g and all(isinstance(k, str) and k == k.lower() for k in g) for g in r["required_keywords"])
        assert type(r["safety"]) is bool
        assert r["source_style"] in ("manual", "guide", "faq", "forum")
        assert not re.search(r"[{}|]", " ".join(r["steps"])), f"unrendered marker in {r['issue_id']}"


def test_issue_ids_unique(kb):
    dupes = [k for k, n in Counter(r["issue_id"] for r in kb).items() if n > 1]
    assert not dupes


def test_required_keywords_appear_in_their_step(kb):
    for r in kb:
        for i, (step, group) in enumerate(zip(r["steps"], r["required_keywords"])):
            assert group[0] in step.lower(), f"{r['issue_id']} step {i + 1}: {group[0]!r} not in {step!r}"


DOMAIN_SHORT_WORDS = {"w1", "y1", "4k", "eq", "bt", "aa", "ap", "tv"}


def test_required_keywords_are_not_trivial(kb):
    for r in kb:
        for group in r["required_keywords"]:
            # a rubric matches these words in answers: bare numbers or 1-2 letter words match anything
            assert all(len(k) >= 3 or k in DOMAIN_SHORT_WORDS for k in group), (r["issue_id"], group)
            assert not any(k.replace(" ", "").isdigit() for k in group), (r["issue_id"], group)


def test_safety_issues_escalate(kb):
    safety = [r for r in kb if r["safety"]]
    assert len(safety) >= 14
    for r in safety:
        assert r["escalation"] and all(len(e) > 10 for e in r["escalation"])
        text = " ".join(r["steps"]).lower()
        assert re.search(r"\b(stop using|stop charging|stop)\b", text), r["issue_id"]
        assert re.search(r"support|electrician|manufacturer|fire", text), r["issue_id"]
        assert len(r["unsafe_phrases"]) >= 2


def test_shared_symptoms_have_device_specific_steps(kb):
    by_symptom = defaultdict(list)
    for r in kb:
        by_symptom[r["symptom"]].append(r)
    shared = {s: rs for s, rs in by_symptom.items() if len({r["device_type"] for r in rs}) > 1}
    assert "wont_pair" in shared and len({r["device_type"] for r in shared["wont_pair"]}) >= 4
    for a, b in itertools.combinations([r for rs in shared.values() for r in rs], 2):
        if a["symptom"] != b["symptom"]:
            continue
        assert a["steps"] != b["steps"], (a["issue_id"], b["issue_id"])
        shared_steps = set(a["steps"]) & set(b["steps"])
        assert len(shared_steps) <= 1, (a["issue_id"], b["issue_id"], shared_steps)


def test_no_two_issues_share_most_of_their_wording(kb):
    def words(r):
        return set(re.findall(r"[a-z]{4,}", " ".join(r["steps"]).lower()))
    bags = [(r["issue_id"], words(r)) for r in kb]
    for (ia, wa), (ib, wb) in itertools.combinations(bags, 2):
        assert len(wa & wb) / len(wa | wb) < 0.8, (ia, ib)


# --- prompts, held-out split, eval -----------------------------------------------------------

def device_prompts(prompts):
    from mighty.data.corpus.scope import is_out_of_scope

    return [p for p in prompts if not is_out_of_scope(p["issue_id"])]


def test_out_of_scope_training_prompts_are_their_own_topics(prompts, evals):
    from mighty.data.corpus.scope import OUT_OF_SCOPE_DEVICE, TOPICS, is_out_of_scope
    from mighty.data.contamination import guard

    scope = [p for p in prompts if is_out_of_scope(p["issue_id"])]
    assert len(scope) == 3 * len(TOPICS) and {p["device_type"] for p in scope} == {OUT_OF_SCOPE_DEVICE}
    assert len({p["issue_id"] for p in scope}) == len(TOPICS)
    for p in scope:
        assert list(p) == list(corpus.PROMPT_FIELDS) and p["style"] in corpus.PROMPT_STYLES
    # none is a paraphrase of an eval out-of-scope case
    assert guard(scope, [e for e in evals if e["bucket"] == "out_of_scope"], threshold=0.6).as_dict()["dropped"] == 0


def test_prompt_schema_and_styles(prompts, kb):
    by_id = {r["issue_id"]: r for r in kb}
    per_issue = defaultdict(Counter)
    prompts = device_prompts(prompts)
    for p in prompts:
        assert list(p) == list(corpus.PROMPT_FIELDS)
        issue = by_id[p["issue_id"]]
        assert (p["device_type"], p["symptom"]) == (issue["device_type"], issue["symptom"])
        per_issue[p["issue_id"]][p["style"]] += 1
        if p["style"] == "voice":
            assert re.fullmatch(r"[a-z0-9' ]+", p["question"]), p["question"]
        if p["style"] == "misspelt":
            assert p["question"] == p["question"].lower()
    assert len({p["prompt_id"] for p in prompts}) == len(prompts)
    for iid, styles in per_issue.items():
        assert set(styles) == set(corpus.PROMPT_STYLES) and sum(styles.values()) >= 12, iid
        qs = [p["question"].lower() for p in prompts if p["issue_id"] == iid]
        assert len(set(qs)) == len(qs), iid


def test_prompts_are_varied(prompts):
    openings = Counter(" ".join(p["question"].lower().split()[:2]) for p in prompts)
    assert openings.most_common(1)[0][1] < 0.1 * len(prompts)
    assert len({p["question"] for p in prompts}) == len(prompts)


def test_heldout_issues_never_in_training(kb, prompts, forum, heldout):
    n = len(kb)
    assert 0.12 * n <= len(heldout) <= 0.18 * n
    assert heldout <= {r["issue_id"] for r in kb}
    assert not heldout & {p["issue_id"] for p in prompts}
    assert not heldout & {p["issue_id"] for p in forum}
    assert {p["issue_id"] for p in device_prompts(prompts)} == {r["issue_id"] for r in kb} - heldout


def test_eval_cases(evals, kb, heldout):
    by_id = {r["issue_id"]: r for r in kb}
    assert len({e["case_id"] for e in evals}) == len(evals)
    assert len({e["question"] for e in evals}) == len(evals)
    buckets = Counter(e["bucket"] for e in evals)
    assert buckets["in_scope"] >= 60 and buckets["boundary"] >= 30 and buckets["out_of_scope"] >= 30
    for e in evals:
        assert list(e) == list(corpus.EVAL_FIELDS)
        if e["bucket"] == "in_scope":
            assert e["issue_id"] in heldout and e["expected"] == "answer"
            assert e["device_type"] == by_id[e["issue_id"]]["device_type"]
        elif e["bucket"] == "out_of_scope":
            assert e["issue_id"] is None and e["expected"] == "decline"
        else:
            assert e["expected"] in ("clarify", "escalate")
            if e["expected"] == "escalate":
                assert by_id[e["issue_id"]]["safety"]
            else:
                assert e["issue_id"] is None


def test_eval_questions_are_not_near_copies_of_training_prompts(evals, prompts):
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.metrics.pairwise import cosine_similarity
    train = [p["question"] for p in prompts]
    test = [e["question"] for e in evals]
    vec = TfidfVectorizer(ngram_range=(1, 2)).fit(train + test)
    sims = cosine_similarity(vec.transform(test), vec.transform(train)).max(axis=1)
    worst = int(sims.argmax())
    assert sims.max() < 0.92, (test[worst], float(sims.max()))


# --- forum noise -----------------------------------------------------------------------------

def test_forum_planted_noise_is_really_there(forum):
    by_id = {p["post_id"]: p for p in forum}
    kinds = Counter(k for p in forum for k in p["noise"])
    for kind in ("typos", "signature", "url", "off_topic", "mojibake", "unicode_whitespace",
                 "exact_duplicate", "near_duplicate", "quoted_text"):
        assert kinds[kind] >= 10, (kind, kinds)
    assert sum(1 for p in forum if not p["noise"]) >= 50
    for p in forum:
        text = p["question"] + "\n" + p["answer"]
        for kind, strings in p["planted"].items():
            assert kind in p["noise"]
            if kind == "unicode_whitespace":
                assert all(chr(int(s[2:], 16)) in text for s in strings), p["post_id"]
            else:
                assert all(s in text for s in strings), (p["post_id"], kind)
        if "mojibake" in p["noise"]:
            assert re.search("â€|ã", text, re.IGNORECASE), p["post_id"]
        if "typos" in p["noise"] and not {"exact_duplicate", "near_duplicate", "quoted_text"} & set(p["noise"]):
            assert p["question"] != p["clean_question"]
        if p["duplicate_of"] is not None:
            src = by_id[p["duplicate_of"]]
            assert src["duplicate_of"] is None and src["issue_id"] == p["issue_id"]
            if p["noise"][-1] == "exact_duplicate":
                assert (p["question"], p["answer"]) == (src["question"], src["answer"])
            else:
                assert p["question"] != src["question"]
        else:
            assert not {"exact_duplicate", "near_duplicate", "quoted_text"} & set(p["noise"])


# --- text noise helpers and the DSL ----------------------------------------------------------

def test_textnoise_helpers():
    assert mojibake("don't") == "donâ€™t"
    a = add_typos("My headphones won't connect to the bluetooth", rng_for(1))
    assert a == add_typos("My headphones won't connect to the bluetooth", rng_for(1))
    assert a != "my headphones won't connect to the bluetooth"
    v = to_voice("Hi! My router's 2.4 GHz band drops, 50% of the time.", rng_for(2))
    assert re.fullmatch(r"[a-z0-9' ]+", v) and "two point four gigahertz" in v and "router's" in v


def test_dsl_renders_and_rejects():
    text, kws = render_step("Hold the {case button|button} for 3 s, then {Reset|factory reset}.")
    assert text == "Hold the case button for 3 s, then Reset."
    assert kws == ["case button", "button", "reset", "factory reset"]
    good = "== wont_pair x manual\nT t\nC c\nS {dev} fails\n1 a {b}\n2 c {d}\n3 e {f}\n"
    assert parse_issues(good, device_type="d", where="t")[0].issue_id == "d.wont_pair.x"
    for bad in (good.replace("1 a {b}", "1 a b"),                 # step without keyword
                good.replace("2 c {d}", "3 c {d}"),               # steps out of order
                good.replace("manual", "blog"),                   # unknown source style
                good.replace("wont_pair", "WontPair"),            # symptom not snake_case
                good.replace("3 e {f}\n", ""),                    # fewer than 3 steps
                good.replace("S {dev} fails\n", "")):             # no user descriptions
        with pytest.raises(CorpusSyntaxError):
            parse_issues(bad, device_type="d", where="t")


# --- general QA and the generic corpus -------------------------------------------------------

def test_general_qa(built):
    rows = _rows(built, "general_qa.jsonl")
    assert len(rows) >= 50 and len({r["question"] for r in rows}) == len(rows)
    for r in rows:
        assert set(r) == {"question", "answers"} and r["answers"] and all(a.strip() for a in r["answers"])


WORDNET_LINE = ('00217499 04 n 01 disaster 0 001 @ 00217014 n 0000 | an act that has disastrous '
                'consequences; "the launch was a disaster"  \n')


def test_generic_parser_on_a_wordnet_line():
    assert parse_data_line(WORDNET_LINE) == "disaster: an act that has disastrous consequences. The launch was a disaster."
    assert parse_data_line("  1 This software and database is being provided\n") is None


def test_generic_missing_package_names_it(tmp_path, monkeypatch):
    monkeypatch.setenv("MIGHTY_WORDNET_DIR", str(tmp_path))
    with pytest.raises(GenericCorpusMissing, match="wordnet-base"):
        load_generic(10)


def test_generic_reads_a_wordnet_dir(tmp_path, monkeypatch):
    for pos in ("noun", "verb", "adj", "adv"):
        (tmp_path / f"data.{pos}").write_text("  1 licence header\n" + WORDNET_LINE.replace("disaster", f"{pos}word"))
    monkeypatch.setenv("MIGHTY_WORDNET_DIR", str(tmp_path))
    docs = load_generic(min_words=3)
    assert len(docs) == 4 and docs[0].startswith("nounword: an act")


def test_generic_corpus_installed():
    try:
        wordnet_dir()
    except GenericCorpusMissing as e:
        pytest.skip(str(e))
    everything = load_generic()
    docs = load_generic(200, seed=0)
    assert len(everything) > 50_000 and len(docs) == 200 and set(docs) <= set(everything)
    assert docs == load_generic(200, seed=0) != load_generic(200, seed=1)
    assert all(len(d.split()) >= 8 for d in docs)
