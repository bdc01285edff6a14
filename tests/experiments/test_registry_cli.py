"""`python -m mighty.experiments.registry`: list, show, promote (refused on a failed gate), rollback."""
import json
import subprocess
import sys
from pathlib import Path

from mighty.experiments.registry import RegistryConfig, describe, register_and_promote

ROOT = Path(__file__).resolve().parents[2]


def _cli(store, *args):
    return subprocess.run([sys.executable, "-m", "mighty.experiments.registry", "--store", str(store), *args],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)


def test_cli_promote_refuses_a_failed_gate_and_rollback_restores(tmp_path):
    arts = []
    for name in ("good", "bad", "better"):
        (tmp_path / name).mkdir()
        arts.append(tmp_path / name)
    gates = {"gates.recall_at_1_gain": "> 0"}
    from mighty.runtime.registry import check_gates

    outs = [register_and_promote(tmp_path / "store", "reranker", a, manifest={"n": i},
                                 metrics={"gates": {"recall_at_1_gain": gain}},
                                 gates=check_gates({"gates": {"recall_at_1_gain": gain}}, gates),
                                 auto_promote=auto)
            for i, (a, gain, auto) in enumerate(zip(arts, (0.05, -0.02, 0.08), (True, True, False)))]
    good, bad, better = (o["version"] for o in outs)
    assert outs[0]["promoted"] and not outs[1]["promoted"] and outs[1]["blocked"] == ["gates.recall_at_1_gain"]
    assert "not promoted (gates.recall_at_1_gain)" in describe(outs[1]) and good in describe(outs[1])
    assert not outs[2]["promoted"] and "auto-promotion is off" in describe(outs[2])

    r = _cli(tmp_path / "store", "promote", "reranker", bad)
    assert r.returncode == 2 and "gates.recall_at_1_gain: FAIL" in r.stderr
    assert _cli(tmp_path / "store", "promote", "reranker", better, "--reason", "manual").returncode == 0
    listing = _cli(tmp_path / "store", "list", "--kind", "reranker").stdout
    assert f"pointer {better}" in listing and f"* {better}" in listing and "gates 0/1" in listing
    r = _cli(tmp_path / "store", "rollback", "reranker")
    assert r.returncode == 0 and f"pointer -> {good}" in r.stdout
    shown = json.loads(_cli(tmp_path / "store", "show", "reranker", good).stdout)
    assert shown["artefact"] == str(arts[0]) and shown["gates"][0]["status"] == "pass"
    assert _cli(tmp_path / "store", "show", "reranker", "nope").returncode == 1


def test_registry_block_is_checked():
    import pytest

    with pytest.raises(ValueError, match="registry.router.gates.macro_f1"):
        RegistryConfig(router={"gates.macro_f1": "at least 0.6"})
    with pytest.raises(TypeError):
        RegistryConfig(auto_promot=True)
