"""Teacher loading and student initialisation: from scratch, layer-pruned, or pretrained.

Layer pruning keeps a subset of the teacher's decoder blocks, in order, and copies the token
embedding, the final norm and the head (tied or not) unchanged. The kept blocks' weights are
the teacher's exactly; only the residual stream between them changes.
"""
from __future__ import annotations

from typing import Sequence

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from mighty.distill.config import StudentConfig, TeacherConfig
from mighty.models.config import ModelConfig
from mighty.models.mesh import born, placement
from mighty.models.transformer import Transformer, with_compute_dtype


def choose_layers(num_teacher_layers: int, *, num_layers: int, strategy: str = "even",
                  every_k: int = 4, keep: Sequence[int] | None = None,
                  influence: Sequence[float] | None = None) -> list[int]:
    """Teacher block indices to keep, ascending.

    even: `num_layers` indices spread evenly over [0, L-1], first and last included
      (the first block builds token features, the last one shapes the output distribution).
    first_last_every_k: 0, k, 2k, … plus L-1 (num_layers ignored).
    influence: the `num_layers` blocks with the largest measured `influence` (block_influence).
    `keep` (explicit indices) overrides all.
    """
    L = num_teacher_layers
    if keep is not None:
        out = sorted(int(i) for i in keep)
        if out[-1] >= L or out[0] < 0:
            raise ValueError(f"student.keep_layers={list(keep)} out of range for a {L}-layer teacher")
        return out
    if strategy == "even":
        if num_layers > L:
            raise ValueError(f"student.num_layers={num_layers} exceeds the teacher's {L} layers")
        if num_layers == 1:
            return [L - 1]
        return sorted({int(round(x)) for x in np.linspace(0, L - 1, num_layers)})
    if strategy == "first_last_every_k":
        return sorted(set(range(0, L, every_k)) | {L - 1})
    if strategy == "influence":
        if influence is None or len(influence) != L:
            raise ValueError(f"strategy=influence needs one influence value per teacher block ({L}), "
                             f"got {None if influence is None else len(influence)}")
        order = np.lexsort((np.arange(L), -np.asarray(influence)))  # most influential first, ties by index
        return sorted(int(i) for i in order[:min(num_layers, L)])
    raise ValueError(f"unknown pruning strategy {strategy!r}")


@nnx.jit
def block_influence(model: Transformer, input_ids, attention_mask):
    """Block influence (ShortGPT, Men et al. 2024) of every block [L]: 1 − cos(x_in, x_out) of
    its residual stream, averaged over real tokens. A block that barely turns the stream can go.

    On SmolLM2-135M its ranking agrees with measured drop-one perplexity (Spearman 0.89 over the
    30 blocks; the same three cheapest blocks) at the cost of one forward pass instead of 30.
    """
    from mighty.models.layers import rope_tables
    from mighty.models.transformer import default_positions

    mask = attention_mask.astype(jnp.int32)
    x = jnp.take(model.embed[...], input_ids, axis=0).astype(jnp.float32)  # (B, T, D)
    rope = rope_tables(default_positions(mask), model.cfg, x.dtype, input_ids.shape[1])
    real = mask.astype(jnp.float32)
    out = []
    for layer in model.layers:
        y = layer(x, rope, mask, None, None)[0]
        cos = (x * y).sum(-1) / (jnp.linalg.norm(x, axis=-1) * jnp.linalg.norm(y, axis=-1) + 1e-9)
        out.append(((1.0 - cos) * real).sum() / real.sum())
        x = y
    return jnp.stack(out)


def calibration_batch(tokenizer, *, n: int = 16, max_len: int = 96) -> tuple[np.ndarray, np.ndarray]:
    """In-domain text for block influence: the first `n` KB entries as the grounded prompt shows
    them (ids, mask) [n, max_len], right-padded."""
    from mighty.data import load_kb
    from mighty.data.prompts import kb_context

    texts = [f"{e['title']}\n{kb_context(e)}" for e in load_kb()[:n]]
    seqs = [([tokenizer.bos_id] if tokenizer.bos_id is not None else []) + tokenizer.encode(t) for t in texts]
    ids = np.full((len(seqs), max_len), tokenizer.pad_id, np.int32)
    mask = np.zeros((len(seqs), max_len), np.int32)
    for i, seq in enumerate(seqs):
        seq = seq[:max_len]
        ids[i, :len(seq)], mask[i, :len(seq)] = seq, 1
    if mask.sum(1).min() < 2:
        raise ValueError("calibration_batch: the tokenizer turned KB text into < 2 tokens; "
                         "strategy=influence needs the teacher's real tokenizer")
    return ids, mask


def params_of(model: Transformer) -> dict:
    """Plain nested dict of the model's parameters (layer indices are int keys)."""
    return nnx.to_pure_dict(nnx.state(model, nnx.Param))


