"""Dataclass configs for the data build, registered with Hydra's ConfigStore (typos fail early)."""
from __future__ import annotations

import dataclasses

from hydra.core.config_store import ConfigStore

from mighty.data.grounding import GroundingConfig


@dataclasses.dataclass
class CleanConfig:
    chatter: bool = True
    signatures: bool = True
    urls: bool = True


@dataclasses.dataclass
class DedupConfig:
    threshold: float = 0.7  # Jaccard of word shingles at or above which two texts are near-duplicates
    ngram: int = 3
    num_perm: int = 128

    def __post_init__(self):
        if not 0.0 < self.threshold <= 1.0:
            raise ValueError(f"data.dedup.threshold must be in (0, 1], got {self.threshold}")
        if self.ngram < 1 or self.num_perm < 16:
            raise ValueError("data.dedup: ngram must be ≥ 1 and num_perm ≥ 16")


@dataclasses.dataclass
class SplitConfig:
    val_frac: float = 0.1  # fraction of training issues held out for KD validation
    exclude_eval_case_issues: bool = True  # issues named by eval cases never train either

    def __post_init__(self):
        if not 0.0 <= self.val_frac < 1.0:
            raise ValueError(f"data.split.val_frac must be in [0, 1), got {self.val_frac}")


@dataclasses.dataclass
class ContaminationConfig:
    threshold: float = 0.92  # cosine to any eval prompt at or above which a prompt is dropped
    embedding: str = "tfidf"  # tfidf | minilm | auto

    def __post_init__(self):
        if self.embedding not in ("tfidf", "minilm", "auto"):
            raise ValueError(f"data.contamination.embedding must be tfidf|minilm|auto, "
                             f"got {self.embedding!r}")
        if not 0.0 < self.threshold <= 1.0:
            raise ValueError(f"data.contamination.threshold must be in (0, 1], got {self.threshold}")


@dataclasses.dataclass
class DataConfig:
    corpus_dir: str = ""  # empty: the bundled data/corpus
    out_dir: str = "artifacts/data"
    seed: int = 0
    on_error: str = "raise"  # raise | skip (skipped records are counted in the report)
    use_forum: bool = True  # clean/dedup/tag forum_raw.jsonl into forum_clean.jsonl
    tag_lexicon: str = "default"  # default | none
    clean: CleanConfig = dataclasses.field(default_factory=CleanConfig)
    dedup: DedupConfig = dataclasses.field(default_factory=DedupConfig)
    split: SplitConfig = dataclasses.field(default_factory=SplitConfig)
    contamination: ContaminationConfig = dataclasses.field(default_factory=ContaminationConfig)
    # how every stage grounds its prompts (written to <out_dir>/grounding.json for them)
    grounding: GroundingConfig = dataclasses.field(default_factory=GroundingConfig)

    def __post_init__(self):
        if self.on_error not in ("raise", "skip"):
            raise ValueError(f"data.on_error must be raise|skip, got {self.on_error!r}")
        if self.tag_lexicon not in ("default", "none"):
            raise ValueError(f"data.tag_lexicon must be default|none, got {self.tag_lexicon!r}")


def register() -> None:
    cs = ConfigStore.instance()
    cs.store(group="data", name="schema", node=DataConfig)
