"""Everything the routes share, built once at startup (models load in the lifespan)."""
from __future__ import annotations

import asyncio
import dataclasses
import logging
import time

from mighty.demo.config import LATEST_STUDENT, ServeConfig, registered, resolve_student
from mighty.demo.engine import Engine, GenRequest, ModelEngine
from mighty.demo.limits import RateLimiter
from mighty.demo.metrics import Metrics
from mighty.demo.runner import ModelRunner
from mighty.demo.service import Assistant

log = logging.getLogger("mighty.demo.state")
ROUTED_MODEL = "mighty"  # the OpenAI `model` name of the routed product (router + validator)


@dataclasses.dataclass
class ServerState:
    cfg: ServeConfig
    metrics: Metrics
    limiter: RateLimiter
    runners: dict[str, ModelRunner]
    assistant: Assistant
    transcriber: object | None  # demo.stt.Transcriber
    tts_ok: bool
    retrieval_ok: bool
    started: float
    stt_lock: asyncio.Semaphore
    student_origin: str = ""  # which checkpoint answers as the student, and why (UI, /healthz)
    retrieval_origin: str = ""  # BM25 alone, or which reranker reorders its candidates
    intent_origin: str = ""  # which intent classifier the router reads, or none

    def model_for(self, name: str | None) -> tuple[str, ModelRunner | None] | None:
        """An OpenAI `model` field -> (route, runner). None, "" and "mighty" are the routed
        product (runner None: the Assistant decides); "student" / "teacher" or an engine name
        are direct access, the student's when both routes serve the same model (the cheap one:
        the teacher is what the product exists to avoid). Unknown names -> None."""
        if name in (None, "", ROUTED_MODEL):
            return "routed", None
        if name in ("teacher", "student"):
            return name, self.runners[name]
        for route in ("student", "teacher"):
            if self.runners[route].name == name:
                return route, self.runners[route]
        return None


def load_engines(cfg: ServeConfig, student_source: str | None = None) -> dict[str, Engine]:
    """One engine per distinct source: a config whose student is the teacher serves both
    routes from a single copy of the weights."""
    from mighty.runtime.precision import resolve_dtype

    t0 = time.perf_counter()
    source = student_source or resolve_student(cfg.student, cfg.store, cfg.teacher)[0]
    buckets = sorted({1, cfg.engine.max_batch})  # few shapes: each one compiles the sampler
    dtype = cfg.engine.dtype
    teacher = ModelEngine(cfg.teacher, seed=cfg.engine.seed, batch_buckets=buckets, dtype=dtype)
    student = teacher if source == cfg.teacher else ModelEngine(
        source, seed=cfg.engine.seed + 1, teacher_source=cfg.teacher, batch_buckets=buckets, dtype=dtype)
    log.info("engines loaded in %.1fs: student=%s teacher=%s (%s)", time.perf_counter() - t0,
             student.name, teacher.name, resolve_dtype(dtype))
    return {"student": student, "teacher": teacher}


def load_retriever(cfg: ServeConfig):
    """(retriever, origin): the device-aware BM25 retriever, its confidence calibrated on the
    default data build's training split (data.calibration), as the pipeline's Grounder builds it;
    with a reranker (`cfg.reranker`), BM25's candidates reordered by it and the confidence the
    router reads calibrated on held-out questions (data.rerank)."""
    if not cfg.retrieval:
        return None, "retrieval off"
    from mighty import data
    from mighty.data.calibration import calibrated_retriever

    try:
        kb = data.load_kb()
    except FileNotFoundError as e:
        raise RuntimeError(f"retrieval=true needs the knowledge base ({e}); build it with "
                           "`python -m mighty.data.corpus.generate`, or serve with retrieval=false") from None
    path, origin = _artefact(cfg.reranker, cfg.store, "reranker")
    if path is None:
        return calibrated_retriever(kb), f"bm25 ({origin})"
    from mighty.data.rerank import calibrated_reranked_retriever

    return calibrated_reranked_retriever(kb, path), f"bm25+reranker ({origin})"


