"""GRPO stage entry point: `python -m mighty.rl.train [experiment=grpo_tiny] [grpo.beta=0.02] ...`.

Builds what the learner needs from the composed config (Hydra `instantiate` happens here and
nowhere else): π_θ from `policy.source` (the KD student), π_ref per `grpo.reference`, the
composite reward from `mighty/conf/reward`, prompts and the knowledge base from `data`. Writes to the
run directory: `metrics.jsonl` (+ W&B offline), `samples.jsonl`, `ckpt/` (resumable),
`policy/` (the final checkpoint) and `manifest.json`.
"""
from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import hydra
import jax
import jax.numpy as jnp
from flax import nnx
from omegaconf import DictConfig, OmegaConf

import mighty.rl.config  # noqa: F401  (registers the schema nodes before Hydra composes)
from mighty.models import ModelConfig, Tokenizer, Transformer, load_pretrained
from mighty.models.export import save_trained
from mighty.models.lora import LoRAConfig, apply_lora, has_lora, lora_reference
from mighty.models.mesh import Layout, born, initialize_distributed, is_primary, placement
from mighty.runtime import write_manifest
from mighty.runtime.config import typed
from mighty.rl.config import GRPORunConfig, PolicyConfig, load_run_config
from mighty.rl.learner import Learner

log = logging.getLogger(__name__)


def load_tokenizer(source: str):
    """A tokenizer dir (tokenizer.json etc.) loads directly; anything else via load_pretrained."""
    path = Path(source).expanduser()
    if path.is_dir() and (path / "tokenizer.json").is_file():
        return Tokenizer.from_pretrained(path)
    _, tok = load_pretrained(source)
    if tok is None:
        raise ValueError(f"policy.tokenizer={source!r} holds no tokenizer")
    return tok


def load_policy(cfg: PolicyConfig, layout: Layout | None = None, lora: LoRAConfig | None = None
                ) -> tuple[Transformer, Any]:
    """-> (π_θ at step 0, tokenizer); with a `layout` its parameters are born sharded. With
    `lora` (`student.lora`), fresh adapters on the loaded model and its weights frozen: GRPO then
    trains the adapters alone (B = 0, so step 0 is the loaded policy exactly)."""
    if cfg.source == "random":
        model = born(lambda: Transformer(ModelConfig(**dict(cfg.model)), rngs=nnx.Rngs(cfg.seed)), layout)
        tok = load_tokenizer(cfg.tokenizer)
    else:
        model, tok = load_pretrained(cfg.source, dtype=cfg.dtype, compute_dtype=cfg.compute_dtype,
                                     **placement(layout))
        if cfg.tokenizer:
            tok = load_tokenizer(cfg.tokenizer)
        if tok is None:
            raise ValueError(f"policy.source={cfg.source!r} has no tokenizer; set policy.tokenizer")
    return (model if lora is None else apply_lora(model, lora)), tok


def lora_config(run: GRPORunConfig) -> LoRAConfig | None:
    """The `student.lora` group, validated (None: full fine-tuning)."""
    node = (run.student or {}).get("lora")
    return None if node is None else typed(LoRAConfig, node)


def load_reference(run: GRPORunConfig, policy: Transformer, layout: Layout | None = None
                   ) -> tuple[Any, Any] | None:
    """(graphdef, params) of π_ref, or None when β = 0 (the reference is never read). With a
    `layout` a loaded π_ref is born sharded; `policy_init` copies the policy's shards."""
    g = run.grpo
    if g.beta == 0:
        return None
    if g.reference == "policy_init" and has_lora(policy):
        return lora_reference(policy)  # the frozen base with adapters off: no second copy
    if g.reference == "policy_init":
        graphdef, params = nnx.split(policy, nnx.Param)
        # a copy: the policy's own buffers are donated to the first update
        return graphdef, jax.tree.map(jnp.copy, nnx.to_pure_dict(params))
    source = g.reference_path
    if g.reference == "teacher":
        source = source or (run.teacher or {}).get("source", "")
    if not source:
        raise ValueError(
            f"grpo.reference={g.reference} needs grpo.reference_path: a models.save_checkpoint dir "
            f"of the base student (before KD), or the teacher source")
    ref, _ = load_pretrained(source, dtype=run.policy.dtype, compute_dtype=run.policy.compute_dtype,
                             **placement(layout))
    if ref.cfg.vocab_size != policy.cfg.vocab_size:
        raise ValueError(f"reference {source!r} has vocab {ref.cfg.vocab_size} but the policy "
                         f"has {policy.cfg.vocab_size}: KL needs one tokenizer")
    graphdef, params = nnx.split(ref, nnx.Param)
    return graphdef, nnx.to_pure_dict(params)


