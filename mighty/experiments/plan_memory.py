"""Per-device memory plan of a config on a target topology, without the hardware or weights.

    python -m mighty.experiments.plan_memory experiment=paper_qwen devices=8 device_memory_gb=80 mesh=fsdp

Every program of a run is compiled ahead of time (`jit(...).lower(abstract).compile()`) on
`ShapeDtypeStruct`s carrying the mesh shardings, for `devices` fake CPU devices; XLA's buffer
assignment of the partitioned program gives the per-device bytes. Columns (GiB per device):

  params / optimizer   this program's parameters and Adam state (shard sizes)
  activations          XLA temporaries: activations, gradients, logits, scratch (minus KV cache)
  kv_cache             the sampler's cache, analytic: 2·layers·rows·kv_heads·(P+N)·head_dim
  resident             what stays on the device outside the program (train state during a
                       rollout, π_ref unless offloaded)
  xla_total            arguments + outputs − donated aliases + temporaries, as XLA reports it
  peak                 xla_total + resident; "fits" when peak ≤ headroom · device memory
"""
from __future__ import annotations

import os
import sys


def _fake_devices(argv: list[str]) -> None:
    """`devices=N` must reach XLA before jax is imported."""
    n = next((a.split("=", 1)[1] for a in argv if a.startswith("devices=")), "8")
    if "jax" in sys.modules:
        return
    flags = os.environ.get("XLA_FLAGS", "")
    if "xla_force_host_platform_device_count" not in flags:
        # LLVM opt level 0: compiles several times faster; buffer sizes are decided before LLVM
        os.environ["XLA_FLAGS"] = (f"{flags} --xla_force_host_platform_device_count={int(n)} "
                                   "--xla_backend_optimization_level=0 --xla_llvm_disable_expensive_passes=true")
    os.environ["JAX_PLATFORMS"] = "cpu"


if __name__ == "__main__":
    _fake_devices(sys.argv[1:])

import dataclasses  # noqa: E402
import time  # noqa: E402

import hydra  # noqa: E402
from omegaconf import DictConfig, OmegaConf  # noqa: E402

import mighty.distill.config  # noqa: E402,F401  (registers kd/schema and grpo/schema before Hydra composes)
import mighty.rl.config  # noqa: E402,F401

GiB = 1024 ** 3


@dataclasses.dataclass
class Row:
    program: str
    params: float
    optimizer: float
    activations: float
    kv_cache: float
    resident: float
    xla_total: float
    compile_s: float

    @property
    def peak(self) -> float:
        return self.xla_total + self.resident


def _sds(tree, shardings):
    import jax

    return jax.tree.map(lambda x, s: jax.ShapeDtypeStruct(x.shape, x.dtype, sharding=s), tree, shardings)


def shard_bytes(tree) -> int:
    """Bytes one device holds of a tree of sharded ShapeDtypeStructs / arrays."""
    import jax
    import numpy as np

    total = 0
    for x in jax.tree.leaves(tree):
        shape = x.sharding.shard_shape(x.shape) if x.sharding is not None else x.shape
        total += int(np.prod(shape)) * np.dtype(x.dtype).itemsize
    return total


def xla_bytes(compiled) -> tuple[int, int]:
    """(total, temporaries) per device from XLA's memory analysis of a partitioned program."""
    m = compiled.memory_analysis()
    total = m.argument_size_in_bytes + m.output_size_in_bytes - m.alias_size_in_bytes + m.temp_size_in_bytes
    return int(total), int(m.temp_size_in_bytes)


