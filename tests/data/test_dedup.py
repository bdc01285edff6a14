import pytest

from mighty.data.dedup import dedup, shingles

BASE = "my bluetooth speaker keeps disconnecting from my laptop every few minutes when music plays"
RECS = [
    {"id": "a", "t": BASE},
    {"id": "b", "t": BASE.upper() + "!!"},  # exact after normalisation
    {"id": "c", "t": BASE.replace("every few minutes", "every few mins")},  # near dup
    {"id": "d", "t": "the smart bulb flickers when dimmed below twenty percent brightness"},
    {"id": "e", "t": "my bluetooth speaker will not turn on even after charging it overnight"},
    {"id": "f", "t": "the smart bulb flickers when it is dimmed below twenty percent brightness"},
]


def test_catches_planted_dups_and_keeps_distinct():
    res = dedup(RECS, text=lambda r: r["t"], id_field="id", threshold=0.6, ngram=2)
    assert [r["id"] for r in res.kept] == ["a", "d", "e"]
    assert res.n_exact == 1 and res.n_near == 2
    assert res.clusters == {"a": ["b", "c"], "d": ["f"]}


def test_threshold_one_keeps_near_dups():
    res = dedup(RECS, text=lambda r: r["t"], id_field="id", threshold=1.0, ngram=2)
    assert [r["id"] for r in res.kept] == ["a", "c", "d", "e", "f"]


def test_deterministic_and_order_defines_representative():
    r1 = dedup(RECS[::-1], text=lambda r: r["t"], id_field="id", threshold=0.6, ngram=2)
    r2 = dedup(RECS[::-1], text=lambda r: r["t"], id_field="id", threshold=0.6, ngram=2)
    assert r1.clusters == r2.clusters and r1.kept[0]["id"] == "f"


def test_short_text_shingles_and_bad_threshold():
    assert shingles("no sound", 3) == {"no sound"}
    with pytest.raises(ValueError, match="threshold"):
        dedup(RECS, text=lambda r: r["t"], id_field="id", threshold=0)
