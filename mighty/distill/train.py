"""`python -m mighty.distill.train`: distil the teacher into the student (the pipeline's kd stage).

Input: a label cache (`label_cache=`); output: `<run_dir>/metrics.jsonl`, W&B (offline),
orbax training checkpoints under `<run_dir>/ckpt` (state + sampler weights + cursor), the
final student (`models.save_checkpoint`, default `<run_dir>/student`) and `manifest.json`.
Killed and restarted with the same run_dir, it resumes from the last checkpoint and writes the
same metrics.jsonl as an uninterrupted run (perf/* timings aside).
"""
from __future__ import annotations

import dataclasses
import logging
import os
import signal
import time
from pathlib import Path

import hydra
import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx
from omegaconf import DictConfig, OmegaConf

from mighty.distill.alpha import boost_vocab_mask, lexicon_span_mask
from mighty.distill.batching import (TOKEN_ROW_KEYS, BucketedSampler, Example, fit_buckets, host_rng, left_pad,
                              split_examples, token_rows)
from mighty.distill.config import KDRunConfig, load_run_config
from mighty.distill.domain import measure_and_reweight, weight_metrics
from mighty.distill.evaluate import Evaluator
from mighty.distill.step import (LossSpec, make_kd_step, make_score_fn,
                          make_teacher_logits_fn)
from mighty.distill.student import init_student, load_teacher, param_count, params_of
from mighty.models.export import save_trained
from mighty.models.mesh import Layout, initialize_distributed, is_primary
from mighty.runtime import Checkpointer, MetricsLogger, RngStreams, write_manifest
from mighty.training import init_state, make_optimizer

log = logging.getLogger(__name__)
STREAMS = ("init", "data", "policy", "rollout", "eval")
FAULT_ENV = "MIGHTY_FAULT_KILL_AT_STEP"  # tests: SIGKILL this process right after logging step N


@dataclasses.dataclass
class Trainer:
    """Everything the host loop needs, built once by `build`."""

    run: KDRunConfig
    run_dir: Path
    tokenizer: object
    teacher: object
    graphdef: object
    rest: object
    state: dict
    train: list
    probe: list
    sampler: BucketedSampler
    evaluator: Evaluator
    rng: RngStreams
    kd_step: object
    on_policy_step: object | None
    boost_v: np.ndarray
    dropped: int
    n_params: int
    n_teacher_params: int
    layout: Layout | None = None  # mesh, rules, remat (conf/mesh); None: one device


# ----------------------------------------------------------------------------- setup


def load_examples(run: KDRunConfig, tokenizer, kb: dict) -> list[Example]:
    from mighty.distill.cache import read_examples

    return read_examples(run.label_cache, tokenizer, kb)


def retention_out_of_eval(train: list[Example], evals: list[Example]) -> tuple[list[Example], list[Example]]:
    """Generic-text rows (data.retention) have no answer to generate or score: the held-out ones
    the domain probe did not take train instead of entering the answer eval."""
    from mighty.data.retention import GENERIC_DOMAIN

    generic = [e for e in evals if e.device_type == GENERIC_DOMAIN]
    return train + generic, [e for e in evals if e.device_type != GENERIC_DOMAIN]


def token_strings(tokenizer, vocab_size: int) -> list[str]:
    return [tokenizer.decode([i], skip_special_tokens=False) for i in range(vocab_size)]


def add_boost(examples: list[Example], strings: list[str], boost_v: np.ndarray, lexicon: list[str]):
    """Per-token high-stakes flags: single-token vocab matches + multi-token lexicon spans."""
    for e in examples:
        span = lexicon_span_mask(e.completion_ids[None], strings, lexicon)[0] if lexicon else False
        e.boost = boost_v[e.completion_ids] | span


def kb_lexicon(kb: dict) -> list[str]:
    terms = set()
    for entry in kb.values():
        terms.add(entry["device_type"].replace("_", " "))
        terms.add(entry["model_family"])
    return sorted(t for t in terms if t)


def load_kb_index(run: KDRunConfig) -> dict:
    if run.teacher.source == "random":
        return {}
    from mighty import data

    return data.kb_by_id(data.load_kb(run.kb) if run.kb else None)


