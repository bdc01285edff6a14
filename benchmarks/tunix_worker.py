"""google/tunix 0.1.7 `GRPOLearner`, one GRPO step per stdin command (run by grpo_step.py).

Runs under `.venv-tunix/bin/python` (tunix pins packages Mighty does not use), so it imports
nothing from Mighty. Protocol: argv[1] is a JSON spec; the worker prints `@@{"event": "ready"}`
once parked before its first step, then for every `step` line on stdin runs one global step
and prints `@@{"event": "done", ...}`; `quit` ends training.

The dataset iterator is the gate: tunix pulls batch k+1 only after global step k has finished
(including its weight sync and metric buffering), so step k's time is the time between
releasing batch k and the request for batch k+1.
"""
from __future__ import annotations

import json
import os
import sys
import time

os.environ.setdefault("JAX_PLATFORMS", "cpu")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def emit(event: str, **kw):
    sys.stdout.write("@@" + json.dumps({"event": event, **kw}) + "\n")
    sys.stdout.flush()


def main():
    spec = json.loads(sys.argv[1])
    import jax
    import numpy as np
    import optax
    from flax import nnx
    from jax.sharding import AxisType
    from transformers import AutoTokenizer
    from tunix.models.llama3 import model as llama3
    from tunix.rl import rl_cluster as rl_cluster_lib
    from tunix.rl.grpo import grpo_learner
    from tunix.rl.rollout import base_rollout

    hf = json.load(open(os.path.join(spec["model_dir"], "config.json")))
    tok = AutoTokenizer.from_pretrained(spec["model_dir"])
    cfg = llama3.ModelConfig(
        num_layers=hf["num_hidden_layers"], vocab_size=hf["vocab_size"],
        embed_dim=hf["hidden_size"], hidden_dim=hf["intermediate_size"],
        num_heads=hf["num_attention_heads"], head_dim=hf.get("head_dim") or hf["hidden_size"] // hf["num_attention_heads"],
        num_kv_heads=hf["num_key_value_heads"], rope_theta=int(hf.get("rope_theta", 10000)),
        norm_eps=hf["rms_norm_eps"], weight_tying=bool(hf.get("tie_word_embeddings", False)))
    mesh = jax.make_mesh((1, 1), ("fsdp", "tp"), axis_types=(AxisType.Auto,) * 2)
    with mesh:
        actor = llama3.Llama3(cfg, rngs=nnx.Rngs(params=0))
        reference = llama3.Llama3(cfg, rngs=nnx.Rngs(params=0))
    texts = [tok.decode(ids) for ids in spec["prompt_ids"]]
    prompt_len = max(len(p) for p in spec["prompt_ids"])
    rollout = base_rollout.RolloutConfig(
        max_tokens_to_generate=spec["max_new_tokens"], max_prompt_length=prompt_len,
        kv_cache_size=prompt_len + spec["max_new_tokens"] + 8, temperature=1.0, top_p=1.0,
        top_k=None, eos_tokens=[spec["eos_id"]])
    optimizer = optax.chain(optax.clip_by_global_norm(spec["clip"]),
                            optax.adamw(spec["lr"], b1=0.9, b2=spec["b2"], weight_decay=0.0))
    training = rl_cluster_lib.RLTrainingConfig(
        actor_optimizer=optimizer, eval_every_n_steps=10**9, max_steps=spec["steps"] + 1,
        mini_batch_size=len(texts), train_micro_batch_size=len(texts),
        metrics_logging_options=None, pbar_description=None)
    cluster = rl_cluster_lib.ClusterConfig(
        role_to_mesh={rl_cluster_lib.Role.ACTOR: mesh, rl_cluster_lib.Role.REFERENCE: mesh,
                      rl_cluster_lib.Role.ROLLOUT: mesh},
        rollout_engine="vanilla", offload_to_cpu=False, training_config=training,
        rollout_config=rollout)
    rl = rl_cluster_lib.RLCluster(actor=actor, reference=reference, tokenizer=tok,
                                  cluster_config=cluster)
    algo = grpo_learner.GRPOConfig(num_generations=spec["group"], num_iterations=1,
                                   beta=spec["beta"], epsilon=spec["eps_low"],
                                   loss_agg_mode="token-mean")
    algo.epsilon_high = spec["eps_high"]  # read by tunix's grpo loss when present
    last = {}

    def reward(prompts, completions, **_):
        words = [c.split() for c in completions]
        last["tokens"] = sum(len(tok(c, add_special_tokens=False).input_ids) for c in completions)
        return [float(np.mean([w[1:].isdigit() and int(w[1:]) % 2 == 0 for w in ws])) if ws else 0.0
                for ws in words]

    learner = grpo_learner.GRPOLearner(rl_cluster=rl, algo_config=algo, reward_fns=reward)

    def batches():
        emit("ready")
        while sys.stdin.readline().strip() == "step":
            last.clear()
            yield {"prompts": np.asarray(texts)}
            emit("done", **last)

    learner.train(batches())


if __name__ == "__main__":
    main()
