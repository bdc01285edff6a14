"""Which knowledge-base entries a question is answered from, for every stage and the demo.

`Grounder(kb, cfg).messages(question)` is the prompt the student sees at label, KD, GRPO,
eval and serve time; `messages(question, gold=entry, teacher=True)` is the teacher's label
prompt (the same retrieved entries, or, with `teacher_gold`, the gold entry for the teacher
only). The data stage writes its `GroundingConfig` to `<data_dir>/grounding.json`, so every
stage downstream reads the one choice the data stage's key was computed from.
"""
from __future__ import annotations

import dataclasses
import functools
import json
from pathlib import Path
from typing import Sequence

from mighty.data import hazard as hazard_rule
from mighty.data.calibration import calibrated_retriever
from mighty.data.prompts import format_prompt

GROUNDING_FILE = "grounding.json"
MODES = ("retrieved", "closed_book", "gold")


@dataclasses.dataclass
class GroundingConfig:
    """`data.grounding.*`: how prompts are grounded (one choice for every stage)."""

    mode: str = "retrieved"        # retrieved (the product) | closed_book (ablation) | gold (oracle ablation)
    k: int = 1                     # retrieved entries in the prompt (each costs ~90 prompt tokens)
    method: str = "bm25"           # bm25 | tfidf (data.retrieval)
    min_confidence: float = 0.5    # a top hit below this is not shown: the prompt says nothing matched.
                                   # The confidence is calibrated (data.calibration), so 0.5 shows an entry
                                   # when it is more likely right than wrong (frozen eval, BM25: 56% of
                                   # in-scope questions see their right entry, 11% of out-of-scope ones a
                                   # wrong one; the raw softmax at 0.6 showed 60% and 36%)
    safety_min_confidence: float = 0.2  # the same, for a top hit that is a safety entry. A missed hazard
                                   # costs more than a needless escalation, so it is shown sooner. Chosen
                                   # on the training + val questions: of the safety top hits below 0.5,
                                   # those at >= 0.2 are 23 where escalating is right (the question is
                                   # about a hazard) and 23 where it is not; below 0.2, 0 and 10
    hazard_aware: bool = True      # a question that reads as a hazard gets a close second safety entry
                                   # first (data.hazard: a classifier fitted on the training questions)
    hazard_threshold: float = hazard_rule.THRESHOLD  # P(hazard) from which it may (chosen by cross-
    hazard_ratio: float = hazard_rule.RATIO          # validation on train + val; see data.hazard)
    teacher_gold: bool = False     # label prompts show the gold entry instead of the retrieved ones
                                   # (privileged teacher); off: teacher and student see the same
    teacher_gold_hazards: bool = False  # ... only for a safety issue whose entry retrieval does not
                                   # show the student (nothing shown or another entry), so the student
                                   # learns to escalate a hazard retrieval missed. Off by default: in
                                   # the default run it added 4 such labels (91 -> 95 kept), the final
                                   # student still missed both eval hazards retrieval hides (escalation
                                   # 14/18), and decline recall fell 0.80 -> 0.50 (one seed; README)

    def __post_init__(self):
        if self.mode not in MODES:
            raise ValueError(f"data.grounding.mode must be one of {MODES}, got {self.mode!r}")
        if self.k < 1:
            raise ValueError(f"data.grounding.k must be >= 1, got {self.k}")
        if not 0.0 <= self.min_confidence <= 1.0:
            raise ValueError(f"data.grounding.min_confidence must be in [0, 1], got {self.min_confidence}")
        for name in ("hazard_threshold", "hazard_ratio"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"data.grounding.{name} must be in [0, 1], got {getattr(self, name)}")
        if not 0.0 <= self.safety_min_confidence <= 1.0:
            raise ValueError(f"data.grounding.safety_min_confidence must be in [0, 1], "
                             f"got {self.safety_min_confidence}")

    def shows(self, entry: dict, confidence: float) -> bool:
        """Whether a top hit goes into the prompt (else the prompt says nothing matched). The demo
        asks the same question, so serving shows what training and eval showed."""
        floor = self.safety_min_confidence if entry.get("safety") else self.min_confidence
        return confidence >= floor

    @classmethod
    def from_dict(cls, d: dict) -> "GroundingConfig":
        unknown = set(d) - {f.name for f in dataclasses.fields(cls)}
        if unknown:
            raise ValueError(f"grounding config: unknown keys {sorted(unknown)} "
                             f"(known: {[f.name for f in dataclasses.fields(cls)]})")
        return cls(**d)


