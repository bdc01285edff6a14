"""Assistant (route -> decode -> validate -> fallback) and ModelRunner (batching, bounded
queue) over a scripted Engine, so each branch is exact and fast. The same paths run against
the real model in test_api.py / test_ws.py."""
import asyncio
import threading

import pytest

from mighty.demo.config import EngineConfig, ServeConfig
from mighty.demo.engine import Engine, GenRequest, GenResult
from mighty.demo.limits import Overloaded
from mighty.demo.metrics import Metrics
from mighty.demo.runner import ModelRunner
from mighty.demo.service import REFUSAL_UNSAFE, Assistant

GOOD = "1. Turn Bluetooth off and on.\n2. Hold power for 7 seconds.\n3. Pair again."


class ScriptedEngine(Engine):
    """Answers from a fixed script, word by word (deltas like a real decoder). A request's
    `prefix` is honoured like a model would: the script continues it when it starts with it."""

    def __init__(self, name: str, answer: str, gate: threading.Event | None = None):
        self.name, self.answer, self.gate = name, answer, gate
        self.batches: list[int] = []
        self.seen: list[list[dict]] = []
        self.prefixes: list[str] = []

    def count_tokens(self, messages):
        return sum(len(m["content"].split()) for m in messages)

    def generate_batch(self, requests):
        if self.gate is not None:
            assert self.gate.wait(10)
        self.batches.append(len(requests))
        out = []
        for r in requests:
            self.seen.append(r.messages)
            self.prefixes.append(r.prefix)
            text = self.answer if self.answer.startswith(r.prefix) else r.prefix + " " + self.answer
            words = text[len(r.prefix):].split(" ")[: r.max_new_tokens]
            if r.on_delta and r.prefix:
                r.on_delta(r.prefix)
            for i, w in enumerate(words):
                if r.on_delta:
                    r.on_delta(w if i == 0 else " " + w)
            cut = len(text[len(r.prefix):].split(" ")) > r.max_new_tokens
            out.append(GenResult(r.prefix + " ".join(words), "length" if cut else "stop", 10, len(words)))
        return out


class FakeRetriever:
    def __init__(self, conf: float, entry: dict | None = None):
        self.conf, self.entry = conf, entry or {
            "issue_id": "hp.pair", "title": "Headphones will not pair", "device_type": "headphones",
            "model_family": "X", "causes": [], "steps": ["Reset"], "escalation": [], "safety": False,
            "unsafe_phrases": ["pry the ear cup open"]}

    def search_with_confidence(self, q, k):
        return [(self.entry, 9.0)], self.conf


def make(student_answer, teacher_answer=GOOD, conf=0.9, entry=None, **cfg_kw):
    async def build():
        cfg = ServeConfig(**cfg_kw)
        s, t = ScriptedEngine("stu", student_answer), ScriptedEngine("tea", teacher_answer)
        runners = {"student": ModelRunner(s, window_s=0), "teacher": ModelRunner(t, window_s=0)}
        for r in runners.values():
            r.start()
        return Assistant(cfg, runners, FakeRetriever(conf, entry), Metrics()), s, t
    return build


def run(build, question, **kw):
    async def go():
        a, s, t = await build()
        events = []

        async def emit(e):
            events.append(e)
        ans = await a.answer(question, emit=emit, **kw)
        for r in a.runners.values():
            await r.close()
        return ans, events, s, t, a.metrics
    return asyncio.run(go())


GROUNDED = "The fix, in order:"  # data.prompts.kb_context's header


def test_student_answer_passes():
    ans, events, s, t, m = run(make(GOOD), "my headphones will not pair")
    assert (ans.route, ans.reason, ans.served_by) == ("student", "default", "student:stu")
    assert ans.steps == ["Turn Bluetooth off and on.", "Hold power for 7 seconds.", "Pair again."]
    assert ans.fallback is None and t.batches == [] and not ans.refused
    assert "".join(e["text"] for e in events if e["type"] == "token") == GOOD
    assert GROUNDED in s.seen[0][-1]["content"]  # the student answers from the retrieved entry
    assert s.prefixes == ["1."]  # troubleshooting answers are primed as a numbered list


def test_failed_validation_falls_back_to_teacher():
    ans, events, s, t, m = run(make("Just reset it I guess."), "my headphones will not pair")
    assert ans.served_by == "teacher:tea" and ans.reason == "fallback:no_steps"
    assert ans.fallback == {"from": "student:stu", "failures": ["no_steps"]}
    assert [e["type"] for e in events if e["type"] != "token"] == ["route", "fallback", "route"]
    assert GROUNDED in t.seen[0][-1]["content"]  # the teacher is grounded on the kb entry
    assert m.events["fallback"] == 1 and m.served_by == {"teacher:tea": 1}


def test_unsafe_student_then_unsafe_teacher_is_refused():
    bad = GOOD + " Then pry the ear cup open."
    ans, *_ = run(make(bad, teacher_answer=bad), "my headphones will not pair")
    assert ans.fallback["failures"] == ["unsafe:pry the ear cup open"]
    assert ans.refused and ans.answer == REFUSAL_UNSAFE and ans.steps == []


