"""Student initialisation: layer choice, exact copies of kept blocks, scratch / vocab checks."""
import jax
import numpy as np
import pytest
from flax import nnx

from mighty.distill.config import StudentConfig
from mighty.distill.student import choose_layers, init_student, params_of, prune_layers, random_model
from mighty.models.config import ModelConfig


def _teacher(layers=5):
    return random_model(ModelConfig.tiny(num_layers=layers, tie_embeddings=False), seed=7)


def test_choose_layers():
    assert choose_layers(30, num_layers=6) == [0, 6, 12, 17, 23, 29]
    assert choose_layers(30, num_layers=1) == [29]
    assert choose_layers(30, num_layers=0, strategy="first_last_every_k", every_k=5) == [
        0, 5, 10, 15, 20, 25, 29]
    assert choose_layers(30, num_layers=6, keep=[29, 3]) == [3, 29]
    with pytest.raises(ValueError, match="out of range"):
        choose_layers(4, num_layers=2, keep=[0, 4])
    with pytest.raises(ValueError, match="exceeds"):
        choose_layers(4, num_layers=5)


def test_pruned_student_keeps_chosen_layers_exactly():
    teacher = _teacher(5)
    student = init_student(StudentConfig(init="pruned", keep_layers=[0, 3, 4]), teacher, jax.random.key(0))
    t, s = params_of(teacher), params_of(student)
    assert student.cfg.num_layers == 3 and len(s["layers"]) == 3
    for new, old in enumerate([0, 3, 4]):
        for a, b in zip(jax.tree.leaves(s["layers"][new]), jax.tree.leaves(t["layers"][old])):
            np.testing.assert_array_equal(a, b)
    for name in ("embed", "lm_head"):
        np.testing.assert_array_equal(s[name], t[name])
    np.testing.assert_array_equal(s["final_norm"]["scale"], t["final_norm"]["scale"])
    # copies, not aliases: training the student must not move the teacher
    assert s["embed"].unsafe_buffer_pointer() != t["embed"].unsafe_buffer_pointer()


def test_pruning_every_layer_reproduces_the_teacher():
    teacher = _teacher(3)
    student = prune_layers(teacher, [0, 1, 2])
    ids = jax.random.randint(jax.random.key(1), (2, 9), 3, 128)
    np.testing.assert_allclose(student(ids), teacher(ids), rtol=1e-6, atol=1e-6)
    dropped = prune_layers(teacher, [0, 2])
    assert not np.allclose(dropped(ids), teacher(ids), atol=1e-3)


def test_scratch_student_and_vocab_check():
    teacher = _teacher(2)
    s = init_student(StudentConfig(init="scratch", num_layers=1, model={"hidden_size": 16,
                                   "intermediate_size": 32}), teacher, jax.random.key(0))
    assert (s.cfg.num_layers, s.cfg.hidden_size, s.cfg.vocab_size) == (1, 16, 128)
    s2 = init_student(StudentConfig(init="scratch", num_layers=1), teacher, jax.random.key(1))
    assert not np.allclose(params_of(s2)["embed"], params_of(teacher)["embed"])
    with pytest.raises(ValueError, match="vocab"):
        init_student(StudentConfig(init="scratch", model={"vocab_size": 64}), teacher, jax.random.key(0))


def test_pretrained_student_from_a_checkpoint(tmp_path):
    from mighty.models.checkpoint import save_checkpoint

    teacher = _teacher(2)
    src = random_model(ModelConfig.tiny(num_layers=1, tie_embeddings=False), seed=9)
    save_checkpoint(src, tmp_path / "ckpt")
    s = init_student(StudentConfig(init="pretrained", source=str(tmp_path / "ckpt")), teacher,
                     jax.random.key(0))
    for a, b in zip(jax.tree.leaves(params_of(s)), jax.tree.leaves(params_of(src))):
        np.testing.assert_array_equal(a, b)
