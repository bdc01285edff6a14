"""Labelled intent data: corpus prompts + forum posts + scope prompts + templates, split by issue.

Train/val are split by issue id (or template/topic group) so val measures unseen issues, and
the frozen eval is data/corpus/eval/eval.jsonl (its issues are held out of prompts and forum
by construction) mapped onto intents, plus the eval-only account/returns templates.
"""
from __future__ import annotations

import hashlib
import json
import zlib
from collections import Counter
from dataclasses import dataclass

from mighty.data.corpus import read_jsonl
from mighty.data.corpus.scope import OUT_OF_SCOPE_ISSUE_PREFIX, scope_prompts
from mighty.data.paths import EVAL_PATH, FORUM_PATH, HELDOUT_PATH, KB_PATH, PROMPTS_PATH

from .intents import CLARIFY, FAMILY_OF, INTENTS, OUT_OF_SCOPE, SAFETY, template_rows

_EVAL_INTENT = {"decline": OUT_OF_SCOPE, "clarify": CLARIFY, "escalate": SAFETY}


@dataclass
class DataConfig:
    val_frac: float = 0.15  # share of training groups (issues/topics/templates) held out for calibration
    n_account_train: int = 80
    n_clarify_train: int = 60
    n_account_eval: int = 18
    max_per_group: int = 0  # 0: all questions of an issue; >0 caps them (tiny runs)
    seed: int = 0

    def __post_init__(self):
        if not 0 < self.val_frac < 1:
            raise ValueError(f"intent.data.val_frac must be in (0, 1), got {self.val_frac}")
        if min(self.n_account_train, self.n_clarify_train, self.n_account_eval, self.max_per_group) < 0:
            raise ValueError("intent.data: counts must be >= 0")


def _issue_intent(issue_id: str, device_type: str, safety_issues: set[str]) -> str:
    if issue_id.startswith(OUT_OF_SCOPE_ISSUE_PREFIX):
        return OUT_OF_SCOPE
    if issue_id in safety_issues:
        return SAFETY
    return FAMILY_OF[device_type]


def corpus_rows(cfg: DataConfig) -> list[dict]:
    """Every training-side question with its intent (heldout eval issues excluded)."""
    safety = {k["issue_id"] for k in read_jsonl(KB_PATH) if k["safety"]}
    # the eval's in-scope issues are held out by the corpus; its escalate cases name safety
    # issues the corpus trains on, so those issues leave training here
    heldout = set(json.loads(HELDOUT_PATH.read_text())) | {e["issue_id"] for e in read_jsonl(EVAL_PATH)
                                                           if e["issue_id"]}
    rows = [{"text": p["question"], "group": p["issue_id"], "source": "prompts",
             "intent": _issue_intent(p["issue_id"], p["device_type"], safety)}
            for p in [*read_jsonl(PROMPTS_PATH), *scope_prompts()]]
    rows += [{"text": f["clean_question"], "group": f["issue_id"], "source": "forum",
              "intent": _issue_intent(f["issue_id"], f["device_type"], safety)}
             for f in read_jsonl(FORUM_PATH) if f["duplicate_of"] is None]
    rows = [r for r in rows if r["group"] not in heldout]
    rows += template_rows("train", n_account=cfg.n_account_train, n_clarify=cfg.n_clarify_train,
                          seed=cfg.seed)
    if cfg.max_per_group:
        seen: Counter = Counter()
        rows = [r for r in rows if (seen.update([r["group"]]) or seen[r["group"]] <= cfg.max_per_group)]
    return rows


def eval_rows(cfg: DataConfig) -> list[dict]:
    """The frozen eval split: eval.jsonl mapped to intents + eval-only account templates."""
    rows = [{"text": e["question"], "group": e["issue_id"] or e["case_id"], "source": "eval",
             "intent": _EVAL_INTENT.get(e["expected"]) or FAMILY_OF[e["device_type"]]}
            for e in read_jsonl(EVAL_PATH)]
    return rows + template_rows("eval", n_account=cfg.n_account_eval, n_clarify=0, seed=cfg.seed)


def _val_groups(rows: list[dict], cfg: DataConfig) -> set[str]:
    """Per intent, a seeded `val_frac` of its groups (at least one when it has two or more),
    so every intent is in the calibration split."""
    out: set[str] = set()
    for intent in INTENTS:
        groups = sorted({r["group"] for r in rows if r["intent"] == intent},
                        key=lambda g: zlib.crc32(f"{cfg.seed}:{g}".encode()))
        if len(groups) >= 2:
            out |= set(groups[: max(1, round(cfg.val_frac * len(groups)))])
    return out


def build(cfg: DataConfig) -> dict:
    """{"train", "val", "eval": rows, "counts": per split per intent, "eval_sha256": hash of
    the frozen split}. Deterministic for a config."""
    rows = corpus_rows(cfg)
    val = _val_groups(rows, cfg)
    out = {"train": [r for r in rows if r["group"] not in val],
           "val": [r for r in rows if r["group"] in val], "eval": eval_rows(cfg)}
    train_groups = {r["group"] for r in out["train"]}
    leak = train_groups & {r["group"] for r in out["eval"]}
    if leak:
        raise ValueError(f"intent data: eval groups also in train: {sorted(leak)[:5]}")
    train_texts = {r["text"].strip().lower() for r in rows}
    dup = [r["text"] for r in out["eval"] if r["text"].strip().lower() in train_texts]
    if dup:
        raise ValueError(f"intent data: eval questions also in training: {dup[:3]}")
    out["counts"] = {s: {i: sum(r["intent"] == i for r in out[s]) for i in INTENTS}
                     for s in ("train", "val", "eval")}
    blob = json.dumps([(r["text"], r["intent"]) for r in out["eval"]]).encode()
    out["eval_sha256"] = hashlib.sha256(blob).hexdigest()
    return out


def rare_intents(counts: dict[str, int], threshold: float = 0.03) -> list[str]:
    total = sum(counts.values())
    return [i for i, c in counts.items() if total and c / total < threshold]
