"""Our decoder against the transformers PyTorch reference, on tiny random Llama / Qwen2."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from mighty import models
from mighty.models import ModelConfig, Transformer
from tests.models.conftest import TINY_VOCAB, hf_logits, make_hf_model

RNG = np.random.RandomState(0)


@pytest.mark.parametrize("kind", ["llama", "qwen2"])
def test_logits_match_hf(hf_tiny, kind):
    hf, path = hf_tiny[kind]
    model, tokenizer = models.load_pretrained(path)
    assert tokenizer is None  # the tiny checkpoints carry no tokenizer files
    assert model.cfg.qkv_bias == (kind == "qwen2") and not model.cfg.tie_embeddings
    ids = RNG.randint(3, TINY_VOCAB, (3, 17)).astype(np.int32)
    ours = model(jnp.asarray(ids))
    assert ours.dtype == jnp.float32 and ours.shape == (3, 17, TINY_VOCAB)
    np.testing.assert_allclose(np.asarray(ours), hf_logits(hf, ids), atol=1e-4, rtol=0)


@pytest.mark.parametrize("kind", ["llama", "qwen2"])
def test_left_padded_rows_match_unpadded_hf(hf_tiny, kind):
    hf, path = hf_tiny[kind]
    model, _ = models.load_pretrained(path)
    lengths = [5, 12, 1, 9]
    seqs = [RNG.randint(3, TINY_VOCAB, n).tolist() for n in lengths]
    tok = models.Tokenizer.__new__(models.Tokenizer)  # batch() needs only pad_id
    tok.pad_id = 0
    ids, mask = models.Tokenizer.batch(tok, seqs, bucket=16)
    assert ids.shape == (4, 16)
    ours = np.asarray(model(jnp.asarray(ids), attention_mask=jnp.asarray(mask)))
    for row, seq in enumerate(seqs):
        ref = hf_logits(hf, [seq])[0]
        np.testing.assert_allclose(ours[row, -len(seq):], ref, atol=1e-4, rtol=0,
                                   err_msg=f"row {row} (length {len(seq)})")


def test_sharded_safetensors_load(tmp_path):
    hf = make_hf_model("qwen2", seed=3)
    hf.save_pretrained(tmp_path, max_shard_size="20KB")
    assert (tmp_path / "model.safetensors.index.json").is_file()
    assert len(list(tmp_path.glob("*.safetensors"))) > 2
    model, _ = models.load_pretrained(tmp_path)
    ids = RNG.randint(3, TINY_VOCAB, (2, 11)).astype(np.int32)
    np.testing.assert_allclose(np.asarray(model(jnp.asarray(ids))), hf_logits(hf, ids), atol=1e-4, rtol=0)


def test_tied_embeddings_and_llama3_rope_match_hf(tmp_path):
    rope = {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
            "original_max_position_embeddings": 32, "rope_theta": 500000.0}
    hf = make_hf_model("llama", seed=4, tie=True, rope_parameters=rope)
    hf.save_pretrained(tmp_path)
    model, _ = models.load_pretrained(tmp_path)
    assert model.cfg.tie_embeddings and model.cfg.rope_scaling["rope_type"] == "llama3"
    ids = RNG.randint(3, TINY_VOCAB, (2, 40)).astype(np.int32)
    np.testing.assert_allclose(np.asarray(model(jnp.asarray(ids))), hf_logits(hf, ids), atol=1e-4, rtol=0)


def test_token_logprobs_match_naive_log_softmax():
    cfg = ModelConfig.tiny(vocab_size=100)  # 100 is not a multiple of the chunk: exercises padding
    model = Transformer(cfg, rngs=nnx.Rngs(1))
    ids = jnp.asarray(RNG.randint(0, 100, (2, 9)), jnp.int32)
    mask = jnp.asarray([[0, 0, 1, 1, 1, 1, 1, 1, 1], [1] * 9], jnp.int32)
    targets = jnp.roll(ids, -1, axis=1)
    got = models.token_logprobs(model, ids, mask, targets, chunk=32)
    logp = jax.nn.log_softmax(model(ids, attention_mask=mask), axis=-1)
    want = jnp.take_along_axis(logp, targets[..., None], axis=-1)[..., 0] * mask
    np.testing.assert_allclose(np.asarray(got), np.asarray(want), atol=1e-5)
    assert float(jnp.abs(got[0, :2]).max()) == 0.0  # masked positions are exactly 0


def test_token_logprobs_gradient_matches_naive():
    cfg = ModelConfig.tiny(vocab_size=64)
    model = Transformer(cfg, rngs=nnx.Rngs(2))
    ids = jnp.asarray(RNG.randint(0, 64, (2, 6)), jnp.int32)
    mask = jnp.ones_like(ids)

    def chunked(m):
        return models.token_logprobs(m, ids, mask, ids, chunk=16).sum()

    def naive(m):
        logp = jax.nn.log_softmax(m(ids), axis=-1)
        return jnp.take_along_axis(logp, ids[..., None], axis=-1).sum()

    g1, g2 = nnx.grad(chunked)(model), nnx.grad(naive)(model)
    for a, b in zip(jax.tree.leaves(g1), jax.tree.leaves(g2)):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), atol=1e-5)


def test_bf16_compute_gives_float32_logits_close_to_f32():
    cfg = ModelConfig.tiny()
    f32 = Transformer(cfg, rngs=nnx.Rngs(0))
    bf16 = Transformer(cfg.replace(param_dtype="bfloat16", dtype="bfloat16"), rngs=nnx.Rngs(0))
    assert bf16.layers[0].attn.q[...].dtype == jnp.bfloat16
    ids = jnp.asarray(RNG.randint(0, 128, (2, 8)), jnp.int32)
    lo, hi = bf16(ids), f32(ids)
    assert lo.dtype == jnp.float32
    assert float(jnp.abs(lo - hi).max()) < 0.05


def test_mixed_precision_shares_f32_params_and_gives_f32_grads_close_to_f32():
    f32 = Transformer(ModelConfig.tiny(), rngs=nnx.Rngs(0))
    mixed = models.with_compute_dtype(f32, "bfloat16")
    assert mixed.cfg.dtype == "bfloat16" and mixed.cfg.param_dtype == "float32"
    assert mixed.layers[0].mlp.up[...] is f32.layers[0].mlp.up[...]  # shared, not copied
    ids = jnp.asarray(RNG.randint(0, 128, (2, 8)), jnp.int32)

    def loss(model):
        return jnp.mean(jax.nn.logsumexp(model(ids), axis=-1))

    g32, gmix = nnx.grad(loss)(f32), nnx.grad(loss)(mixed)
    a, b = nnx.to_pure_dict(nnx.state(g32)), nnx.to_pure_dict(nnx.state(gmix))
    for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b)):
        assert y.dtype == jnp.float32
        np.testing.assert_allclose(y, x, atol=0.02 * float(jnp.abs(x).max()) + 1e-6)
    assert float(jnp.abs(loss(mixed) - loss(f32))) < 0.01


def test_with_dtype_casts_parameters_and_compute_and_keeps_the_function():
    f32 = Transformer(ModelConfig.tiny(), rngs=nnx.Rngs(0))
    bf16 = models.with_dtype(f32, "bfloat16")
    assert (bf16.cfg.param_dtype, bf16.cfg.dtype) == ("bfloat16", "bfloat16")
    leaves = jax.tree.leaves(nnx.state(bf16, nnx.Param))
    assert leaves and all(x.dtype == jnp.bfloat16 for x in leaves)
    for x, y in zip(jax.tree.leaves(nnx.state(f32, nnx.Param)), leaves):  # a rounding, nothing else
        np.testing.assert_array_equal(np.asarray(y), np.asarray(x.astype(jnp.bfloat16)))
    ids = jnp.asarray(RNG.randint(0, 128, (2, 8)), jnp.int32)
    lp32, lp16 = jax.nn.log_softmax(f32(ids)), jax.nn.log_softmax(bf16(ids).astype(jnp.float32))
    assert float(jnp.abs(lp16 - lp32).max()) < 0.1
    assert models.with_dtype(f32, "float32") is f32  # nothing to cast
    assert models.with_dtype(f32, "bfloat16", "float32").cfg.dtype == "float32"  # compute apart


def test_params_carry_logical_axes_and_map_to_a_mesh():
    from jax.sharding import AxisType, PartitionSpec as P

    model = Transformer(ModelConfig.tiny(), rngs=nnx.Rngs(0))
    axes = models.sharding.param_logical_axes(model)
    assert axes["embed"] == ("vocab", "embed")
    assert axes["layers"][0]["attn"]["k"] == ("embed", "kv_heads", "head_dim")
    assert axes["layers"][1]["mlp"]["down"] == ("mlp", "embed")
    mesh = jax.make_mesh((1, 1), ("fsdp", "tensor"), axis_types=(AxisType.Auto,) * 2)
    shardings = models.param_shardings(model, mesh)
    assert shardings["embed"].spec == P("tensor", "fsdp")
    assert shardings["layers"][0]["attn"]["q"].spec == P("fsdp", "tensor", None)
    assert models.logical_to_mesh_spec(("batch", "embed")) == P(("data", "fsdp"), None)
    with pytest.raises(KeyError, match="no sharding rule"):
        models.logical_to_mesh_spec(("nonsense",))
    models.shard_model(model, mesh)
    assert model(jnp.ones((1, 4), jnp.int32)).shape == (1, 4, 128)


def test_rope_table_gather_equals_computed_rope():
    """Positions bounded at trace time take cos/sin from a NumPy table; the same values as
    computing them in the graph (the path for caller-given positions without a bound)."""
    from mighty.models.layers import rope_tables

    cfg = ModelConfig.tiny()
    positions = jnp.asarray([[0, 0, 1, 2, 3], [4, 5, 6, 7, 8]], jnp.int32)
    table = rope_tables(positions, cfg, jnp.float32, bound=9)
    computed = rope_tables(positions, cfg, jnp.float32)
    assert table[0].shape == (2, 5, 1, cfg.head_dim // 2)
    for a, b in zip(table, computed):
        np.testing.assert_allclose(a, b, atol=1e-6)
