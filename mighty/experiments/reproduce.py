"""Rerun the paper-style table and the ablations from scratch with fixed seeds.

`python -m mighty.experiments.reproduce [--quick] [--ablations full|quick|none] [--store DIR]` runs
the main pipeline, then each ablation sweep, into a fresh stage store; copies the report, plots
and ablation tables to `results/`; and rewrites the README section between the
`<!-- results:start -->` and `<!-- results:end -->` markers with the numbers, the machine and
the wall time. `--quick` uses `experiment=smoke` everywhere (minutes, for checking the script);
`--ablations quick` sweeps on the default models and budget too, but narrows the KD grid to
the divergences at the default T and α, scored after KD (`stages=[data,label,kd,eval]`): the
reward and group-size sweeps reuse the main run's data, labels and KD, and every run reuses its
teacher and base-student eval (~1 h on 2 CPU cores, main table included). `--ablations full`
is every grid point through GRPO (~20 pipeline points: hours). With `--quick` the ablations
sweep their full grids on smoke-sized runs (a check of the script, not numbers to read).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]  # the checkout: README.md, results/, runs/
CONF = Path(__file__).resolve().parents[1] / "conf"
ABLATIONS = ("ablation_rewards", "ablation_k", "ablation_kd")
ABLATION_SIZES = {"none": "none", "smoke": "smoke-sized runs (a check of the script)",
                  "quick": "the default config; the KD sweep over divergences at the default T "
                           "and α, scored after KD", "full": "every grid point, default config"}
# --ablations quick: {sweep: (axes replacing the yaml's, extra overrides, system to tabulate)}
QUICK = {"ablation_kd": ({"kd.divergence": "forward_kl,reverse_kl,jsd"},
                         ["stages=[data,label,kd,eval]"], "kd_student")}
START, END = "<!-- results:start -->", "<!-- results:end -->"


def machine() -> str:
    cpu = "unknown CPU"
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{os.cpu_count()} cores ({cpu}), {mem:.0f} GiB RAM, {platform.system()} {platform.release()}, Python {platform.python_version()}"


def run(args: list[str]) -> None:
    print("+", " ".join(args), flush=True)
    subprocess.run([sys.executable, "-m", "mighty.experiments.pipeline", *args], cwd=ROOT, check=True,
                   env={**os.environ, "WANDB_MODE": os.environ.get("WANDB_MODE", "offline")})


def sweep_axes(name: str) -> list[str]:
    """The `hydra.sweeper.params` of conf/experiment/<name>.yaml as CLI overrides, so a quick
    run sweeps the same axes on top of another experiment (one experiment choice at a time)."""
    import yaml

    cfg = yaml.safe_load((CONF / "experiment" / f"{name}.yaml").read_text())
    return [f"{k}={v}" for k, v in cfg["hydra"]["sweeper"]["params"].items()]


def sweep_overrides(name: str, ablations: str, smoke: bool) -> tuple[list[str], str]:
    """(pipeline overrides, system to tabulate) for one ablation sweep at the chosen size."""
    if ablations == "full" and not smoke:
        return [f"experiment={name}"], "grpo_student"
    if smoke:
        return ["experiment=smoke", f"name={name}", *sweep_axes(name)], "grpo_student"
    axes, extra, system = QUICK.get(name, (None, [], "grpo_student"))
    grid = [f"{k}={v}" for k, v in axes.items()] if axes else sweep_axes(name)
    return [f"name={name}", *grid, *extra], system


def update_readme(readme: Path, body: str) -> None:
    text = readme.read_text()
    block = f"{START}\n{body}\n{END}"
    if START in text and END in text:
        text = text[:text.index(START)] + block + text[text.index(END) + len(END):]
    else:
        text = text.rstrip() + "\n\n## Reproduced results\n\n" + block + "\n"
    readme.write_text(text)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smoke-sized runs")
    ap.add_argument("--ablations", choices=("full", "quick", "none"), default=None,
                    help="ablation sweeps: full size, smoke size, or none (default: quick with "
                         "--quick, else full)")
    ap.add_argument("--store", type=Path, default=ROOT / "runs" / "reproduce" / "store")
    ap.add_argument("--results", type=Path, default=ROOT / "results")
    ap.add_argument("--runs", type=Path, default=ROOT / "runs" / "reproduce",
                    help="Hydra run/sweep directories")
    ap.add_argument("--readme", type=Path, default=ROOT / "README.md")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    ablations = args.ablations or ("quick" if args.quick else "full")
    if args.store.exists():
        shutil.rmtree(args.store)  # from scratch: nothing reused from earlier runs
    args.results.mkdir(parents=True, exist_ok=True)
    # the paper-style table scores the whole frozen eval (172 cases); `make demo` scores 60
    base = ["experiment=smoke"] if args.quick else ["eval.limit=null"]
    t0 = time.time()
    main_dir = args.runs / "main"
    run([*base, f"seed={args.seed}", f"store={args.store}", f"hydra.run.dir={main_dir}", "name=reproduce"])
    main_wall = time.time() - t0
    shutil.copytree(main_dir / "report", args.results / "main", dirs_exist_ok=True)
    tables = []
    if ablations != "none":
        from mighty.experiments.compare import main as compare

        for name in ABLATIONS:
            sweep = args.runs / name
            extra, system = sweep_overrides(name, ablations, args.quick)
            run(["-m", *extra, f"seed={args.seed}", f"store={args.store}", f"hydra.sweep.dir={sweep}"])
            md = compare([str(sweep), "--system", system])
            shutil.copy(sweep / "ablation_accuracy.png", args.results / f"{name}_accuracy.png")
            (args.results / f"{name}.md").write_text(  # its plot under the name it has in results/
                md.read_text().replace("(ablation_accuracy.png)", f"({name}_accuracy.png)"))
            tables.append(f"### {name} ({system})\n\n" + md.read_text().split("\n", 2)[2].split("![")[0].strip() + "\n")
    wall = time.time() - t0
    report = (args.results / "main" / "report.md").read_text()
    body = "\n".join([
        f"Reproduced with `python -m mighty.experiments.reproduce{' --quick' if args.quick else ''}"
        f" --ablations {ablations}` (seed {args.seed}) on {machine()}; wall time {wall / 60:.1f} min"
        f" (main table {main_wall / 60:.1f} min). Main table: "
        f"{'smoke-sized' if args.quick else 'the default config'}; ablations: "
        f"{ABLATION_SIZES['smoke' if args.quick and ablations != 'none' else ablations]}.", "",
        report.split("\n", 2)[2].split("## Plots")[0].strip(), "", *tables])
    update_readme(args.readme, body)
    (args.results / "reproduce.json").write_text(json.dumps({"seed": args.seed, "wall_s": wall,
                                                             "main_wall_s": main_wall, "machine": machine(),
                                                             "quick": args.quick, "ablations": ablations}, indent=2))
    print(f"results in {args.results}; README updated ({wall / 60:.1f} min)")


if __name__ == "__main__":
    main()
