"""Build the corpus files from the device modules: ``python -m mighty.data.corpus.generate``.

Writes kb.jsonl, prompts.jsonl, forum_raw.jsonl, general_qa.jsonl, eval/eval.jsonl,
eval/heldout_issues.json and eval/manifest.json (sha256 of the eval files), and refreshes the
counts block in README.md. Deterministic: the same SEED gives byte-identical files.
``--check`` regenerates in memory and fails if the files on disk differ.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
from collections import Counter
from pathlib import Path

from . import CORPUS_DIR, iter_jsonl_lines, load_issues
from .evalset import build_eval, select_heldout
from .forum import build_forum
from .general_qa import general_qa_records
from .kb import kb_record
from .prompts import build_prompts
from .scope import scope_prompts
from .schema import check_eval, check_kb, check_prompt

SEED = 20240611


def _jsonl(records) -> bytes:
    return "".join(iter_jsonl_lines(records)).encode("utf-8")


def build(seed: int = SEED) -> dict[str, bytes]:
    """Relative path -> file bytes for every generated file."""
    issues = load_issues()
    kb = [kb_record(i) for i in issues]
    ids = [r["issue_id"] for r in kb]
    dupes = sorted(k for k, v in Counter(ids).items() if v > 1)
    if dupes:
        raise ValueError(f"duplicate issue ids (same device, symptom and family twice): {dupes}")
    heldout = select_heldout(issues, seed)
    prompts = build_prompts(issues, set(heldout), seed) + scope_prompts()
    forum = build_forum(issues, set(heldout), seed)
    evals = build_eval(issues, heldout, seed)
    for rec in kb:
        check_kb(rec)
    for rec in prompts:
        check_prompt(rec)
    for rec in evals:
        check_eval(rec)
    files = {
        "kb.jsonl": _jsonl(kb),
        "prompts.jsonl": _jsonl(prompts),
        "forum_raw.jsonl": _jsonl(forum),
        "general_qa.jsonl": _jsonl(general_qa_records()),
        "eval/eval.jsonl": _jsonl(evals),
        "eval/heldout_issues.json": (json.dumps(heldout, indent=1) + "\n").encode(),
    }
    manifest = {name: hashlib.sha256(files[name]).hexdigest() for name in ("eval/eval.jsonl", "eval/heldout_issues.json")}
    files["eval/manifest.json"] = (json.dumps({"seed": seed, "sha256": manifest}, indent=1) + "\n").encode()
    return files


def counts_markdown(files: dict[str, bytes]) -> str:
    def rows(name):
        return [json.loads(l) for l in files[name].decode().splitlines() if l.strip()]
    kb, prompts, evals, forum = rows("kb.jsonl"), rows("prompts.jsonl"), rows("eval/eval.jsonl"), rows("forum_raw.jsonl")
    heldout = set(json.loads(files["eval/heldout_issues.json"]))
    by_dev = Counter(r["device_type"] for r in kb)
    safety = Counter(r["device_type"] for r in kb if r["safety"])
    held = Counter(r["device_type"] for r in kb if r["issue_id"] in heldout)
    pr = Counter(r["device_type"] for r in prompts)
    lines = [f"- {len(kb)} issues over {len(by_dev)} device types ({sum(safety.values())} safety issues, "
             f"{len(heldout)} held out for eval); {len(prompts)} training prompts; {len(forum)} forum posts; "
             f"{len(evals)} eval cases.", "",
             "| device type | issues | safety | held out | training prompts |", "|---|---:|---:|---:|---:|"]
    lines += [f"| {d} | {n} | {safety[d]} | {held[d]} | {pr[d]} |" for d, n in by_dev.items()]
    lines += ["", "| source style | issues |", "|---|---:|"]
    lines += [f"| {s} | {n} |" for s, n in sorted(Counter(r["source_style"] for r in kb).items())]
    lines += ["", "| prompt style | prompts |", "|---|---:|"]
    lines += [f"| {s} | {n} |" for s, n in sorted(Counter(r["style"] for r in prompts).items())]
    lines += ["", "| eval bucket | expected | cases |", "|---|---|---:|"]
    lines += [f"| {b} | {e} | {n} |" for (b, e), n in sorted(Counter((r["bucket"], r["expected"]) for r in evals).items())]
    noise = Counter(k for r in forum for k in r["noise"])
    lines += ["", "| forum noise kind | posts |", "|---|---:|"]
    lines += [f"| {k} | {n} |" for k, n in sorted(noise.items())]
    lines += ["", f"Forum posts with no planted noise: {sum(1 for r in forum if not r['noise'])}."]
    return "\n".join(lines)


_BLOCK = re.compile(r"(<!-- counts:start -->\n).*?(<!-- counts:end -->)", re.S)


def refresh_readme(readme: Path, files: dict[str, bytes]) -> None:
    text = readme.read_text(encoding="utf-8")
    if not _BLOCK.search(text):
        raise ValueError(f"{readme}: no '<!-- counts:start -->' ... '<!-- counts:end -->' block to fill")
    readme.write_text(_BLOCK.sub(lambda m: m.group(1) + counts_markdown(files) + "\n" + m.group(2), text), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, default=CORPUS_DIR, help="output directory (default: data/corpus)")
    ap.add_argument("--seed", type=int, default=SEED)
    ap.add_argument("--check", action="store_true", help="fail if files on disk differ from a fresh build")
    args = ap.parse_args(argv)
    files = build(args.seed)
    if args.check:
        stale = [n for n, b in files.items() if not (args.out / n).is_file() or (args.out / n).read_bytes() != b]
        if stale:
            print(f"stale corpus files in {args.out}: {stale}; run `python -m mighty.data.corpus.generate`", file=sys.stderr)
            return 1
        print(f"{len(files)} corpus files up to date")
        return 0
    for name, data in files.items():
        path = args.out / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    readme = args.out / "README.md"
    if readme.is_file():
        refresh_readme(readme, files)
    print(counts_markdown(files).split("\n")[0])
    return 0


if __name__ == "__main__":
    sys.exit(main())
