"""The data build: load -> clean -> dedup -> tag -> split -> contamination guard -> write.

Each stage is a short pure function over lists of records returning (records, report); `build`
chains them and `write_outputs` puts the result on disk. Nothing is dropped without a count
in `data_report.json`.
"""
from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

from mighty.data import clean as clean_mod
from mighty.data import contamination, dedup as dedup_mod, split as split_mod, tagging
from mighty.data.config import DataConfig
from mighty.data.corpus.scope import is_out_of_scope
from mighty.data.frozen import verify_manifest
from mighty.runtime import file_sha256
from mighty.data.io import load_records, write_jsonl
from mighty.data.paths import CORPUS_DIR

PROMPT_TAGS = {"device_type": tagging.DEVICE_LEXICON, "symptom_category": tagging.SYMPTOM_LEXICON}


@dataclasses.dataclass
class Corpus:
    kb: list[dict]
    prompts: list[dict]
    forum: list[dict]
    eval_cases: list[dict]
    heldout_issues: list[str]
    files: dict[str, str]  # relative path -> sha256 of every input read


@dataclasses.dataclass
class BuildResult:
    train: list[dict]
    val: list[dict]
    eval_cases: list[dict]
    heldout: list[dict]
    forum: list[dict]
    report: dict[str, Any]


def corpus_dir(cfg: DataConfig) -> Path:
    return Path(cfg.corpus_dir) if cfg.corpus_dir else CORPUS_DIR


def load_heldout(path: Path) -> list[str]:
    try:
        ids = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise ValueError(f"{path}:{e.lineno}: bad JSON: {e.msg} (expected a list of issue ids)") from e
    ids = ids.get("issue_ids", ids) if isinstance(ids, dict) else ids
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        raise ValueError(f"{path}:1: expected a JSON list of issue_id strings "
                         f"(or {{\"issue_ids\": [...]}})")
    return ids


def load_corpus(cfg: DataConfig) -> tuple[Corpus, dict[str, Any]]:
    """Reads every corpus file (eval verified against its manifest); returns loader reports."""
    root = corpus_dir(cfg)
    reports, files = {}, {}
    out = {}
    for key, rel, kind in (("kb", "kb.jsonl", "kb"), ("prompts", "prompts.jsonl", "prompt"),
                           ("forum", "forum_raw.jsonl", "forum"), ("eval", "eval/eval.jsonl", "eval")):
        path = root / rel
        if key == "forum" and (not cfg.use_forum or not path.exists()):
            out[key], reports[key] = [], {"skipped": "disabled" if not cfg.use_forum else "absent"}
            continue
        if key == "eval":
            verify_manifest(path.parent)
        out[key], rep = load_records(path, kind, on_error=cfg.on_error)
        reports[key] = rep.as_dict()
        files[rel] = file_sha256(path)
    held_path = root / "eval" / "heldout_issues.json"
    heldout = load_heldout(held_path) if held_path.exists() else []
    if held_path.exists():
        files["eval/heldout_issues.json"] = file_sha256(held_path)
    return Corpus(out["kb"], out["prompts"], out["forum"], out["eval"], heldout, files), reports


def check_references(corpus: Corpus) -> dict[str, int]:
    """Every prompt/eval/held-out issue_id must exist in the KB; errors name the offender."""
    kb_ids = {e["issue_id"] for e in corpus.kb}
    for rec in corpus.prompts:
        if rec["issue_id"] not in kb_ids and not is_out_of_scope(rec["issue_id"]):
            raise ValueError(f"prompts.jsonl: prompt {rec['prompt_id']!r} names unknown issue "
                             f"{rec['issue_id']!r} (add it to kb.jsonl or fix the id)")
    for case in corpus.eval_cases:
        if case["issue_id"] is not None and case["issue_id"] not in kb_ids:
            raise ValueError(f"eval/eval.jsonl: case {case['case_id']!r} names unknown issue "
                             f"{case['issue_id']!r}")
    unknown = sorted(set(corpus.heldout_issues) - kb_ids)
    if unknown:
        raise ValueError(f"eval/heldout_issues.json: unknown issue ids {unknown[:5]}")
    return {"kb_issues": len(kb_ids), "heldout_issues": len(corpus.heldout_issues)}