def test_escalation_and_low_confidence_route_to_teacher_first():
    ans, _, s, t, _ = run(make(GOOD, teacher_answer="Stop using it and contact support now."),
                          "smoke is coming out of my speaker")
    assert ans.reason == "escalation:smoke" and s.batches == [] and ans.validation == []
    assert t.prefixes == [""]  # an escalation is not forced into steps
    ans, _, s, t, _ = run(make(GOOD, conf=0.05), "what is the capital of france")
    assert ans.reason.startswith("low_confidence") and s.batches == []
    assert "Reference entry" not in t.seen[0][0]["content"]  # not grounded on a poor match


def test_a_client_cut_never_falls_back_but_a_server_cut_does():
    # the client asked for 2 tokens: the failing answer is the client's doing, the student's stands
    ans, events, s, t, m = run(make(GOOD), "my headphones will not pair", max_new_tokens=2)
    assert ans.served_by == "student:stu" and ans.fallback is None and t.batches == []
    assert ans.finish_reason == "length" and "no_steps" in ans.validation
    assert "fallback" not in m.events
    # the same cut made by the server's own cap is the student's failure: the teacher answers
    ans, *_ = run(make(GOOD, engine=EngineConfig(max_new_tokens=2)), "my headphones will not pair")
    assert ans.served_by == "teacher:tea" and "no_steps" in ans.fallback["failures"]
    # asking for the cap (or more) is not a client cut either
    ans, *_ = run(make(GOOD, engine=EngineConfig(max_new_tokens=2)), "my headphones will not pair",
                  max_new_tokens=50)
    assert ans.served_by == "teacher:tea"


def test_max_new_tokens_is_capped():
    ans, *_ = run(make(GOOD), "my headphones will not pair", max_new_tokens=10_000)
    assert ans.completion_tokens <= ServeConfig().engine.max_new_tokens


def test_runner_batches_concurrent_requests_and_bounds_the_queue():
    async def go():
        gate = threading.Event()
        eng = ScriptedEngine("e", GOOD, gate)
        r = ModelRunner(eng, max_batch=3, window_s=0.05, max_queue=4, max_concurrency=1)
        r.start()
        req = GenRequest([{"role": "user", "content": "q"}], 5)
        first = asyncio.ensure_future(r.generate(req))
        await asyncio.sleep(0.2)  # the first batch is running (blocked on the gate)
        queued = [asyncio.ensure_future(r.generate(req)) for _ in range(4)]
        await asyncio.sleep(0.01)
        with pytest.raises(Overloaded):
            await r.generate(req)  # queue (4) is full -> 503 upstream
        gate.set()
        results = await asyncio.gather(first, *queued)
        await r.close()
        return eng.batches, results
    batches, results = asyncio.run(go())
    assert batches == [1, 3, 1] and all(x.text.startswith("1.") for x in results)


def test_a_queued_request_gets_its_503_at_its_own_deadline():
    # One batch holds the model (gated); a request queued behind it must time out at
    # timeout_s, not when the batch ends and the batcher next looks at the queue.
    async def go():
        gate = threading.Event()
        eng = ScriptedEngine("e", GOOD, gate)
        r = ModelRunner(eng, max_batch=1, window_s=0, max_queue=4, max_concurrency=1, timeout_s=0.3)
        r.start()
        req = GenRequest([{"role": "user", "content": "q"}], 5)
        first = asyncio.ensure_future(r.generate(req))
        await asyncio.sleep(0.1)  # the first batch is running, blocked on the gate
        with pytest.raises(Overloaded, match="waited"):
            # the outer bound fails the test instead of hanging if the deadline is not kept
            await asyncio.wait_for(r.generate(req), 5.0)
        assert not gate.is_set() and r.pending == []  # refused while the model was still busy
        gate.set()
        done = await first  # a request already decoding is never cut off by the deadline
        await r.close()
        return eng.batches, done
    batches, done = asyncio.run(go())
    assert batches == [1] and done.text.startswith("1.")


@pytest.mark.parametrize("safety,conf", [(False, 0.3), (True, 0.3), (False, 0.6), (True, 0.1)])
def test_the_demo_prompt_shows_a_hit_exactly_when_the_pipeline_prompt_does(safety, conf):
    """Served prompts are the trained ones: the same rule (data.grounding) picks the shown entry,
    so a hazard is shown from 0.2 and an ordinary fix only from 0.5, as in label, KD and eval."""
    from mighty.data.grounding import GroundingConfig
    from mighty.data.prompts import kb_context

    entry = {**FakeRetriever(0).entry, "safety": safety}
    ans, _, s, t, _ = run(make(GOOD, conf=conf, entry=entry), "my headphones will not pair")
    prompt = (s.seen or t.seen)[0][-1]["content"]
    assert (kb_context(entry) in prompt) == GroundingConfig().shows(entry, conf)