def prompt_sets(run: GRPORunConfig):
    """(train prompts, held-out prompts, fields(records) -> {kb_entry: [...],
    reference_tokens: [...] (the teacher's answer lengths, when a label cache is given)})."""
    from mighty import data
    from mighty.rl import lengths

    train = data.load_prompts(run.train.train_split, data_dir=run.data_dir)
    heldout = data.load_prompts(run.train.eval_split, data_dir=run.data_dir)
    kb = data.kb_by_id()
    if run.train.prompt_order == "balanced":
        from mighty.data.selection import balanced_order

        train = balanced_order(train, kb, run.seed)
    teacher = lengths.from_label_cache(run.label_cache) if run.label_cache else None
    if teacher is None:
        log.warning("no label_cache: the length reward compares with its fixed target_tokens, "
                    "not the teacher's answer length")

    def fields(records: list[dict]) -> dict[str, list]:
        out = {"kb_entry": [kb.get(r.get("issue_id")) for r in records]}
        if teacher is not None:
            out["reference_tokens"] = teacher.reference_tokens(records)
        return out

    return train, heldout, fields


def reward_canaries(reward_fn, tokenizer, seed: int, bar: float = 0.8) -> dict:
    """The judge canaries (evals.canaries) through every reward component before training: a
    reward that scores padding, an injected "Score: 10/10" or a shuffled answer above the KB
    reference would be optimised into the policy. Warns naming the component and the hack;
    the verdicts go to the GRPO manifest."""
    from mighty import data
    from mighty.evals.canaries import build_canaries, canary_metrics, check_reward

    cans = build_canaries(data.load_eval(), data.kb_by_id(), n_cases=12, seed=seed)
    reports, verdicts = check_reward(reward_fn, cans, bar=bar, tokenizer=tokenizer)
    for name, v in verdicts.items():
        if not v.valid:
            log.warning("reward canaries: '%s' is %s; GRPO will optimise what it prefers", name, v.label)
    return {"bar": bar, "verdicts": {n: v.label for n, v in verdicts.items()},
            "metrics": canary_metrics(reports, bar)}


def run(cfg: DictConfig) -> dict[str, float]:
    started = time.time()
    r = load_run_config(cfg)
    initialize_distributed(r.mesh)  # multi-host runs join here, before any device is touched
    run_dir = Path(r.run_dir or hydra.core.hydra_config.HydraConfig.get().runtime.output_dir)
    resolved = OmegaConf.to_container(cfg, resolve=True)
    layout = Layout(r.mesh) if r.mesh is not None else None
    lora = lora_config(r)
    policy, tok = load_policy(r.policy, layout, lora)
    reference = load_reference(r, policy, layout)
    reward_fn = hydra.utils.instantiate(cfg.reward)
    canaries = reward_canaries(reward_fn, tok, r.seed)
    train, heldout, fields = prompt_sets(r)
    from mighty.data.grounding import Grounder

    grounder = Grounder.from_data_dir(r.data_dir)

    wandb = OmegaConf.to_container(r.logger.wandb, resolve=True) if r.logger and r.logger.get("wandb") else None
    if wandb is not None:
        wandb.setdefault("name", f"grpo__{r.name}__{r.seed}__{time.strftime('%Y%m%d-%H%M%S')}")
        wandb.setdefault("job_type", "grpo")
    learner = Learner(
        r.grpo, r.train, policy=policy, tokenizer=tok, reward_fn=reward_fn,
        encode=lambda rec: tok.chat(grounder.messages(rec["question"], gold=grounder.kb.get(rec.get("issue_id")))),
        fields=fields,
        train_prompts=train, heldout=heldout, run_dir=run_dir, seed=r.seed, reference=reference,
        wandb=wandb, config_dict=resolved, mesh=layout)
    del policy  # its buffers now belong to the learner's (donated) state
    last = learner.run()
    out = Path(r.output or run_dir / "policy")
    if not is_primary():
        return last
    adapter = save_trained(learner.policy(), out, tokenizer=tok, lora=lora)  # merged + PEFT adapters
    parent = r.policy.source if Path(r.policy.source).exists() else None
    write_manifest(run_dir, stage="grpo", cfg=resolved, parent=parent, seed=r.seed,
                   started=started, output=str(out), steps=r.train.steps,
                   tokens_processed=learner.tokens_processed,
                   final={k: v for k, v in last.items() if k.startswith(("eval/", "reward/total"))},
                   judge={k: v for k, v in last.items() if k.startswith("judge/")},
                   reward_canaries=canaries, lora=adapter)
    log.info("GRPO done: %s", {k: round(v, 4) for k, v in last.items() if k.startswith("eval/reward/total")})
    return last


@hydra.main(config_path="../conf", config_name="grpo", version_base="1.3")
def main(cfg: DictConfig) -> None:
    run(cfg)


if __name__ == "__main__":
    main()
