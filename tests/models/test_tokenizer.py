"""Tokenizer batching and length buckets (no model needed)."""
import numpy as np
import pytest

from mighty.models import Tokenizer, bucket_length


class _FakeHF:
    bos_token_id, eos_token_id, pad_token_id = 1, 2, None


@pytest.mark.parametrize("n,bucket,want", [(0, "pow2", 8), (8, "pow2", 8), (9, "pow2", 16), (100, "pow2", 128),
                                           (1, 64, 64), (64, 64, 64), (65, 64, 128), (7, None, 7)])
def test_bucket_length(n, bucket, want):
    assert bucket_length(n, bucket) == want


def test_bucket_length_rejects_bad_bucket():
    with pytest.raises(ValueError, match="bucket must be"):
        bucket_length(5, "fibonacci")


def test_batch_left_and_right_padding_and_truncation():
    tok = Tokenizer(_FakeHF())
    assert tok.pad_id == 2  # falls back to eos when the tokenizer has no pad token
    ids, mask = tok.batch([[5, 6, 7], [8]], bucket=4)
    np.testing.assert_array_equal(ids, [[2, 5, 6, 7], [2, 2, 2, 8]])
    np.testing.assert_array_equal(mask, [[0, 1, 1, 1], [0, 0, 0, 1]])
    assert ids.dtype == np.int32 and mask.dtype == np.int32
    ids, mask = tok.batch([[5, 6, 7], [8]], padding_side="right", bucket=None, pad_id=0)
    np.testing.assert_array_equal(ids, [[5, 6, 7], [8, 0, 0]])
    np.testing.assert_array_equal(mask, [[1, 1, 1], [1, 0, 0]])
    ids, _ = tok.batch([[1, 2, 3, 4, 5]], bucket=None, max_length=3)
    np.testing.assert_array_equal(ids, [[3, 4, 5]])  # keeps the last tokens
    with pytest.raises(ValueError, match="padding_side"):
        tok.batch([[1]], padding_side="middle")