def prune_layers(teacher: Transformer, keep: Sequence[int]) -> Transformer:
    """A new model holding teacher blocks `keep` (copies, not views) + embeddings/norm/head."""
    cfg = teacher.cfg.replace(num_layers=len(keep))
    student = nnx.eval_shape(lambda: Transformer(cfg, rngs=nnx.Rngs(0)))
    graphdef, abstract = nnx.split(student, nnx.Param)
    t = params_of(teacher)
    p = {k: v for k, v in t.items() if k != "layers"}
    p["layers"] = {new: t["layers"][old] for new, old in enumerate(keep)}
    p = jax.tree.map(jnp.array, p)  # copy: the student never aliases teacher buffers
    nnx.replace_by_pure_dict(abstract, p)
    return nnx.merge(graphdef, abstract)


def random_model(cfg: ModelConfig, seed: int, logit_scale: float = 1.0) -> Transformer:
    """A randomly initialised model; `logit_scale` multiplies the head so the distribution is
    peaked (a random 0.02-std init is nearly uniform, which makes a useless test teacher)."""
    model = Transformer(cfg, rngs=nnx.Rngs(seed))
    if logit_scale != 1.0:
        if cfg.tie_embeddings:
            raise ValueError("teacher.logit_scale needs an untied head (tie_embeddings=false)")
        model.lm_head.value = model.lm_head.value * logit_scale
    return model


def load_teacher(cfg: TeacherConfig, layout=None):
    """-> (Transformer, tokenizer). source="random" builds a test teacher with `ToyTokenizer`.
    With a `layout` the weights are born sharded (a 7B teacher never sits on one device)."""
    if cfg.source == "random":
        mcfg = ModelConfig(**dict(cfg.model))
        return born(lambda: random_model(mcfg, cfg.seed, cfg.logit_scale), layout), ToyTokenizer(mcfg)
    from mighty.models.loading import load_pretrained

    model, tok = load_pretrained(cfg.source, dtype=cfg.dtype, **placement(layout))
    if tok is None:
        raise ValueError(f"teacher {cfg.source!r} has no tokenizer; KD needs one to decode answers")
    return model, tok


def init_student(cfg: StudentConfig, teacher: Transformer, key: jax.Array, layout=None,
                 tokenizer=None) -> Transformer:
    """Build the student per `cfg.init`; its vocabulary must match the teacher's. With a
    `layout` its parameters are born sharded (pruned blocks copy the teacher's shards).
    `strategy=influence` measures block influence on KB text with the teacher's `tokenizer`."""
    if cfg.init == "pruned":
        influence = None
        if cfg.strategy == "influence" and cfg.keep_layers is None:
            if tokenizer is None:
                raise ValueError("student.strategy=influence needs the teacher's tokenizer")
            influence = np.asarray(block_influence(teacher, *map(jnp.asarray, calibration_batch(tokenizer))))
        keep = choose_layers(teacher.cfg.num_layers, num_layers=cfg.num_layers, strategy=cfg.strategy,
                             every_k=cfg.every_k, keep=cfg.keep_layers, influence=influence)
        student = prune_layers(teacher, keep)
    elif cfg.init == "scratch":
        overrides = dict(cfg.model)
        overrides.setdefault("num_layers", cfg.num_layers)
        mcfg = teacher.cfg.replace(**overrides, param_dtype=cfg.dtype, dtype=cfg.dtype)
        seed = int(jax.random.randint(key, (), 0, 2**31 - 1))
        student = born(lambda: Transformer(mcfg, rngs=nnx.Rngs(seed)), layout)
    else:
        from mighty.models.loading import load_pretrained

        student, _ = load_pretrained(cfg.source, dtype=cfg.dtype, **placement(layout))
    if student.cfg.vocab_size != teacher.cfg.vocab_size:
        raise ValueError(f"student vocab {student.cfg.vocab_size} != teacher vocab "
                         f"{teacher.cfg.vocab_size}: KD on token distributions needs one tokenizer")
    student = with_compute_dtype(student, cfg.compute_dtype) if cfg.compute_dtype else student
    if cfg.lora is not None:  # adapters on a frozen (optionally quantised) base
        from mighty.models.lora import apply_lora

        student = apply_lora(student, cfg.lora)
    return student


def param_count(model: Transformer) -> int:
    """All weights, trainable or frozen (a LoRA student's frozen base counts; quantised kernels
    count their logical size)."""
    from mighty.models.lora import Frozen

    weights = nnx.state(model, nnx.Any(nnx.Param, Frozen))
    return int(sum(np.prod(v.get_value().shape) for v in jax.tree.leaves(
        weights, is_leaf=lambda x: isinstance(x, nnx.Variable))))


class ToyTokenizer:
    """Word-per-id tokenizer for random test models: id i <-> "w{i}" (specials skipped)."""

    def __init__(self, cfg: ModelConfig):
        self.vocab_size, self.eos_id, self.pad_id, self.bos_id = (
            cfg.vocab_size, cfg.eos_id, cfg.pad_id, cfg.bos_id)
        self._special = {cfg.eos_id, cfg.pad_id, cfg.bos_id}

    def encode(self, text: str, **_) -> list[int]:
        return [int(w[1:]) for w in text.split() if w.startswith("w") and w[1:].isdigit()]

    def decode(self, ids, skip_special_tokens: bool = True) -> str:
        return " ".join(f"w{int(i)}" for i in ids
                        if not (skip_special_tokens and int(i) in self._special))

    def save(self, out_dir) -> None:  # nothing to persist: the test re-creates it from the config
        pass
