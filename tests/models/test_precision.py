"""`auto` compute dtype: the probe's decision on each CPU family, and where it is recorded."""
import json

import pytest

from models import precision
from models.config import ModelConfig


@pytest.mark.parametrize("platform, flags, want", [
    ("cpu", frozenset({"avx2", "fma"}), "float32"),                 # AMD EPYC without AVX512-BF16
    ("cpu", frozenset({"avx2", "avx512f", "amx_bf16"}), "bfloat16"),  # Intel with AMX
    ("cpu", frozenset({"avx512_bf16"}), "bfloat16"),                 # Zen 4 / Cooper Lake
    ("gpu", frozenset(), "bfloat16"),
    ("tpu", frozenset(), "bfloat16"),
])
def test_choose_compute_dtype(platform, flags, want):
    dtype, reason = precision.choose_compute_dtype(platform, flags)
    assert dtype == want and reason


def test_read_cpu_flags(tmp_path):
    f = tmp_path / "cpuinfo"
    f.write_text("processor\t: 0\nflags\t\t: fpu avx2 avx512_bf16\n\nprocessor\t: 1\nflags\t\t: other\n")
    assert precision.read_cpu_flags(str(f)) == frozenset({"fpu", "avx2", "avx512_bf16"})
    assert precision.read_cpu_flags(str(tmp_path / "missing")) == frozenset()


def test_auto_resolves_through_the_probe_and_the_manifest_records_it(monkeypatch, tmp_path):
    from models.runtime import write_manifest

    precision.probe.cache_clear()
    monkeypatch.setattr(precision, "read_cpu_flags", lambda path="/proc/cpuinfo": frozenset({"avx2"}))
    try:
        assert precision.resolve_dtype("auto") == "float32" and precision.resolve_dtype("bfloat16") == "bfloat16"
        assert ModelConfig.tiny(dtype="auto").dtype == "float32"
        write_manifest(tmp_path, stage="kd", cfg={"student": {"compute_dtype": "auto"}})
        rec = json.loads((tmp_path / "manifest.json").read_text())["precision"]
        assert rec["requested"] == "auto" and rec["resolved"] == "float32" and "cpu without" in rec["reason"]
    finally:
        precision.probe.cache_clear()
