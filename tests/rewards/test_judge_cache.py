"""JudgeCache: keys, persistence across instances, atomic batches."""
import sqlite3

import pytest

from mighty.rewards.judge_cache import JudgeCache, cache_key


def test_key_depends_on_every_part():
    base = ("jax:t", "v1", "tech", "prompt", "answer", "ref")
    k = cache_key(*base)
    for i in range(len(base)):
        changed = list(base)
        changed[i] = changed[i] + "x"
        assert cache_key(*changed) != k
    # length-prefixing: moving text between fields changes the key
    assert cache_key("j", "v", "tech", "ab", "c") != cache_key("j", "v", "tech", "a", "bc")


def test_hit_miss_and_persistence(tmp_path):
    c = JudgeCache(tmp_path / "cache")
    assert c.get_many(["a", "b"]) == {}
    c.put_many("j", {"a": (7.5, {"mass": 0.9}), "b": (3.0, None)})
    assert c.get_many(["a", "b", "z"]) == {"a": 7.5, "b": 3.0}
    c.close()
    c2 = JudgeCache(tmp_path / "cache")
    assert len(c2) == 2 and c2.get_many(["a"]) == {"a": 7.5}
    assert c2.meta("a") == {"mass": 0.9}


def test_failed_batch_is_rolled_back(tmp_path):
    c = JudgeCache(tmp_path)
    # SQLite stores NaN as NULL, which violates NOT NULL on the 2nd row, after the 1st was written
    with pytest.raises(sqlite3.IntegrityError):
        c.put_many("j", {"a": (1.0, None), "b": (float("nan"), None)})
    assert len(c) == 0
    c.put_many("j", {"a": (1.0, None)})
    assert len(c) == 1
