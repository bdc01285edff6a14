"""KD with a LoRA student (`student.lora`): the jitted KD step moves the adapters only, dropout
is deterministic in the step key, and the KD stage runs end to end and writes the merged
student plus its PEFT adapter."""
import json
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx
from hydra import compose, initialize_config_dir

from mighty.distill.config import OptimConfig, load_run_config
from mighty.distill.step import LossSpec, make_kd_step
from mighty.training import init_state, make_optimizer
from mighty.models.config import ModelConfig
from mighty.models.lora import LoRAConfig, apply_lora, count, split_trainable
from mighty.models.transformer import Transformer

CONF = str(Path(__file__).resolve().parents[2] / "mighty" / "conf")
CFG = ModelConfig.tiny(num_layers=1, tie_embeddings=False)


def _kd_batch(seed=0, m=2, b=2, p=6, n=5, k=4):
    """A KD batch of M microbatches with a top-K teacher (distill/step.py's layout)."""
    rng = np.random.default_rng(seed)
    ids = lambda *s: rng.integers(3, CFG.vocab_size, s).astype(np.int32)  # noqa: E731
    lp = np.log(rng.dirichlet(np.ones(k), (m, b, n)) * 0.9).astype(np.float32)
    return {"prompt_ids": ids(m, b, p), "prompt_mask": np.ones((m, b, p), np.int32),
            "completion_ids": ids(m, b, n), "completion_mask": np.ones((m, b, n), np.int32),
            "boost": rng.random((m, b, n)) < 0.2, "topk_ids": ids(m, b, n, k), "topk_logprobs": lp}


def _setup(lcfg):
    model = apply_lora(Transformer(CFG, rngs=nnx.Rngs(0)), lcfg)
    graphdef, params, rest = split_trainable(model)
    tx, schedule = make_optimizer(OptimConfig(lr=1e-2, warmup_steps=0), 10)
    step = make_kd_step(graphdef, rest, tx, schedule, LossSpec(alpha=0.3, temperature=2.0))
    return model, graphdef, params, rest, step, init_state(params, tx)


def test_kd_step_moves_adapters_only():
    model, graphdef, params, rest, step, state = _setup(LoRAConfig(rank=4, alpha=8.0))
    before_rest = jax.tree.map(np.asarray, rest)
    before = jax.tree.map(np.array, params)
    n = count(model)["trainable"]
    moments = [x for x in jax.tree.leaves(state["opt_state"]) if x.ndim > 0]
    assert sum(x.size for x in moments) == 2 * n  # Adam's μ, ν for adapters, none for the base
    for s in range(2):  # A moves from step 2 on (its gradient is s·xᵀ·G·Bᵀ and B starts at 0)
        state, metrics = step(state, _kd_batch(s), jax.random.key(s))
        assert np.isfinite(float(metrics["kd/loss"]))
    after = jax.tree_util.tree_leaves_with_path(state["params"])
    for (path, new), old in zip(after, jax.tree.leaves(before), strict=True):
        assert np.abs(np.asarray(new) - old).max() > 0, f"adapter {jax.tree_util.keystr(path)} did not train"
    for new, old in zip(jax.tree.leaves(rest), jax.tree.leaves(before_rest), strict=True):
        np.testing.assert_array_equal(np.asarray(new), old)  # the frozen base, bit for bit
    trained = nnx.merge(graphdef, state["params"], rest)
    ids = jnp.asarray(_kd_batch(9)["prompt_ids"][0])
    assert np.abs(np.asarray(trained(ids)) - np.asarray(Transformer(CFG, rngs=nnx.Rngs(0))(ids))).max() > 1e-3


def test_kd_step_dropout_is_a_function_of_the_key():
    runs = []
    for key in (0, 0, 1):
        *_, step, state = _setup(LoRAConfig(rank=4, alpha=8.0, dropout=0.3))
        state, _ = step(state, _kd_batch(0), jax.random.key(key))
        state, _ = step(state, _kd_batch(1), jax.random.key(key + 10))
        runs.append(jax.tree.leaves(jax.tree.map(np.asarray, state["params"])))
    for a, b in zip(runs[0], runs[1]):
        np.testing.assert_array_equal(a, b)
    assert any(np.abs(a - c).max() > 0 for a, c in zip(runs[0], runs[2]))  # another key, other masks


def _compose(*overrides):
    import mighty.distill.config  # noqa: F401  (registers kd_schema)

    with initialize_config_dir(config_dir=CONF, version_base="1.3"):
        return compose("kd", overrides=list(overrides))


def test_lora_group_composes_for_kd_and_experiment():
    run = load_run_config(_compose("experiment=kd_tiny", "+student/lora=tiny", "label_cache=x"))
    assert (run.student.lora.rank, run.student.lora.quant_block) == (4, 8)
    run = load_run_config(_compose("student/lora=qlora", "label_cache=x"))  # the default student has LoRA
    assert (run.student.lora.rank, run.student.lora.quant, run.student.lora.rslora) == (16, "nf4", True)
    assert load_run_config(_compose("label_cache=x")).student.lora.rank == 16
    assert load_run_config(_compose("student.lora=null", "label_cache=x")).student.lora is None
    with pytest.raises(Exception, match="rank"):
        load_run_config(_compose("student.lora.rank=0", "label_cache=x"))
    import mighty.experiments.pipeline  # noqa: F401  (registers every stage schema the pipeline composes)

    with initialize_config_dir(config_dir=CONF, version_base="1.3"):  # the pipeline's default student is LoRA
        cfg = compose("pipeline", overrides=["student/lora=qlora"])
        full = compose("pipeline", overrides=["experiment=full_ft"])
    assert cfg.student.lora.quant == "nf4" and "grpo" in cfg.stages
    assert full.student.get("lora") is None and full.kd.optim.lr < cfg.kd.optim.lr


