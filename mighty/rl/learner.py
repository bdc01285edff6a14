"""The host-side GRPO learner loop.

Per step s (one rollout batch):
  rollout (generate → async ref/old log-probs → host rewards) ─► dynamic sampling refill
  ─► group advantages ─► μ × `grpo_step` ─► metrics/diagnostics ─► eval, table, checkpoint.

Everything random is a named stream folded with the step: `rollout` (round r of step s uses
fold_in(fold_in(rollout, s), r); the sampler folds in the row), `data` (prompt order, one
permutation per epoch), `update` (the step key), `eval` (one fixed key, reused by design so
every evaluation samples the same way). A resumed run replays the same keys, prompts and
updates, so its `metrics.jsonl` matches an uninterrupted run except for `perf/*`.
"""
from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from mighty.models.lora import has_lora
from mighty.models.mesh import Layout, batch_shardings, is_primary, to_host
from mighty.rewards.base import RewardError
from mighty.rl import diagnostics
from mighty.rl.advantages import group_advantages, rloo_advantages, zero_std_group_fraction
from mighty.rl.config import GRPOConfig, TrainConfig
from mighty.rl.rollout import Rollout, Rollouts
from mighty.rl.sampling import fill_groups
from mighty.rl.step import group_prompts, make_grpo_step, prompt_group_size
from mighty.runtime import Checkpointer, MetricsLogger, RngStreams
from mighty.runtime.ci import bootstrap
from mighty.runtime.metrics import truncate_after
from mighty.training import init_state, make_optimizer, merge_states, reduce_metrics

STREAMS = ("init", "data", "rollout", "update", "eval")
SAMPLES = "samples"  # sample-table name: <run_dir>/samples.jsonl (+ W&B table)