def clean_stage(corpus: Corpus, cfg: DataConfig) -> tuple[Corpus, dict[str, Any]]:
    opts = dataclasses.asdict(cfg.clean)
    kb, r_kb = clean_mod.clean_records(corpus.kb, [], id_field="issue_id",
                                       light_fields=["title", "causes", "steps", "escalation"], **opts)
    prompts, r_p = clean_mod.clean_records(corpus.prompts, ["question"], id_field="prompt_id", **opts)
    forum, r_f = clean_mod.clean_records(corpus.forum, ["question", "answer"], id_field="post_id", **opts)
    report = {"kb": r_kb.as_dict(), "prompts": r_p.as_dict(), "forum": r_f.as_dict()}
    if any("planted" in p for p in corpus.forum):
        report["forum"]["noise_recovery"] = noise_recovery(corpus.forum, forum)
    return dataclasses.replace(corpus, kb=kb, prompts=prompts, forum=forum), report


def _planted_strings(kind: str, planted: list[str]) -> list[str]:
    if kind == "unicode_whitespace":  # recorded as code points, e.g. "U+00A0"
        return [chr(int(p[2:], 16)) for p in planted if p.startswith("U+")]
    return planted


def noise_recovery(raw: list[dict], cleaned: list[dict]) -> dict[str, Any]:
    """Per planted noise kind: posts carrying it and posts where every planted string is gone;
    plus how much of the pre-noise text (`clean_question`/`clean_answer`) survived cleaning."""
    by_id = {c["post_id"]: c for c in cleaned}
    kinds: dict[str, dict[str, int]] = {}
    kept_words = total_words = 0
    for post in raw:
        out = by_id.get(post["post_id"])
        text = f"{out['question']}\n{out['answer']}" if out else ""
        for kind, strings in (post.get("planted") or {}).items():
            st = kinds.setdefault(kind, {"planted": 0, "removed": 0})
            st["planted"] += 1
            st["removed"] += all(s not in text for s in _planted_strings(kind, strings))
        if out and "clean_question" in post:
            ref, _ = clean_mod.clean_text(f"{post['clean_question']}\n{post['clean_answer']}",
                                          chatter=False, signatures=False, urls=False)
            have = set(dedup_mod.shingles(text, 1))
            words = dedup_mod.shingles(ref, 1)
            kept_words += len(words & have)
            total_words += len(words)
    return {"kinds": kinds, "clean_word_retention": round(kept_words / max(1, total_words), 4)}


def dedup_stage(corpus: Corpus, cfg: DataConfig) -> tuple[Corpus, dict[str, Any]]:
    kw = dict(threshold=cfg.dedup.threshold, ngram=cfg.dedup.ngram, num_perm=cfg.dedup.num_perm,
              seed=cfg.seed + 1)
    p = dedup_mod.dedup(corpus.prompts, text=lambda r: r["question"], id_field="prompt_id", **kw)
    # forum posts on one issue share the KB's steps in their answers: dedup on the question
    # and keep the earliest post (lowest id) of each cluster, whatever the file order
    forum = sorted(corpus.forum, key=lambda r: r["post_id"])
    f = dedup_mod.dedup(forum, text=lambda r: r["question"], id_field="post_id", **kw)
    report = {"prompts": p.as_dict(), "forum": f.as_dict(),
              "clusters": {"prompts": p.clusters, "forum": f.clusters}}
    if any("duplicate_of" in r for r in corpus.forum):
        report["forum"]["vs_planted"] = dedup_agreement(corpus.forum, f.kept)
    return dataclasses.replace(corpus, prompts=p.kept, forum=f.kept), report


def dedup_agreement(posts: list[dict], kept: list[dict]) -> dict[str, Any]:
    """Removed posts vs the planted `duplicate_of` labels: precision and recall."""
    kept_ids = {r["post_id"] for r in kept}
    removed = {r["post_id"] for r in posts} - kept_ids
    planted = {r["post_id"] for r in posts if r.get("duplicate_of")}
    hit = len(removed & planted)
    return {"planted": len(planted), "removed": len(removed), "true_positive": hit,
            "precision": round(hit / len(removed), 4) if removed else None,
            "recall": round(hit / len(planted), 4) if planted else None,
            "missed": sorted(planted - removed)[:20], "extra": sorted(removed - planted)[:20]}


