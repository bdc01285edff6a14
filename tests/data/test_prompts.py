import pytest

from mighty.data.prompts import GROUNDED_SYSTEM, NO_MATCH, SYSTEM, format_prompt


def test_closed_book_prompt_has_no_kb(tiny_corpus):
    msgs = format_prompt("  My speaker won't pair  ")
    assert msgs == [{"role": "system", "content": SYSTEM}, {"role": "user", "content": "My speaker won't pair"}]
    assert "numbered steps" in SYSTEM and "contact" in SYSTEM and "only help with device" in SYSTEM


def test_grounded_prompt(tiny_corpus):
    from mighty.data.io import load_records

    kb = {e["issue_id"]: e for e in load_records(tiny_corpus / "kb.jsonl", "kb")[0]}
    system, user = format_prompt("hot earbud", entries=[kb["earbuds.swelling"]])
    assert system == {"role": "system", "content": GROUNDED_SYSTEM}
    text = user["content"]
    assert text.startswith("hot earbud\n\n")  # the question first, then the reference
    assert "1. Stop using the earbuds\n2. Unplug the charging case\n3. Contact support" in text
    assert "Contact support if: still broken." in text and "safety issue" in text
    plain = format_prompt("no sound", entries=[kb["speaker.no_sound"]])[1]["content"]
    assert "safety" not in plain and "open the battery" not in plain  # unsafe advice never primed
    two = format_prompt("no sound", entries=[kb["speaker.no_sound"], kb["earbuds.swelling"]])[1]["content"]
    assert two.index("Article 1 (") < two.index("Article 2 (") and "Stop using the earbuds" in two
    assert format_prompt("what is tax", entries=[])[1]["content"] == f"what is tax\n\n{NO_MATCH}"
    assert format_prompt("q", system="S")[0]["content"] == "S"
    with pytest.raises(ValueError, match="non-empty"):
        format_prompt("   ")
