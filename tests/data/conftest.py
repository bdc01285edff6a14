"""A tiny planted corpus (written to tmp_path) for data-pipeline tests."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from mighty.data.frozen import write_freeze_manifest


def kb_entry(issue_id: str, device: str, symptom: str, title: str, steps: list[str],
             safety: bool = False) -> dict:
    return {"issue_id": issue_id, "device_type": device, "model_family": "Acme X", "symptom": symptom,
            "title": title, "causes": [f"cause of {symptom.replace('_', ' ')}"], "steps": steps,
            "required_keywords": [[s.split()[0].lower()] for s in steps], "escalation": ["still broken"],
            "safety": safety, "unsafe_phrases": ["open the battery"], "source_style": "guide"}


KB = [
    kb_entry("speaker.pairing", "bluetooth_speaker", "pairing_failure",
             "Bluetooth speaker will not pair with phone",
             ["Turn Bluetooth off and on", "Forget the speaker on the phone", "Hold the pairing button"]),
    kb_entry("speaker.no_sound", "bluetooth_speaker", "no_sound", "Speaker connected but no sound",
             ["Raise the volume on both devices", "Check the audio output", "Restart the speaker"]),
    kb_entry("earbuds.charging", "earbuds", "not_charging", "Earbuds not charging in the case",
             ["Clean the charging contacts", "Charge the case with a wall adapter", "Reseat the earbuds"]),
    kb_entry("headphones.anc", "headphones", "audio_quality", "Headphones noise cancelling hiss",
             ["Update the firmware", "Toggle noise cancelling off and on", "Reset the headphones"]),
    kb_entry("bulb.wifi", "smart_bulb", "wifi_setup", "Smart bulb cannot join wifi network",
             ["Use the 2.4 GHz network", "Reset the bulb by switching it five times", "Re-add it in the app"]),
    kb_entry("earbuds.swelling", "earbuds", "battery_swelling", "Earbud battery swollen or hot",
             ["Stop using the earbuds", "Unplug the charging case", "Contact support"], safety=True),
]

PROMPTS = [
    ("p1", "speaker.pairing", "formal", "My Bluetooth speaker will not pair with my phone."),
    ("p2", "speaker.pairing", "casual", "speaker wont pair w/ my phone any ideas"),
    ("p3", "speaker.no_sound", "formal", "The speaker is connected but there is no sound at all."),
    ("p4", "speaker.no_sound", "voice", "hey my speaker connects but I can't hear anything"),
    ("p5", "earbuds.charging", "formal", "My earbuds are not charging when I put them in the case."),
    ("p6", "earbuds.charging", "misspelt", "earbuds not chargin in teh case"),
    ("p7", "headphones.anc", "formal", "My headphones make a hissing noise with noise cancelling on."),
    ("p8", "bulb.wifi", "formal", "The smart bulb cannot join my wifi network during setup."),
    ("p9", "bulb.wifi", "casual", "bulb won't connect to wifi in the app"),
    ("p10", "earbuds.swelling", "formal", "One of my earbuds looks swollen and gets hot."),
    # planted exact and near duplicates of p1 / p5
    ("p11", "speaker.pairing", "formal", "My bluetooth speaker will NOT pair with my phone!"),
    ("p12", "earbuds.charging", "formal", "My earbuds are not charging when I put them in the charging case."),
]

EVAL = [
    {"case_id": "e1", "bucket": "in_scope", "question": "Why does my smart bulb fail to connect to wifi?",
     "issue_id": "bulb.wifi", "expected": "answer", "device_type": "smart_bulb"},
    {"case_id": "e2", "bucket": "in_scope",
     "question": "The speaker is connected but there is no sound at all, what do I do?",
     "issue_id": "speaker.no_sound", "expected": "answer", "device_type": "bluetooth_speaker"},
    {"case_id": "e3", "bucket": "out_of_scope", "question": "What is the capital of France?",
     "issue_id": None, "expected": "decline", "device_type": None},
]

ANSWER = "1. Turn Bluetooth off and on.\n2. Forget the speaker.\n3. Hold the pairing button."
FORUM = [
    {"post_id": "f1", "issue_id": "speaker.pairing", "noise": ["signature", "url"], "answer": ANSWER,
     "question": "My speaker won't pair with my phone. Tried everything at https://help.example.com/pair\n-- sent from my phone"},
    {"post_id": "f2", "issue_id": "earbuds.charging", "noise": ["mojibake"], "answer": "Clean the contacts.",
     "question": "The earbudsâ€™ case doesnâ€™t charge anymore."},
    {"post_id": "f3", "issue_id": None, "noise": ["off_topic"], "answer": "Use 2.4 GHz.",
     "question": "Bulb won't join the wifi. btw my cat just knocked my coffee over.\nbump"},
    {"post_id": "f4", "issue_id": "speaker.pairing", "noise": ["near_duplicate"], "duplicate_of": "f1", "answer": ANSWER,
     "question": "Reposting: my speaker won't pair with my phone!! Tried everything at https://help.example.com/pair\nSent from my tablet"},
    {"post_id": "f5", "issue_id": "headphones.anc", "noise": [], "answer": "Update the firmware.",
     "question": "Headphones hiss when noise cancelling is on."},
]


def write_jsonl(path: Path, rows: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")


def prompt_rows() -> list[dict]:
    by_id = {e["issue_id"]: e for e in KB}
    return [{"prompt_id": pid, "issue_id": iid, "device_type": by_id[iid]["device_type"],
             "symptom": by_id[iid]["symptom"], "style": style, "question": q}
            for pid, iid, style, q in PROMPTS]


@pytest.fixture
def tiny_corpus(tmp_path: Path) -> Path:
    root = tmp_path / "corpus"
    write_jsonl(root / "kb.jsonl", KB)
    write_jsonl(root / "prompts.jsonl", prompt_rows())
    write_jsonl(root / "forum_raw.jsonl", FORUM)
    write_jsonl(root / "eval" / "eval.jsonl", EVAL)
    (root / "eval" / "heldout_issues.json").write_text(json.dumps(["headphones.anc"]))
    write_freeze_manifest(root / "eval")
    return root


# --- a word-level ChatML tokenizer built from given texts (labeling tests) ---

CHATML = ("{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n"
          "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")
SPECIALS = ["<pad>", "<|im_start|>", "<|im_end|>", "[UNK]"]


def build_tokenizer(texts: list[str], out_dir: Path):
    from tokenizers import Tokenizer as HFTokenizer
    from tokenizers import decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    from mighty.models import Tokenizer

    words = sorted({w for t in texts for w in re.findall(r"\w+|[^\w\s]", t)})
    tokens = list(dict.fromkeys(SPECIALS + ["system", "user", "assistant"] + words))  # unique, ordered
    vocab = {tok: i for i, tok in enumerate(tokens)}
    hf = HFTokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    hf.pre_tokenizer = pre_tokenizers.Whitespace()
    hf.decoder = decoders.WordPiece()
    fast = PreTrainedTokenizerFast(tokenizer_object=hf, bos_token="<|im_start|>", eos_token="<|im_end|>",
                                   pad_token="<pad>", unk_token="[UNK]")
    fast.add_special_tokens({"additional_special_tokens": SPECIALS[1:3]})
    fast.chat_template = CHATML
    tok = Tokenizer(fast)
    tok.save(out_dir)
    return Tokenizer.from_pretrained(out_dir)


@pytest.fixture(scope="session")
def tiny_tokenizer_dir(tmp_path_factory) -> Path:
    tmp_path = tmp_path_factory.mktemp("tokenizer")
    from mighty.data.prompts import NO_MATCH, format_prompt

    texts = [m["content"] for p in prompt_rows()
             for m in format_prompt(p["question"], entries=[{e["issue_id"]: e for e in KB}[p["issue_id"]]])]
    texts.append(NO_MATCH)
    build_tokenizer(texts, tmp_path / "tok")
    return tmp_path / "tok"


@pytest.fixture(scope="session")
def tiny_teacher_dir(tiny_tokenizer_dir, tmp_path_factory) -> Path:
    """A random 2-layer teacher over the tiny tokenizer, saved as a checkpoint (with that
    tokenizer) that `models.load_pretrained` reads like any other: what labeling tests run."""
    from flax import nnx

    from mighty.models import ModelConfig, Tokenizer, Transformer, save_checkpoint

    tok = Tokenizer.from_pretrained(str(tiny_tokenizer_dir))
    cfg = ModelConfig.tiny(vocab_size=tok.vocab_size, eos_id=tok.eos_id, pad_id=tok.pad_id,
                           bos_id=tok.bos_id or 0, max_position_embeddings=4096)
    out = tmp_path_factory.mktemp("teacher") / "model"
    save_checkpoint(Transformer(cfg, rngs=nnx.Rngs(0)), out, tokenizer=tok)
    return out