class Planner:
    """Abstract models, states and batches for one config on one mesh."""

    def __init__(self, cfg: DictConfig):
        import jax
        from flax import nnx

        from mighty.models.config import ModelConfig
        from mighty.models.mesh import Layout
        from mighty.models.transformer import Transformer

        self.cfg = cfg
        self.layout = Layout(cfg.mesh)
        self.lora = student_lora(cfg)
        if self.layout.mesh.size != jax.device_count():
            raise ValueError(f"mesh {dict(self.layout.mesh.shape)} uses {self.layout.mesh.size} of "
                             f"{jax.device_count()} devices; pick a mesh with a -1 axis")
        self.models = {}
        for role in ("student", "teacher"):
            fields = OmegaConf.to_container(cfg[role].model, resolve=True) if cfg[role].get("model") else None
            if not fields or "hidden_size" not in fields:
                raise ValueError(f"{role}.model must give the model's shape (ModelConfig fields); "
                                 f"see conf/experiment/paper_qwen.yaml")
            mcfg = ModelConfig(**fields)
            lora = self.lora if role == "student" else None
            abstract = nnx.eval_shape(lambda c=mcfg: _build(c, lora))
            if role == "student":
                abstract.remat = self.layout.remat
            graphdef, params, rest = nnx.split(abstract, nnx.Param, ...)
            shardings = self.layout.params(params)
            if lora is not None:  # the frozen (maybe quantised) base: a sharded step argument
                rest = frozen_sds(rest, self.layout)
            self.models[role] = (mcfg, graphdef, rest, _sds(nnx.to_pure_dict(params), shardings), shardings)
        self.key = jax.ShapeDtypeStruct((), jax.eval_shape(lambda: jax.random.key(0)).dtype,
                                        sharding=self.layout.replicated)

    # -- abstract inputs -----------------------------------------------------------------

    def batch(self, arrays: dict, batch_dim: int = 0) -> dict:
        """{name: (shape, dtype)} -> ShapeDtypeStructs sharded on the batch dimension."""
        import jax

        from mighty.models.mesh import batch_sharding

        split = self.layout.batch_split
        out = {}
        for name, (shape, dtype) in arrays.items():
            if len(shape) > batch_dim and shape[batch_dim] % split:
                raise ValueError(f"{name}: batch dimension {shape[batch_dim]} is not a multiple of "
                                 f"the {split}-way batch split of mesh {dict(self.layout.mesh.shape)}")
            out[name] = jax.ShapeDtypeStruct(shape, dtype, sharding=batch_sharding(
                self.layout.mesh, len(shape), self.layout.rules, batch_dim))
        return out

    def train_state(self, tx):
        import jax
        import jax.numpy as jnp

        from mighty.models.mesh import state_shardings

        _, _, _, params, p_sh = self.models["student"]
        state = {"params": params, "opt_state": jax.eval_shape(tx.init, params),
                 "step": jax.ShapeDtypeStruct((), jnp.int32)}
        sh = state_shardings(state, p_sh, self.layout.mesh)
        return _sds(state, sh), sh

    # -- programs ------------------------------------------------------------------------

    def kd_step(self) -> Row:
        import jax.numpy as jnp

        from mighty.distill.config import KDConfig
        from mighty.distill.step import LossSpec, make_kd_step
        from mighty.training import make_optimizer

        kd = OmegaConf.to_object(OmegaConf.merge(OmegaConf.structured(KDConfig), self.cfg.kd))
        mcfg, graphdef, rest, _, _ = self.models["student"]
        tx, schedule = make_optimizer(kd.optim, kd.steps)
        state, sh = self.train_state(tx)
        M, b, P, N = kd.grad_accum, kd.micro_batch, max(kd.prompt_buckets), max(kd.completion_buckets)
        K = int(self.cfg.label.topk_logprobs)
        batch = self.batch({"prompt_ids": ((M, b, P), jnp.int32), "prompt_mask": ((M, b, P), jnp.int32),
                            "completion_ids": ((M, b, N), jnp.int32), "completion_mask": ((M, b, N), jnp.int32),
                            "boost": ((M, b, N), jnp.bool_), "topk_ids": ((M, b, N, K), jnp.int32),
                            "topk_logprobs": ((M, b, N, K), jnp.float32)}, batch_dim=1)
        step = make_kd_step(graphdef, rest, tx, schedule, LossSpec.from_config(kd),
                            out_shardings=(sh, self.layout.replicated))
        # params: what the step reads, trainable or frozen (a LoRA base counts as stored)
        frozen = shard_bytes(rest) if self.lora is not None else 0
        return self._row("kd_step", lambda: step.lower(state, batch, self.key),
                         params=shard_bytes(state["params"]) + frozen, optimizer=shard_bytes(state["opt_state"]))

    def _no_lora(self, program: str):
        if self.lora is not None:
            raise ValueError(f"programs: {program} with student.lora is not planned yet (the planner "
                             f"plans a LoRA student's KD step only); plan "
                             f"programs=[kd_step,teacher_labels]")

    def _grpo(self):
        from mighty.rl.config import GRPOConfig

        g = OmegaConf.to_object(self.cfg.grpo)
        return g if isinstance(g, GRPOConfig) else GRPOConfig(**g)

    def _rollout_shapes(self, g):
        import jax.numpy as jnp

        n, P, L = g.prompts_per_step * g.num_generations, g.rollout.max_prompt_len, g.rollout.max_new_tokens
        return n, P, L, {"prompt_ids": ((n, P), jnp.int32), "prompt_mask": ((n, P), jnp.int32),
                         "tokens": ((n, L), jnp.int32), "mask": ((n, L), jnp.int32)}

    def grpo_step(self) -> Row:
        self._no_lora("grpo_step")
        import jax
        import jax.numpy as jnp

        from mighty.rl.step import make_grpo_step
        from mighty.training import make_optimizer

        g = self._grpo()
        _, graphdef, _, _, _ = self.models["student"]
        tx, _ = make_optimizer(g.optim, 1000)
        state, sh = self.train_state(tx)
        n, P, L, arrays = self._rollout_shapes(g)
        arrays.update(adv=((n,), jnp.float32), logp_old=((n, L), jnp.float32), logp_ref=((n, L), jnp.float32))
        batch = self.batch(arrays)
        batch["first"] = jax.ShapeDtypeStruct((), jnp.bool_, sharding=self.layout.replicated)
        step = make_grpo_step(graphdef, tx, g, max_len=L, out_shardings=(sh, self.layout.replicated))
        return self._row("grpo_step", lambda: step.lower(state, batch, self.key),
                         params=shard_bytes(state["params"]), optimizer=shard_bytes(state["opt_state"]),
                         resident=0 if g.ref_offload or g.beta == 0 else shard_bytes(self.models["student"][3]))

    def _sampler(self, role: str, rows: int, P: int, L: int, topk: int, resident: int, name: str) -> Row:
        import jax
        import jax.numpy as jnp
        from flax import nnx

        from mighty.models.sampler import lower_generate
        from mighty.models.transformer import Transformer

        mcfg, _, _, params, _ = self.models[role]
        graphdef = nnx.split(nnx.eval_shape(lambda: Transformer(mcfg, rngs=nnx.Rngs(0))))[0]
        ids = self.batch({"ids": ((rows, P), jnp.int32), "mask": ((rows, P), jnp.int32)})
        scalar = lambda d: jax.ShapeDtypeStruct((), d, sharding=self.layout.replicated)  # noqa: E731
        lower = lambda: lower_generate(  # noqa: E731
            graphdef, params, mcfg, ids["ids"], ids["mask"], self.key, max_new_tokens=L,
            temperature=scalar(jnp.float32), top_p=scalar(jnp.float32), eos_id=scalar(jnp.int32),
            pad_id=scalar(jnp.int32), return_topk=topk, rules=self.layout.rules)
        kv = self._kv_cache_bytes(mcfg, rows, P + L)  # batch over the batch axes, kv heads over tensor
        return self._row(name, lower, params=shard_bytes(params), kv_cache=kv, resident=resident)

    def _kv_cache_bytes(self, mcfg, rows: int, length: int) -> int:
        import numpy as np

        from mighty.models.sharding import logical_to_mesh_spec

        mesh = self.layout.mesh
        split_b = self.layout.batch_split
        kv_axes = logical_to_mesh_spec(("kv_heads",), self.layout.rules, mesh)[0]
        names = (kv_axes,) if isinstance(kv_axes, str) else tuple(kv_axes or ())
        split_h = int(np.prod([mesh.shape[a] for a in names])) if names else 1
        split_h = split_h if mcfg.num_kv_heads % split_h == 0 else 1
        per = 2 * mcfg.num_layers * rows * mcfg.num_kv_heads * length * mcfg.head_dim * np.dtype(mcfg.jnp_dtype).itemsize
        return per // (split_b * split_h)

    def sampler(self) -> Row:
        self._no_lora("sampler")
        g = self._grpo()
        n, P, L, _ = self._rollout_shapes(g)
        from mighty.training import make_optimizer

        state, _ = self.train_state(make_optimizer(g.optim, 1000)[0])
        ref = 0 if g.ref_offload or g.beta == 0 else shard_bytes(self.models["student"][3])
        return self._sampler("student", n, P, L, 0, shard_bytes(state["opt_state"]) + ref, "sampler")

    def reference(self) -> Row:
        self._no_lora("reference")
        from mighty.rl.reference import ReferencePass

        g = self._grpo()
        _, graphdef, _, params, _ = self.models["student"]
        n, P, L, arrays = self._rollout_shapes(g)
        batch = self.batch(arrays)
        rp = ReferencePass(graphdef, params, chunk_rows=g.ref_chunk, offloaded=g.ref_offload)
        from mighty.training import make_optimizer

        state, _ = self.train_state(make_optimizer(g.optim, 1000)[0])
        # π_ref is the policy at init (same shapes); the train state stays resident meanwhile
        row = self._row("reference", lambda: rp.lower(**{k: batch[k] for k in
                                                          ("prompt_ids", "prompt_mask", "tokens", "mask")}),
                        params=shard_bytes(params), resident=shard_bytes(state))
        return row

    def teacher_labels(self) -> Row:
        lab = self.cfg.label
        P = max(self.cfg.kd.prompt_buckets)
        return self._sampler("teacher", int(lab.batch_size), P, int(lab.max_new_tokens),
                             int(lab.topk_logprobs), 0, "teacher_labels")

    def _row(self, name, lower, *, params=0, optimizer=0, kv_cache=0, resident=0) -> Row:
        t0 = time.perf_counter()
        compiled = lower().compile()
        total, temp = xla_bytes(compiled)
        return Row(name, params / GiB, optimizer / GiB, max(temp - kv_cache, 0) / GiB, kv_cache / GiB,
                   resident / GiB, total / GiB, time.perf_counter() - t0)


