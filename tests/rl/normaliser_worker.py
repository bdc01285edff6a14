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

import rl.step  # noqa: E402
from models.mesh import Layout  # noqa: E402
from tolerances import assert_grads_close  # noqa: E402

CONF = ROOT / "conf" / "mesh"


def layout(name):
    own = OmegaConf.load(CONF / f"{name}.yaml")
    own.pop("defaults", None)
    return Layout(OmegaConf.merge(OmegaConf.load(CONF / "single.yaml"), own))


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
        assert_grads_close(got, want, terms, f"data mesh, {m} microbatches")
    real = rl.step.accumulated_grads
    # the counter-example: every microbatch normalised by its own tokens, the M results averaged
    rl.step.accumulated_grads = lambda f, p, b, m, agg: real(f, p, b, m, "sequence")
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
