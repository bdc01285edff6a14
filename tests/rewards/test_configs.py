"""Every conf/reward and conf/judge option composes, instantiates and runs on a few items."""
from pathlib import Path

import numpy as np
import pytest
from hydra import compose, initialize_config_dir
from hydra.utils import instantiate

from mighty.rewards.composite import Composite
from mighty.rewards.judge_http import HttpJudge

CONF = Path(__file__).resolve().parents[2] / "mighty" / "conf"
KB = {"issue_id": "spk-1", "safety": False, "steps": ["Turn it off.", "Pair it again."],
      "required_keywords": [["turn off"], ["pair"]], "unsafe_phrases": []}
ITEMS = dict(
    prompts=["My speaker won't pair.", "My speaker won't pair.", "How do I bake bread?"],
    completions=["1. Turn off the speaker.\n2. Pair it again from your phone.",
                 "pair pair pair pair pair pair", "Sorry, I can only help with electronics."],
    fields=dict(kb_entry=[KB, KB, None], reference_tokens=[20, 20, 15],
                completion_tokens=[16, 6, 9], group_ids=[0, 0, 1]),
)


def _compose(reward: str, judge: str = "none", *extra: str):
    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        return compose(overrides=[f"+reward={reward}", f"+judge={judge}", *extra])


@pytest.mark.parametrize("name,expect", [
    ("default", {"tech", "lang", "length", "repetition"}), ("tech_only", {"tech"}),
    ("lang_only", {"lang"}), ("gdpo", {"tech", "lang", "length", "repetition"})])
def test_reward_configs_instantiate_and_run(name, expect):
    cfg = _compose(name)
    comp = instantiate(cfg.reward)
    assert isinstance(comp, Composite) and set(comp.components) == expect
    res = comp.evaluate(ITEMS["prompts"], ITEMS["completions"], **ITEMS["fields"])
    assert res.total.shape == (3,) and np.all(np.isfinite(res.total))
    if name == "default":
        assert comp.weights == {"tech": 0.6, "lang": 0.4, "length": 0.1, "repetition": 0.1}
        assert res.total[0] > res.total[1]  # a real answer beats "pair" spam
    if name == "gdpo":
        assert comp.mode == "gdpo"
        # item 2 is alone in its group: every component z-scores to 0
        assert res.total[2] == 0.0


def test_http_judge_config_wires_into_tech(monkeypatch, tmp_path):
    monkeypatch.setenv("MIGHTY_CACHE", str(tmp_path))
    cfg = _compose("default", "http")
    judge = instantiate(cfg.judge)
    assert isinstance(judge, HttpJudge) and judge.url.endswith("/v1/chat/completions")
    comp = instantiate(cfg.reward)
    assert isinstance(comp.components["tech"].judge, HttpJudge)
    assert comp.components["lang"].judge is None
    assert judge.cache.path == tmp_path / "judge" / "judge_cache.sqlite"


@pytest.mark.slow
def test_jax_judge_config_loads_packaged_teacher(tmp_path):
    pytest.importorskip("mighty.models")
    from mighty.rewards.judge_jax import JaxJudge
    cfg = _compose("tech_only", "jax", f"judge.cache={tmp_path}")
    comp = instantiate(cfg.reward)
    assert isinstance(comp.components["tech"].judge, JaxJudge)
