"""Model registry: trained artefacts with their manifests and gate results, and one serving
pointer per kind that moves only when a candidate's release gates pass.

Layout under `<store>/registry/`:

    <kind>/<version>/entry.json   artefact path, manifest (and its hash), metrics, gate results
    <kind>/pointer.json           {"version", "artefact", "stack": [earlier versions]}
    <kind>/history.jsonl          one line per pointer move: time, action, from, to, reason

Kinds are `generator` (the GRPO/KD student), `router` (intent classifier) and `reranker`.
A version id is the hash of (kind, artefact path, manifest hash): registering the same artefact
again finds the same version instead of adding one. The pointer keeps a stack of the versions it
held, so `rollback` restores exactly the one before, however many times it is called. Every file
is written atomically (temporary sibling + rename): a reader sees the old pointer or the new one.

Gates are data: `<metric path> <op> <threshold>` (e.g. `latency_p95_ms: "<= 15"`), checked by
`check_gates` against a results dict; a metric the results lack blocks promotion and names the
path. The generator's gates come from evals.gates (they need the eval's paired comparisons) and
are registered in the same shape: {name, value, threshold, status}.
"""
from __future__ import annotations

import datetime as _dt
import hashlib
import json
import math
import operator
from pathlib import Path
from typing import Any, Mapping, Sequence

from mighty.runtime.manifest import atomic_write_json

KINDS = ("generator", "router", "reranker")
_OPS = {">=": operator.ge, "<=": operator.le, ">": operator.gt, "<": operator.lt}


class RegistryError(RuntimeError):
    """A registry operation that cannot be done; the message says why and what to do."""


class GateFailed(RegistryError):
    def __init__(self, kind: str, version: str, failed: Sequence[Mapping]):
        self.failed = list(failed)
        lines = "; ".join(f"{g['name']}: {g['status']} (value {g.get('value')}, needs {g['threshold']})"
                          for g in failed)
        super().__init__(f"{kind} {version} is not promoted: {len(failed)} gate(s) did not pass: {lines}")


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def parse_gate(name: str, spec: str) -> tuple[str, float]:
    """`">= 0.6"` -> (">=", 0.6)."""
    parts = str(spec).split()
    if len(parts) != 2 or parts[0] not in _OPS:
        raise ValueError(f"gate {name!r}: {spec!r} must read '<op> <number>' with op one of {list(_OPS)}")
    try:
        return parts[0], float(parts[1])
    except ValueError:
        raise ValueError(f"gate {name!r}: threshold {parts[1]!r} in {spec!r} is not a number") from None


def lookup(results: Mapping, path: str) -> Any:
    """`results["a"]["b"]` for path "a.b"; KeyError names the missing piece."""
    node: Any = results
    for part in path.split("."):
        if not isinstance(node, Mapping) or part not in node:
            raise KeyError(path)
        node = node[part]
    return node


def check_gates(results: Mapping, gates: Mapping[str, str]) -> list[dict]:
    """One {name, value, threshold, status} per gate; status "pass", "FAIL" or "n/a: <why>"
    (a missing or non-finite value), and only "pass" lets a candidate through."""
    out = []
    for path, spec in gates.items():
        op, threshold = parse_gate(path, spec)
        try:
            value = lookup(results, path)
        except KeyError:
            out.append({"name": path, "value": None, "threshold": spec,
                        "status": f"n/a: the results have no '{path}'"})
            continue
        if not isinstance(value, (int, float)) or not math.isfinite(value):
            out.append({"name": path, "value": value, "threshold": spec, "status": f"n/a: not a finite number"})
            continue
        out.append({"name": path, "value": float(value), "threshold": spec,
                    "status": "pass" if _OPS[op](value, threshold) else "FAIL"})
    return out


def _hash(obj: Any) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()


