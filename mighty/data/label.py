"""`python -m mighty.data.label [label.teacher=...] [label.prompts=...] [label.out_dir=...]`: teacher labeling.

The teacher answers each training prompt through the grounded prompt (`data.grounding`: the
entries retrieved for the question, the same ones the student sees, or with
`grounding.teacher_gold` the gold entry), sampling through `models.generate`. Each row records
the entries the student's prompt holds (`context`), so KD rebuilds exactly that prompt. For every
generated token the chosen token's logprob and the top-K logprobs are cached in fixed-size
shards (see `data.logprob_cache`). Batch b uses key fold_in(label_stream, b), so a killed run
that is restarted skips its finished shards and ends byte-identical to an uninterrupted run.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import time
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from mighty.data.io import load_records
from mighty.data.logprob_cache import (CacheError, LogprobCache, shard_done, shard_entry, shard_metadata,
                                write_cache_manifest, write_shard)
from mighty.data.paths import KB_PATH
from mighty.data.corpus.scope import is_out_of_scope
from mighty.data.grounding import GROUNDING_FILE, Grounder, GroundingConfig, read_grounding, training_prompts
from mighty.data.answer_end import answer_cut, end_answer
from mighty.data.quality import step_coverage
from mighty.data.selection import select_prompts
from mighty.runtime import config_hash

LABEL_STREAM = 1  # fold_in id of the labeling stream under the root key


@dataclasses.dataclass
class LabelConfig:
    teacher: str = "smollm2-135m-instruct"  # a models.load_pretrained source
    tokenizer: str = ""  # empty: the teacher's own; else a tokenizer dir
    prompts: str = "artifacts/data/train.jsonl"
    kb: str = ""  # empty: the bundled data/corpus/kb.jsonl
    grounding: str = ""  # a grounding.json; empty: the one beside `prompts` (the data stage's)
    out_dir: str = "artifacts/label"
    seed: int = 0
    batch_size: int = 8
    shard_rows: int = 64  # rows per shard; a multiple of batch_size
    max_new_tokens: int = 256
    temperature: float = 0.7
    top_k: int = 0
    top_p: float = 0.95
    topk_logprobs: int = 20  # K cached per token
    limit: int | None = None  # label N prompts, one per issue per round (select_prompts); None: all
    # with a limit, safety issues and out-of-scope topics get this many prompts each before the
    # round-robin over the rest: the behaviours the product must never miss need more than one
    # example each (one per issue gave the KD student 0 decline recall)
    rare_rounds: int = 3
    min_coverage: float = 0.6  # quality filter: fraction of required steps covered, in order
    end_at_repeat: bool = True  # a repeated line or in-line sentence ends the answer (data.answer_end)
    # language retention (data.retention): the teacher's next-token distribution on this many
    # generic documents (WordNet glosses, train split), which KD trains on as one more domain
    generic_docs: int = 0
    generic_max_len: int = 64
    # teacher parameter/compute dtype; auto: bf16 where the CPU has AMX-BF16/AVX512-BF16 (the
    # packaged Q4_1 teacher loses nothing, ~2x faster), f32 elsewhere (runtime.precision)
    dtype: str = "auto"
    stop_after_shards: int | None = None  # testing: stop after writing this many new shards
    progress: bool = True

    def __post_init__(self):
        if self.batch_size < 1 or self.shard_rows % self.batch_size:
            raise ValueError(f"label.shard_rows ({self.shard_rows}) must be a positive multiple "
                             f"of label.batch_size ({self.batch_size})")
        if self.topk_logprobs < 1 or self.max_new_tokens < 1:
            raise ValueError("label.topk_logprobs and label.max_new_tokens must be ≥ 1")
        if not 0.0 <= self.min_coverage <= 1.0:
            raise ValueError(f"label.min_coverage must be in [0, 1], got {self.min_coverage}")
        if self.generic_docs < 0 or self.generic_max_len < 2:
            raise ValueError(f"label.generic_docs must be >= 0 and label.generic_max_len >= 2, got "
                             f"{self.generic_docs} and {self.generic_max_len}")
        from mighty.runtime.precision import check_dtype  # here: importing data.label loads no jax

        check_dtype("label.dtype", self.dtype)

    def output_fields(self) -> dict[str, Any]:
        """Everything that changes the cache's bytes (not out_dir, progress or stop hooks);
        dtype as it resolves here, so a bf16 cache is never resumed as an f32 one."""
        from mighty.runtime.precision import resolve_auto

        d = resolve_auto(dataclasses.asdict(self))
        for k in ("out_dir", "progress", "stop_after_shards", "prompts", "kb", "tokenizer", "grounding"):
            d.pop(k)
        return d


def decline_entry() -> dict:
    """What an out-of-scope prompt's answer is checked against: one required "step", a decline
    phrase (the eval's own list, so a kept label is one the eval counts as a decline)."""
    from mighty.rewards.tech import DECLINE_PHRASES

    return {"issue_id": None, "required_keywords": [list(DECLINE_PHRASES)], "unsafe_phrases": [],
            "safety": False}


def gold_entry(prompt: dict, grounder: Grounder) -> dict | None:
    """The prompt's KB entry; None for an out-of-scope prompt (it has none: the answer declines)."""
    if is_out_of_scope(prompt["issue_id"]):
        return None
    if prompt["issue_id"] not in grounder.kb:
        raise KeyError(f"prompt {prompt['prompt_id']!r}: issue {prompt['issue_id']!r} not in the KB")
    return grounder.kb[prompt["issue_id"]]


def teacher_messages(prompt: dict, grounder: Grounder) -> list[dict]:
    return grounder.messages(prompt["question"], gold=gold_entry(prompt, grounder), teacher=True)


def student_context(prompt: dict, grounder: Grounder) -> list[str] | None:
    """Issue ids of the entries in the student's prompt (None: closed-book)."""
    entries = grounder.entries(prompt["question"], gold=gold_entry(prompt, grounder))
    return None if entries is None else [e["issue_id"] for e in entries]


def quality_reference(prompt: dict, grounder: Grounder) -> dict:
    """What the quality filter measures the teacher's answer against."""
    entry = gold_entry(prompt, grounder)
    return decline_entry() if entry is None else entry


def encode_batch(tokenizer, prompts: Sequence[dict], grounder: Grounder, batch_size: int):
    """Left-padded teacher prompt ids/mask [batch_size, T]; short batches repeat the last row."""
    seqs = [tokenizer.chat(teacher_messages(p, grounder)) for p in prompts]
    seqs += [seqs[-1]] * (batch_size - len(seqs))
    return tokenizer.batch(seqs, padding_side="left")


def quality_row(prompt: dict, answer: str, kb_entry: dict, min_coverage: float,
                ended: str = "eos", context: list[str] | None = None) -> dict:
    """The filter's verdict on one teacher answer. A label is kept when it covers enough of the
    entry's steps and says nothing unsafe; a safety entry's label must also escalate as the eval
    reads it (`rewards.tech.escalates`: stop + contact support), as an out-of-scope label must
    decline: a student copies its teacher's phrasing, and a hazard answer without "stop using"
    taught it to list the steps and leave the device on.

    A hazard whose prompt does not show its entry (`context`: the student's entry ids; retrieval
    missed it) is judged on escalating alone: no answer can cover steps it was not shown, and
    escalating is what the student must learn to do when retrieval misses a hazard."""
    from mighty.rewards.tech import escalates

    cov = step_coverage(answer, kb_entry["required_keywords"])
    unsafe = [u for u in kb_entry.get("unsafe_phrases", []) if u.lower() in answer.lower()]
    safety = bool(kb_entry.get("safety"))
    # min_coverage 0 turns the quality filter off (a random test teacher), this requirement with it
    unescalated = min_coverage > 0 and safety and not escalates(answer)
    entry_unseen = safety and context is not None and kb_entry.get("issue_id") not in context
    return {"prompt_id": prompt["prompt_id"], "issue_id": prompt["issue_id"],
            "question": prompt["question"], "answer": answer, "coverage": round(cov, 4),
            "ended": ended, "unsafe": unsafe, "unescalated": unescalated,
            "keep": (cov >= min_coverage or entry_unseen) and not unsafe and not unescalated,
            "context": context}


def label_batch(model, tokenizer, prompts: Sequence[dict], grounder: Grounder, key,
                cfg: LabelConfig) -> tuple[dict[str, np.ndarray], list[dict]]:
    """Samples one batch; returns numpy arrays for the real rows and their jsonl rows."""
    from mighty.models import generate

    ids, mask = encode_batch(tokenizer, prompts, grounder, cfg.batch_size)
    out = generate(model, ids, mask, key, max_new_tokens=cfg.max_new_tokens,
                   temperature=cfg.temperature, top_k=cfg.top_k, top_p=cfg.top_p,
                   eos_id=tokenizer.eos_id, pad_id=tokenizer.pad_id, return_topk=cfg.topk_logprobs)
    n = len(prompts)
    arrays = {k: np.array(getattr(out, k))[:n] for k in
              ("tokens", "mask", "logprobs", "topk_ids", "topk_logprobs", "lengths", "truncated")}
    eos_logprobs = np.asarray(out.eos_logprobs)[:n]
    ended = ["max_tokens" if arrays["truncated"][i] else "eos" for i in range(n)]
    for i in range(n) if cfg.end_at_repeat else ():
        cut = answer_cut(tokenizer, arrays["tokens"][i, :arrays["lengths"][i]], eos=not arrays["truncated"][i])
        if cut is not None:
            end_answer(arrays, eos_logprobs, i, cut, tokenizer.eos_id, tokenizer.pad_id)
            ended[i] = "repeat"
    rows = [quality_row(p, tokenizer.decode(arrays["tokens"][i, :arrays["lengths"][i]]),
                        quality_reference(p, grounder), cfg.min_coverage, ended[i], student_context(p, grounder))
            for i, p in enumerate(prompts)]
    return arrays, rows


def label_shard(model, tokenizer, prompts, grounder: Grounder, shard_index: int, label_key, cfg: LabelConfig):
    import jax

    per_shard = cfg.shard_rows // cfg.batch_size
    parts, rows = [], []
    for j in range(0, len(prompts), cfg.batch_size):
        batch_index = shard_index * per_shard + j // cfg.batch_size
        arrays, r = label_batch(model, tokenizer, prompts[j:j + cfg.batch_size], grounder,
                                jax.random.fold_in(label_key, batch_index), cfg)
        parts.append(arrays)
        rows += r
    return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}, rows


