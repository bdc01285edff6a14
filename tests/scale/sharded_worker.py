"""Run the tiny cases on 1 device and on every conf/mesh config over 8 fake CPU devices.

`python tests/scale/sharded_worker.py OUT.npz` (XLA_FLAGS set by the caller, before jax loads).
Writes flat arrays `<mesh>/<case>/<key>`; tests/scale/test_sharded.py compares them.
"""
import sys
from pathlib import Path

import numpy as np
from omegaconf import OmegaConf

sys.path[:0] = [str(Path(__file__).parent), str(Path(__file__).parents[2])]
sys.path.append(str(Path(__file__).parents[1]))  # tests/: tolerances.py (after the repo)
import cases  # noqa: E402
import jax  # noqa: E402

from mighty.models.mesh import Layout  # noqa: E402

MESHES = ("single", "data", "fsdp", "fsdp_tensor")
CONF = Path(__file__).parents[2] / "mighty" / "conf" / "mesh"


def mesh_config(name):
    """conf/mesh/<name>.yaml over its `single` base (what Hydra composes for mesh=<name>)."""
    own = OmegaConf.load(CONF / f"{name}.yaml")
    own.pop("defaults", None)
    return OmegaConf.merge(OmegaConf.load(CONF / "single.yaml"), own)


def flatten(prefix, tree, out):
    for path, leaf in jax.tree_util.tree_flatten_with_path(tree)[0]:
        out[prefix + jax.tree_util.keystr(path)] = np.asarray(leaf)


def main(out_path):
    assert jax.device_count() == 8, jax.devices()
    out = {}
    layouts = {name: Layout(mesh_config(name)) for name in MESHES}  # `single`: the 1-device reference
    for name, layout in layouts.items():
        out[f"{name}/mesh_size"] = np.asarray(layout.mesh.size)
        flatten(f"{name}/kd", cases.run_kd(layout), out)
        flatten(f"{name}/grpo", cases.run_grpo(layout), out)
        flatten(f"{name}/grpo_shared", cases.run_grpo(layout, micro_batches=1, share_prompt=True), out)
        flatten(f"{name}/sampler", cases.run_sampler(layout), out)
        out[f"{name}/cache_shapes"] = np.asarray(cases.sampler_cache_shapes(layout))
        flatten(f"{name}/born", cases.run_born(layout, Path(out_path).parent / f"born_{name}"), out)
        # evidence that the layout really is sharded: per-device bytes of the params
        _, params, _, _ = cases.init_sharded(cases._model(0), layout.mesh, layout.rules)
        out[f"{name}/param_shard_elems"] = np.asarray(sum(
            int(np.prod(x.addressable_shards[0].data.shape)) for x in jax.tree.leaves(params)))
        print(name, "done", flush=True)
    np.savez(out_path, **out)


if __name__ == "__main__":
    main(sys.argv[1])
