"""The packaged SmolLM2-135M-Instruct GGUF teacher against transformers' own GGUF loader."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest
import torch

from mighty import models

PROMPTS = ["My Bluetooth headphones won't pair with my phone. What should I try?",
           "Why does my soundbar have no sound over HDMI ARC?",
           "Hi"]

pytestmark = pytest.mark.slow


def test_teacher_config_and_tokenizer(smollm):
    model, tok = smollm
    cfg = model.cfg
    assert (cfg.num_layers, cfg.hidden_size, cfg.num_heads, cfg.num_kv_heads, cfg.vocab_size) == (30, 576, 9, 3, 49152)
    assert cfg.tie_embeddings and (tok.bos_id, tok.eos_id, tok.pad_id) == (1, 2, 2)
    ids = tok.chat([{"role": "user", "content": "hi"}])
    text = tok.decode(ids, skip_special_tokens=False)
    assert text.startswith("<|im_start|>system\n") and text.endswith("<|im_start|>assistant\n")
    assert ids == tok.hf.apply_chat_template([{"role": "user", "content": "hi"}], add_generation_prompt=True,
                                             tokenize=True, return_dict=False)
    assert tok.decode(tok.encode("Reset the speaker.")) == "Reset the speaker."
    batch, mask = tok.batch([tok.encode(p) for p in PROMPTS])
    assert batch.shape == (3, 16) and mask.sum() == sum(len(tok.encode(p)) for p in PROMPTS)
    assert (batch[mask == 0] == tok.pad_id).all() and mask[:, -1].all()


def test_teacher_logits_match_transformers_gguf(smollm, smollm_hf):
    model, tok = smollm
    ids = tok.chat([{"role": "user", "content": PROMPTS[0]}])
    ours = np.asarray(model(jnp.asarray([ids], jnp.int32)))[0]
    with torch.no_grad():
        ref = smollm_hf(torch.tensor([ids])).logits[0].numpy()
    np.testing.assert_array_equal(ours.argmax(-1), ref.argmax(-1))
    # Both dequantise the same Q4_1/Q8_0 blocks; we measured 9.2e-5 max abs on logits of size ~20.
    np.testing.assert_allclose(ours, ref, atol=5e-4, rtol=0)


def test_teacher_greedy_matches_transformers_generate_batched(smollm, smollm_hf):
    model, tok = smollm
    seqs = [tok.chat([{"role": "user", "content": p}]) for p in PROMPTS]
    ids, mask = tok.batch(seqs)
    out = models.generate(model, ids, mask, jax.random.key(0), max_new_tokens=32, temperature=0.0,
                          eos_id=tok.eos_id, pad_id=tok.pad_id)
    with torch.no_grad():
        ref = smollm_hf.generate(torch.tensor(ids, dtype=torch.long), attention_mask=torch.tensor(mask, dtype=torch.long),
                                 max_new_tokens=32, do_sample=False, eos_token_id=tok.eos_id,
                                 pad_token_id=tok.pad_id)[:, ids.shape[1]:].numpy()
    got = np.asarray(out.tokens)
    for row in range(len(PROMPTS)):
        n = int(out.lengths[row])
        np.testing.assert_array_equal(got[row, :n], ref[row, :n], err_msg=tok.decode(got[row]))
    assert int(out.lengths.max()) > 8