def build(run: KDRunConfig, run_dir: Path) -> Trainer:
    kd = run.kd
    rng = RngStreams(run.seed, STREAMS)
    layout = Layout(run.mesh) if run.mesh is not None else None
    teacher, tok = load_teacher(run.teacher, layout)  # born sharded: no whole copy on a device
    kb = load_kb_index(run)
    examples, dropped = fit_buckets(load_examples(run, tok, kb), kd.prompt_buckets, kd.completion_buckets)
    strings = token_strings(tok, teacher.cfg.vocab_size)
    ab = kd.alpha_boost
    boost_v = boost_vocab_mask(strings, patterns=ab.patterns, classes=ab.classes,
                               lexicon=list(ab.lexicon) + (kb_lexicon(kb) if ab.use_kb_lexicon else []))
    add_boost(examples, strings, boost_v, list(ab.lexicon) + (kb_lexicon(kb) if ab.use_kb_lexicon else []))
    train, probe, evals = split_examples(examples, kd.heldout_frac, kd.domain.probe_per_domain)
    train, evals = retention_out_of_eval(train, evals)
    student = init_student(run.student, teacher, rng.at("init", 0), layout, tokenizer=tok)
    if layout is not None:
        student.remat = layout.remat
    graphdef, params, rest = nnx.split(student, nnx.Param, ...)
    param_sh = layout.params(params) if layout is not None else None
    params = nnx.to_pure_dict(params)
    if run.student.lora is not None:  # params: the adapters; rest: the frozen base (models/lora.py)
        rest = nnx.to_pure_dict(rest)
    tx, schedule = make_optimizer(kd.optim, kd.steps)
    spec = LossSpec.from_config(kd)
    state, out_sh = init_state(params, tx), None
    if layout is not None:
        state, state_sh = layout.state(state, param_sh)
        out_sh = (state_sh, layout.replicated)
    on_policy = kd.lam > 0
    score = make_score_fn(graphdef, rest)
    ev = Evaluator(score, evals, prompt_buckets=kd.prompt_buckets, completion_buckets=kd.completion_buckets,
                   batch_size=kd.eval.batch_size, pad_id=teacher.cfg.pad_id, eos_id=teacher.cfg.eos_id,
                   tokenizer=tok, kb_by_id=kb, n_kl=kd.eval.n_kl, n_generate=kd.eval.n_generate,
                   max_new_tokens=kd.eval.max_new_tokens)
    t_graph, t_params, t_rest = nnx.split(teacher, nnx.Param, ...)  # born sharded with `layout`
    return Trainer(
        run=run, run_dir=run_dir, tokenizer=tok,
        teacher=(t_params, make_teacher_logits_fn(t_graph, t_rest)) if on_policy else None,
        graphdef=graphdef, rest=rest, state=state, train=train, probe=probe,
        sampler=BucketedSampler(train, kd.prompt_buckets, kd.completion_buckets, kd.batch_size),
        evaluator=ev, rng=rng, kd_step=make_kd_step(graphdef, rest, tx, schedule, spec, out_shardings=out_sh),
        # on-policy tokens are the student's own samples: hard CE on them is no signal (α = 0)
        on_policy_step=make_kd_step(graphdef, rest, tx, schedule, dataclasses.replace(spec, alpha=0.0),
                                    out_shardings=out_sh)
        if on_policy else None,
        boost_v=boost_v, dropped=dropped, n_params=param_count(student),
        n_teacher_params=param_count(teacher), layout=layout)


# ----------------------------------------------------------------------------- batches


def cache_batch(tr: Trainer, idx: list[int], bucket) -> dict:
    from mighty.distill.batching import collate

    return collate([tr.train[i] for i in idx], *bucket, tr.evaluator.pad_id, tr.run.kd.micro_batch)


