"""One module per device type: nouns, model families, default unsafe phrases and escalation, and
the ISSUES table in the notation described in ``data/corpus/dsl.py``."""
