"""Every panel of a report plot has data: a metric that was never logged gets no empty axes."""
import matplotlib.image as mpimg

from experiments.report import plot_curves


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
    from experiments.report import grpo_health_section

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
