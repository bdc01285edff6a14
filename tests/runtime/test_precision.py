"""`auto` compute dtype: the probe's decision on each CPU family, where it is checked, hashed
and recorded. The CPU is mocked only at its boundary, `read_cpu_flags`."""
import json
import logging
from pathlib import Path

import pytest
from omegaconf import OmegaConf

from mighty.runtime import precision
from mighty.models.config import ModelConfig

CONF = Path(__file__).parents[2] / "mighty" / "conf"
AVX2 = frozenset({"fpu", "avx2", "fma"})  # AMD EPYC (Zen 2/3): no bf16 dot instructions


@pytest.fixture
def cpu(monkeypatch):
    """cpu(flags): this process's CPU has `flags`; the probe decides afresh."""
    def use(flags):
        precision.probe.cache_clear()
        monkeypatch.setattr(precision, "read_cpu_flags", lambda path="/proc/cpuinfo": frozenset(flags))
    yield use
    precision.probe.cache_clear()


@pytest.mark.parametrize("platform, flags, want, reason", [
    ("cpu", AVX2, "float32", "cpu without amx_bf16 or avx512_bf16: bf16 dots are slower than f32 there"),
    ("cpu", AVX2 | {"avx512f", "amx_bf16", "amx_tile"}, "bfloat16", "cpu flag amx_bf16"),  # Sapphire Rapids
    ("cpu", AVX2 | {"avx512f", "avx512_bf16"}, "bfloat16", "cpu flag avx512_bf16"),  # Zen 4, Cooper Lake
    ("cpu", frozenset(), "float32", "cpu without amx_bf16 or avx512_bf16: bf16 dots are slower than f32 there"),
    ("gpu", AVX2, "bfloat16", "accelerator backend 'gpu'"),
    ("tpu", frozenset(), "bfloat16", "accelerator backend 'tpu'"),
])
def test_choose_compute_dtype(platform, flags, want, reason):
    assert precision.choose_compute_dtype(platform, flags) == (want, reason)


def test_read_cpu_flags(tmp_path):
    f = tmp_path / "cpuinfo"
    f.write_text("processor\t: 0\nflags\t\t: fpu avx2 avx512_bf16\n\nprocessor\t: 1\nflags\t\t: other\n")
    assert precision.read_cpu_flags(str(f)) == frozenset({"fpu", "avx2", "avx512_bf16"})
    assert precision.read_cpu_flags(str(tmp_path / "missing")) == frozenset()  # e.g. macOS


@pytest.mark.parametrize("flags, auto", [(AVX2, "float32"), (AVX2 | {"avx512_bf16"}, "bfloat16"),
                                         (AVX2 | {"amx_bf16"}, "bfloat16")])
def test_auto_resolves_by_the_cpu_and_explicit_dtypes_pass_through(cpu, flags, auto):
    cpu(flags)
    assert precision.resolve_dtype("auto") == auto
    assert ModelConfig.tiny(dtype="auto").dtype == auto and ModelConfig.tiny(dtype="auto").param_dtype == "float32"
    for explicit in ("float32", "bfloat16", "float16"):
        assert precision.resolve_dtype(explicit) == explicit
        assert ModelConfig.tiny(dtype=explicit).dtype == explicit


def test_the_decision_is_logged_once(cpu, caplog):
    cpu(AVX2)
    with caplog.at_level(logging.INFO, logger="mighty.runtime.precision"):
        for _ in range(3):
            precision.resolve_dtype("auto")
    assert [r.getMessage() for r in caplog.records] == [
        "compute dtype auto -> float32 (cpu without amx_bf16 or avx512_bf16: bf16 dots are slower than f32 there)"]


