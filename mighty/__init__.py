"""Mighty (Small-but-Mighty): distil a teacher LLM into a small student, then align it with GRPO.

One installable package: `mighty.models`, `mighty.data`, `mighty.distill`, `mighty.rl`, … and the
Hydra configs in `mighty/conf` (shipped with the wheel, so `pip install` users get them too).
"""
