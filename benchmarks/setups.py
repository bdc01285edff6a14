"""Model, tokenizer and prompts shared by every side of a benchmark, so the work is identical.

Config A (issue 8): a tiny Llama (vocab 2048, hidden 256, 4 layers, 4 heads, FFN 688), random
init, a word-level tokenizer `t0 … t2047` whose EOS (id 2048) lies outside the model's
vocabulary, so every completion is exactly `max_new_tokens` long; 32-token prompts.
Config B: the default student (SmolLM2-135M-Instruct pruned to 6 of its 30 blocks, as
`mighty/conf/student/pruned_smollm2.yaml` builds it) with the SmolLM2 tokenizer and ChatML prompts
from the troubleshooting corpus; completions stop at EOS.

Each side loads the same weights: the policy is written once as a Hugging Face checkpoint
(`save_hf`) that TRL and tunix read and that `models.load_pretrained` reads for our side.
"""
from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import numpy as np

CONFIG_A = dict(vocab_size=2048, hidden_size=256, intermediate_size=688, num_hidden_layers=4,
                num_attention_heads=4, num_key_value_heads=4, head_dim=64,
                max_position_embeddings=512, rms_norm_eps=1e-6, rope_theta=10000.0,
                tie_word_embeddings=False, bos_token_id=0, eos_token_id=1, pad_token_id=0)


@dataclasses.dataclass
class Setup:
    """What every side needs: a checkpoint dir (HF layout), prompts as text and ids, lengths."""

    name: str
    model_dir: str
    prompts: list[str]  # the text each side tokenises (already chat-formatted for config B)
    prompt_ids: list[list[int]]
    max_new_tokens: int
    eos_id: int
    pad_id: int
    stop_at_eos: bool
    shape: dict  # hidden, layers, heads, kv_heads, head_dim, ffn, vocab (for FLOP counts)


def word_tokenizer(vocab: int = 2048):
    """A fast HF tokenizer with one word per id (`t{i}`); the specials sit past the model's
    vocabulary (`</s>` = `vocab`, `<pad>`, `<unk>`) so no special string is a prefix of a word
    and the model never emits EOS. Prompts are all the same length, so nothing is padded."""
    from tokenizers import Tokenizer, models, pre_tokenizers, decoders
    from transformers import PreTrainedTokenizerFast

    words = {f"t{i}": i for i in range(vocab)}
    words.update({"</s>": vocab, "<pad>": vocab + 1, "<unk>": vocab + 2})
    tok = Tokenizer(models.WordLevel(words, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tok.decoder = decoders.WordPiece(prefix="##", cleanup=False)  # joins words with spaces
    return PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="</s>", pad_token="<pad>",
                                   unk_token="<unk>")


def config_a(workdir: str | os.PathLike, *, prompts: int = 8, prompt_len: int = 32,
             max_new_tokens: int = 64, seed: int = 0, shape: dict | None = None) -> Setup:
    """Random-init tiny Llama written to `workdir/config_a` (re-used when already there)."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    hf = dict(CONFIG_A, **(shape or {}))
    vocab = hf["vocab_size"]
    out = Path(workdir) / ("config_a" if not shape else "config_a_" + "_".join(f"{v}" for v in shape.values()))
    tok = word_tokenizer(vocab)
    if not (out / "config.json").exists():
        torch.manual_seed(seed)
        model = LlamaForCausalLM(LlamaConfig(**hf)).float()
        # generation stops only at the tokenizer's EOS (id `vocab`), which the model never emits;
        # config.json keeps an in-vocabulary id so every loader accepts the checkpoint
        model.generation_config.eos_token_id = vocab
        model.save_pretrained(out)
        tok.save_pretrained(out)
    rng = np.random.default_rng(seed)
    ids = [rng.integers(3, vocab, size=prompt_len).tolist() for _ in range(prompts)]
    texts = [" ".join(f"t{i}" for i in row) for row in ids]
    return Setup("A", str(out), texts, ids, max_new_tokens, eos_id=vocab, pad_id=0,
                 stop_at_eos=False, shape=flop_shape(hf))


def config_b(workdir: str | os.PathLike, *, prompts: int = 8, max_new_tokens: int = 128,
             num_layers: int = 6) -> Setup:
    """The default student (pruned SmolLM2), exported once to `workdir/config_b`."""
    from mighty.data import format_prompt, load_prompts
    from mighty.models import ModelConfig, load_pretrained
    from mighty.models.checkpoint import export_hf

    out = Path(workdir) / "config_b"
    if not (out / "config.json").exists():
        from mighty.distill.student import choose_layers, prune_layers

        teacher, tok = load_pretrained("smollm2-135m-instruct")
        keep = choose_layers(teacher.cfg.num_layers, num_layers=num_layers, strategy="even")
        export_hf(prune_layers(teacher, keep), tok, out)
    tok = _tokenizer(out)
    records = load_prompts("all")[:prompts]
    texts = [tok.chat_text(format_prompt(r["question"])) for r in records]
    ids = [tok.encode(t) for t in texts]
    import json

    # through ModelConfig, which fills what the file leaves to defaults (e.g. head_dim)
    shape = flop_shape(ModelConfig.from_hf_dict(json.loads((out / "config.json").read_text())).to_hf_dict())
    return Setup("B", str(out), texts, ids, max_new_tokens, eos_id=tok.eos_id, pad_id=tok.pad_id,
                 stop_at_eos=True, shape=shape)


def _tokenizer(path):
    from mighty.models import Tokenizer

    return Tokenizer.from_pretrained(path)


def flop_shape(hf: dict) -> dict:
    """The keyword arguments of the `common.llama_*_flops` counters for an HF config dict."""
    return dict(hidden=hf["hidden_size"], layers=hf["num_hidden_layers"],
                heads=hf["num_attention_heads"], kv_heads=hf["num_key_value_heads"],
                head_dim=hf["head_dim"], ffn=hf["intermediate_size"], vocab=hf["vocab_size"])


def even_token_reward(prompts, completions, **_):
    """The benchmark reward, identical on every side: share of completion words with an even
    id (`t{even}`) for config A, share of characters that are letters for config B."""
    out = []
    for c in completions:
        if isinstance(c, list):  # TRL conversational format
            c = c[-1]["content"] if c else ""
        words = c.split()
        if words and all(w[:1] == "t" and w[1:].isdigit() for w in words):
            out.append(float(np.mean([int(w[1:]) % 2 == 0 for w in words])))
        else:
            out.append(float(np.mean([ch.isalpha() for ch in c])) if c else 0.0)
    return out