@pytest.fixture(scope="module")
def toy_cache(tmp_path_factory):
    from tests.distill.toy_cache import make_toy_examples, write_toy_cache
    from mighty.distill.student import load_teacher

    run = load_run_config(_compose("experiment=kd_tiny", "label_cache=x"))
    teacher, tok = load_teacher(run.teacher)
    examples = make_toy_examples(teacher, 48, key=jax.random.key(0), tokenizer=tok)
    return write_toy_cache(tmp_path_factory.mktemp("toy_cache"), examples)


@pytest.mark.slow
@pytest.mark.parametrize("quant", ["none", "nf4"])
def test_kd_stage_with_lora_writes_merged_student_and_adapter(tmp_path, quant, toy_cache):
    from mighty.distill.train import run_training
    from mighty.models.checkpoint import load_checkpoint

    run = load_run_config(_compose("experiment=kd_tiny", "+student/lora=tiny", f"student.lora.quant={quant}",
                                   f"label_cache={toy_cache}", "kd.steps=6", "kd.eval.every=0",
                                   "kd.eval.n_generate=0", "kd.domain.every=0"))
    final = run_training(run, tmp_path / "run")
    assert np.isfinite(final["eval/kl"])
    rows = [json.loads(x) for x in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert sum("kd/loss" in r for r in rows) == 6
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text())
    student = load_checkpoint(manifest["student_checkpoint"])  # merged: a plain model
    assert student.cfg.num_layers == 1
    adapter = Path(manifest["student_checkpoint"]).parent / "student_adapter"
    cfg = json.loads((adapter / "adapter_config.json").read_text())
    assert cfg["r"] == 4 and len(cfg["target_modules"]) == 7
    assert (adapter / "adapter_model.safetensors").is_file()
    assert manifest["lora"]["adapter"] == str(adapter) and manifest["lora"]["trainable"] > 0
    assert manifest["student_params"] > manifest["lora"]["trainable"]  # the frozen base counts


def test_grpo_composes_the_same_group():
    import mighty.rl.config  # noqa: F401  (registers grpo_schema)
    from mighty.rl.config import load_run_config as load_grpo
    from mighty.rl.train import lora_config

    with initialize_config_dir(config_dir=CONF, version_base="1.3"):
        cfg = compose("grpo", overrides=["experiment=grpo_tiny", "+student/lora=default"])
    lora = lora_config(load_grpo(cfg))
    assert (lora.rank, lora.alpha, len(lora.targets)) == (16, 32.0, 7)


def _rows(path):
    rows = [json.loads(line) for line in Path(path).read_text().splitlines()]
    return [{k: v for k, v in r.items() if not k.startswith("perf/")} for r in rows]


@pytest.mark.slow
def test_lora_kd_sigkill_resume_gives_identical_metrics_from_adapter_only_checkpoints(toy_cache, tmp_path):
    """Dropout on (keys from the step key): killed after step 9, resumed from the step-6
    checkpoint, the run logs exactly the metrics of an uninterrupted one. The checkpoints hold
    the adapters and their Adam state only."""
    import os
    import subprocess
    import sys

    repo = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": str(repo), "JAX_PLATFORMS": "cpu",  # a cache of its own
           "JAX_COMPILATION_CACHE_DIR": str(tmp_path / "xla_cache"), "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS": "0"}
    env.pop("MIGHTY_FAULT_KILL_AT_STEP", None)

    def run(run_dir, **extra_env):
        cmd = [sys.executable, "-m", "mighty.distill.train", "experiment=kd_tiny", "+student/lora=tiny",
               "student.lora.dropout=0.1", f"label_cache={toy_cache}", f"run_dir={run_dir}", "kd.steps=12",
               "kd.ckpt_every=6", "kd.eval.every=6", "kd.eval.n_generate=0", "kd.domain.every=4",
               f"hydra.run.dir={run_dir}/hydra", "hydra.output_subdir=null"]
        return subprocess.run(cmd, cwd=repo, capture_output=True, text=True, timeout=600,
                              env={**env, **extra_env})

    full = run(tmp_path / "full")
    assert full.returncode == 0, full.stderr[-3000:]
    killed = run(tmp_path / "resumed", MIGHTY_FAULT_KILL_AT_STEP="9")
    assert killed.returncode == -9, killed.stderr[-3000:]
    assert _rows(tmp_path / "resumed" / "metrics.jsonl")[-1]["step"] == 9
    resumed = run(tmp_path / "resumed")
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    a, b = _rows(tmp_path / "full" / "metrics.jsonl"), _rows(tmp_path / "resumed" / "metrics.jsonl")
    assert [r["step"] for r in a] == list(range(13)) and a == b
    # What the checkpoints hold, read from orbax's own tree metadata (file sizes vary with
    # orbax's compressed chunks and metadata, so they make a poor bound)
    import orbax.checkpoint as ocp

    model = apply_lora(Transformer(CFG, rngs=nnx.Rngs(0)), LoRAConfig(rank=4))
    n = count(model)
    for step in (6, 12):
        state_dir = tmp_path / "full" / "ckpt" / str(step) / "state"
        saved = ocp.StandardCheckpointer().metadata(state_dir).item_metadata.tree
        leaves = {jax.tree_util.keystr(p): leaf for p, leaf in jax.tree_util.tree_leaves_with_path(saved)}
        arrays = {k: v for k, v in leaves.items() if v.shape}
        assert arrays and all("['lora']" in k for k in arrays), sorted(arrays)
        assert sum(int(np.prod(v.shape)) for v in arrays.values()) == 3 * n["trainable"]  # adapters, Adam μ, ν
        assert all(v.shape == () for k, v in leaves.items() if k not in arrays)  # step and Adam's counters
