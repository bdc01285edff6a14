"""A character tokenizer with the calls the eval and the judges make (encode, decode, chat,
batch), so tiny random models can answer and judge without loading a real tokenizer."""
import numpy as np
import pytest

from mighty import models


class CharTokenizer:
    """One token per character (ids 3..127): "10" is two tokens, "A" and "B" one each."""
    pad_id, eos_id, bos_id = 0, 2, 1

    def encode(self, text):
        return [3 + (ord(c) % 125) for c in text]

    def decode(self, ids):
        return "".join(chr(int(i)) for i in ids)

    def chat(self, messages, add_generation_prompt=True):
        return [self.bos_id] + self.encode("".join(f"{m['role']}:{m['content']}\n" for m in messages))

    def batch(self, seqs, padding_side="left", bucket=None):
        t = models.bucket_length(max(map(len, seqs)), bucket)
        ids, mask = np.zeros((len(seqs), t), np.int32), np.zeros((len(seqs), t), np.int32)
        for i, s in enumerate(seqs):
            ids[i, t - len(s):], mask[i, t - len(s):] = s, 1
        return ids, mask


@pytest.fixture(scope="session")
def char_tokenizer():
    return CharTokenizer()