def student_lora(cfg: DictConfig):
    """`student.lora` (conf/student/lora) as a validated `LoRAConfig`, or None."""
    node = cfg.student.get("lora") if cfg.get("student") else None
    if node is None:
        return None
    from mighty.models.lora import LoRAConfig

    return OmegaConf.to_object(OmegaConf.merge(OmegaConf.structured(LoRAConfig), node))


def _build(mcfg, lora):
    from flax import nnx

    from mighty.models.lora import apply_lora
    from mighty.models.transformer import Transformer

    model = Transformer(mcfg, rngs=nnx.Rngs(0))
    return model if lora is None else apply_lora(model, lora)


def frozen_sds(rest, layout):
    """Abstract frozen base -> pure dict of sharded ShapeDtypeStructs: each array (a kernel, or
    a quantised kernel's codes and scales) laid out by its variable's logical axes."""
    import jax
    from flax import nnx

    from mighty.models.mesh import fit_spec
    from mighty.models.sharding import logical_to_mesh_spec

    def place(var):
        spec = logical_to_mesh_spec(var.get_metadata().get("out_sharding"), layout.rules, layout.mesh)
        return jax.tree.map(lambda x: jax.ShapeDtypeStruct(x.shape, x.dtype, sharding=jax.sharding.NamedSharding(
            layout.mesh, fit_spec(spec, x.shape, layout.mesh))), var.get_value())

    placed = jax.tree.map(place, rest, is_leaf=lambda x: isinstance(x, nnx.Variable))
    return nnx.to_pure_dict(placed) if isinstance(placed, nnx.State) else placed


