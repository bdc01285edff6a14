"""Shared fixtures for rl/ tests: a tiny random policy, a word-per-id tokenizer, a verifiable reward."""
from __future__ import annotations

import numpy as np
import pytest

from mighty.models import ModelConfig, Transformer

TARGET = frozenset(range(64, 128))  # the verifiable reward: share of completion tokens in here


class WordTokenizer:
    """id i <-> "w{i}"; specials (bos/eos/pad) are skipped when decoding."""

    def __init__(self, cfg: ModelConfig):
        self.vocab_size, self.eos_id, self.pad_id, self.bos_id = cfg.vocab_size, cfg.eos_id, cfg.pad_id, cfg.bos_id
        self._special = {cfg.eos_id, cfg.pad_id, cfg.bos_id}

    def encode(self, text: str, **_) -> list[int]:
        return [int(w[1:]) for w in text.split() if w[1:].isdigit()]

    def decode(self, ids, skip_special_tokens: bool = True) -> str:
        return " ".join(f"w{int(i)}" for i in ids if not (skip_special_tokens and int(i) in self._special))

    def save(self, out_dir) -> None:
        pass


def target_fraction(prompts, completions, **fields):
    """Fraction of completion words whose id is in TARGET (0 for an empty completion)."""
    out = []
    for c in completions:
        ids = [int(w[1:]) for w in c.split()]
        out.append(np.mean([i in TARGET for i in ids]) if ids else 0.0)
    return np.asarray(out, np.float64)


def make_prompts(n: int, seed: int, prefix: str = "p") -> list[dict]:
    rng = np.random.default_rng(seed)
    return [{"prompt_id": f"{prefix}{i}",
             "question": " ".join(f"w{t}" for t in rng.integers(3, 128, size=int(rng.integers(3, 9))))}
            for i in range(n)]


@pytest.fixture
def tiny_cfg() -> ModelConfig:
    return ModelConfig.tiny()


@pytest.fixture
def tiny_policy(tiny_cfg):
    from flax import nnx

    return Transformer(tiny_cfg, rngs=nnx.Rngs(0))


@pytest.fixture
def tokenizer(tiny_cfg):
    return WordTokenizer(tiny_cfg)


@pytest.fixture
def encode(tokenizer):
    return lambda record: [tokenizer.bos_id] + tokenizer.encode(record["question"])


@pytest.fixture
def reward():
    return target_fraction


@pytest.fixture
def prompts():
    return make_prompts
