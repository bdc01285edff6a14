"""Shared fixtures: tiny random HF reference models saved to disk, and the packaged teacher."""
import numpy as np
import pytest
import torch

TINY_VOCAB = 97


def make_hf_model(kind: str, *, seed: int = 0, tie: bool = False, **overrides):
    """A float32 random LlamaForCausalLM / Qwen2ForCausalLM with GQA and untied embeddings.

    Weights (norms and qkv biases included) are redrawn with a large std so logits are
    peaked: greedy decoding then has no near-ties that float noise could flip.
    """
    from transformers import LlamaConfig, LlamaForCausalLM, Qwen2Config, Qwen2ForCausalLM

    kw = dict(vocab_size=TINY_VOCAB, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
              num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=256,
              tie_word_embeddings=tie, rms_norm_eps=1e-6, bos_token_id=1, eos_token_id=2,
              pad_token_id=0)
    kw.update(overrides)
    torch.manual_seed(seed)
    if kind == "llama":
        model = LlamaForCausalLM(LlamaConfig(**kw))
    elif kind == "qwen2":
        model = Qwen2ForCausalLM(Qwen2Config(**kw))
    else:
        raise ValueError(kind)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "norm" in name:
                p.copy_(1.0 + 0.3 * torch.randn_like(p))
            else:
                p.copy_(0.3 * torch.randn_like(p))
    return model.eval()


@pytest.fixture(scope="session")
def hf_tiny(tmp_path_factory):
    """kind -> (torch model, checkpoint dir)."""
    out = {}
    for kind in ("llama", "qwen2"):
        model = make_hf_model(kind, seed={"llama": 0, "qwen2": 1}[kind])
        d = tmp_path_factory.mktemp(f"hf_{kind}")
        model.save_pretrained(d)
        out[kind] = (model, d)
    return out


def hf_logits(model, ids, mask=None) -> np.ndarray:
    with torch.no_grad():
        kw = {} if mask is None else {"attention_mask": torch.tensor(np.asarray(mask), dtype=torch.long)}
        return model(torch.tensor(np.asarray(ids), dtype=torch.long), **kw).logits.float().numpy()


@pytest.fixture(scope="session")
def smollm():
    """(our model, tokenizer) for the packaged teacher (cached dequantisation after first use)."""
    from mighty import models

    return models.load_pretrained("smollm2-135m-instruct")


@pytest.fixture(scope="session")
def smollm_hf():
    """transformers' own GGUF loader: the independent reference for the teacher."""
    from transformers import AutoModelForCausalLM

    from mighty import models

    path = models.packaged_model_path("smollm2-135m-instruct")
    return AutoModelForCausalLM.from_pretrained(path.parent, gguf_file=path.name, dtype=torch.float32).eval()
