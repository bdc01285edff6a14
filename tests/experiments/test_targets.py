"""The default run's targets read CIs and ratios from hand-built results, and say when missed."""
from mighty.experiments.targets import default_run_targets, targets_section


def est(v, lo=None, hi=None):
    return {"value": v, "ci_low": lo, "ci_high": hi}


def results(grpo_kd_rubric=(0.02, -0.01, 0.05), general_qa=0.0, ppl=641.0):
    def summary(**kw):
        return {"summary": {k: est(v) for k, v in kw.items()}}

    diff = lambda a, b, m, d: {"a": a, "b": b, "metric": m, "diff": est(*d)}  # noqa: E731
    return {
        "systems": {"teacher": summary(general_qa=0.75, perplexity=192.0),
                    "base_student": summary(),
                    "kd_student": summary(),
                    "grpo_student": summary(general_qa=general_qa, perplexity=ppl, escalate_recall=0.611,
                                            decline_recall=0.85)},
        "differences": [diff("kd_student", "base_student", "rubric", (0.45, 0.35, 0.56)),
                        diff("grpo_student", "kd_student", "rubric", grpo_kd_rubric),
                        diff("grpo_student", "kd_student", "accuracy", (-0.03, -0.06, -0.001))],
    }


def by_name(targets):
    return {t.name: t for t in targets}


def test_ci_targets_read_the_ci_not_the_point_estimate():
    t = by_name(default_run_targets(results()))
    assert t["KD − base, rubric accuracy"].met is True
    # a positive point estimate whose CI includes 0 is not a gain
    assert t["GRPO − KD, held-out technical reward"].met is False
    # "not worse" needs the upper bound ≥ 0: -0.001 misses it
    assert t["GRPO − KD, accuracy (not worse)"].met is False
    assert by_name(default_run_targets(results(grpo_kd_rubric=(0.03, 0.001, 0.06))))[
        "GRPO − KD, held-out technical reward"].met is True


def test_retention_and_behaviour_targets():
    t = by_name(default_run_targets(results()))
    assert t["grpo_student general QA"].met is False and "0.00×" in t["grpo_student general QA"].value
    assert t["grpo_student generic perplexity"].met is False  # 641 / 192 = 3.34 > 3
    assert "3.34×" in t["grpo_student generic perplexity"].value
    assert by_name(default_run_targets(results(general_qa=0.4, ppl=570.0)))[
        "grpo_student general QA"].met is True
    assert by_name(default_run_targets(results(ppl=570.0)))["grpo_student generic perplexity"].met is True
    assert t["grpo_student escalation recall"].met is False and t["grpo_student decline recall"].met is True


def test_wall_time_only_when_every_stage_ran_and_missed_targets_are_named():
    assert not any("wall time" in t.name for t in default_run_targets(results()))
    t = by_name(default_run_targets(results(), {"label": 600.0, "kd": 500.0, "grpo": 200.0}))
    wall = t["pipeline stages, wall time as computed (this machine)"]
    assert wall.value == "21.7 min" and wall.met is False
    md = "\n".join(targets_section(list(t.values())))
    assert "| pipeline stages, wall time as computed (this machine) | 21.7 min | ≤ 20 min | **MISSED** |" in md
    assert md.count("**MISSED**") == sum(x.met is False for x in t.values())
    assert "Missed: " in md and "grpo_student escalation recall" in md.split("Missed: ")[1]


def test_unmeasured_targets_are_na():
    r = results()
    r["differences"] = []
    t = by_name(default_run_targets(r))
    assert t["KD − base, rubric accuracy"].met is None and t["KD − base, rubric accuracy"].value == "n/a"