def _artefact(choice: str, store: str, kind: str) -> tuple[str | None, str]:
    """A distilled artefact's path and origin: "latest" (the registry's), "none", or a path."""
    if choice == LATEST_STUDENT:
        return registered(store, kind)
    if choice == "none":
        return None, f"{kind}=none"
    return choice, f"configured: {choice}"


def load_intent_router(cfg: ServeConfig):
    """(models.intent.IntentRouter or None, origin)."""
    path, origin = _artefact(cfg.intent_router, cfg.store, "router")
    if path is None:
        return None, f"hand rules only ({origin})"
    from mighty.models.intent import load_intent_model

    return load_intent_model(path), f"intent classifier ({origin})"


def load_transcriber(cfg: ServeConfig):
    if not cfg.stt.enabled:
        return None
    from mighty.demo.stt import Transcriber

    s = cfg.stt
    return Transcriber(model_path=s.model_path, cpu_threads=s.cpu_threads, beam_size=s.beam_size,
                       language=s.language, lexicon=s.lexicon,
                       max_bytes=cfg.limits.max_audio_bytes, max_seconds=cfg.limits.max_audio_seconds)


def tts_available(cfg: ServeConfig) -> bool:
    if not cfg.tts.enabled:
        return False
    import shutil

    return shutil.which("espeak-ng") is not None


def warmup(engines: dict[str, Engine], cfg: ServeConfig, plan) -> None:
    """Compile (and run once) the decode shapes real questions hit: the student prompt and
    the grounded teacher prompt, at full length, for each of `engine.warmup_batches`."""
    t0 = time.perf_counter()
    p = plan("my bluetooth headphones will not pair")
    done = set()
    for route, e in engines.items():
        msgs = p["student_messages"] if route == "student" else p["teacher_messages"]
        for b in cfg.engine.warmup_batches:
            key = (id(e), b, e.count_tokens(msgs))
            if key not in done:
                done.add(key)
                e.generate_batch([GenRequest(msgs, cfg.engine.max_new_tokens, cfg.engine.temperature,
                                             cfg.engine.top_p)] * b)
    log.info("warmup of batches %s done in %.1fs", cfg.engine.warmup_batches, time.perf_counter() - t0)


def build_state(cfg: ServeConfig, engines: dict[str, Engine] | None = None) -> ServerState:
    source, origin = resolve_student(cfg.student, cfg.store, cfg.teacher)
    log.info("student: %s", origin)
    engines = engines or load_engines(cfg, source)
    lim = cfg.limits
    runners = {}
    by_engine: dict[int, ModelRunner] = {}
    for route, eng in engines.items():
        if id(eng) not in by_engine:  # shared weights -> shared queue and batcher
            by_engine[id(eng)] = ModelRunner(
                eng, max_batch=cfg.engine.max_batch, window_s=cfg.engine.batch_window_ms / 1000,
                max_queue=lim.max_queue, max_concurrency=lim.max_concurrency,
                timeout_s=lim.queue_timeout_s)
        runners[route] = by_engine[id(eng)]
    metrics = Metrics()
    retriever, retrieval_origin = load_retriever(cfg)
    intent_router, intent_origin = load_intent_router(cfg)
    log.info("retrieval: %s; router: %s", retrieval_origin, intent_origin)
    assistant = Assistant(cfg, runners, retriever, metrics, intent_router)
    if cfg.engine.warmup_batches:
        warmup(engines, cfg, assistant.plan)
    return ServerState(
        cfg=cfg, metrics=metrics, limiter=RateLimiter(lim.rate_per_s, lim.burst),
        runners=runners, assistant=assistant,
        transcriber=load_transcriber(cfg), tts_ok=tts_available(cfg),
        retrieval_ok=retriever is not None, started=time.time(), stt_lock=asyncio.Semaphore(1),
        student_origin=origin, retrieval_origin=retrieval_origin, intent_origin=intent_origin)