def test_the_manifest_records_the_decision(cpu, tmp_path):
    from mighty.runtime import read_manifest, write_manifest

    cpu(AVX2)
    cfg = {"student": {"dtype": "float32", "compute_dtype": "auto"}, "teacher": {"dtype": "float32"},
           "kd": {"lr": 1e-3}}
    write_manifest(tmp_path / "kd", stage="kd", cfg=cfg)
    m = read_manifest(tmp_path / "kd")
    assert m["precision"] == {
        "requested": "auto", "resolved": "float32", "platform": "cpu",
        "reason": "cpu without amx_bf16 or avx512_bf16: bf16 dots are slower than f32 there",
        "auto": ["student.compute_dtype"],
        "fields": {"student.dtype": "float32", "student.compute_dtype": "float32", "teacher.dtype": "float32"}}
    assert m["config"]["student"]["compute_dtype"] == "auto"  # the config as asked
    write_manifest(tmp_path / "eval", stage="eval", cfg={"teacher_dtype": "bfloat16", "limit": 20})
    assert read_manifest(tmp_path / "eval")["precision"] == {"requested": "explicit",
                                                             "fields": {"teacher_dtype": "bfloat16"}}


def test_config_hash_sees_the_resolved_dtype(cpu):
    """A stage run with `auto` on an AVX2 machine (f32) and on an AVX512-BF16 one (bf16) wrote
    different outputs, so their content-addressed keys differ; `auto` hashes as its dtype."""
    from mighty.runtime import config_hash

    cfg = {"student": {"compute_dtype": "auto"}, "seed": 0}
    cpu(AVX2)
    on_amd = config_hash(cfg)
    assert on_amd == config_hash({"student": {"compute_dtype": "float32"}, "seed": 0})
    cpu(AVX2 | {"avx512_bf16"})
    assert config_hash(cfg) != on_amd
    assert config_hash(cfg) == config_hash({"student": {"compute_dtype": "bfloat16"}, "seed": 0})


def test_label_cache_identity_resolves_auto(cpu):
    from mighty.data.label import LabelConfig

    cpu(AVX2)
    assert LabelConfig().dtype == "auto" and LabelConfig().output_fields()["dtype"] == "float32"
    cpu(AVX2 | {"amx_bf16"})
    assert LabelConfig().output_fields()["dtype"] == "bfloat16"


def test_dtype_fields_are_checked_with_the_choices():
    from mighty.data.label import LabelConfig
    from mighty.distill.config import StudentConfig, TeacherConfig
    from mighty.rl.config import PolicyConfig

    with pytest.raises(ValueError, match=r"student.compute_dtype='bf16'; choose one of \['float32', "
                                         r"'bfloat16', 'float16', 'auto'\] or null \(auto: bfloat16 on a CPU"):
        StudentConfig(compute_dtype="bf16")
    for make, where in ((lambda: TeacherConfig(dtype="fp32"), "teacher.dtype"),
                        (lambda: LabelConfig(dtype="fp32"), "label.dtype"),
                        (lambda: PolicyConfig(source="x", dtype="fp32"), "policy.dtype"),
                        (lambda: PolicyConfig(source="x", compute_dtype="half"), "policy.compute_dtype")):
        with pytest.raises(ValueError, match=where):
            make()
    StudentConfig(compute_dtype="auto")  # the choices, and null where a field allows it, construct
    StudentConfig(compute_dtype=None)
    PolicyConfig(source="x", compute_dtype="auto")


def test_auto_is_the_default_where_bf16_was():
    """The default student's activations, the label teacher and the eval teacher (bf16 before,
    chosen on an AMX machine) say auto; parameters and the KD teacher stay float32."""
    student = OmegaConf.load(CONF / "student" / "pruned_smollm2.yaml")
    assert (student.compute_dtype, student.dtype) == ("auto", "float32")
    assert OmegaConf.load(CONF / "pipeline.yaml").label.dtype == "auto"
    assert OmegaConf.load(CONF / "eval" / "default.yaml").teacher_dtype == "auto"
    assert OmegaConf.load(CONF / "teacher" / "smollm2.yaml").dtype == "float32"
