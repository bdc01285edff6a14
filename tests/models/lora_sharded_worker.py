"""LoRA / QLoRA KD steps on 1 device and on conf/mesh configs over 8 fake CPU devices.

`python tests/models/lora_sharded_worker.py OUT.npz` (XLA_FLAGS set by the caller, before jax
loads). Reuses the tiny KD case of tests/scale/cases.py (batch, SGD that keeps its gradient);
writes flat arrays `<mesh>/<quant>/<key>` for tests/models/test_lora_sharded.py.
"""
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).parents[2]
sys.path[:0] = [str(ROOT / "tests" / "scale"), str(ROOT)]
sys.path.append(str(ROOT / "tests"))  # tolerances.py, imported by cases
import cases  # noqa: E402
import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
from flax import nnx  # noqa: E402
from sharded_worker import flatten, mesh_config  # noqa: E402

from mighty.distill.config import OptimConfig  # noqa: E402
from mighty.distill.step import LossSpec, make_kd_step  # noqa: E402
from mighty.training import init_state, make_optimizer  # noqa: E402
from mighty.models import Transformer  # noqa: E402
from mighty.models.lora import LoRAConfig, adapters, apply_lora  # noqa: E402
from mighty.models.mesh import Layout, born, to_host  # noqa: E402

MESHES = ("single", "fsdp", "fsdp_tensor")


def lora_student(layout, quant):
    model = born(lambda: Transformer(cases.CFG, rngs=nnx.Rngs(0)), layout)
    apply_lora(model, LoRAConfig(rank=4, alpha=8.0, quant=quant, quant_block=8))
    rng = np.random.default_rng(1)
    for *_, ad in adapters(model):  # B ≠ 0, so both factors get gradients from step 1
        ad.b.set_value(jnp.asarray(rng.normal(0, 0.1, ad.b.shape), jnp.float32))
    return model


def run(layout, quant, steps=2):
    model = lora_student(layout, quant)
    graphdef, params, rest = nnx.split(model, nnx.Param, ...)
    p_sh = layout.params(params)
    params, rest = nnx.to_pure_dict(params), nnx.to_pure_dict(rest)
    _, schedule = make_optimizer(OptimConfig(lr=1e-2, warmup_steps=1), 10)
    tx = cases.gradient_sgd(1e-2)
    state, s_sh = layout.state(init_state(params, tx), p_sh)
    step = make_kd_step(graphdef, rest, tx, schedule, LossSpec(temperature=2.0, alpha=0.3),
                        out_shardings=(s_sh, layout.replicated))
    rows = layout.rows(cases.ROWS)
    metrics, grads = [], []
    for s in range(steps):
        host = cases.kd_batch(seed=s)
        batch = layout.batch({k: v[:, rows] for k, v in host.items()}, batch_dim=1, global_rows=cases.ROWS)
        state, m = step(state, batch, jax.random.key(s))
        metrics.append(to_host(m))
        grads.append(to_host(state["opt_state"][0]))
    shard = lambda tree: np.asarray(sum(int(np.prod(x.addressable_shards[0].data.shape))  # noqa: E731
                                        for x in jax.tree.leaves(tree)))
    return {"params": to_host(state["params"]), "metrics": metrics, "grads": grads,
            "lr": np.asarray(1e-2), "terms": np.asarray(host["completion_mask"].size),
            "frozen_shard_elems": shard(rest), "adapter_shard_elems": shard(state["params"])}


def main(out_path):
    assert jax.device_count() == 8, jax.devices()
    out = {}
    for name in MESHES:
        layout = Layout(mesh_config(name))
        for quant in ("none", "nf4"):
            flatten(f"{name}/{quant}", run(layout, quant), out)
        print(name, "done", flush=True)
    np.savez(out_path, **out)


if __name__ == "__main__":
    main(sys.argv[1])
