"""rl.diagnostics against hand-worked numbers."""
import json

import numpy as np
import pytest

from mighty.rl import diagnostics as D


def test_component_stats_and_correlations():
    comps = {"tech": np.array([0.0, 0.5, 1.0]), "lang": np.array([1.0, 0.5, 0.0]),
             "flat": np.array([0.3, 0.3, 0.3])}
    m = D.component_stats(comps)
    assert m["diag/tech/mean"] == 0.5 and m["diag/tech/std"] == pytest.approx(np.sqrt(1 / 6))
    names, c = D.correlation_matrix(comps)
    assert names == ["tech", "lang", "flat"]
    np.testing.assert_allclose(c, [[1, -1, 0], [-1, 1, 0], [0, 0, 1]])


def test_reward_length_correlation():
    # dx = [-1.5,-.5,.5,1.5], dy = [-3,-1,0,4]: dx·dy = 11, |dx|² = 5, |dy|² = 26
    assert D.pearson([1, 2, 3, 4], [2, 4, 5, 9]) == pytest.approx(11 / np.sqrt(5 * 26))
    assert D.pearson([1, 1, 1], [1, 2, 3]) == 0.0


def test_judge_rubric_disagreement_and_ranks():
    np.testing.assert_allclose(D.rankdata([10, 20, 20, 5]), [2, 3.5, 3.5, 1])
    d = D.judge_rubric_disagreement([10, 5, 0], [1.0, 0.25, 0.5])
    # |1-1| + |0.5-0.25| + |0-0.5| = 0.75 -> mean 0.25; ranks j [3,2,1] r [3,1,2] -> rho 0.5
    assert d["mean_abs_diff"] == pytest.approx(0.25)
    assert d["spearman"] == pytest.approx(0.5)


def test_distinct_n_boilerplate_off_topic():
    comps = ["reset the speaker", "reset the router"]
    assert D.distinct_n(comps, 1) == pytest.approx(4 / 6)   # reset the speaker router
    assert D.distinct_n(comps, 2) == pytest.approx(3 / 4)   # (reset the) twice
    assert D.distinct_n(["hi"], 2) == 0.0
    assert D.boilerplate_rate(["Turn it off. I hope this helps!", "Turn it off.",
                               "Great question.", "ok"]) == 0.5
    prompts = ["My bluetooth speaker keeps disconnecting", "My bluetooth speaker keeps disconnecting",
               "What is the capital of France?"]
    completions = ["Reconnect the speaker.", "Bananas are a good source of potassium.",
                   "The capital is Paris."]
    np.testing.assert_array_equal(D.off_topic_mask(prompts, completions), [False, True, False])


def test_length_stats_and_step_metrics():
    s = D.length_stats([10, 20, 30, 40], truncated=[False, False, True, False])
    assert s == {"mean": 25.0, "std": pytest.approx(np.sqrt(125)), "min": 10.0, "max": 40.0,
                 "p50": 25.0, "p90": pytest.approx(37.0), "truncated_frac": 0.25}
    comps = {"tech": np.array([0.1, 0.2, 0.3, 0.4]), "lang": np.array([0.4, 0.3, 0.2, 0.1])}
    m = D.step_diagnostics(["speaker won't pair"] * 4, ["pair the speaker"] * 4, comps,
                           [10, 20, 30, 40], judge=[1, 2, 3, 4], rubric=[0.1, 0.2, 0.3, 0.4])
    assert m["diag/corr/tech__lang"] == pytest.approx(-1.0)
    assert m["diag/tech/length_corr"] == pytest.approx(1.0)
    assert m["diag/reward_length_corr"] == 0.0   # tech + lang is constant 0.5
    assert m["diag/judge_rubric/mean_abs_diff"] == pytest.approx(0.0)
    assert m["diag/judge_rubric/spearman"] == pytest.approx(1.0)
    assert m["diag/off_topic_rate"] == 0.0 and m["diag/distinct_1"] == pytest.approx(3 / 12)


def test_sample_table_jsonl(tmp_path):
    rows = D.sample_table(["p1", "p2", "p3"], ["c1", "c2", "c3"],
                          {"tech": np.array([1.0, np.nan, 0.0])}, total=[0.6, 0.0, 0.1],
                          step=7, k=2, extra={"tokens": np.array([5, 6, 7])})
    assert rows == [
        {"step": 7, "index": 0, "prompt": "p1", "completion": "c1", "reward/tech": 1.0,
         "reward/total": 0.6, "tokens": 5},
        {"step": 7, "index": 1, "prompt": "p2", "completion": "c2", "reward/tech": None,
         "reward/total": 0.0, "tokens": 6}]
    path = D.write_jsonl(rows, tmp_path / "samples.jsonl")
    D.write_jsonl(rows[:1], path)
    lines = path.read_text().splitlines()
    assert len(lines) == 3 and json.loads(lines[1])["reward/tech"] is None


# ----------------------------------------------------------------------------- run flags

