"""Token buckets, the rate limiter, and the metrics renderings (hand-worked numbers)."""
import pytest

from mighty.demo.limits import RateLimiter, TokenBucket
from mighty.demo.metrics import Metrics


class Clock:
    def __init__(self):
        self.t = 100.0

    def __call__(self):
        return self.t


def test_token_bucket_refill():
    c = Clock()
    b = TokenBucket(rate=2.0, burst=3, clock=c)
    assert [b.take() for _ in range(3)] == [0, 0, 0]
    assert b.take() == pytest.approx(0.5)  # 1 token at 2/s
    c.t += 0.25
    assert b.take() == pytest.approx(0.25)  # half a token there
    c.t += 0.25
    assert b.take() == 0
    c.t += 100
    assert b.tokens <= 3 and [b.take() for _ in range(3)] == [0, 0, 0]  # capped at burst


def test_rate_limiter_per_client_and_retry_after():
    c = Clock()
    rl = RateLimiter(rate=0.5, burst=2, clock=c)
    assert rl.check("a") == 0 and rl.check("a") == 0
    assert rl.check("a") == 2  # 1 token at 0.5/s -> 2 s
    assert rl.check("b") == 0  # other clients unaffected
    c.t += 2
    assert rl.check("a") == 0


def test_rate_limiter_forgets_oldest_clients():
    rl = RateLimiter(rate=1, burst=1, max_clients=2, clock=Clock())
    for k in ("a", "b", "c"):
        rl.check(k)
    assert list(rl.buckets) == ["b", "c"]


def test_metrics_prometheus_and_json():
    m = Metrics()
    m.request("/ask", 200, 0.3)
    m.request("/ask", 200, 3.0)
    m.request("/ask", 429)
    m.answer("teacher:x", "teacher", "escalation:smoke", 12)
    m.event("fallback")
    text = m.as_prometheus({"queue_depth": 1})
    assert 'mighty_requests_total{path="/ask",status="200"} 2' in text
    assert 'mighty_route_total{route="teacher",reason="escalation"} 1' in text
    assert 'mighty_request_latency_seconds_bucket{path="/ask",le="0.5"} 1' in text
    assert 'mighty_request_latency_seconds_bucket{path="/ask",le="+Inf"} 2' in text
    assert "mighty_queue_depth 1" in text
    j = m.as_json()
    assert j["served_by"] == {"teacher:x": 1} and j["events"] == {"fallback": 1}
    assert j["latency_seconds"]["/ask"]["count"] == 2


def test_component_latency_and_intents_render_by_hand():
    from mighty.demo.metrics import Metrics

    m = Metrics()
    m.component("retrieval", 0.004)
    m.component("retrieval", 0.02)
    m.intent("safety_escalation")
    text = m.as_prometheus()
    assert 'mighty_component_latency_seconds_bucket{component="retrieval",le="0.005"} 1' in text
    assert 'mighty_component_latency_seconds_bucket{component="retrieval",le="0.025"} 2' in text
    assert 'mighty_component_latency_seconds_count{component="retrieval"} 2' in text
    assert 'mighty_intent_total{intent="safety_escalation"} 1' in text
    j = m.as_json()
    assert j["intents"] == {"safety_escalation": 1}
    assert j["component_latency_seconds"]["retrieval"]["sum"] == 0.024
