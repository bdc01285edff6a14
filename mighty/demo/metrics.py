"""In-process serving metrics, rendered as Prometheus text (default) or JSON."""
from __future__ import annotations

import bisect
import threading
from collections import Counter

# Seconds. Generation on 2 CPU cores takes 0.1 s .. minutes.
LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0)
# Seconds. The router's parts (retrieval + reranker, intent classifier) take milliseconds.
COMPONENT_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.015, 0.025, 0.05, 0.1, 0.25)


class Histogram:
    def __init__(self, buckets=LATENCY_BUCKETS):
        self.buckets = tuple(buckets)
        self.counts = [0] * (len(self.buckets) + 1)  # last = +Inf
        self.sum = 0.0
        self.n = 0

    def observe(self, v: float) -> None:
        self.counts[bisect.bisect_left(self.buckets, v)] += 1
        self.sum += v
        self.n += 1

    def cumulative(self) -> list[tuple[str, int]]:
        out, acc = [], 0
        for le, c in zip([*map(str, self.buckets), "+Inf"], self.counts):
            acc += c
            out.append((le, acc))
        return out


class Metrics:
    """Thread-safe counters: requests by route and status, answers by served_by and route reason,
    fallbacks, rate-limit and overload rejections; latency histograms per endpoint."""

    def __init__(self):
        self._lock = threading.Lock()
        self.requests: Counter = Counter()  # (path, status)
        self.served_by: Counter = Counter()  # model name
        self.routes: Counter = Counter()  # (route, reason kind)
        self.events: Counter = Counter()  # fallback, rate_limited, overloaded, stt, tts, ...
        self.latency: dict[str, Histogram] = {}
        self.components: dict[str, Histogram] = {}  # retrieval, intent: per-question seconds
        self.intents: Counter = Counter()  # the intent classifier's top label
        self.tokens_out = 0

    def request(self, path: str, status: int, seconds: float | None = None) -> None:
        with self._lock:
            self.requests[(path, status)] += 1
            if seconds is not None:
                self.latency.setdefault(path, Histogram()).observe(seconds)

    def answer(self, served_by: str, route: str, reason: str, tokens: int) -> None:
        with self._lock:
            self.served_by[served_by] += 1
            self.routes[(route, reason.split(":", 1)[0])] += 1
            self.tokens_out += tokens

    def component(self, name: str, seconds: float) -> None:
        with self._lock:
            self.components.setdefault(name, Histogram(COMPONENT_BUCKETS)).observe(seconds)

    def intent(self, label: str) -> None:
        with self._lock:
            self.intents[label] += 1

    def event(self, name: str, n: int = 1) -> None:
        with self._lock:
            self.events[name] += n

    def as_json(self, gauges: dict | None = None) -> dict:
        with self._lock:
            return {
                "requests": [{"path": p, "status": s, "count": c}
                             for (p, s), c in sorted(self.requests.items())],
                "served_by": dict(self.served_by),
                "routes": [{"route": r, "reason": k, "count": c}
                           for (r, k), c in sorted(self.routes.items())],
                "events": dict(self.events),
                "tokens_out": self.tokens_out,
                "latency_seconds": {p: {"count": h.n, "sum": round(h.sum, 6),
                                        "buckets": dict(h.cumulative())}
                                    for p, h in sorted(self.latency.items())},
                "component_latency_seconds": {p: {"count": h.n, "sum": round(h.sum, 6),
                                                  "buckets": dict(h.cumulative())}
                                              for p, h in sorted(self.components.items())},
                "intents": dict(self.intents),
                "gauges": gauges or {},
            }

    def as_prometheus(self, gauges: dict | None = None) -> str:
        def esc(v: str) -> str:
            return str(v).replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ")

        def counter(name: str, labels: tuple[str, ...], counts: dict) -> list[str]:
            out = [f"# TYPE mighty_{name} counter"]
            for key, c in sorted(counts.items()):
                values = key if isinstance(key, tuple) else (key,)
                tags = ",".join(f'{k}="{esc(v)}"' for k, v in zip(labels, values))
                out.append(f"mighty_{name}{{{tags}}} {c}")
            return out

        def histograms(name: str, label: str, hists: dict) -> list[str]:
            out = [f"# TYPE mighty_{name} histogram"]
            for p, h in sorted(hists.items()):
                tag = f'{label}="{esc(p)}"'
                out += [f'mighty_{name}_bucket{{{tag},le="{le}"}} {acc}' for le, acc in h.cumulative()]
                out += [f"mighty_{name}_sum{{{tag}}} {h.sum:.6f}", f"mighty_{name}_count{{{tag}}} {h.n}"]
            return out

        lines: list[str] = []
        with self._lock:
            lines += counter("requests_total", ("path", "status"), self.requests)
            lines += counter("served_by_total", ("model",), self.served_by)
            lines += counter("route_total", ("route", "reason"), self.routes)
            lines += counter("events_total", ("event",), self.events)
            lines.append("# TYPE mighty_tokens_out_total counter")
            lines.append(f"mighty_tokens_out_total {self.tokens_out}")
            lines += counter("intent_total", ("intent",), self.intents)
            lines += histograms("request_latency_seconds", "path", self.latency)
            lines += histograms("component_latency_seconds", "component", self.components)
        for g, v in sorted((gauges or {}).items()):
            lines.append(f"# TYPE mighty_{g} gauge")
            lines.append(f"mighty_{g} {v}")
        return "\n".join(lines) + "\n"