def plan(cfg: DictConfig) -> list[Row]:
    planner = Planner(cfg)
    rows = []
    for name in cfg.programs:
        if not hasattr(planner, name) or name.startswith("_"):
            raise ValueError(f"programs: unknown program {name!r}; choose from "
                             f"kd_step, grpo_step, sampler, reference, teacher_labels")
        rows.append(getattr(planner, name)())
        print(f"  compiled {name} in {rows[-1].compile_s:.1f} s", flush=True)
    return rows


def format_table(rows: list[Row], capacity_gb: float, headroom: float) -> str:
    cols = ("program", "params", "optimizer", "activations", "kv_cache", "resident", "xla_total", "peak", "fits")
    limit = capacity_gb * headroom * 1e9 / GiB
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for r in rows:
        vals = [r.program] + [f"{v:.2f}" for v in (r.params, r.optimizer, r.activations, r.kv_cache,
                                                   r.resident, r.xla_total, r.peak)]
        lines.append("| " + " | ".join(vals + ["yes" if r.peak <= limit else "NO"]) + " |")
    return "\n".join(lines)


def verdict(rows: list[Row], capacity_gb: float, headroom: float) -> tuple[bool, str]:
    limit = capacity_gb * headroom * 1e9 / GiB
    worst = max(rows, key=lambda r: r.peak)
    ok = worst.peak <= limit
    return ok, (f"{'FITS' if ok else 'DOES NOT FIT'}: peak {worst.peak:.2f} GiB per device ({worst.program}) "
                f"vs {limit:.2f} GiB usable ({headroom:.0%} of {capacity_gb:g} GB)")


@hydra.main(config_path="../conf", config_name="plan_memory", version_base="1.3")
def main(cfg: DictConfig) -> None:
    import jax

    if jax.device_count() != int(cfg.devices):
        raise SystemExit(f"devices={cfg.devices} but jax sees {jax.device_count()} devices: run this "
                         f"module as `python -m mighty.experiments.plan_memory` so it can set XLA_FLAGS first")
    mesh_shape = dict(__import__("mighty.models.mesh", fromlist=["x"]).Layout(cfg.mesh).mesh.shape)
    print(f"plan: experiment={cfg.name} devices={cfg.devices} mesh={mesh_shape} remat={cfg.mesh.remat} "
          f"device_memory={cfg.device_memory_gb} GB (GiB per device below)")
    rows = plan(cfg)
    print(format_table(rows, float(cfg.device_memory_gb), float(cfg.headroom)))
    ok, text = verdict(rows, float(cfg.device_memory_gb), float(cfg.headroom))
    print(text)


if __name__ == "__main__":
    main()
