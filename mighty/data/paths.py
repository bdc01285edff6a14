"""Where the bundled corpus lives (importing this loads nothing else)."""
from pathlib import Path

CORPUS_DIR = Path(__file__).resolve().parent / "corpus"
EVAL_DIR = CORPUS_DIR / "eval"
KB_PATH = CORPUS_DIR / "kb.jsonl"
PROMPTS_PATH = CORPUS_DIR / "prompts.jsonl"
FORUM_PATH = CORPUS_DIR / "forum_raw.jsonl"
GENERAL_QA_PATH = CORPUS_DIR / "general_qa.jsonl"
EVAL_PATH = EVAL_DIR / "eval.jsonl"
HELDOUT_PATH = EVAL_DIR / "heldout_issues.json"
EVAL_MANIFEST_PATH = EVAL_DIR / "manifest.json"