def check_resumable(out_dir: Path, n_shards: int, chash: str) -> list[int]:
    """Indices of finished shards; raises if any was written under a different config."""
    done = [i for i in range(n_shards) if shard_done(out_dir, i)]
    for i in done:
        got = shard_metadata(out_dir, i).get("config_hash")
        if got != chash:
            raise CacheError(f"{out_dir}: shard {i} was written with config hash {got}, this run "
                             f"has {chash} (use a new label.out_dir, or delete the old cache)")
    return done


def quality_summary(rows: list[dict], cfg: LabelConfig) -> dict[str, Any]:
    cov = np.array([r["coverage"] for r in rows]) if rows else np.zeros(0)
    ended = [r.get("ended", "eos") for r in rows]
    return {"min_coverage": cfg.min_coverage, "rows": len(rows), "kept": sum(r["keep"] for r in rows),
            "ended": {e: ended.count(e) for e in ("eos", "repeat", "max_tokens")},
            "dropped_low_coverage": int((cov < cfg.min_coverage).sum()),
            "dropped_unsafe": sum(bool(r["unsafe"]) for r in rows),
            "dropped_unescalated": sum(bool(r.get("unescalated")) for r in rows),
            "mean_coverage": round(float(cov.mean()), 4) if rows else None,
            "coverage_hist": np.histogram(cov, bins=5, range=(0, 1))[0].tolist()}


