"""The console shows the run's story and warnings; library INFO chatter goes to the log file only."""
import logging

from mighty.runtime.console import ConsoleFilter


def _rec(name, level, msg="m"):
    return logging.LogRecord(name, level, __file__, 1, msg, None, None)


def test_console_filter(monkeypatch):
    monkeypatch.delenv("MIGHTY_VERBOSE", raising=False)
    f = ConsoleFilter()
    assert f.filter(_rec("pipeline", logging.INFO))
    assert not f.filter(_rec("absl", logging.INFO)) and not f.filter(_rec("orbax.checkpoint", logging.INFO))
    assert f.filter(_rec("absl", logging.WARNING)) and f.filter(_rec("jax", logging.ERROR))
    # orbax's note that a save waited for the previous one: a timing note, not a problem
    wait = "Waiting for previous save to complete took %f seconds. If this number is high, ..."
    assert not f.filter(_rec("absl", logging.WARNING, wait)) and f.filter(_rec("absl", logging.ERROR, wait))
    monkeypatch.setenv("MIGHTY_VERBOSE", "1")
    assert f.filter(_rec("absl", logging.INFO)) and f.filter(_rec("absl", logging.WARNING, wait))