def on_policy_batch(tr: Trainer, idx: list[int], bucket, key) -> dict:
    """Student samples continuations of the student prompts; the live teacher scores them
    with its grounded prompt (full logits)."""
    from mighty.models.sampler import generate
    from mighty.models.tokenizer import bucket_length

    kd, (P, N) = tr.run.kd, bucket
    exs = [tr.train[i] for i in idx]
    pad = tr.evaluator.pad_id
    p_ids, p_mask = left_pad([e.prompt_ids for e in exs], P, pad)
    student = nnx.merge(tr.graphdef, tr.state["params"], tr.rest)
    out = generate(student, p_ids, p_mask, key, max_new_tokens=N, temperature=kd.on_policy_temperature,
                   eos_id=tr.evaluator.eos_id, pad_id=pad)
    c_ids, c_mask = (np.asarray(x) for x in jax.device_get((out.tokens, out.mask)))
    t_prompts = [e.teacher_prompt_ids if e.teacher_prompt_ids is not None else e.prompt_ids for e in exs]
    t_ids, t_mask = left_pad(t_prompts, bucket_length(max(map(len, t_prompts)), 64), pad)
    t_params, t_fn = tr.teacher
    logits = t_fn(t_params, t_ids, t_mask, c_ids, c_mask)  # (B, N, V)
    batch = {"prompt_ids": p_ids, "prompt_mask": p_mask, "completion_ids": c_ids,
             "completion_mask": c_mask, "boost": tr.boost_v[c_ids], "teacher_logits": logits}
    m = kd.micro_batch
    batch = {k: jnp.reshape(v, (len(exs) // m, m, *v.shape[1:])) for k, v in batch.items()}
    return {**batch, **token_rows(c_mask.reshape(len(exs) // m, m, -1))}


# ----------------------------------------------------------------------------- loop


def evaluate(tr: Trainer, step: int, logger: MetricsLogger) -> dict:
    params = tr.state["params"]
    m = tr.evaluator.kl_metrics(params)
    gen, rows = tr.evaluator.generation_metrics(tr.graphdef, params, tr.rest, tr.rng.at("eval", step))
    m.update(gen)
    logger.log_table("eval/samples", rows[:8], step=step)
    return m


def run_training(run: KDRunConfig, run_dir: str | Path, raw_cfg: dict | None = None) -> dict:
    started = time.time()
    run_dir = Path(run_dir)
    kd = run.kd
    tr = build(run, run_dir)
    ckpt = Checkpointer(run_dir / "ckpt", max_to_keep=2)
    start, weights, gaps = 0, tr.sampler.natural_weights(), None
    if run.resume and ckpt.latest_step() is not None:
        tr.state, extra = ckpt.restore(None, tr.state)
        start, weights, gaps = int(extra["step"]), extra["domain_weights"], extra.get("domain_gaps")
        log.info("resumed from %s at step %d", ckpt.directory, start)
    wandb = None if run.logger.wandb is None else {"job_type": "kd", **run.logger.wandb}
    logger = MetricsLogger(run_dir, config=raw_cfg, wandb=wandb,
                           resume_step=start if start else None, enabled=is_primary())
    score_probe = lambda exs: tr.evaluator.score_examples(tr.state["params"], exs)  # noqa: E731
    tokens_seen = 0 if start == 0 else int(extra.get("tokens_seen", 0))
    last = {}
    bar = _progress(run.progress, kd.steps, start)
    kill_at = int(os.environ.get(FAULT_ENV, "-1"))
    for step in range(0 if start == 0 else start + 1, kd.steps + 1):
        t0 = time.perf_counter()
        row = {}
        if step > 0:
            row, tokens = _train_step(tr, step, weights)
            tokens_seen += tokens
            row["kd/tokens_seen"] = tokens_seen
        if kd.domain.every and step % kd.domain.every == 0 and step < kd.steps and tr.probe:
            gaps, weights = measure_and_reweight(score_probe, tr.probe, tau=kd.domain.tau,
                                                 mode=kd.domain.mode, floor=kd.domain.floor)
            row.update(weight_metrics(gaps, weights))
        if step == 0 or step == kd.steps or (kd.eval.every and step % kd.eval.every == 0):
            row.update(evaluate(tr, step, logger))
        row["perf/step_time_s"] = time.perf_counter() - t0
        if step % kd.log_every == 0 or step == kd.steps or any(k.startswith("eval/") for k in row):
            logger.log(step, row)
        last.update(row)
        if step == kill_at:  # fault injection (resume tests): die after logging, before saving
            os.kill(os.getpid(), signal.SIGKILL)
        if step > 0 and ((kd.ckpt_every and step % kd.ckpt_every == 0) or step == kd.steps):
            ckpt.save(step, tr.state, {"step": step, "cursor": step, "domain_weights": weights,
                                       "domain_gaps": gaps, "tokens_seen": tokens_seen})
        bar.update(1 if step > 0 else 0)
        if "kd/loss" in row:  # step 0 only evaluates
            bar.set_postfix(loss=f"{row['kd/loss']:.3f}", refresh=False)
    bar.close()
    ckpt.close()
    return _finish(tr, run_dir, logger, last, started, tokens_seen, raw_cfg)


def _train_step(tr: Trainer, step: int, weights: dict) -> tuple[dict, int]:
    kd = tr.run.kd
    idx, bucket = tr.sampler.draw(tr.rng.at("data", step), weights)
    on_policy = kd.lam > 0 and host_rng(tr.rng.at("policy", step)).random() < kd.lam
    if on_policy:
        batch, fn = on_policy_batch(tr, idx, bucket, tr.rng.at("rollout", step)), tr.on_policy_step
    else:
        batch, fn = cache_batch(tr, idx, bucket), tr.kd_step
    if tr.layout is not None:  # (M, b, ...): this process's rows of every microbatch, sharded on b
        rows = tr.layout.rows(kd.micro_batch)
        # token_index spans all b rows of a microbatch, which the mesh splits across processes:
        # sharded runs score every completion slot instead (same loss, padding masked)
        batch = tr.layout.batch({k: np.asarray(v)[:, rows] for k, v in batch.items()
                                 if k not in TOKEN_ROW_KEYS}, batch_dim=1, global_rows=kd.micro_batch)
    t0 = time.perf_counter()
    tr.state, metrics = fn(tr.state, batch, tr.rng.at("data", step))
    metrics = {k: float(v) for k, v in jax.device_get(metrics).items()}
    dt = time.perf_counter() - t0
    tokens = int(metrics["kd/tokens"])
    metrics.update({"kd/on_policy": float(on_policy), "kd/bucket_prompt": bucket[0],
                    "kd/bucket_completion": bucket[1], "perf/train_step_s": dt,
                    "perf/tokens_per_s": tokens / max(dt, 1e-9)})
    return metrics, tokens


def _progress(enabled: bool, total: int, initial: int):
    from tqdm.auto import tqdm

    return tqdm(total=total, initial=initial, disable=not enabled, desc="kd", dynamic_ncols=True)


def _finish(tr: Trainer, run_dir: Path, logger, last: dict, started: float, tokens_seen: int,
            raw_cfg: dict | None) -> dict:
    run = tr.run
    if not is_primary():  # the training checkpoint (ckpt/) holds every process's shards
        logger.close()
        return {k: v for k, v in last.items() if k.startswith("eval/")}
    out = Path(run.output) if run.output else run_dir / "student"
    student = nnx.merge(tr.graphdef, tr.state["params"], tr.rest)
    tok = tr.tokenizer if hasattr(tr.tokenizer, "hf") else None
    lora = save_trained(student, out, tokenizer=tok, lora=run.student.lora)  # merged + PEFT adapters
    final = {k: v for k, v in last.items() if k.startswith("eval/")}
    logger.summary(final)
    logger.close()
    write_manifest(
        run_dir, stage="kd", cfg=raw_cfg or dataclasses.asdict(run), inputs={"label_cache": run.label_cache},
        parent=run.label_cache, seed=run.seed, started=started, tokens_processed=tokens_seen,
        # LoRA skips the frozen weights' gradients: forward 2N + activation gradients 2N per token
        flops_estimate=(4.0 if lora else 6.0) * tr.n_params * tokens_seen, student_checkpoint=str(out),
        lora=lora,
        student_params=tr.n_params, teacher_params=tr.n_teacher_params,
        tokenizer=run.teacher.source, examples={"train": len(tr.train), "probe": len(tr.probe),
                                                "eval": len(tr.evaluator.kl_examples),
                                                "dropped_too_long": tr.dropped},
        final_metrics=final)
    return final


@hydra.main(config_path="../conf", config_name="kd", version_base="1.3")
def main(cfg: DictConfig) -> None:
    from hydra.core.hydra_config import HydraConfig

    run = load_run_config(cfg)
    initialize_distributed(run.mesh)  # multi-host runs join here, before any device is touched
    run_dir = run.run_dir or HydraConfig.get().runtime.output_dir
    run_training(run, run_dir, OmegaConf.to_container(cfg, resolve=True))


if __name__ == "__main__":
    main()
