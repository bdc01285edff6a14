"""What the terminal shows: progress bars and our own one-line-per-stage summaries.

Library chatter (orbax, absl, jax, httpx INFO lines: ~160 of them in one `make demo`) still
goes to the run's log file; on the console only warnings (but known timing notes) and errors
pass, unless the run is verbose (`MIGHTY_VERBOSE=1`, or Hydra's `hydra.verbose=true`, which
lowers the root level).
"""
from __future__ import annotations

import logging
import os

# loggers whose INFO lines are the run's story (stage start/finish, final numbers)
STORY_LOGGERS = ("pipeline", "__main__")
# Library warnings that are timing notes, not problems, kept off the console (still in the log
# file): orbax warns when a checkpoint waits > 1 s for the previous async save, which on 2 CPU
# cores happens at almost every save of a KD or GRPO run and breaks the progress bar's line.
TIMING_NOTES = ("Waiting for previous save to complete took",)


def verbose() -> bool:
    return os.environ.get("MIGHTY_VERBOSE", "") not in ("", "0") or logging.getLogger().level <= logging.DEBUG


class ConsoleFilter(logging.Filter):
    """Passes warnings (but `TIMING_NOTES`), errors and the story loggers' INFO; everything when verbose."""

    def filter(self, record: logging.LogRecord) -> bool:
        if verbose():
            return True
        if record.levelno >= logging.WARNING:
            return record.levelno > logging.WARNING or not str(record.msg).startswith(TIMING_NOTES)
        return record.name.split(".")[0] in STORY_LOGGERS
