"""The reward canaries GRPO runs before training: a reward that prefers padding is caught."""
import numpy as np

from mighty.rewards.tech import TechRubric
from mighty.rl.train import reward_canaries


class PrefersLength:
    """A deliberately hackable reward: longer is better."""

    def __call__(self, prompts, completions, **_):
        return np.array([len(c) / 1000 for c in completions], np.float32)


def test_reward_canaries_flag_a_length_loving_reward_and_pass_the_rubric():
    bad = reward_canaries(PrefersLength(), None, seed=0)
    assert any(v.startswith("INVALID") and "padded" in v for v in bad["verdicts"].values()), bad["verdicts"]
    good = reward_canaries(TechRubric(), None, seed=0)
    assert all(v == "VALID" for v in good["verdicts"].values()), good["verdicts"]
    assert any(k.startswith("canary/") and k.endswith("/valid") for k in good["metrics"])
