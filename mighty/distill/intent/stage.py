"""The intent router stage: data → teacher ensemble soft labels → hard / soft / blend students
→ evaluation of the four systems → the blend saved as the router artefact."""
from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import numpy as np

from mighty.data.contamination import MiniLM
from mighty.models.intent import load_intent_model, save_intent_model
from mighty.runtime import atomic_write_json, write_manifest

from .config import IntentConfig
from .data import build, rare_intents
from .evaluate import classification_metrics, latency_ms, rare_recall_ci
from .intents import INTENTS
from .teacher import (LLMAdjudicator, ask_llm, fit_temperature, load_llm, pool, probe_probs,
                      rule_flags)
from .training import student_meta, train_student


def _xy(rows):
    return [r["text"] for r in rows], np.array([INTENTS.index(r["intent"]) for r in rows])


def run(cfg: IntentConfig, out: Path, *, teacher_source: str, seed: int) -> dict:
    t_start = time.time()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    labels = list(INTENTS)
    data = build(cfg.data)
    rare = rare_intents(data["counts"]["train"], cfg.rare_threshold)
    (tr_x, tr_y), (va_x, va_y), (ev_x, ev_y) = (_xy(data[s]) for s in ("train", "val", "eval"))

    # ---- teacher members
    ens = cfg.ensemble
    embedder = MiniLM()
    emb = {s: embedder(x) for s, x in (("train", tr_x), ("val", va_x), ("eval", ev_x))}
    probe_tr, (probe_va, probe_ev), probe = probe_probs(emb["train"], tr_y, [r["group"] for r in data["train"]],
                                                         [emb["val"], emb["eval"]], ens, len(labels))
    rules = {"train": rule_flags(tr_x), "val": rule_flags(va_x), "eval": rule_flags(ev_x)}
    llm_pair = load_llm(teacher_source)
    adj = None if llm_pair is None else LLMAdjudicator(*llm_pair, labels, batch_size=ens.llm_batch_size,
                                                       cache_path=out / "llm_cache.json")
    t_llm = time.time()
    llm_trva = ask_llm(np.concatenate([probe_tr, probe_va]), tr_x + va_x, adj, threshold=ens.llm_threshold,
                       budget=ens.max_llm_calls)
    llm_tr, llm_va = llm_trva[: len(tr_x)], llm_trva[len(tr_x):]
    llm_ev = ask_llm(probe_ev, ev_x, adj, threshold=ens.llm_threshold, budget=ens.max_llm_eval_calls)
    llm_s = time.time() - t_llm
    temperature = fit_temperature(probe_va, llm_va, rules["val"], va_y, ens)
    soft_tr = pool(probe_tr, llm_tr, rules["train"], ens, temperature)
    teacher_ev = pool(probe_ev, llm_ev, rules["eval"], ens, temperature)

    # ---- students
    systems, losses = {}, {}
    for name, alpha in (("hard", 1.0), ("soft", 0.0), ("blend", cfg.alpha)):
        model, losses[name] = train_student(tr_x, tr_y, soft_tr, len(labels), cfg.student, alpha=alpha, seed=seed)
        save_intent_model(out / "students" / name, model, student_meta(
            cfg.student, labels, alpha=alpha, rare=rare, eval_sha256=data["eval_sha256"], seed=seed))
        systems[name] = load_intent_model(out / "students" / name)

    # ---- evaluation
    probs = {name: r.predict_proba(ev_x) for name, r in systems.items()}
    probs["teacher"] = teacher_ev
    majority = np.bincount(tr_y, minlength=len(labels)).argmax()
    probs["majority"] = np.eye(len(labels))[np.full(len(ev_y), majority)]
    metrics = {name: classification_metrics(p, ev_y, labels, rare) for name, p in probs.items()}
    lat_texts = ev_x[: cfg.latency_n]
    for name, r in systems.items():
        metrics[name]["latency"] = latency_ms(r.predict_proba, lat_texts)

    def teacher_one(texts):  # the ensemble on one fresh question: rules + MiniLM probe + LLM if unsure
        p = probe.predict_proba(embedder(texts))
        llm = (adj._forward(list(texts)) if adj is not None and p.max() < ens.llm_threshold
               else np.full((len(texts), len(labels)), np.nan))
        full = np.full((len(texts), len(labels)), 1e-6)
        full[:, probe.classes_] = p
        return pool(full / full.sum(1, keepdims=True), llm, rule_flags(texts), ens, temperature)

    metrics["teacher"]["latency"] = latency_ms(teacher_one, ev_x[: cfg.teacher_latency_n], warmup=3)
    rare_ids = [labels.index(r) for r in rare]
    pred = {n: p.argmax(1) for n, p in probs.items()}
    ci = {"blend_minus_hard_rare_recall": rare_recall_ci(pred["blend"], pred["hard"], ev_y, rare_ids, seed=seed, n_boot=cfg.n_boot),
          "blend_minus_soft_rare_recall": rare_recall_ci(pred["blend"], pred["soft"], ev_y, rare_ids, seed=seed, n_boot=cfg.n_boot)}

    save_intent_model(out / "model", systems["blend"].model, student_meta(
        cfg.student, labels, alpha=cfg.alpha, rare=rare, eval_sha256=data["eval_sha256"], seed=seed,
        temperature=cfg.student.temperature))
    blend = metrics["blend"]
    combination = {"rule": ens.combine, "w_probe": ens.w_probe, "w_llm": ens.w_llm, "w_rule": ens.w_rule,
                   "rule_override": ens.rule_override, "rule_mass": ens.rule_mass,
                   "calibrated_temperature": temperature, "llm_threshold": ens.llm_threshold,
                   "llm_asked": {"train": int((~np.isnan(llm_tr).any(1)).sum()),
                                 "val": int((~np.isnan(llm_va).any(1)).sum()),
                                 "eval": int((~np.isnan(llm_ev).any(1)).sum())},
                   "llm_seconds": round(llm_s, 1), "teacher_source": teacher_source,
                   "rules_fired": {s: int(v.sum()) for s, v in rules.items()}}
    results = {
        "gates": {"macro_f1": blend["macro_f1"], "rare_recall": blend["rare_recall"],
                  "latency_p95_ms": blend["latency"]["p95_ms"], "ece": blend["ece"]},
        "labels": labels, "rare_intents": rare, "counts": data["counts"], "eval_sha256": data["eval_sha256"],
        "systems": metrics, "ci": ci, "combination": combination, "alpha": cfg.alpha,
        "train_loss": losses, "wall_time_s": round(time.time() - t_start, 1),
    }
    atomic_write_json(out / "results.json", results)
    write_manifest(out, stage="intent", cfg={"intent": dataclasses.asdict(cfg), "teacher_source": teacher_source},
                   seed=seed, started=t_start, eval_sha256=data["eval_sha256"],
                   llm_calls=0 if adj is None else adj.calls)
    return {"macro_f1": {n: round(m["macro_f1"], 3) for n, m in metrics.items()},
            "rare_recall": {n: round(m["rare_recall"], 3) for n, m in metrics.items()},
            "blend_minus_hard_rare_recall": ci["blend_minus_hard_rare_recall"],
            "latency_p95_ms": {n: round(m["latency"]["p95_ms"], 2) for n, m in metrics.items() if "latency" in m},
            "wall_time_s": results["wall_time_s"]}
