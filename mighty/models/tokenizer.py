"""A thin tokenizer wrapper: encode/decode, chat template, padded + bucketed batches."""
from __future__ import annotations

import os
from typing import Sequence

import numpy as np


def bucket_length(n: int, bucket: str | int | None = "pow2", minimum: int = 8) -> int:
    """Round a length up so jitted code sees few distinct shapes.

    bucket="pow2": next power of two (>= minimum); an int m: next multiple of m; None: n.
    """
    if n < 0:
        raise ValueError(f"bucket_length: negative length {n}")
    if bucket is None:
        return n
    if bucket == "pow2":
        size = minimum
        while size < n:
            size *= 2
        return size
    if isinstance(bucket, int) and bucket > 0:
        return max(bucket, -(-n // bucket) * bucket)
    raise ValueError(f"bucket must be 'pow2', a positive int or None, got {bucket!r}")


class Tokenizer:
    """Wraps a `transformers` fast tokenizer; ids are plain Python ints / int32 numpy."""

    def __init__(self, hf_tokenizer, *, bos_id: int | None = None, eos_id: int | None = None,
                 pad_id: int | None = None):
        self.hf = hf_tokenizer
        self.bos_id = bos_id if bos_id is not None else hf_tokenizer.bos_token_id
        self.eos_id = eos_id if eos_id is not None else hf_tokenizer.eos_token_id
        pad = pad_id if pad_id is not None else hf_tokenizer.pad_token_id
        self.pad_id = pad if pad is not None else self.eos_id
        if self.eos_id is None:
            raise ValueError("Tokenizer: no eos token id; pass eos_id= or fix the tokenizer config")

    @classmethod
    def from_pretrained(cls, path: str | os.PathLike, *, gguf_file: str | None = None, **ids) -> "Tokenizer":
        from transformers import AutoTokenizer

        kwargs = {"gguf_file": gguf_file} if gguf_file else {}
        return cls(AutoTokenizer.from_pretrained(str(path), **kwargs), **ids)

    def save(self, out_dir: str | os.PathLike):
        self.hf.save_pretrained(str(out_dir))

    @property
    def vocab_size(self) -> int:
        return len(self.hf)

    @property
    def chat_template(self) -> str | None:
        return getattr(self.hf, "chat_template", None)

    def encode(self, text: str, *, add_special_tokens: bool = False) -> list[int]:
        return list(self.hf.encode(text, add_special_tokens=add_special_tokens))

    def decode(self, ids: Sequence[int], skip_special_tokens: bool = True) -> str:
        return self.hf.decode([int(i) for i in ids], skip_special_tokens=skip_special_tokens)

    def chat_text(self, messages: list[dict], add_generation_prompt: bool = True) -> str:
        if not self.chat_template:
            raise ValueError("Tokenizer has no chat template; load one with the checkpoint "
                             "(tokenizer_config.json / chat_template.jinja) or format prompts yourself")
        return self.hf.apply_chat_template(messages, add_generation_prompt=add_generation_prompt,
                                           tokenize=False)

    def chat(self, messages: list[dict], add_generation_prompt: bool = True) -> list[int]:
        """Token ids of `messages` rendered by the checkpoint's jinja chat template."""
        return self.encode(self.chat_text(messages, add_generation_prompt))

    def batch(self, seqs: Sequence[Sequence[int]], padding_side: str = "left",
              bucket: str | int | None = "pow2", pad_id: int | None = None,
              max_length: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Pad id lists to one bucketed length -> (ids int32 [B,T], mask int32 [B,T]).

        Left padding (the default) keeps every prompt's last token in the last column, which
        the sampler relies on. Sequences longer than max_length keep their *last* tokens.
        """
        if padding_side not in ("left", "right"):
            raise ValueError(f"padding_side must be 'left' or 'right', got {padding_side!r}")
        if not seqs:
            raise ValueError("Tokenizer.batch: empty list of sequences")
        seqs = [list(s)[-max_length:] if max_length else list(s) for s in seqs]
        length = bucket_length(max(len(s) for s in seqs), bucket)
        pad = self.pad_id if pad_id is None else pad_id
        ids = np.full((len(seqs), length), pad, np.int32)
        mask = np.zeros((len(seqs), length), np.int32)
        for row, s in enumerate(seqs):
            cols = slice(length - len(s), length) if padding_side == "left" else slice(0, len(s))
            ids[row, cols] = s
            mask[row, cols] = 1
        return ids, mask