class PromptStream:
    """Training prompts in a fresh permutation per epoch (`shuffle`), else in their given order
    every epoch; the state is one integer cursor."""

    def __init__(self, records: Sequence[dict], key: jax.Array, cursor: int = 0, shuffle: bool = True):
        if not records:
            raise ValueError("PromptStream: no training prompts")
        self.records, self.key, self.cursor, self.shuffle = list(records), key, cursor, shuffle
        self._perm: dict[int, np.ndarray] = {}

    def _order(self, epoch: int) -> np.ndarray:
        if not self.shuffle:
            return np.arange(len(self.records))
        if epoch not in self._perm:
            self._perm = {epoch: np.asarray(jax.random.permutation(
                jax.random.fold_in(self.key, epoch), len(self.records)))}
        return self._perm[epoch]

    def take(self, k: int) -> list[dict]:
        n = len(self.records)
        out = []
        for c in range(self.cursor, self.cursor + k):
            out.append(self.records[int(self._order(c // n)[c % n])])
        self.cursor += k
        return out


def bootstrap_ci(x: np.ndarray, *, n_boot: int = 1000, seed: int = 0, level: float = 0.95
                 ) -> tuple[float, float]:
    """Percentile bootstrap CI of the mean of `x` (a fixed seed: the same data, the same CI)."""
    est = bootstrap(np.asarray(x, np.float64), n_boot=n_boot, seed=seed, level=level)
    return est.low, est.high


def advantages(rewards_n: np.ndarray, cfg: GRPOConfig) -> jax.Array:
    r = jnp.asarray(rewards_n, jnp.float32)
    if cfg.advantage == "rloo":
        return rloo_advantages(r, cfg.num_generations)
    return group_advantages(r, cfg.num_generations, cfg.adv_scale)


def check_finite_rewards(components: dict[str, np.ndarray], total: np.ndarray) -> None:
    """Raise naming every reward component (and the total) with NaN / inf, and its items.

    Rewards are validated where they are computed (`rewards.base.call_reward`); this is the
    last gate before advantages, where one NaN would spread through its group's mean and std
    (and, under GDPO, through the per-component normalisation) into every update."""
    bad = []
    for name, r in {**components, "total": total}.items():
        idx = np.flatnonzero(~np.isfinite(np.asarray(r, np.float64)))
        if idx.size:
            shown = ", ".join(map(str, idx[:10])) + (f", … ({idx.size} in all)" if idx.size > 10 else "")
            bad.append(f"'{name}' at items [{shown}]")
    if bad:
        raise RewardError("non-finite rewards before the GRPO advantages: " + "; ".join(bad)
                          + ". Fix the reward component (or drop those completions) so it "
                            "returns finite scores")


def update_batch(ro: Rollout, adv_n: jax.Array, cfg: GRPOConfig, batch_split: int = 1
                 ) -> dict[str, jax.Array]:
    """The arrays `grpo_step` reads (fixed keys and shapes every step). With
    `grpo.share_prompt` prompts come one per group, or per sub-group of g rows where whole
    groups do not split evenly over the microbatches and the `batch_split` devices that share
    each one (`rl.step.prompt_group_size`)."""
    use_ref = cfg.beta > 0
    group = prompt_group_size(cfg, cfg.micro_batches * batch_split)
    ids, mask = group_prompts(ro.prompt_ids, ro.prompt_mask, group)
    batch = {"prompt_ids": ids, "prompt_mask": mask, "tokens": ro.tokens,
             "mask": ro.mask, "adv": adv_n,
             "logp_old": ro.logp_old if ro.logp_old is not None else jnp.zeros(ro.tokens.shape, jnp.float32)}
    if use_ref:
        batch["logp_ref"] = ro.logp_ref
    if ro.sampler_logp is not None:  # mismatch/* metrics and the grpo.mismatch correction
        batch["sampler_logp"] = ro.sampler_logp
        if ro.logp_old is not None:
            batch["logp_old_raw"] = ro.logp_old_raw if ro.logp_old_raw is not None else ro.logp_old
    if not cfg.flat_group_kl:  # zero-variance groups: no KL gradient either
        batch["kl_rows"] = informative_rows(ro.rewards, cfg.num_generations)
    return batch


def informative_rows(rewards_n, group_size: int) -> jax.Array:
    """(N,) float 1 on rows of groups whose rewards differ, 0 on zero-variance groups (the
    rows `rl.advantages` gives A = 0)."""
    r = np.asarray(rewards_n, np.float64).reshape(-1, group_size)
    flat = r.max(-1) == r.min(-1)
    return jnp.asarray(np.repeat(~flat, group_size).astype(np.float32))


def _reduce_inner(per_iter: list[dict]) -> dict[str, float]:
    """Metrics over μ inner iterations, by the step's own rule (training.reduce_metrics): means,
    extremes for `*_min` / `*_max`; plus the first iteration's ratio maximum."""
    host = jax.device_get(per_iter)
    stacked = {k: np.array([m[k] for m in host], np.float64) for k in host[0]}
    out = {k: float(v) for k, v in reduce_metrics(stacked, None).items()}
    out["grpo/ratio_max_first_iter"] = float(host[0]["grpo/ratio_max"])
    return out


def params_digest(params: Any) -> str:
    """sha256 of a params tree (paths, dtypes, shapes and bytes), to tie a checkpoint to the
    initial policy and the reference it was trained against. With many processes every one
    must call it (shards other processes hold are all-gathered); all get the same digest."""
    h = hashlib.sha256()
    for path, x in jax.tree_util.tree_leaves_with_path(to_host(params)):
        h.update(f"{jax.tree_util.keystr(path)}|{x.dtype}|{x.shape}".encode())
        h.update(x.tobytes())
    return h.hexdigest()


def judge_metrics(reward_fn: Any) -> dict[str, float]:
    """`judge/<id>/...` counters of every judge inside the reward's components."""
    out: dict[str, float] = {}
    for comp in getattr(reward_fn, "components", {}).values():
        judge = getattr(comp, "judge", None)
        if judge is not None and hasattr(judge, "metrics"):
            out.update(judge.metrics())
    return out


class Learner:
    """Owns the train state, the prompt stream, logging and checkpoints of one GRPO run.

    Args:
      policy: the initial π_θ (an nnx `Transformer`); its params become the train state.
      reference: (graphdef, params) of π_ref, or None (β = 0 never reads it).
      encode: record -> prompt token ids; fields: records -> reward fields per record.
      train_prompts / heldout: prompt records (`question`, optional `prompt_id`, ...).
    """

    def __init__(self, cfg: GRPOConfig, train: TrainConfig, *, policy, tokenizer,
                 encode: Callable[[dict], list[int]], reward_fn: Callable,
                 train_prompts: Sequence[dict], heldout: Sequence[dict], run_dir: str | Path,
                 seed: int = 0, reference: tuple[Any, Any] | None = None,
                 fields: Callable[[list[dict]], dict[str, list]] | None = None,
                 wandb: dict | None = None, config_dict: dict | None = None, mesh: Any = None):
        self.cfg, self.train, self.run_dir, self.seed = cfg, train, Path(run_dir), seed
        self.reward_fn = reward_fn
        # mesh: a conf/mesh node or a built Layout; None keeps everything on the default device
        self.layout = mesh if isinstance(mesh, Layout) or mesh is None else Layout(mesh)
        if self.layout is not None:
            policy.remat = self.layout.remat
        if has_lora(policy):  # the train state holds the adapters; the frozen base is an argument
            self.graphdef, params, rest = nnx.split(policy, nnx.Param, ...)
            self.frozen = nnx.to_pure_dict(rest)
        else:
            self.graphdef, params = nnx.split(policy, nnx.Param)
            self.frozen = None
        self.streams = RngStreams(seed, STREAMS)
        self.tx, self.schedule = make_optimizer(cfg.optim, train.steps * cfg.mu)
        self.state = init_state(nnx.to_pure_dict(params), self.tx)
        out_shardings = None
        if self.layout is not None:
            self.state, state_sh = self.layout.state(self.state, self.layout.params(params))
            out_shardings = (state_sh, self.layout.replicated)
            if reference is not None and not isinstance(reference[1], tuple):
                # π_ref (and the teacher as π_ref) sharded like the policy; a LoRA policy's π_ref
                # is its own base (already placed) with adapter copies
                ref_state = nnx.state(nnx.merge(*reference), nnx.Param)
                reference = (reference[0], jax.device_put(reference[1], self.layout.params(ref_state)))
        self.rollouts = Rollouts(self.graphdef, tokenizer, encode, reward_fn, cfg, fields=fields,
                                 reference=reference if cfg.beta > 0 else None,
                                 layout=self.layout)
        self.step_fn = make_grpo_step(self.graphdef, self.tx, cfg, max_len=cfg.rollout.max_new_tokens,
                                      out_shardings=out_shardings, rest=self.frozen)
        # prompt_order=balanced: train_prompts come already ordered (rl.train.prompt_sets)
        self.prompts = PromptStream(train_prompts, self.streams["data"],
                                    shuffle=train.prompt_order == "random")
        self.heldout = list(heldout)[:train.eval_prompts]
        self.ckpt = Checkpointer(self.run_dir / "ckpt", max_to_keep=train.ckpt_keep,
                                 every=train.ckpt_every)
        self.start = 0
        # a resumed run must continue from the same π_θ(step 0) and π_ref: both are rebuilt
        # from their sources, which may have changed since (a re-trained KD student, new init)
        self.lineage = {"policy_init": params_digest(self.state["params"]),
                        "reference": params_digest(reference[1]) if reference is not None else None}
        if self.frozen is not None:
            self.lineage["frozen_base"] = params_digest(self.frozen)
        if train.resume and self.ckpt.latest_step() is not None:
            self.state, extra = self.ckpt.restore(None, self.state)
            self.start, self.prompts.cursor = int(extra["step"]), int(extra["cursor"])
            saved = extra.get("lineage", self.lineage)
            changed = [k for k in self.lineage if saved.get(k) != self.lineage[k]]
            if changed:
                raise RuntimeError(
                    f"cannot resume {self.run_dir / 'ckpt'}: {changed} differ from the run that "
                    f"wrote the checkpoint (policy.source / grpo.reference changed?). Use a new "
                    f"run_dir or train.resume=false.")
        resume = self.start if self.start > 0 else None
        self.logger = MetricsLogger(self.run_dir, config=config_dict, wandb=wandb, resume_step=resume,
                                    enabled=is_primary())
        if resume is not None and is_primary():
            truncate_after(self.run_dir / f"{SAMPLES}.jsonl", self.start)
        self.tokens_processed = 0

    @property
    def params(self):
        """What the policy's programs take: the train state's params, with a LoRA policy's
        frozen base beside them ((adapters, base))."""
        return self.state["params"] if self.frozen is None else (self.state["params"], self.frozen)

    def policy(self):
        return merge_states(self.graphdef, self.params)

    # -- one step ------------------------------------------------------------------------

    def collect(self, step: int) -> tuple[Rollout, dict[str, float]]:
        """A full batch of `prompts_per_step` groups, refilled by dynamic sampling."""
        key = self.streams.at("rollout", step)
        cfg = self.cfg

        def draw(r: int) -> Rollout:
            return self.rollouts.sample(self.params, self.prompts.take(cfg.prompts_per_step),
                                        jax.random.fold_in(key, r))

        ro, stats = fill_groups(draw, Rollout.concat, group_size=cfg.num_generations,
                                num_groups=cfg.prompts_per_step, enabled=cfg.dynamic_sampling,
                                max_rounds=cfg.ds_max_rounds, min_std=cfg.ds_min_std)
        return ro, stats.metrics()

    def update(self, ro: Rollout, step: int) -> dict[str, float]:
        """μ optimizer updates on one rollout batch; the first uses π_old = π_θ exactly."""
        check_finite_rewards(ro.components, ro.rewards)
        rewards = np.asarray(ro.rewards, np.float32)  # (N,), every row, on every process
        if self.layout is not None:  # groups may straddle shards; advantages see the global array
            rewards = self.rollouts.to_devices((rewards[self.rollouts.rows(len(rewards))],), len(rewards))[0]
        split = self.layout.batch_split if self.layout is not None else 1
        batch = update_batch(ro, advantages(rewards, self.cfg), self.cfg, split)
        if self.layout is not None:
            batch = jax.device_put(batch, batch_shardings(batch, self.layout.mesh, self.layout.rules))
        key = self.streams.at("update", step)
        per_iter = []
        for i in range(self.cfg.mu):
            self.state, m = self.step_fn(self.state, {**batch, "first": jnp.asarray(i == 0)},
                                         jax.random.fold_in(key, i))
            per_iter.append(m)
        out = _reduce_inner(per_iter)
        out["grpo/lr"] = float(self.schedule(step * self.cfg.mu))
        out["grpo/zero_std_frac"] = float(zero_std_group_fraction(
            jnp.asarray(ro.rewards, jnp.float32), self.cfg.num_generations))
        return out

    def step_metrics(self, ro: Rollout) -> dict[str, float]:
        comps = {**ro.components, "total": ro.rewards}
        m = {}
        for name, r in comps.items():
            m[f"reward/{name}/mean"] = float(np.mean(r))
            m[f"reward/{name}/std"] = float(np.std(r))
        tech = ro.infos.get("tech", {}) if isinstance(ro.infos, dict) else {}
        judge = tech.get("judge") if isinstance(tech, dict) else None
        rubric = tech.get("rubric") if judge is not None else None
        prompts = [r["question"] for r in ro.records for _ in range(ro.group_size)]
        m.update(diagnostics.step_diagnostics(
            prompts, ro.texts, ro.components, ro.lengths, total=ro.rewards, judge=judge,
            rubric=rubric, truncated=ro.truncated, group_size=ro.group_size))
        return m

    def log_samples(self, ro: Rollout, step: int) -> None:
        prompts = [r["question"] for r in ro.records for _ in range(ro.group_size)]
        rows = diagnostics.sample_table(
            prompts, ro.texts, ro.components, total=ro.rewards, step=step,
            k=self.train.table_rows, extra={"length": ro.lengths.tolist(),
                                            "truncated": ro.truncated.tolist()})
        self.logger.log_table(SAMPLES, [{k: v for k, v in r.items() if k != "step"} for r in rows], step=step)

    def train_step(self, s: int) -> tuple[dict[str, float], Rollout]:
        """Rollout batch s, its μ updates, and every per-step metric (rewards, diag, perf)."""
        self.rollouts.timers.clear()
        t0 = time.perf_counter()
        ro, ds = self.collect(s)
        t1 = time.perf_counter()
        m = {**ds, **self.update(ro, s)}
        t2 = time.perf_counter()
        m.update(self.step_metrics(ro))
        m.update(judge_metrics(self.reward_fn))
        ntok = int(ro.lengths.sum())
        self.tokens_processed += ntok
        m.update({f"perf/{k}": v for k, v in self.rollouts.timers.items()})
        m.update({"perf/rollout_s": t1 - t0, "perf/update_s": t2 - t1,
                  "perf/completion_tokens_per_s": ntok / max(t1 - t0, 1e-9),
                  "perf/step_s": time.perf_counter() - t0})
        return m, ro

    # -- evaluation ------------------------------------------------------------------------

    def evaluate(self, params=None) -> dict[str, float]:
        """Mean composite reward on the fixed held-out prompts, with a bootstrap 95% CI."""
        if not self.heldout:
            return {}
        greedy = self.train.eval_greedy
        ro = self.rollouts.sample(self.params if params is None else params, self.heldout,
                                  self.streams["eval"], need_old=False, group_size=1,
                                  temperature=0.0 if greedy else None, with_reference=False)
        lo, hi = bootstrap_ci(ro.rewards, n_boot=self.train.eval_bootstrap, seed=self.seed)
        m = {"eval/reward/total/mean": float(ro.rewards.mean()),
             "eval/reward/total/ci95_lo": lo, "eval/reward/total/ci95_hi": hi,
             "eval/length/mean": float(ro.lengths.mean()),
             "eval/truncated_frac": float(ro.truncated.mean())}
        m.update({f"eval/reward/{k}/mean": float(v.mean()) for k, v in ro.components.items()})
        return m

    # -- the loop ----------------------------------------------------------------------------

    def should(self, every: int, step: int) -> bool:
        return every > 0 and (step % every == 0 or step == self.train.steps)

    def run(self) -> dict[str, float]:
        """Train from `self.start` to `train.steps`; returns the last logged metrics."""
        from tqdm.auto import tqdm

        t = self.train
        last: dict[str, float] = {}
        if self.start == 0 and t.eval_every > 0:
            last = self.evaluate()
            self.logger.log(0, last)
        bar = tqdm(range(self.start, t.steps), initial=self.start, total=t.steps,
                   desc="grpo", disable=not t.progress, dynamic_ncols=True)
        for s in bar:
            step = s + 1
            m, ro = self.train_step(s)
            if self.should(t.eval_every, step):
                m.update(self.evaluate())
            if t.table_every and step % t.table_every == 0:
                self.log_samples(ro, step)
            if step % t.log_every == 0 or step == t.steps or "eval/reward/total/mean" in m:
                self.logger.log(step, m)
            last = m
            if self.ckpt.should_save(step) or step == t.steps:
                self.ckpt.save(step, self.state, {"step": step, "cursor": self.prompts.cursor,
                                                  "lineage": self.lineage})
            bar.set_postfix(reward=f"{m['reward/total/mean']:.3f}", kl=f"{m['grpo/kl']:.4f}")
        bar.close()
        self.ckpt.close()
        self.logger.close()
        return last
