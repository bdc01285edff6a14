"""GRPO's prompt_order=balanced: rare kinds first, issues round-robin, the same stream on resume."""
from __future__ import annotations

import jax
import pytest

from mighty.data.corpus.scope import OUT_OF_SCOPE_ISSUE_PREFIX
from mighty.data.selection import balanced_order
from mighty.rl.config import TrainConfig
from mighty.rl.learner import PromptStream

OOS = OUT_OF_SCOPE_ISSUE_PREFIX + "weather"


def _prompts():
    # grouped like the split files: 4 of issue a, 3 of b, then the rare kinds last
    issues = ["a"] * 4 + ["b"] * 3 + ["s"] * 2 + [OOS] * 2
    return [{"prompt_id": f"p{n}", "issue_id": i} for n, i in enumerate(issues)]


def test_balanced_order_puts_rare_kinds_first_then_round_robin():
    kb = {"a": {}, "b": {}, "s": {"safety": True}}
    got = [p["issue_id"] for p in balanced_order(_prompts(), kb, seed=0)]
    rare = sorted(["s", OOS])
    assert sorted(got[:2]) == rare                  # one prompt of each rare kind first
    assert sorted(got[2:4]) == ["a", "b"]           # round 0 of the other issues
    assert sorted(got[4:6]) == rare                 # round 1: rare issues first in the issue order
    assert sorted(got[6:8]) == ["a", "b"]
    assert sorted(got[8:10]) == ["a", "b"] and got[10] == "a"  # rounds 2, 3: what is left
    assert sorted(p["prompt_id"] for p in balanced_order(_prompts(), kb, 0)) == sorted(
        p["prompt_id"] for p in _prompts())                  # every prompt exactly once
    assert balanced_order(_prompts(), kb, 0) == balanced_order(_prompts(), kb, 0)


def test_unshuffled_stream_keeps_the_order_every_epoch_and_resumes_from_the_cursor():
    records = [{"question": str(n)} for n in range(5)]
    key = jax.random.PRNGKey(0)
    stream = PromptStream(records, key, shuffle=False)
    got = [r["question"] for r in stream.take(7)]
    assert got == ["0", "1", "2", "3", "4", "0", "1"]
    resumed = PromptStream(records, key, cursor=stream.cursor, shuffle=False)
    assert resumed.take(3) == stream.take(3)
    # the default still shuffles per epoch
    shuffled = [r["question"] for r in PromptStream(records, key).take(5)]
    assert sorted(shuffled) == ["0", "1", "2", "3", "4"]


def test_train_config_names_the_bad_prompt_order():
    with pytest.raises(ValueError, match="prompt_order.*balanced"):
        TrainConfig(prompt_order="shuffled")
    assert TrainConfig(prompt_order="balanced").prompt_order == "balanced"
