"""The eval's base student is the model KD starts from, also for a LoRA student in bf16.

Regression: with `student/lora` and compute_dtype bf16 (the default run on an AMX CPU),
`evaluate.base_student` built the student with adapters and then re-typed it with a graph
that has none, and eval_ref died ("Incorrect number of leaves"). The smoke pipeline with a
LoRA student never saw it: its tiny student computes in f32, where no re-typing happens."""
from __future__ import annotations

from pathlib import Path

import jax
import numpy as np
from flax import nnx
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf

import mighty.experiments.pipeline  # noqa: F401  (registers every stage's schema)
from mighty.distill.config import StudentConfig
from mighty.distill.student import init_student
from mighty.distill.train import STREAMS
from mighty.experiments.evaluate import base_student
from mighty.models import ModelConfig, Transformer, load_pretrained, save_checkpoint
from mighty.models.lora import has_lora, merge_lora
from mighty.runtime.rng import RngStreams

CONF = Path(__file__).resolve().parents[2] / "mighty" / "conf"


def test_base_student_of_a_lora_bf16_student_is_the_kd_starting_point_without_adapters(tmp_path):
    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        cfg = compose("pipeline", overrides=["experiment=smoke", "+student/lora=tiny",
                                             "+student.compute_dtype=bfloat16"])
    teacher_dir = tmp_path / "teacher"
    save_checkpoint(Transformer(ModelConfig.tiny(vocab_size=64), rngs=nnx.Rngs(0)), teacher_dir)

    base = base_student(cfg, str(teacher_dir))

    assert not has_lora(base) and base.cfg.dtype == base.cfg.param_dtype  # scored in its parameter dtype
    # What KD trains: the same init stream, adapters on (B = 0), so merged it is the base.
    teacher, tok = load_pretrained(str(teacher_dir), dtype=cfg.teacher.dtype)
    student_cfg = OmegaConf.to_object(OmegaConf.merge(OmegaConf.structured(StudentConfig), cfg.student))
    kd_start = init_student(student_cfg, teacher, RngStreams(cfg.seed, STREAMS).at("init", 0), tokenizer=tok)
    assert has_lora(kd_start)
    want = jax.tree.leaves(nnx.state(merge_lora(kd_start), nnx.Param))
    got = jax.tree.leaves(nnx.state(base, nnx.Param))
    assert len(got) == len(want)
    for g, w in zip(got, want):
        np.testing.assert_array_equal(np.asarray(g), np.asarray(w))


def test_students_are_served_in_the_eval_student_dtype(tmp_path):
    """`eval.student_dtype` (default auto: the teacher's serving dtype) is what the base and the
    trained students answer in; null keeps them as trained."""
    from mighty.experiments.evaluate import trained_students

    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        cfg = compose("pipeline", overrides=["experiment=smoke", "+eval.student_dtype=bfloat16"])
        as_trained = compose("pipeline", overrides=["experiment=smoke"])
    teacher_dir = tmp_path / "teacher"
    save_checkpoint(Transformer(ModelConfig.tiny(vocab_size=64), rngs=nnx.Rngs(0)), teacher_dir)
    save_checkpoint(Transformer(ModelConfig.tiny(vocab_size=64), rngs=nnx.Rngs(1)), tmp_path / "kd" / "student")

    for model in (base_student(cfg, str(teacher_dir)), *trained_students(cfg, {"kd": tmp_path / "kd"}).values()):
        assert (model.cfg.param_dtype, model.cfg.dtype) == ("bfloat16", "bfloat16")
        assert {x.dtype for x in jax.tree.leaves(nnx.state(model, nnx.Param))} == {np.dtype("bfloat16")}
    kd = trained_students(as_trained, {"kd": tmp_path / "kd"})["kd_student"]
    assert kd.cfg.param_dtype == "float32"
