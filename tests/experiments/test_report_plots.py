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
