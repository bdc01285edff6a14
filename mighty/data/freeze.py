"""`python -m mighty.data.freeze [--eval-dir DIR] [--check]`: (re)write or check the eval manifest."""
from __future__ import annotations

import argparse
import sys

from mighty.data.frozen import FrozenDataError, read_manifest, verify_manifest, write_freeze_manifest
from mighty.data.paths import EVAL_DIR


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m mighty.data.freeze", description=__doc__)
    ap.add_argument("--eval-dir", default=str(EVAL_DIR))
    ap.add_argument("--check", action="store_true", help="verify only; exit 1 on mismatch")
    args = ap.parse_args(argv)
    if args.check:
        try:
            n = len(verify_manifest(args.eval_dir))
        except FrozenDataError as e:
            print(e, file=sys.stderr)
            return 1
        print(f"ok: {n} eval files match {args.eval_dir}/manifest.json")
        return 0
    path = write_freeze_manifest(args.eval_dir)
    for name, digest in read_manifest(args.eval_dir).items():
        print(f"{digest[:12]}  {name}")
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