def run(cfg: LabelConfig, model, tokenizer, prompts: list[dict], grounder: Grounder,
        inputs: dict[str, str]) -> dict[str, Any] | None:
    """Labels every prompt into `cfg.out_dir`; returns the manifest (None if stopped early)."""
    import jax
    from tqdm import tqdm

    out_dir = Path(cfg.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    for stray in out_dir.glob(".*.tmp"):  # left by a killed run; the shard is redone below
        stray.unlink()
    chash = config_hash({"cfg": cfg.output_fields(), "inputs": inputs})[:16]
    n_shards = -(-len(prompts) // cfg.shard_rows)
    done = set(check_resumable(out_dir, n_shards, chash))
    label_key = jax.random.fold_in(jax.random.key(cfg.seed), LABEL_STREAM)
    meta = {"config_hash": chash, "teacher": cfg.teacher}
    todo = [i for i in range(n_shards) if i not in done]
    bar = tqdm(total=len(prompts), initial=len(prompts) - sum(
        len(prompts[i * cfg.shard_rows:(i + 1) * cfg.shard_rows]) for i in todo),
        desc="label", unit="prompt", disable=not cfg.progress)
    for written, i in enumerate(todo):
        if cfg.stop_after_shards is not None and written >= cfg.stop_after_shards:
            bar.close()
            return None
        chunk = prompts[i * cfg.shard_rows:(i + 1) * cfg.shard_rows]
        t0 = time.time()
        arrays, rows = label_shard(model, tokenizer, chunk, grounder, i, label_key, cfg)
        write_shard(out_dir, i, arrays, rows, meta)
        bar.update(len(chunk))
        bar.set_postfix(tok_s=f"{int(arrays['lengths'].sum()) / max(time.time() - t0, 1e-9):.0f}")
    bar.close()
    if cfg.generic_docs:  # seconds: one teacher forward per batch; redone whole after a kill
        from mighty.data.retention import write_retention_cache

        write_retention_cache(out_dir, model, tokenizer, n_docs=cfg.generic_docs, seed=cfg.seed,
                              topk=cfg.topk_logprobs, max_len=cfg.generic_max_len,
                              batch_size=cfg.batch_size, meta=meta)
    return finish(out_dir, cfg, tokenizer, n_shards, chash, inputs, grounder)


def finish(out_dir: Path, cfg: LabelConfig, tokenizer, n_shards: int, chash: str,
           inputs: dict[str, str], grounder: Grounder) -> dict[str, Any]:
    """Writes manifest.json (deterministic: no timestamps) once every shard exists."""
    from safetensors import safe_open

    from mighty.runtime.precision import record

    shards = [shard_entry(out_dir, i) for i in range(n_shards)]
    rows = [json.loads(line) for s in shards for line in open(out_dir / s["jsonl"], encoding="utf-8")]
    tokens = 0
    for s in shards:
        with safe_open(str(out_dir / s["safetensors"]), "np") as f:
            tokens += int(f.get_tensor("lengths").sum())
    manifest = {"stage": "label", "teacher": cfg.teacher, "config": cfg.output_fields(),
                "config_hash": chash, "inputs": inputs, "seed": cfg.seed,
                "sampling": {"temperature": cfg.temperature, "top_k": cfg.top_k, "top_p": cfg.top_p,
                             "max_new_tokens": cfg.max_new_tokens},
                "topk_logprobs": cfg.topk_logprobs, "shard_rows": cfg.shard_rows,
                "tokenizer": {"vocab_size": tokenizer.vocab_size, "eos_id": tokenizer.eos_id,
                              "pad_id": tokenizer.pad_id},
                "grounding": grounder.describe(),
                "precision": record({"dtype": cfg.dtype}),
                "rows": len(rows), "tokens": tokens, "quality": quality_summary(rows, cfg),
                "shards": shards}
    write_cache_manifest(out_dir, manifest)
    return manifest


def load_teacher(cfg: LabelConfig):
    """(model, tokenizer): `cfg.teacher` through models.load_pretrained, with `cfg.tokenizer`
    in place of its own when given (its ids must fit the teacher's vocabulary)."""
    from mighty.models import Tokenizer, load_pretrained

    model, own = load_pretrained(cfg.teacher, dtype=cfg.dtype)
    tokenizer = Tokenizer.from_pretrained(cfg.tokenizer) if cfg.tokenizer else own
    if tokenizer is None:
        raise ValueError(f"teacher {cfg.teacher!r} has no tokenizer; pass tokenizer=<dir>")
    if tokenizer.vocab_size > model.cfg.vocab_size:  # out-of-range ids would give NaN logits
        raise ValueError(f"tokenizer has {tokenizer.vocab_size} tokens but teacher {cfg.teacher!r} "
                         f"only {model.cfg.vocab_size}; use the teacher's own tokenizer")
    return model, tokenizer


def grounding_config(cfg: LabelConfig) -> GroundingConfig:
    """`cfg.grounding`, else the data stage's grounding.json beside the prompts, else the defaults
    (a raw prompts file); the manifest records the choice either way."""
    path = Path(cfg.grounding) if cfg.grounding else Path(cfg.prompts).parent / GROUNDING_FILE
    if cfg.grounding and not path.is_file():
        raise FileNotFoundError(f"label.grounding={cfg.grounding} does not exist")
    return read_grounding(path.parent) if path.is_file() else GroundingConfig()


def load_inputs(cfg: LabelConfig) -> tuple[list[dict], Grounder, dict[str, str]]:
    """(prompts, the grounder over the KB, {name: sha256}) for the run."""
    from mighty.runtime import file_sha256

    kb_path = Path(cfg.kb) if cfg.kb else KB_PATH
    prompts, _ = load_records(cfg.prompts, "prompt")
    if not prompts:
        raise ValueError(f"{cfg.prompts}: no prompts to label")
    gcfg = grounding_config(cfg)
    # confidence calibrated on the data stage's training split beside the prompts, if they sit in a data dir
    grounder = Grounder(load_records(kb_path, "kb")[0], gcfg, train=training_prompts(Path(cfg.prompts).parent))
    prompts = select_prompts(prompts, cfg.limit, grounder.kb, cfg.seed, cfg.rare_rounds)
    inputs = {"prompts": file_sha256(cfg.prompts), "kb": file_sha256(kb_path),
              "grounding": hashlib.sha256(json.dumps(dataclasses.asdict(gcfg), sort_keys=True).encode()).hexdigest(),
              "prompt_ids_sha256": hashlib.sha256("\n".join(p["prompt_id"] for p in prompts).encode()).hexdigest()}
    return prompts, grounder, inputs


def _main(node) -> None:
    from hydra.utils import to_absolute_path
    from omegaconf import OmegaConf

    cfg = OmegaConf.to_object(node.label)
    cfg = dataclasses.replace(cfg, out_dir=to_absolute_path(cfg.out_dir),
                              prompts=to_absolute_path(cfg.prompts),
                              kb=to_absolute_path(cfg.kb) if cfg.kb else "",
                              grounding=to_absolute_path(cfg.grounding) if cfg.grounding else "",
                              tokenizer=to_absolute_path(cfg.tokenizer) if cfg.tokenizer else "")
    prompts, grounder, inputs = load_inputs(cfg)
    model, tokenizer = load_teacher(cfg)
    t0 = time.time()
    manifest = run(cfg, model, tokenizer, prompts, grounder, inputs)
    if manifest is None:
        print(f"stopped after {cfg.stop_after_shards} new shard(s); rerun to resume: {cfg.out_dir}")
        return
    (Path(cfg.out_dir) / "run_info.json").write_text(json.dumps(
        {"wall_time_s": round(time.time() - t0, 3)}) + "\n")  # not part of the deterministic cache
    q = manifest["quality"]
    print(f"labelled {manifest['rows']} prompts ({manifest['tokens']} tokens) into {cfg.out_dir}; "
          f"kept {q['kept']}, dropped {q['dropped_low_coverage']} below coverage "
          f"{q['min_coverage']} and {q['dropped_unsafe']} unsafe")


def main() -> None:
    import hydra
    from hydra.core.config_store import ConfigStore

    ConfigStore.instance().store(group="label", name="schema", node=LabelConfig)
    hydra.main(version_base="1.3", config_path="../conf", config_name="label")(_main)()


if __name__ == "__main__":
    main()
