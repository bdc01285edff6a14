"""Where the bundled corpus lives."""
from pathlib import Path

CORPUS_DIR = Path(__file__).resolve().parent / "corpus"
EVAL_DIR = CORPUS_DIR / "eval"
KB_PATH = CORPUS_DIR / "kb.jsonl"
PROMPTS_PATH = CORPUS_DIR / "prompts.jsonl"
FORUM_PATH = CORPUS_DIR / "forum_raw.jsonl"
EVAL_PATH = EVAL_DIR / "eval.jsonl"
HELDOUT_PATH = EVAL_DIR / "heldout_issues.json"