def write_grounding(data_dir: str | Path, cfg: GroundingConfig) -> Path:
    path = Path(data_dir) / GROUNDING_FILE
    path.write_text(json.dumps(dataclasses.asdict(cfg), sort_keys=True) + "\n", encoding="utf-8")
    return path


def read_grounding(data_dir: str | Path) -> GroundingConfig:
    path = Path(data_dir) / GROUNDING_FILE
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: the data stage writes it (python -m mighty.data.build, "
                                f"or the pipeline's data stage); rebuild the data dir")
    return GroundingConfig.from_dict(json.loads(path.read_text(encoding="utf-8")))


def training_prompts(data_dir: str | Path | None) -> list[dict] | None:
    """The training split a data dir holds (`train.jsonl`), else None (the default build's)."""
    from mighty.data import load_prompts

    if data_dir is None or not (Path(data_dir) / "train.jsonl").is_file():
        return None
    return load_prompts("train", data_dir=data_dir)


class Grounder:
    """Retrieval + the one prompt builder. Deterministic: the same question gets the same entries."""

    def __init__(self, kb: Sequence[dict], cfg: GroundingConfig = GroundingConfig(),
                 train: Sequence[dict] | None = None):
        """`train`: the training prompts the retrieval confidence is calibrated on
        (`data.calibration`); None: the default data build's training split."""
        self.cfg = cfg
        self.kb = {e["issue_id"]: e for e in kb}
        self.retriever = (calibrated_retriever(list(kb), cfg.method, train, hazard=cfg.hazard_aware,
                                               hazard_threshold=cfg.hazard_threshold,
                                               hazard_ratio=cfg.hazard_ratio)
                          if cfg.mode == "retrieved" else None)
        self.retrieve = functools.lru_cache(maxsize=65536)(self._retrieve)

    @classmethod
    def from_data_dir(cls, data_dir: str | Path | None, kb: Sequence[dict] | None = None) -> "Grounder":
        """The data stage's grounding and training split (`data_dir=None`: the default build's)."""
        from mighty.data import load_kb

        cfg = GroundingConfig() if data_dir is None else read_grounding(data_dir)
        return cls(load_kb() if kb is None else kb, cfg, train=training_prompts(data_dir))

    def _retrieve(self, question: str) -> tuple[tuple[str, ...], float]:
        """(issue ids shown to the student, best first; confidence of the top hit)."""
        hits, conf = self.retriever.search_with_confidence(question, self.cfg.k)
        if not hits or not self.cfg.shows(hits[0][0], conf):
            return (), conf
        return tuple(e["issue_id"] for e, _ in hits), conf

    def entries(self, question: str, *, gold: dict | None = None, teacher: bool = False) -> list[dict] | None:
        """The entries in `question`'s prompt; None means closed-book."""
        mode = self.cfg.mode
        if mode == "closed_book":
            return None
        if mode == "gold" or (teacher and self.cfg.teacher_gold):
            return [gold] if gold is not None else []
        ids, _ = self.retrieve(question)
        if (teacher and self.cfg.teacher_gold_hazards and gold is not None and gold.get("safety")
                and gold["issue_id"] not in ids):
            return [gold]
        return [self.kb[i] for i in ids]

    def messages(self, question: str, *, gold: dict | None = None, teacher: bool = False) -> list[dict]:
        return format_prompt(question, entries=self.entries(question, gold=gold, teacher=teacher))

    def describe(self) -> dict:
        """What the report prints next to the answers it grounds."""
        r = self.retriever
        how = {} if r is None else {
            "retriever": f"{r.method}, device-aware" + (", calibrated" if r.calibration else ", uncalibrated")
                         + (", hazard-aware" if r.hazard is not None else ""),
            "calibration": r.calibration}
        return {**dataclasses.asdict(self.cfg), **how, "teacher_sees": self._teacher_sees()}

    def _teacher_sees(self) -> str:
        if self.cfg.teacher_gold or self.cfg.mode == "gold":
            return "the gold entry"
        if self.cfg.mode != "retrieved":
            return "the question alone"
        return "the student's retrieved entries" + (
            "; for a safety issue whose entry they miss, that entry (teacher_gold_hazards)"
            if self.cfg.teacher_gold_hazards else "")
