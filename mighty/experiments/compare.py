"""Ablation table and bars from a sweep's run directories — no W&B server needed.

`python -m mighty.experiments.compare <sweep_dir> [--metric accuracy] [--system grpo_student]`
finds every pipeline run below `sweep_dir` (its `pipeline.json` points at the eval stage's
`results.json` in the store), names each run by its Hydra
overrides (`<run>/.hydra/overrides.yaml`, else the directory name), and writes
`<sweep_dir>/ablation.md` and `<sweep_dir>/ablation_<metric>.png`.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import yaml

from mighty.experiments.report import fmt, plot_bars

DEFAULT_METRICS = ("accuracy", "completeness", "utility", "grammar", "lang", "escalate_recall",
                   "length_tokens")


def run_overrides(run_dir: Path) -> list[str] | None:
    """The run's Hydra overrides (`<run>/.hydra/overrides.yaml`), minus where it wrote."""
    for cand in (run_dir / ".hydra" / "overrides.yaml", run_dir.parent / ".hydra" / "overrides.yaml"):
        if cand.exists():
            overrides = yaml.safe_load(cand.read_text()) or []
            return [o for o in overrides if not o.startswith(("hydra.", "root=", "force=", "store="))]
    return None


def collect(sweep_dir: Path) -> dict[str, dict]:
    """{run label: eval results.json} for every finished pipeline run under `sweep_dir`.

    A pipeline run directory holds `pipeline.json`, which names each stage's directory in
    the content-addressed store; the eval stage's `results.json` is read from there. A run is
    labelled by the overrides that tell it apart from the sweep's other runs (the shared ones,
    such as the sweep's name and seed, say nothing), else by its directory."""
    runs = []
    for path in sorted(sweep_dir.rglob("pipeline.json")):
        stages = json.loads(path.read_text()).get("stages", {})
        if "eval" not in stages:
            continue  # a run stopped before eval (stages=[...] without it)
        results = Path(stages["eval"]["dir"]) / "results.json"
        if not results.exists():
            raise FileNotFoundError(f"{path}: its eval stage {results.parent} has no results.json "
                                    f"(was the store moved or cleaned?)")
        runs.append((path.parent, run_overrides(path.parent), json.loads(results.read_text())))
    if not runs:
        raise FileNotFoundError(f"no pipeline run with an eval stage under {sweep_dir}: run the sweep "
                                f"to the eval stage first (python -m mighty.experiments.pipeline -m experiment=...)")
    known = [o for _, o, _ in runs if o is not None]
    shared = set.intersection(*map(set, known)) if len(known) > 1 else set()
    found = {}
    for run_dir, overrides, results in runs:
        own = [o for o in overrides or [] if o not in shared]
        found[",".join(own) or str(run_dir.relative_to(sweep_dir))] = results
    return found


def ablation_table(runs: dict[str, dict], system: str, metrics=DEFAULT_METRICS) -> str:
    lines = ["| run | " + " | ".join(metrics) + " |", "|---|" + "---|" * len(metrics)]
    for label, res in runs.items():
        summary = res["systems"].get(system, {}).get("summary", {})
        lines.append(f"| {label} | " + " | ".join(fmt(summary.get(m)) for m in metrics) + " |")
    return "\n".join(lines)


TRADEOFF = (("accuracy", "summary"), ("perplexity", "summary"), ("tokens_per_s", "scalars"))


def tradeoff_points(runs: dict[str, dict], system: str) -> list[dict]:
    """One point per run: the system's parameter count and each TRADEOFF metric (value, CI)."""
    points = []
    for label, res in runs.items():
        sys_ = res["systems"].get(system)
        if sys_ is None:
            continue
        row = {"label": label, "params_m": sys_["scalars"]["params"] / 1e6}
        for metric, where in TRADEOFF:
            v = sys_[where].get(metric)
            row[metric] = v if isinstance(v, dict) else {"value": v}
        points.append(row)
    return sorted(points, key=lambda r: r["params_m"])


def plot_tradeoff(points: list[dict], teacher: dict | None, out: Path, title: str) -> Path:
    """Accuracy, perplexity (log) and tokens/s against parameter count; the teacher as a star."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(TRADEOFF), figsize=(4.2 * len(TRADEOFF), 3.4), squeeze=False)
    x = [p["params_m"] for p in points]
    for ax, (metric, _) in zip(axes[0], TRADEOFF):
        y = [p[metric]["value"] for p in points]
        lo = [p[metric].get("ci_low", p[metric]["value"]) for p in points]
        hi = [p[metric].get("ci_high", p[metric]["value"]) for p in points]
        ax.errorbar(x, y, yerr=[[a - b for a, b in zip(y, lo)], [c - a for a, c in zip(y, hi)]],
                    marker="o", capsize=3, label="student")
        if teacher is not None and teacher.get(metric) is not None:
            ax.plot([teacher["params_m"]], [teacher[metric]["value"]], "r*", markersize=12, label="teacher")
        if metric == "perplexity":
            ax.set_yscale("log")
        ax.set_xlabel("parameters (M)")
        ax.set_title(metric, fontsize=9)
    axes[0][0].legend(fontsize=8)
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out


def main(argv=None) -> Path:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("sweep_dir", type=Path)
    ap.add_argument("--metric", default="accuracy")
    ap.add_argument("--system", default="grpo_student")
    ap.add_argument("--tradeoff", action="store_true",
                    help="also plot accuracy, perplexity and tokens/s against parameter count")
    args = ap.parse_args(argv)
    runs = collect(args.sweep_dir)
    if args.tradeoff:
        points = tradeoff_points(runs, args.system)
        teacher = (tradeoff_points({"teacher": next(iter(runs.values()))}, "teacher") or [None])[0]
        png = plot_tradeoff(points, teacher, args.sweep_dir / "tradeoff.png",
                            f"{args.system}: model size vs the teacher")
        print(f"size trade-off plot: {png}")
    bars = {label: res["systems"][args.system]["summary"][args.metric]
            for label, res in runs.items() if args.system in res["systems"]}
    png = plot_bars(bars, args.metric, args.sweep_dir / f"ablation_{args.metric}.png",
                    f"{args.system}: {args.metric} by run")
    md = args.sweep_dir / "ablation.md"
    md.write_text(f"# Ablation ({args.system})\n\n{ablation_table(runs, args.system)}\n\n![bars]({png.name})\n")
    print(f"ablation table: {md}")
    return md


if __name__ == "__main__":
    main()
