"""The reranker stage: candidates → teacher p(Yes) → student → evaluation → artefact.

`run(cfg, out, teacher_source=..., seed=...)` writes
  out/teacher_scores.npz   the teacher's p(Yes) and mass per candidate (reused when it matches)
  out/model/               the student (`models.reranker.load_reranker`)
  out/metrics.jsonl        per-step training metrics (`rerank/…`)
  out/results.json         recall@1/@3, NDCG@10 with CIs for BM25, BM25 + teacher, BM25 + student;
                           paired CIs vs BM25; latency per question; confidence ECE; the example
  out/manifest.json
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import time
from pathlib import Path
from typing import Any

import jax
import numpy as np
from flax import nnx

from mighty.distill.rerank import evaluate as ev
from mighty.distill.rerank.config import RerankConfig
from mighty.distill.rerank.data import Candidates, build_candidates, eval_cases, training_questions
from mighty.distill.rerank.step import train
from mighty.distill.rerank.teacher import score_candidates
from mighty.models.reranker import Reranker, RerankerConfig, RerankScorer, entry_document, save_reranker
from mighty.models.textbag import BagConfig, featurize

log = logging.getLogger(__name__)
EXAMPLE = "my bluetooth speaker keeps disconnecting from my phone every few minutes"


def _teacher(source: str, teacher: tuple | None):
    if teacher is not None:
        return teacher
    if source == "none":
        return None
    from mighty import models

    model, tok = models.load_pretrained(source, dtype="float32")
    if tok is None:
        raise ValueError(f"teacher {source!r} has no tokenizer; the reranker teacher needs its chat template")
    return model, tok


def _cached_teacher(path: Path, key: str, teacher, c: Candidates, kb, cfg: RerankConfig):
    """(p_yes_qk, mass_qk, seconds_q), from `path` when it was written for the same `key`."""
    if path.exists():
        with np.load(path) as z:
            if str(z["key"]) == key:
                return z["p"], z["mass"], z["seconds"]
    if not len(c):
        return np.zeros(c.cand_qk.shape, np.float32), np.zeros(c.cand_qk.shape, np.float32), np.zeros(0)
    entries = [[kb[i] for i in row] for row in c.cand_qk]
    p, mass, secs = score_candidates(*teacher, c.questions, entries, batch_size=cfg.teacher_batch,
                                     max_tokens=cfg.teacher_max_tokens)
    np.savez(path, key=key, p=p, mass=mass, seconds=secs)
    return p, mass, secs


def _key(*parts: Any) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


def _known_mask(c: Candidates, kb, train_issue_ids) -> np.ndarray:
    """[Q, k] 1 on candidates whose issue some training question is about. An entry no
    training question is about (the val/eval issues) is a negative in every list it appears
    in, so the student would learn its identity as "never relevant" and bury exactly the
    entries the held-out questions need: such candidates are left out of the loss."""
    known = {i for i in train_issue_ids}
    kb_ids = np.array([e["issue_id"] for e in kb])
    return np.isin(kb_ids[c.cand_qk], sorted(known)).astype(np.float32)


def _student_scores(scorer: RerankScorer, c: Candidates, kb) -> tuple[np.ndarray, np.ndarray]:
    logits, secs = [], []
    for q, row, s in zip(c.questions, c.cand_qk, c.bm25_qk):
        t0 = time.perf_counter()
        logits.append(scorer.score(q, [kb[i] for i in row], s))
        secs.append(time.perf_counter() - t0)
    return np.asarray(logits), np.asarray(secs)


def _confidence_report(reranked, retriever_bm25, cases) -> dict:
    """ECE of the top-hit confidence on the eval's in-scope (gold issue) and out-of-scope
    (always wrong) cases: the reranker's softmax and sigmoid confidences, and BM25's calibrated one."""
    from mighty.data.calibration import expected_calibration_error

    keep = [c for c in cases if c["bucket"] in ("in_scope", "out_of_scope")]
    qs = [c["question"] for c in keep]
    ids = [c["issue_id"] if c["bucket"] == "in_scope" else None for c in keep]
    out = {"n": len(qs), "n_out_of_scope": sum(i is None for i in ids)}
    correct = reranked.top_correct(qs, ids)
    mode = reranked.confidence_mode
    for m in ("softmax", "sigmoid"):
        reranked.confidence_mode = m
        out[f"ece_rerank_{m}"] = expected_calibration_error([reranked.confidence(q) for q in qs], correct)
    reranked.confidence_mode = mode
    bm_correct = retriever_bm25.top_correct(qs, ids)
    out["ece_bm25_calibrated"] = expected_calibration_error([retriever_bm25.confidence(q) for q in qs], bm_correct)
    out["top1_rerank"], out["top1_bm25"] = float(correct.mean()), float(bm_correct.mean())
    return out


def run(cfg: RerankConfig, out: Path, *, teacher_source: str, seed: int, teacher: tuple | None = None,
        kb: list[dict] | None = None, train_prompts: list[dict] | None = None,
        val_prompts: list[dict] | None = None,
        eval_set: list[dict] | None = None, progress: bool = True) -> dict:
    """The whole stage (see the module doc). `teacher`, `kb`, `train_prompts`, `val_prompts`
    (model selection: issues the training split lacks; [] for none), `eval_set` override the packaged teacher and the bundled data (tests)."""
    from mighty import data
    from mighty.data.calibration import calibrated_retriever
    from mighty.data.rerank import RerankedRetriever
    from mighty.data.retrieval import Retriever
    from mighty.runtime import atomic_write_json, write_manifest

    started, out = time.time(), Path(out)
    out.mkdir(parents=True, exist_ok=True)
    kb = data.load_kb() if kb is None else kb
    train_prompts = data.load_prompts("train") if train_prompts is None else train_prompts
    val_prompts = data.load_prompts("val") if val_prompts is None else val_prompts
    eval_set = data.load_eval() if eval_set is None else eval_set
    retriever = Retriever(kb)
    root = jax.random.PRNGKey(seed)
    k_init, k_data = jax.random.split(root)

    qs, ids = training_questions(kb, train_prompts, cfg.train_questions, seed)
    perm = np.random.default_rng(seed).permutation(len(qs))  # the teacher scores the first rows
    qs, ids = [qs[i] for i in perm], [ids[i] for i in perm]
    tr = build_candidates(retriever, qs, ids, cfg.k)
    te = build_candidates(retriever, *eval_cases(eval_set, kb, cfg.eval_limit), cfg.k)

    tm = _teacher(teacher_source, teacher)
    n_t = min(cfg.teacher_questions, len(tr)) if tm is not None else 0
    t_key = _key(teacher_source, cfg.teacher_max_tokens, [e["issue_id"] for e in kb])
    teach_tr = np.zeros(tr.cand_qk.shape, np.float32)
    teach_mask = np.zeros(tr.cand_qk.shape, np.float32)
    report_teacher: dict[str, Any] = {"source": teacher_source, "questions_scored": n_t}
    if tm is not None and n_t:
        sub = Candidates(tr.questions[:n_t], tr.issue_ids[:n_t], tr.cand_qk[:n_t], tr.bm25_qk[:n_t],
                         tr.lex_qkf[:n_t], tr.label_qk[:n_t], tr.bm25_seconds_q[:n_t])
        p, mass, secs = _cached_teacher(out / "teacher_scores_train.npz",
                                        _key(t_key, sub.questions, sub.cand_qk.tolist()), tm, sub, kb, cfg)
        teach_tr[:n_t], teach_mask[:n_t] = p, 1.0
        per_q = ev.per_question(ev.order_by(p), sub.label_qk)  # the teacher on its own training questions
        report_teacher.update(train_mass_mean=float(mass.mean()), train_latency=ev.latency_ms(secs),
                              train_recall_at_1=float(per_q["recall@1"].mean()),
                              train_bm25_recall_at_1=float(sub.label_qk[:, 0].mean()))

    rcfg = RerankerConfig(bag=BagConfig(buckets=cfg.buckets, dim=cfg.dim, max_ids=cfg.max_ids), hidden=cfg.hidden)
    model = Reranker(rcfg, rngs=nnx.Rngs(int(jax.random.randint(k_init, (), 0, 2**31 - 1))))
    arrays = {"q_ids": featurize(tr.questions, rcfg.bag), "kb_ids": featurize([entry_document(e) for e in kb], rcfg.bag),
              "cand": tr.cand_qk, "lex": tr.lex_qkf, "label": tr.label_qk, "teacher": teach_tr,
              "teacher_mask": teach_mask, "mask": _known_mask(tr, kb, ids) if cfg.mask_unseen else np.ones_like(tr.label_qk)}
    va = build_candidates(retriever, *training_questions(kb, val_prompts, 0, seed), cfg.k) if val_prompts else None
    val = None if va is None else {"q_ids": featurize(va.questions, rcfg.bag), "cand": va.cand_qk,
                                   "lex": va.lex_qkf, "label": va.label_qk}
    t_train = time.time()
    steps = train(model, arrays, steps=cfg.steps, batch_size=cfg.batch_size, lr=cfg.lr,
                  weight_decay=cfg.weight_decay, alpha=cfg.alpha if n_t else 1.0, supervised=cfg.supervised,
                  teacher_frac=cfg.teacher_frac, n_teacher=n_t, key=k_data,
                  train_encoder=cfg.train_encoder, val=val, eval_every=cfg.eval_every,
                  progress=progress)
    train_s = time.time() - t_train
    with open(out / "metrics.jsonl", "w") as f:
        f.writelines(json.dumps(m) + "\n" for m in steps)

    meta = {"k": cfg.k, "confidence": cfg.confidence, "teacher_source": teacher_source, "seed": seed,
            "alpha": cfg.alpha if n_t else 1.0, "supervised": cfg.supervised}
    save_reranker(out / "model", model, meta)
    scorer = RerankScorer(model, meta)
    scorer.prepare(kb)
    logits_te, student_secs = _student_scores(scorer, te, kb)
    systems = {"bm25": ev.per_question(np.tile(np.arange(cfg.k), (len(te), 1)), te.label_qk),
               "bm25+student": ev.per_question(ev.order_by(logits_te), te.label_qk)}
    latency = {"bm25": ev.latency_ms(te.bm25_seconds_q),
               "student_rerank": ev.latency_ms(student_secs),
               "bm25+student": ev.latency_ms(te.bm25_seconds_q + student_secs)}
    if tm is not None and cfg.teacher_eval and len(te):
        p_te, mass_te, t_secs = _cached_teacher(out / "teacher_scores_eval.npz",
                                                _key(t_key, te.questions, te.cand_qk.tolist()), tm, te, kb, cfg)
        systems["bm25+teacher"] = ev.per_question(ev.order_by(p_te), te.label_qk)
        latency["teacher_rerank"] = ev.latency_ms(t_secs)
        report_teacher["eval_mass_mean"] = float(mass_te.mean())
    metrics = ev.summarise(systems, "bm25", cfg.n_boot, seed)

    reranked = RerankedRetriever(retriever, scorer, k=cfg.k, confidence=cfg.confidence)
    bm25_cal = calibrated_retriever(kb, "bm25", train_prompts)
    ex_hits, ex_conf = reranked.search_with_confidence(EXAMPLE, 3)
    bm_hits, bm_conf = bm25_cal.search_with_confidence(EXAMPLE, 3)
    example = {"question": EXAMPLE,
               "bm25": {"top3": [e["issue_id"] for e, _ in bm_hits], "confidence": bm_conf},
               "bm25+student": {"top3": [e["issue_id"] for e, _ in ex_hits], "confidence": ex_conf}}
    results = {"n_eval": len(te), "n_train_questions": len(tr), "gold_in_top_k_eval": float(te.gold_in_k().mean()),
               "gold_in_top_k_train": float(tr.gold_in_k().mean()), **metrics, "latency": latency,
               "teacher": report_teacher, "confidence": _confidence_report(reranked, bm25_cal, eval_set),
               "example": example, "train_seconds": round(train_s, 2),
               "final_train": next((m for m in reversed(steps) if "rerank/loss" in m), None),
               "selection": steps[-1] if va is not None else None, "n_val_questions": 0 if va is None else len(va), "wall_time_s": round(time.time() - started, 2)}
    atomic_write_json(out / "results.json", results)
    write_manifest(out, stage="rerank", cfg={"rerank": dataclasses.asdict(cfg), "teacher_source": teacher_source},
                   seed=seed, started=started, n_train_questions=len(tr), n_teacher_questions=n_t,
                   n_eval=len(te))
    s = metrics["systems"]
    return {"out": str(out), "model": str(out / "model"),
            **{f"{name}/{m}": s[name][m]["value"] for name in s for m in ("recall@1", "ndcg@10")},
            "student_minus_bm25/ndcg@10": metrics["vs_bm25"]["bm25+student"]["ndcg@10"],
            "wall_time_s": results["wall_time_s"]}
