"""One process of a multi-controller run (or the single-process reference).

    python tests/scale/multiprocess_worker.py MODE OUT_DIR [MESH]

MODE `single`: 1 process, 1 device: KD + GRPO steps and full GRPO learner iterations (rollouts
  included) -> OUT_DIR/single.npz, and its final GRPO state saved with
  runtime.Checkpointer to OUT_DIR/ckpt_single.
MODE `multi`: one of N processes joined through jax.distributed (MIGHTY_COORDINATOR_ADDRESS,
  MIGHTY_NUM_PROCESSES, MIGHTY_PROCESS_ID): the same on MESH over all processes' devices
  -> OUT_DIR/multi.npz (process 0); its final GRPO state -> OUT_DIR/ckpt_multi (every process
  writes its shards); then OUT_DIR/ckpt_single restored into the sharded layout -> OUT_DIR/
  multi_restored.npz.
MODE `restore`: 1 process restores OUT_DIR/ckpt_multi -> OUT_DIR/single_restored.npz.

`digest` entries are rl.learner.params_digest of the final GRPO params (computed on the sharded
state by every process in `multi`) and of each restored state.
"""
import sys
from pathlib import Path

sys.path[:0] = [str(Path(__file__).parent), str(Path(__file__).parents[2])]
sys.path.append(str(Path(__file__).parents[1]))  # tests/: tolerances.py (after the repo)
import numpy as np  # noqa: E402
from omegaconf import OmegaConf  # noqa: E402

from mighty.models.mesh import Layout, initialize_distributed, is_primary, to_host  # noqa: E402

CONF = Path(__file__).parents[2] / "mighty" / "conf" / "mesh"


def mesh_config(name):
    own = OmegaConf.load(CONF / f"{name}.yaml")
    own.pop("defaults", None)
    return OmegaConf.merge(OmegaConf.load(CONF / "single.yaml"), own)


def flat(prefix, tree):
    import jax

    return {prefix + jax.tree_util.keystr(p): np.asarray(x)
            for p, x in jax.tree_util.tree_flatten_with_path(tree)[0]}


def abstract_grpo_state(layout):
    import jax

    import cases
    _, state = cases.run_grpo(layout, steps=0, return_state=True)  # structure + shardings only
    return jax.tree.map(lambda x: jax.ShapeDtypeStruct(x.shape, x.dtype, sharding=x.sharding), state)


def main(mode, out_dir, mesh_name="fsdp_tensor"):
    out = Path(out_dir)
    cfg = mesh_config(mesh_name if mode == "multi" else "single")
    multi = initialize_distributed(cfg)
    assert multi == (mode == "multi")
    import jax

    import cases
    from mighty.runtime import Checkpointer
    from mighty.rl.learner import params_digest
    layout = Layout(cfg)
    if mode == "restore":
        state, extra = Checkpointer(out / "ckpt_multi").restore(None, abstract_grpo_state(layout))
        np.savez(out / "single_restored.npz", **flat("state", to_host(state)), step=extra["step"],
                 digest=params_digest(state["params"]))
        return
    res = {**flat("kd", cases.run_kd(layout))}
    grpo, state = cases.run_grpo(layout, return_state=True)
    res.update(flat("grpo", grpo))
    res.update(flat("learner", cases.run_learner(layout, out / f"learner_{mode}")))
    res["digest"] = np.asarray(params_digest(state["params"]))
    res["params_span_processes"] = np.asarray(not jax.tree.leaves(state["params"])[0].is_fully_addressable)
    res["processes"] = np.asarray(jax.process_count())
    res["devices"] = np.asarray(layout.mesh.size)
    if is_primary():
        np.savez(out / f"{mode}.npz", **res)
    ckpt = Checkpointer(out / f"ckpt_{mode}")
    ckpt.save(2, state, {"step": 2})
    ckpt.close()
    if mode == "multi":
        restored, _ = Checkpointer(out / "ckpt_single").restore(None, abstract_grpo_state(layout))
        leaf = jax.tree.leaves(restored["params"])[0]
        host = to_host(restored)
        digest = params_digest(restored["params"])  # a collective: every process computes it
        if is_primary():
            np.savez(out / "multi_restored.npz", **flat("state", host), digest=digest,
                     spans_processes=np.asarray(not leaf.is_fully_addressable))
        jax.distributed.shutdown()


if __name__ == "__main__":
    main(*sys.argv[1:])