class Registry:
    """`Registry(<store>/registry)`; see the module doc."""

    def __init__(self, root: str | Path):
        self.root = Path(root).expanduser().absolute()

    # ---------------------------------------------------------------- paths
    def _kind_dir(self, kind: str) -> Path:
        if kind not in KINDS:
            raise RegistryError(f"unknown artefact kind {kind!r}; one of {list(KINDS)}")
        return self.root / kind

    def _pointer_path(self, kind: str) -> Path:
        return self._kind_dir(kind) / "pointer.json"

    # ---------------------------------------------------------------- entries
    def register(self, kind: str, artefact: str | Path, *, manifest: Mapping, metrics: Mapping,
                 gates: Sequence[Mapping], source_run: str = "") -> str:
        """Record a candidate; returns its version id (the same one for the same artefact)."""
        artefact = str(Path(artefact).expanduser().absolute())
        if not Path(artefact).exists():
            raise RegistryError(f"cannot register {kind} {artefact}: it does not exist")
        manifest_hash = _hash(manifest)
        version = _hash([kind, artefact, manifest_hash])[:12]
        path = self._kind_dir(kind) / version / "entry.json"
        if not path.exists():
            atomic_write_json(path, {"kind": kind, "version": version, "artefact": artefact,
                                     "manifest": dict(manifest), "manifest_hash": manifest_hash,
                                     "metrics": dict(metrics), "gates": [dict(g) for g in gates],
                                     "source_run": source_run, "registered_at": _now()})
        return version

    def entry(self, kind: str, version: str) -> dict:
        path = self._kind_dir(kind) / version / "entry.json"
        if not path.is_file():
            known = [e["version"] for e in self.versions(kind)]
            raise RegistryError(f"no {kind} version {version!r} in {self.root}; registered: {known}")
        return json.loads(path.read_text())

    def versions(self, kind: str) -> list[dict]:
        """Every registered entry of `kind`, oldest first."""
        d = self._kind_dir(kind)
        entries = [json.loads(p.read_text()) for p in d.glob("*/entry.json")] if d.is_dir() else []
        return sorted(entries, key=lambda e: (e["registered_at"], e["version"]))

    # ---------------------------------------------------------------- pointer
    def current(self, kind: str) -> dict | None:
        """The pointer ({"version", "artefact", "stack"}), or None when nothing was promoted."""
        path = self._pointer_path(kind)
        return json.loads(path.read_text()) if path.is_file() else None

    def history(self, kind: str) -> list[dict]:
        path = self._kind_dir(kind) / "history.jsonl"
        return [json.loads(line) for line in path.read_text().splitlines()] if path.is_file() else []

    def _move(self, kind: str, action: str, to: dict | None, stack: list[str], reason: str) -> dict | None:
        before = self.current(kind)
        pointer = None if to is None else {"version": to["version"], "artefact": to["artefact"], "stack": stack}
        if pointer is None:
            self._pointer_path(kind).unlink(missing_ok=True)
        else:
            atomic_write_json(self._pointer_path(kind), pointer)
        line = {"time": _now(), "action": action, "from": before and before["version"],
                "to": to and to["version"], "reason": reason}
        with open(self._kind_dir(kind) / "history.jsonl", "a") as f:
            f.write(json.dumps(line) + "\n")
        return pointer

    def promote(self, kind: str, version: str, *, reason: str = "") -> dict:
        """Point `kind` at `version` if every one of its gates passed; GateFailed otherwise."""
        entry = self.entry(kind, version)
        if not entry["gates"]:
            raise GateFailed(kind, version, [{"name": "gates", "status": "n/a: none were evaluated",
                                              "threshold": "at least one gate"}])
        failed = [g for g in entry["gates"] if g["status"] != "pass"]
        if failed:
            raise GateFailed(kind, version, failed)
        before = self.current(kind)
        if before and before["version"] == version:
            return before
        stack = (before["stack"] + [before["version"]]) if before else []
        return self._move(kind, "promote", entry, stack, reason)

    def rollback(self, kind: str, *, reason: str = "") -> dict | None:
        """Restore the version the pointer held before the current one (None: no pointer)."""
        before = self.current(kind)
        if before is None:
            raise RegistryError(f"nothing to roll back: no {kind} has been promoted in {self.root}")
        if not before["stack"]:
            return self._move(kind, "rollback", None, [], reason)
        *stack, previous = before["stack"]
        return self._move(kind, "rollback", self.entry(kind, previous), stack, reason)

    def serving(self, kind: str) -> tuple[dict | None, bool]:
        """(entry to serve, promoted?): the pointer's entry, else the newest candidate (unpromoted),
        else (None, False)."""
        pointer = self.current(kind)
        if pointer is not None:
            return self.entry(kind, pointer["version"]), True
        versions = self.versions(kind)
        return (versions[-1], False) if versions else (None, False)
