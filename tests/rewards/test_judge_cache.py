"""JudgeCache: keys, persistence across instances, atomic batches."""
import pytest

from rewards.judge_cache import JudgeCache, cache_key


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


def test_failed_batch_writes_nothing(tmp_path):
    c = JudgeCache(tmp_path)
    with pytest.raises(TypeError):
        c.put_many("j", {"a": (1.0, None), "b": ("not a number", None)})
    assert len(c) == 0
