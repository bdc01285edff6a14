"""Did two pipeline runs compute the same thing? Byte-level comparison of what they produced.

`python -m mighty.experiments.diff_runs <run_a> <run_b>` (run directories holding
`pipeline.json`) compares, for every stage both ran: the logged metrics (`metrics.jsonl`), the
eval's answers and per-case scores (`items_*.jsonl`) and its results (`results.json`). Machine
measurements are left out, since they differ between any two runs: `perf/*` metrics, the
`scalars` blocks (latency, tokens/s, cost, time) and timings (`*_s`, `*seconds`); paths
inside each run's store are compared relative to it. Exit 0 and "identical"
when everything else matches exactly, else exit 1 and one line per difference.

The check behind a refactor that must not change behaviour: run `make demo` before and after,
then diff the two runs.
"""
from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

COMPARED_FILES = ("metrics.jsonl", "results.json")
MEASURED_KEYS = frozenset({"scalars"})  # subtrees of machine measurements


def is_measurement(key: str) -> bool:
    return key in MEASURED_KEYS or key.startswith("perf/") or key.endswith("_s") or key.endswith("seconds")


def _same_number(a, b) -> bool:
    # NaN marks "not measured" (e.g. no judge): two NaNs agree; anything else compares exactly
    return a == b or (isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b))


def diff_values(a, b, where: str = "") -> list[str]:
    """Every place where `a` and `b` (parsed JSON) differ, measurements skipped."""
    if isinstance(a, dict) and isinstance(b, dict):
        out = [f"{where}/{k}: only in {'a' if k in a else 'b'}"
               for k in sorted(a.keys() ^ b.keys()) if not is_measurement(k)]
        for k in sorted(a.keys() & b.keys()):
            if not is_measurement(k):
                out += diff_values(a[k], b[k], f"{where}/{k}")
        return out
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return [f"{where}: {len(a)} vs {len(b)} entries"]
        return [d for i, (x, y) in enumerate(zip(a, b)) for d in diff_values(x, y, f"{where}[{i}]")]
    return [] if _same_number(a, b) else [f"{where}: {a!r} vs {b!r}"]


def _read(path: Path, store: str):
    """Parsed JSON(L) with the run's store directory written as `<store>`: two runs in
    different stores name the same artefact by different paths."""
    text = path.read_text().replace(store, "<store>")
    if path.suffix == ".jsonl":
        return [json.loads(line) for line in text.splitlines() if line.strip()]
    return json.loads(text)


def read_run(run_dir: Path) -> tuple[str, dict[str, Path]]:
    """(the run's store directory, {stage: its directory})."""
    record = run_dir / "pipeline.json"
    if not record.exists():
        raise FileNotFoundError(f"{record} not found: pass a pipeline run directory (it holds pipeline.json)")
    run = json.loads(record.read_text())
    return str(run["store"]), {name: Path(s["dir"]) for name, s in run["stages"].items()}


def compared_files(stage_dir: Path) -> list[str]:
    return sorted([f for f in COMPARED_FILES if (stage_dir / f).exists()]
                  + [p.name for p in stage_dir.glob("items_*.jsonl")])


def diff_runs(run_a: Path, run_b: Path) -> list[str]:
    """One line per difference between two pipeline runs' outputs (empty: identical)."""
    (store_a, a), (store_b, b) = read_run(run_a), read_run(run_b)
    out = [f"stage {s}: only in {'a' if s in a else 'b'}" for s in sorted(a.keys() ^ b.keys())]
    for stage in sorted(a.keys() & b.keys()):
        files_a, files_b = compared_files(a[stage]), compared_files(b[stage])
        out += [f"{stage}/{f}: only in {'a' if f in files_a else 'b'}" for f in sorted(set(files_a) ^ set(files_b))]
        for f in sorted(set(files_a) & set(files_b)):
            out += [f"{stage}/{f}{d}" for d in diff_values(_read(a[stage] / f, store_a),
                                                              _read(b[stage] / f, store_b))]
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run_a", type=Path)
    ap.add_argument("run_b", type=Path)
    ap.add_argument("--max-lines", type=int, default=40)
    args = ap.parse_args(argv)
    try:
        diffs = diff_runs(args.run_a, args.run_b)
    except FileNotFoundError as e:
        print(f"diff_runs: {e}", file=sys.stderr)
        return 2
    if not diffs:
        print("identical (measurements such as timings excluded)")
        return 0
    print(f"{len(diffs)} differences:")
    print("\n".join(diffs[: args.max_lines]))
    return 1


if __name__ == "__main__":
    sys.exit(main())
