"""Chat with a model: `python -m mighty.experiments.generate model=smollm2_135m prompt="..."`."""
from __future__ import annotations

import sys
import time

import hydra
import jax
import numpy as np
from omegaconf import DictConfig, OmegaConf


def build_model(model_cfg: DictConfig):
    """-> (model, tokenizer | None) from a conf/model/*.yaml node."""
    from flax import nnx

    from mighty.models import ModelConfig, Transformer, load_pretrained

    if model_cfg.source == "random":
        dtype = model_cfg.get("dtype", "float32")
        cfg = ModelConfig(**OmegaConf.to_container(model_cfg.model), param_dtype=dtype,
                          dtype=model_cfg.get("compute_dtype") or dtype)
        return Transformer(cfg, rngs=nnx.Rngs(int(model_cfg.get("seed", 0)))), None
    return load_pretrained(model_cfg.source, dtype=model_cfg.get("dtype", "float32"),
                           compute_dtype=model_cfg.get("compute_dtype"))


def prompt_ids(tokenizer, model, system: str | None, prompt: str) -> list[int]:
    if tokenizer is None:  # random test models: one id per character
        v = model.cfg.vocab_size
        return [model.cfg.bos_id or 1] + [3 + ord(c) % (v - 3) for c in prompt]
    messages = ([{"role": "system", "content": system}] if system else []) + [{"role": "user", "content": prompt}]
    return tokenizer.chat(messages)


class StreamPrinter:
    """Prints row 0's text as tokens arrive; re-decodes the prefix so multi-token characters print whole."""

    def __init__(self, tokenizer, out=sys.stdout):
        self.tokenizer, self.out, self.ids, self.shown = tokenizer, out, [], ""

    def __call__(self, step: int, tokens: np.ndarray, valid: np.ndarray):
        if not valid[0]:
            return
        self.ids.append(int(tokens[0]))
        text = (self.tokenizer.decode(self.ids) if self.tokenizer is not None
                else " ".join(f"w{i}" for i in self.ids))
        self.out.write(text[len(self.shown):] if text.startswith(self.shown) else "\n" + text)
        self.out.flush()
        self.shown = text


def answer(model, tokenizer, cfg: DictConfig, prompt: str, key) -> tuple[str, dict]:
    from mighty import models

    seq = prompt_ids(tokenizer, model, cfg.system, prompt)
    if tokenizer is not None:
        ids, mask = tokenizer.batch([seq])
    else:
        ids, mask = np.asarray([seq], np.int32), np.ones((1, len(seq)), np.int32)
    printer = StreamPrinter(tokenizer) if cfg.stream else None
    eos = tokenizer.eos_id if tokenizer is not None else model.cfg.eos_id
    pad = tokenizer.pad_id if tokenizer is not None else model.cfg.pad_id
    t0 = time.perf_counter()
    out = models.generate(model, ids, mask, key, max_new_tokens=int(cfg.max_new_tokens),
                          temperature=float(cfg.temperature), top_k=int(cfg.top_k), top_p=float(cfg.top_p),
                          eos_id=eos, pad_id=pad, stream=printer)
    n = int(out.lengths[0])
    seconds = time.perf_counter() - t0
    toks = np.asarray(out.tokens[0, :n]).tolist()
    text = tokenizer.decode(toks) if tokenizer is not None else " ".join(f"w{i}" for i in toks)
    return text, {"tokens": n, "seconds": seconds, "truncated": bool(out.truncated[0])}


@hydra.main(config_path="../conf", config_name="generate", version_base="1.3")
def main(cfg: DictConfig) -> str:
    model, tokenizer = build_model(cfg.model)
    text, info = answer(model, tokenizer, cfg, cfg.prompt, jax.random.key(int(cfg.seed)))
    if not cfg.stream:
        print(text)
    print(f"\n[{info['tokens']} tokens in {info['seconds']:.1f}s (incl. compile)"
          f"{', truncated' if info['truncated'] else ''}]")
    return text


if __name__ == "__main__":
    main()
