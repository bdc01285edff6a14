"""8 fake CPU devices: the token-mean GRPO gradient for 1, 2 and 4 microbatches on the `data`
mesh equals the 1-device, 1-microbatch gradient; the broken normaliser (per-microbatch token
means averaged) must not. Run by tests/rl/test_failure_paths.py with XLA_FLAGS set; prints OK.
"""
import sys
from pathlib import Path

ROOT = Path(__file__).parents[2]
sys.path[:0] = [str(ROOT / "tests" / "scale"), str(ROOT)]
sys.path.append(str(ROOT / "tests"))  # tolerances.py (after the repo)
import cases  # noqa: E402
import jax  # noqa: E402
from omegaconf import OmegaConf  # noqa: E402

from mighty.rl import step as rl_step  # noqa: E402
from mighty.models.mesh import Layout  # noqa: E402
from tolerances import assert_grads_close  # noqa: E402

CONF = ROOT / "mighty" / "conf" / "mesh"


def layout(name):
    own = OmegaConf.load(CONF / f"{name}.yaml")
    own.pop("defaults", None)
    return Layout(OmegaConf.merge(OmegaConf.load(CONF / "single.yaml"), own))


def uneven_inputs(seed=0, group=1, _orig=cases.grpo_inputs):
    """The cases' rollout with row 1 cut to 2 tokens: the strided microbatches then hold
    different token counts for M = 2 and 4 (the random lengths alone happen to balance M = 2)."""
    host, rewards = _orig(seed, group)
    host["mask"][1, 2:] = 0
    host["tokens"] = host["tokens"] * host["mask"]
    return host, rewards


cases.grpo_inputs = uneven_inputs


def grads(lay, micro):
    out = cases.run_grpo(lay, steps=1, micro_batches=micro)
    return out["grads"][0], int(out["terms"])


def main():
    assert jax.device_count() == 8, jax.devices()
    single, data = layout("single"), layout("data")
    assert data.mesh.size == 8
    want, terms = grads(single, 1)
    for m in (1, 2, 4):
        got, _ = grads(data, m)
        print("tokens per microbatch", m, cases.grpo_inputs()[0]["mask"].reshape(8 // m, m, -1).sum((0, 2)))
        assert_grads_close(got, want, terms, f"data mesh, {m} microbatches")
    real = rl_step.accumulated_grads
    # the counter-example: every microbatch normalised by its own tokens, the M results averaged
    rl_step.accumulated_grads = lambda f, p, b, m, agg: real(f, p, b, m, "sequence")
    for m in (2, 4):
        got, _ = grads(data, m)
        try:
            assert_grads_close(got, want, terms, f"broken normaliser, {m} microbatches")
        except AssertionError:
            continue
        raise SystemExit(f"the broken normaliser passed with {m} microbatches: the check cannot fail")
    print("OK")


if __name__ == "__main__":
    main()