def tag_stage(corpus: Corpus, cfg: DataConfig) -> tuple[Corpus, dict[str, Any]]:
    if cfg.tag_lexicon == "none":
        return corpus, {"skipped": "tag_lexicon=none"}
    prompts, r_p = tagging.tag_records(corpus.prompts, text_field="question", lexicons=PROMPT_TAGS)
    forum, r_f = tagging.tag_records(corpus.forum, text_field="question", lexicons=PROMPT_TAGS)
    return dataclasses.replace(corpus, prompts=prompts, forum=forum), {"prompts": r_p, "forum": r_f}


def eval_issue_ids(corpus: Corpus, cfg: DataConfig) -> list[str]:
    ids = set(corpus.heldout_issues)
    if cfg.split.exclude_eval_case_issues:
        ids |= {c["issue_id"] for c in corpus.eval_cases if c["issue_id"] is not None}
    return sorted(ids)


def build(cfg: DataConfig) -> BuildResult:
    """Runs every stage in memory; deterministic for a given config and corpus."""
    corpus, load_rep = load_corpus(cfg)
    report: dict[str, Any] = {"load": load_rep, "inputs": corpus.files,
                              "references": check_references(corpus)}
    corpus, report["clean"] = clean_stage(corpus, cfg)
    corpus, report["dedup"] = dedup_stage(corpus, cfg)
    corpus, report["tagging"] = tag_stage(corpus, cfg)
    parts = split_mod.split_by_issue(corpus.prompts, eval_issues=eval_issue_ids(corpus, cfg),
                                     val_frac=cfg.split.val_frac, seed=cfg.seed)
    report["split"] = parts.as_dict()
    if not parts.train:
        raise ValueError("data build: no training prompts left after the split (every issue is "
                         "held out for eval; set data.split.exclude_eval_case_issues=false?)")
    guard_kw = dict(threshold=cfg.contamination.threshold, embedding=cfg.contamination.embedding)
    g_train = contamination.guard(parts.train, corpus.eval_cases, **guard_kw)
    g_val = contamination.guard(parts.val, corpus.eval_cases, **guard_kw)
    forum, report["forum_split"] = split_forum(corpus.forum, parts)
    g_forum = contamination.guard(forum, corpus.eval_cases, id_field="post_id", **guard_kw)
    report["contamination"] = {"train": g_train.as_dict(), "val": g_val.as_dict(),
                               "forum": g_forum.as_dict()}
    report["final"] = {"train": len(g_train.kept), "val": len(g_val.kept),
                       "eval": len(corpus.eval_cases), "heldout_prompts": len(parts.heldout),
                       "forum": len(g_forum.kept), "kb": len(corpus.kb)}
    return BuildResult(g_train.kept, g_val.kept, corpus.eval_cases, parts.heldout, g_forum.kept, report)


def split_forum(posts: list[dict], parts: split_mod.SplitResult) -> tuple[list[dict], dict[str, int]]:
    """Tags each post with the split of its issue; posts of eval issues are dropped (counted)."""
    where = {**{i: "train" for i in parts.train_issues}, **{i: "val" for i in parts.val_issues},
             **{i: "eval" for i in parts.eval_issues}}
    out, counts = [], {"train": 0, "val": 0, "eval_dropped": 0, "no_issue": 0}
    for post in posts:
        split = where.get(post.get("issue_id"), "no_issue" if not post.get("issue_id") else "train")
        if split == "eval":
            counts["eval_dropped"] += 1
            continue
        counts[split] += 1
        out.append({**post, "split": split})
    return out, counts


def write_outputs(result: BuildResult, out_dir: str | Path, grounding=None) -> dict[str, str]:
    """Writes the split files, `data_report.json` and `grounding.json` (the prompt grounding every
    later stage reads, `data.grounding`); returns {file: sha256}."""
    from mighty.data.grounding import GROUNDING_FILE, GroundingConfig, write_grounding

    out_dir = Path(out_dir)
    files = {"train.jsonl": result.train, "val.jsonl": result.val, "eval.jsonl": result.eval_cases,
             "heldout_prompts.jsonl": result.heldout, "forum_clean.jsonl": result.forum}
    for name, recs in files.items():
        write_jsonl(out_dir / name, recs)
    report_path = out_dir / "data_report.json"
    report_path.write_text(json.dumps(result.report, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    write_grounding(out_dir, GroundingConfig() if grounding is None else grounding)
    return {name: file_sha256(out_dir / name) for name in [*files, "data_report.json", GROUNDING_FILE]}
