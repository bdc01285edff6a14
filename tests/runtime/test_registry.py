"""Model registry: gates as data, idempotent registration, promote refuses a failing candidate,
rollback restores the pointer before, atomic pointer writes, history of every move."""
import json
import math

import pytest

from mighty.runtime.registry import GateFailed, Registry, RegistryError, check_gates, parse_gate

GATES = {"gates.macro_f1": ">= 0.6", "gates.latency_p95_ms": "<= 15"}


def _artefact(tmp_path, name):
    d = tmp_path / "artefacts" / name
    d.mkdir(parents=True)
    (d / "weights.bin").write_bytes(name.encode())
    return d


def _register(reg, tmp_path, name, f1, p95=3.0):
    results = {"gates": {"macro_f1": f1, "latency_p95_ms": p95}}
    return reg.register("router", _artefact(tmp_path, name), manifest={"run": name}, metrics=results,
                        gates=check_gates(results, GATES))


def test_gates_by_hand():
    res = {"gates": {"macro_f1": 0.61, "latency_p95_ms": 15.0}, "nan": math.nan}
    got = check_gates(res, {**GATES, "gates.missing": ">= 1", "nan": "< 1"})
    assert [(g["name"], g["status"]) for g in got] == [
        ("gates.macro_f1", "pass"), ("gates.latency_p95_ms", "pass"),
        ("gates.missing", "n/a: the results have no 'gates.missing'"), ("nan", "n/a: not a finite number")]
    assert check_gates({"gates": {"macro_f1": 0.59}}, {"gates.macro_f1": ">= 0.6"})[0]["status"] == "FAIL"
    assert parse_gate("x", "> 0") == (">", 0.0)
    with pytest.raises(ValueError, match="op one of"):
        parse_gate("x", "=> 0.5")


def test_promote_refuses_a_failing_candidate_and_rollback_restores(tmp_path):
    reg = Registry(tmp_path / "registry")
    v1 = _register(reg, tmp_path, "a", 0.7)
    assert _register(reg, tmp_path, "a2", 0.7) != v1
    assert reg.register("router", tmp_path / "artefacts" / "a", manifest={"run": "a"}, metrics={},
                        gates=[]) == v1  # the same artefact and manifest: the same version, no new entry
    assert len(reg.versions("router")) == 2
    bad = _register(reg, tmp_path, "b", 0.4)  # macro-F1 below 0.6
    v3 = _register(reg, tmp_path, "c", 0.8)

    assert reg.current("router") is None and reg.serving("router")[1] is False
    reg.promote("router", v1)
    with pytest.raises(GateFailed, match=r"gates\.macro_f1: FAIL \(value 0.4"):
        reg.promote("router", bad)
    assert reg.current("router")["version"] == v1  # the refused promotion moved nothing
    reg.promote("router", v3, reason="better")
    assert reg.current("router")["version"] == v3 and reg.serving("router") == (reg.entry("router", v3), True)
    assert reg.rollback("router", reason="regression")["version"] == v1
    assert reg.rollback("router") is None and reg.current("router") is None  # back to nothing promoted
    with pytest.raises(RegistryError, match="nothing to roll back"):
        reg.rollback("router")
    hist = reg.history("router")
    assert [(h["action"], h["from"], h["to"]) for h in hist] == [
        ("promote", None, v1), ("promote", v1, v3), ("rollback", v3, v1), ("rollback", v1, None)]
    assert hist[1]["reason"] == "better" and hist[2]["reason"] == "regression"


def test_unknown_kind_missing_artefact_and_version_are_clear(tmp_path):
    reg = Registry(tmp_path)
    with pytest.raises(RegistryError, match="unknown artefact kind 'ruoter'"):
        reg.current("ruoter")
    with pytest.raises(RegistryError, match="does not exist"):
        reg.register("router", tmp_path / "nope", manifest={}, metrics={}, gates=[])
    with pytest.raises(RegistryError, match="no router version 'abc'"):
        reg.promote("router", "abc")
    v = reg.register("router", _artefact(tmp_path, "x"), manifest={}, metrics={}, gates=[])
    with pytest.raises(GateFailed, match="none were evaluated"):  # no gates is not a pass
        reg.promote("router", v)


def test_a_torn_pointer_write_never_shows(tmp_path):
    """The pointer is written to a temporary sibling and renamed: a crash mid-write leaves a
    stray temp file, which readers ignore, and the old pointer intact."""
    reg = Registry(tmp_path / "registry")
    v1 = _register(reg, tmp_path, "a", 0.7)
    reg.promote("router", v1)
    (tmp_path / "registry" / "router" / ".pointer.json.x1y2").write_text('{"version": "tru')
    assert reg.current("router")["version"] == v1
    assert json.loads((tmp_path / "registry" / "router" / "pointer.json").read_text())["version"] == v1
