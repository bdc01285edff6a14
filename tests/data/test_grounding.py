"""One grounding choice for every stage: retrieval, the teacher's privileged view, the config file."""
import dataclasses
import json

import pytest

from mighty.data import load_eval, load_kb
from mighty.data.grounding import Grounder, GroundingConfig, read_grounding, write_grounding
from mighty.data.prompts import NO_MATCH, kb_context


@pytest.fixture(scope="module")
def kb():
    return load_kb()


def test_student_and_teacher_see_the_same_retrieved_entry(kb):
    g = Grounder(kb, GroundingConfig(min_confidence=0.0))
    case = next(c for c in load_eval() if c["bucket"] == "in_scope")
    gold = g.kb[case["issue_id"]]
    ids, conf = g.retrieve(case["question"])
    assert len(ids) == 1 and 0.0 <= conf <= 1.0
    student = g.messages(case["question"], gold=gold)
    teacher = g.messages(case["question"], gold=gold, teacher=True)
    assert student == teacher  # same retrieval, same prompt: only the LLM changes
    assert kb_context(g.kb[ids[0]]) in student[1]["content"]


def test_modes_and_privileged_teacher(kb):
    q = "my earbuds will not charge in the case"
    gold = kb[0]
    assert Grounder(kb, GroundingConfig(mode="closed_book")).entries(q, gold=gold) is None
    assert Grounder(kb, GroundingConfig(mode="gold")).entries(q, gold=gold) == [gold]
    priv = Grounder(kb, GroundingConfig(teacher_gold=True, min_confidence=0.0))
    assert priv.entries(q, gold=gold, teacher=True) == [gold]
    assert priv.entries(q, gold=gold) == [priv.kb[i] for i in priv.retrieve(q)[0]]
    three = Grounder(kb, GroundingConfig(k=3, min_confidence=0.0))
    assert len(three.entries(q)) == 3


def test_the_teacher_sees_a_hazard_entry_that_retrieval_missed(kb):
    """teacher_gold_hazards: a safety issue's label prompt shows its entry when the student's
    prompt does not; the student's prompt never changes, nor a non-safety issue's label prompt."""
    hazard = next(e for e in kb if e.get("safety"))
    fix = next(e for e in kb if not e.get("safety"))
    q = "the case is warm and bulging near the hinge"
    blind = GroundingConfig(min_confidence=1.0, safety_min_confidence=1.0,  # nothing is ever shown
                            teacher_gold_hazards=True)
    g = Grounder(kb, blind)
    assert g.entries(q, gold=hazard) == [] and g.entries(q, gold=hazard, teacher=True) == [hazard]
    assert g.entries(q, gold=fix, teacher=True) == [] and g.entries(q, teacher=True) == []
    off = Grounder(kb, dataclasses.replace(blind, teacher_gold_hazards=False))
    assert off.entries(q, gold=hazard, teacher=True) == []
    # retrieval shows the hazard's own entry: teacher and student see the same prompt
    seen = Grounder(kb, GroundingConfig(min_confidence=0.0, safety_min_confidence=0.0, teacher_gold_hazards=True))
    case = next(c for c in load_eval() if c.get("expected") == "escalate"
                and seen.retrieve(c["question"])[0] == (c["issue_id"],))
    gold = seen.kb[case["issue_id"]]
    assert seen.messages(case["question"], gold=gold, teacher=True) == seen.messages(case["question"], gold=gold)


def test_an_unsure_hit_is_not_shown(kb):
    g = Grounder(kb, GroundingConfig(min_confidence=1.0))  # nothing is that sure
    assert g.entries("my earbuds will not charge") == []
    assert NO_MATCH in g.messages("my earbuds will not charge")[1]["content"]


def test_config_round_trips_through_the_data_dir(tmp_path, kb):
    cfg = GroundingConfig(k=2, method="tfidf", min_confidence=0.1)
    write_grounding(tmp_path, cfg)
    assert read_grounding(tmp_path) == cfg
    assert Grounder.from_data_dir(tmp_path, kb).cfg == cfg
    (tmp_path / "grounding.json").write_text(json.dumps({"mode": "retrieved", "kk": 1}))
    with pytest.raises(ValueError, match="unknown keys"):
        read_grounding(tmp_path)
    with pytest.raises(FileNotFoundError, match="data stage writes it"):
        read_grounding(tmp_path / "nowhere")
    with pytest.raises(ValueError, match="mode"):
        GroundingConfig(mode="open_book")


def test_a_safety_hit_is_shown_from_its_own_lower_confidence(kb):
    cfg = GroundingConfig(min_confidence=0.5, safety_min_confidence=0.2)
    hazard = next(e for e in kb if e["safety"])
    ordinary = next(e for e in kb if not e["safety"])
    assert [cfg.shows(e, 0.3) for e in (hazard, ordinary)] == [True, False]
    assert [cfg.shows(e, 0.6) for e in (hazard, ordinary)] == [True, True]
    assert [cfg.shows(e, 0.1) for e in (hazard, ordinary)] == [False, False]
    with pytest.raises(ValueError, match="safety_min_confidence"):
        GroundingConfig(safety_min_confidence=1.5)


def test_an_unsure_hazard_reaches_the_prompt_and_an_unsure_fix_does_not(kb):
    """Found by the retriever's own ranking: questions whose top hit is below 0.5 and a safety
    entry get it in the prompt; the same confidence on an ordinary entry leaves the prompt empty."""
    g = Grounder(kb, GroundingConfig())
    low = []
    for case in load_eval():
        hits, conf = g.retriever.search_with_confidence(case["question"], 1)
        if hits and 0.2 <= conf < 0.5:
            low.append((hits[0][0], case["question"]))
    hazards = [q for e, q in low if e["safety"]]
    fixes = [q for e, q in low if not e["safety"]]
    assert hazards and fixes
    for q in hazards:
        assert g.entries(q) and g.entries(q)[0]["safety"]
        assert kb_context(g.entries(q)[0]) in g.messages(q)[1]["content"]
    for q in fixes:
        assert g.entries(q) == [] and NO_MATCH in g.messages(q)[1]["content"]
