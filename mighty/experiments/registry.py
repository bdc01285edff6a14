"""`python -m mighty.experiments.registry list|show|promote|rollback`: the model registry's CLI, and
what the pipeline calls to register each stage's artefact (runtime/registry.py has the layout).

    python -m mighty.experiments.registry list [--store runs/store] [--kind generator]
    python -m mighty.experiments.registry show generator <version>
    python -m mighty.experiments.registry promote router <version> --reason "new intent set"
    python -m mighty.experiments.registry rollback reranker --reason "latency regression"

`promote` refuses a candidate whose gates did not all pass (exit 2, the failing gates printed);
the demo server serves what the pointers name (demo.config.resolve_student / registered).
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path
from typing import Mapping, Sequence

from mighty.runtime.registry import KINDS, GateFailed, Registry, RegistryError, parse_gate


@dataclasses.dataclass(frozen=True)
class RegistryConfig:
    """The pipeline's `registry:` block. Router and reranker gates are `<path in the stage's
    results.json>: "<op> <threshold>"`; the generator's are the `gate:` block (evals.gates)."""

    auto_promote: bool = True  # promote a stage's artefact when all its gates pass
    # seed thresholds: a router under 15 ms p95 that keeps rare intents (issue 24's seeds)
    router: Mapping[str, str] = dataclasses.field(default_factory=lambda: {
        "gates.macro_f1": ">= 0.6", "gates.rare_recall": ">= 0.5", "gates.latency_p95_ms": "<= 15",
        # the blend must not lose rare-intent recall against hard labels (paired CI)
        "ci.blend_minus_hard_rare_recall.ci_high": ">= 0"})
    # beats BM25 (paired CI above 0) within the router's latency budget
    reranker: Mapping[str, str] = dataclasses.field(default_factory=lambda: {
        "vs_bm25.bm25+student.ndcg@10.ci_low": "> 0", "vs_bm25.bm25+student.recall@1.ci_low": ">= 0",
        "latency.student_rerank.p95_ms": "<= 15"})

    def __post_init__(self):
        for kind in ("router", "reranker"):
            for path, spec in getattr(self, kind).items():
                parse_gate(f"registry.{kind}.{path}", spec)


def registry_of(store: str | Path) -> Registry:
    return Registry(Path(store).expanduser() / "registry")


def register_and_promote(store: str | Path, kind: str, artefact: str | Path, *, manifest: Mapping,
                         metrics: Mapping, gates: Sequence[Mapping], auto_promote: bool,
                         source_run: str = "") -> dict:
    """Register a stage's artefact; promote it when asked and every gate passed. Returns
    {"kind", "version", "promoted", "blocked": [gate names that did not pass]}."""
    reg = registry_of(store)
    version = reg.register(kind, artefact, manifest=manifest, metrics=metrics, gates=gates,
                           source_run=source_run)
    blocked = [g["name"] for g in gates if g["status"] != "pass"] or ([] if gates else ["no gates evaluated"])
    promoted = False
    if auto_promote and not blocked:
        reg.promote(kind, version, reason=f"pipeline run {source_run}: every gate passed")
        promoted = True
    current = reg.current(kind)
    return {"kind": kind, "version": version, "promoted": promoted, "blocked": blocked,
            "serving": current["version"] if current else None}


def describe(outcome: Mapping) -> str:
    """One line for the pipeline log and report."""
    k, v = outcome["kind"], outcome["version"]
    if outcome["promoted"]:
        return f"{k} {v}: registered and promoted (every gate passed)"
    why = ", ".join(outcome["blocked"]) if outcome["blocked"] else "auto-promotion is off"
    serving = outcome["serving"] or ("nothing promoted yet (the demo serves the newest candidate, marked unpromoted)"
                                     if k == "generator" else "nothing promoted yet (the demo does without one)")
    return f"{k} {v}: registered, not promoted ({why}); the pointer names {serving}"


def _print_entry(e: dict, current: str | None) -> None:
    gates = e["gates"]
    passed = sum(g["status"] == "pass" for g in gates)
    mark = "*" if e["version"] == current else " "
    print(f"{mark} {e['version']}  {e['registered_at']}  gates {passed}/{len(gates)}  {e['artefact']}")


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m mighty.experiments.registry", description=__doc__.split("\n")[0])
    ap.add_argument("--store", default="runs/store", help="the pipeline's store (conf/pipeline.yaml `store`)")
    sub = ap.add_subparsers(dest="cmd", required=True)
    ls = sub.add_parser("list", help="registered versions; * marks the pointer")
    ls.add_argument("--kind", choices=KINDS)
    for name in ("show", "promote"):
        p = sub.add_parser(name)
        p.add_argument("kind", choices=KINDS)
        p.add_argument("version")
        if name == "promote":
            p.add_argument("--reason", default="")
    rb = sub.add_parser("rollback", help="restore the version the pointer held before")
    rb.add_argument("kind", choices=KINDS)
    rb.add_argument("--reason", default="")
    args = ap.parse_args(argv)
    reg = registry_of(args.store)
    try:
        if args.cmd == "list":
            for kind in [args.kind] if args.kind else KINDS:
                cur = reg.current(kind)
                print(f"{kind}: pointer {cur['version'] if cur else '(none)'}")
                for e in reg.versions(kind):
                    _print_entry(e, cur and cur["version"])
        elif args.cmd == "show":
            print(json.dumps(reg.entry(args.kind, args.version), indent=2))
        elif args.cmd == "promote":
            p = reg.promote(args.kind, args.version, reason=args.reason)
            print(f"{args.kind}: pointer -> {p['version']} ({p['artefact']})")
        else:
            p = reg.rollback(args.kind, reason=args.reason)
            print(f"{args.kind}: pointer -> {p['version'] if p else '(none: nothing promoted)'}")
    except GateFailed as e:
        print(f"refused: {e}", file=sys.stderr)
        return 2
    except RegistryError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
