"""What the terminal shows: progress bars and our own one-line-per-stage summaries.

Library chatter (orbax, absl, jax, httpx INFO lines: ~160 of them in one `make demo`) still
goes to the run's log file; on the console only warnings and errors pass, unless the run is
verbose (`MIGHTY_VERBOSE=1`, or Hydra's `hydra.verbose=true`, which lowers the root level).
"""
from __future__ import annotations

import logging
import os

# loggers whose INFO lines are the run's story (stage start/finish, final numbers)
STORY_LOGGERS = ("pipeline", "__main__")


def verbose() -> bool:
    return os.environ.get("MIGHTY_VERBOSE", "") not in ("", "0") or logging.getLogger().level <= logging.DEBUG


class ConsoleFilter(logging.Filter):
    """Passes warnings, errors and the story loggers' INFO; everything when verbose."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= logging.WARNING or verbose():
            return True
        return record.name.split(".")[0] in STORY_LOGGERS
