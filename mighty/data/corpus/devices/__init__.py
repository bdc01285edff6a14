"""One module per device type: nouns, model families, default unsafe phrases and escalation, and
the ISSUES table in the notation described in ``mighty/data/corpus/dsl.py``."""
