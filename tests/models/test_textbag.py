import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from mighty.models.textbag import BagConfig, BagEncoder, featurize, text_features


def test_features_are_word_and_char_ngrams_by_hand():
    cfg = BagConfig(word_ngrams=2, char_min=3, char_max=3)
    assert text_features("Re-pair it", cfg) == [
        "w:re", "w:pair", "w:it", "w:re pair", "w:pair it",
        "c:<re", "c:re>", "c:<pa", "c:pai", "c:air", "c:ir>", "c:<it", "c:it>"]


def test_ids_are_stable_padded_and_truncated():
    cfg = BagConfig(buckets=97, max_ids=8)
    ids = featurize(["bluetooth keeps dropping", ""], cfg)
    assert ids.shape == (2, 8) and ids.dtype == np.int32
    assert (ids[0] > 0).all() and (ids[0] < 97).all()  # truncated to 8 real ids
    assert (ids[1] == 0).all()
    # crc32, not Python's salted hash: these exact ids in every process
    assert featurize(["bluetooth"], BagConfig(buckets=97, max_ids=3))[0].tolist() == \
        featurize(["bluetooth"], BagConfig(buckets=97, max_ids=3))[0].tolist()


def test_encoder_is_the_mean_of_the_non_padding_rows():
    cfg = BagConfig(buckets=50, dim=4, max_ids=6)
    enc = BagEncoder(cfg, rngs=nnx.Rngs(0))
    ids = np.array([[3, 7, 0, 0, 0, 0], [0] * 6], np.int32)
    table = np.asarray(enc.embed.embedding.value)
    out = np.asarray(enc(jnp.asarray(ids)))
    np.testing.assert_allclose(out[0], (table[3] + table[7]) / 2, rtol=1e-6)
    np.testing.assert_array_equal(out[1], np.zeros(4))


def test_bad_config_is_refused():
    with pytest.raises(ValueError, match="char_min"):
        BagConfig(char_min=4, char_max=3)


def test_artefact_round_trip_and_a_config_that_does_not_match_its_weights(tmp_path):
    from mighty.models.artefact import load_into, read_doc, save_module

    enc = BagEncoder(BagConfig(buckets=50, dim=4), rngs=nnx.Rngs(0))
    save_module(tmp_path / "a", enc, {"dim": 4}, weights="w.safetensors", meta="m.json")
    assert read_doc(tmp_path / "a", weights="w.safetensors", meta="m.json", train_with="x") == {"dim": 4}
    back = load_into(BagEncoder(BagConfig(buckets=50, dim=4), rngs=nnx.Rngs(1)), tmp_path / "a",
                     weights="w.safetensors")
    np.testing.assert_array_equal(back.embed.embedding.value, enc.embed.embedding.value)
    with pytest.raises(ValueError, match=r"wrong shape \['embed.embedding \(50, 4\) != \(50, 8\)'\]"):
        load_into(BagEncoder(BagConfig(buckets=50, dim=8), rngs=nnx.Rngs(1)), tmp_path / "a", weights="w.safetensors")
    with pytest.raises(FileNotFoundError, match="train one with `x`"):
        read_doc(tmp_path / "nope", weights="w.safetensors", meta="m.json", train_with="x")