from mighty.rl.diagnostics import (dead_components, flat_group_share, length_hack, proxy_gain, run_flags,  # noqa: E402
                            step_diagnostics)


def test_flat_group_share_counts_constant_groups():
    r = [1, 1, 1, 0, 1, 0, 2, 2, 2]  # groups of 3: flat, varied, flat
    assert flat_group_share(r, 3) == pytest.approx(2 / 3)
    assert flat_group_share([0.5] * 4, 2) == 1.0 and flat_group_share([0, 1, 0, 1], 2) == 0.0
    with pytest.raises(ValueError, match="groups of 3"):
        flat_group_share([1, 2, 3, 4], 3)


def test_step_diagnostics_logs_flat_share_per_component():
    comps = {"tech": np.array([0.0, 0.0, 0.5, 0.1]), "lang": np.array([1.0, 1.0, 1.0, 1.0])}
    m = step_diagnostics(["q1", "q1", "q2", "q2"], ["a", "b", "c", "d"], comps, [3, 4, 5, 6],
                         total=comps["tech"] + comps["lang"], group_size=2)
    assert m["diag/flat_share/tech"] == 0.5 and m["diag/flat_share/lang"] == 1.0
    assert m["diag/flat_share/total"] == 0.5


def _history(tech_flat, lang_flat, lengths, tech):
    return [{"step": i, "diag/flat_share/tech": a, "diag/flat_share/lang": b,
             "diag/length/mean": n, "reward/tech/mean": t}
            for i, (a, b, n, t) in enumerate(zip(tech_flat, lang_flat, lengths, tech))]


def test_dead_component_fires_only_for_a_component_flat_all_run():
    h = _history([1, 1, 1, 1], [1, 0.9, 1, 1], [100] * 4, [0.1] * 4)
    assert dead_components(h) == ["tech"]  # the run: no answer ever hit a step
    healthy = _history([0.8, 0.5, 0.6, 0.4], [0.2, 0.1, 0.3, 0.2], [100] * 4, [0.1] * 4)
    assert dead_components(healthy) == []


def test_length_hack_fires_on_shrinking_answers_without_tech_gain():
    # the run: 112 -> 62 tokens, technical reward flat at 0
    hack = _history([1] * 6, [0] * 6, [112, 110, 108, 70, 64, 62], [0.0] * 6)
    f = length_hack(hack)
    assert f["flag"] is True and f["length_change"] == pytest.approx(65.33 / 110 - 1, abs=1e-3)
    # the same shrinkage with a rising technical reward is a better answer, not a hack
    learning = _history([0] * 6, [0] * 6, [112, 110, 108, 70, 64, 62], [0.1, 0.1, 0.1, 0.3, 0.35, 0.4])
    assert length_hack(learning)["flag"] is False
    # a 20% shrink is under the 30% bar
    assert length_hack(_history([0] * 4, [0] * 4, [100, 100, 80, 80], [0.0] * 4))["flag"] is False
    assert length_hack([{"step": 0}])["flag"] is None  # nothing to judge


def test_run_flags_prefers_the_held_out_technical_reward():
    h = _history([1] * 4, [0] * 4, [100, 100, 50, 50], [0.0, 0.0, 0.5, 0.5])  # train tech rises
    for row, t in zip(h, [0.2, 0.2, 0.1, 0.1]):  # held-out tech falls
        row["eval/reward/tech/mean"] = t
    f = run_flags(h)
    assert f["dead_components"] == ["tech"]
    assert f["length_hack"]["flag"] is True and f["length_hack"]["tech_key"] == "eval/reward/tech/mean"


def test_proxy_gain_fires_when_total_rises_as_tech_falls():
    # the default run of 2026-12-05: held-out total 0.31 -> 0.34 -> 0.48, tech 0.44 -> 0.36 -> 0.36
    h = [{"step": s, "eval/reward/total/mean": t, "eval/reward/tech/mean": c}
         for s, t, c in ((0, 0.31, 0.44), (3, 0.34, 0.36), (6, 0.48, 0.36))]
    f = proxy_gain(h, total_key="eval/reward/total/mean", tech_key="eval/reward/tech/mean")
    assert f["flag"] is True
    assert f["total_change"] == pytest.approx(0.17) and f["tech_change"] == pytest.approx(-0.08)
    assert run_flags(h)["proxy_gain"]["flag"] is True
    # both rising is learning; both falling is a bad run, not a proxy gain
    learning = [{"reward/total/mean": t, "reward/tech/mean": c} for t, c in ((0.3, 0.3), (0.4, 0.35), (0.5, 0.4))]
    failing = [{"reward/total/mean": t, "reward/tech/mean": c} for t, c in ((0.3, 0.4), (0.2, 0.35), (0.1, 0.3))]
    assert proxy_gain(learning)["flag"] is False and proxy_gain(failing)["flag"] is False
    assert proxy_gain([{"step": 0}])["flag"] is None
