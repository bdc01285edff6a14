"""Every panel of a report plot has data: a metric that was never logged gets no empty axes."""
import matplotlib.image as mpimg

from mighty.experiments.report import plot_curves


def test_plot_curves_draws_only_keys_with_data(tmp_path):
    rows = [{"step": s, "reward/total/mean": 0.1 * s, "grpo/kl": 0.01 * s} for s in range(1, 4)]
    rows.append({"step": 3, "eval/reward/total/mean": 0.5})
    out = plot_curves(rows, ["grpo/reward/mean", "reward/total/mean", "eval/reward/total/mean", "grpo/kl"],
                      tmp_path / "c.png", "t")
    h, w = mpimg.imread(out).shape[:2]
    assert w / h > 3  # three panels side by side, not four (grpo/reward/mean is never logged)
    one = plot_curves(rows, ["grpo/kl", "never/logged"], tmp_path / "one.png", "t")
    h1, w1 = mpimg.imread(one).shape[:2]
    assert w1 / h1 < 1.6
    assert plot_curves(rows, ["never/logged"], tmp_path / "none.png", "t") is None


def test_grpo_health_section_names_dead_components_and_length_hacking():
    from mighty.experiments.report import grpo_health_section

    rows = [{"step": s, "diag/flat_share/tech": 1.0, "diag/flat_share/lang": 0.25,
             "diag/length/mean": n, "eval/reward/tech/mean": 0.0}
            for s, n in enumerate([112, 110, 100, 70, 64, 62])]
    md = "\n".join(grpo_health_section(rows))
    assert "**tech** (DEAD)" in md and "lang" in md and "| lang | 0.25 | 0.25 | 0.25 |" in md
    assert "Length hacking: **FLAGGED**" in md and "-39%" in md  # (64+62+70)/(112+110+100) − 1
    healthy = [{**r, "diag/flat_share/tech": 0.5, "eval/reward/tech/mean": 0.1 * r["step"]} for r in rows]
    md = "\n".join(grpo_health_section(healthy))
    assert "Dead components (flat in every group of every step): none" in md
    assert "Length hacking: not flagged" in md
    assert grpo_health_section([]) == []


def _grounding():
    from mighty.data.calibration import expected_calibration_error, reliability_bins

    conf_raw, conf_cal, ok = [0.95, 0.9, 0.97, 0.3, 0.99], [0.8, 0.7, 0.75, 0.1, 0.35], [1, 1, 0, 0, 0]
    return {"mode": "retrieved", "k": 1, "method": "bm25", "min_confidence": 0.5, "safety_min_confidence": 0.2,
            "retriever": "bm25, device-aware, calibrated", "teacher_sees": "the student's retrieved entries",
            "recall_at_1": 0.634, "recall_at_3": 0.793, "n_in_scope": 82,
            "reliability": {"n": 5, "n_out_of_scope": 2, "n_bins": 10, "top1_accuracy": 0.4, "calibrated": True,
                            "ece_raw": expected_calibration_error(conf_raw, ok),
                            "ece_calibrated": expected_calibration_error(conf_cal, ok),
                            "bins_raw": reliability_bins(conf_raw, ok), "bins_calibrated": reliability_bins(conf_cal, ok)}}


def test_retrieval_section_and_reliability_diagram(tmp_path):
    from mighty.experiments.report_retrieval import plot_reliability, retrieval_section

    res = {"grounding": _grounding()}
    png = plot_reliability(res, tmp_path / "rel.png")
    assert mpimg.imread(png).std() > 0.01
    md = "\n".join(retrieval_section(res, png))
    assert "## Retrieval" in md and "@1 **0.634**, @3 **0.793**" in md and "82 in-scope" in md
    assert "at least 0.50 (0.20 for a safety entry)" in md
    # by hand, 10 bins. raw: bin 9 = {.95, .9, .97, .99} mean .9525, accuracy .5 -> 4/5 · .4525;
    # bin 3 = {.3}, accuracy 0 -> 1/5 · .3; ECE .422. calibrated: {.8} 1/5 · .2, {.7, .75} 2/5 · .225,
    # {.1} 1/5 · .1, {.35} 1/5 · .35; ECE .22
    assert "raw softmax **0.422**" in md and "calibrated **0.220**" in md
    assert "![reliability diagram](rel.png)" in md and "the student's retrieved entries" in md
    # no reliability bins (closed-book, or an old results.json): no empty axes, no dangling link
    closed = {"grounding": {"mode": "closed_book", "k": 1, "min_confidence": 0.5, "teacher_sees": "the question alone"}}
    assert plot_reliability(closed, tmp_path / "none.png") is None and not (tmp_path / "none.png").exists()
    assert "![" not in "\n".join(retrieval_section(closed, None))
    assert retrieval_section({}) == []



def test_the_report_names_every_case_the_hazard_preference_moved():
    from mighty.experiments.report_retrieval import retrieval_section

    moves = [{"case_id": "ev-0086", "expected": "escalate", "bm25_top": "a.drain", "top": "a.swollen"},
             {"case_id": "ev-0120", "expected": "decline", "bm25_top": "b.fix", "top": "b.hot"}]
    md = "\n".join(retrieval_section({"n_cases": 60, "grounding": {**_grounding(), "hazard_moves": moves}}))
    assert ("a safety entry put first on 2 eval case(s) of 60: 1 that should escalate (ev-0086), "
            "1 that should not (ev-0120)") in md
    quiet = "\n".join(retrieval_section({"grounding": {**_grounding(), "hazard_moves": []}}))
    assert "no eval case had its top hit changed" in quiet
    assert "Hazard preference" not in "\n".join(retrieval_section({"grounding": _grounding()}))  # old results
