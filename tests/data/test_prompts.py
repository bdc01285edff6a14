import pytest

from data.prompts import SYSTEM, format_prompt


def test_student_prompt_has_no_kb(tiny_corpus):
    msgs = format_prompt("  My speaker won't pair  ")
    assert msgs == [{"role": "system", "content": SYSTEM}, {"role": "user", "content": "My speaker won't pair"}]
    assert "numbered steps" in SYSTEM and "contact" in SYSTEM and "only help with device" in SYSTEM



def test_grounded_prompt(tiny_corpus):
    from data.io import load_records

    kb = {e["issue_id"]: e for e in load_records(tiny_corpus / "kb.jsonl", "kb")[0]}
    sys_text = format_prompt("hot earbud", kb_entry=kb["earbuds.swelling"])[0]["content"]
    assert sys_text.startswith(SYSTEM)
    assert "1. Stop using the earbuds\n2. Unplug the charging case\n3. Contact support" in sys_text
    assert "Escalate to support when: still broken." in sys_text and "SAFETY" in sys_text
    plain = format_prompt("no sound", kb_entry=kb["speaker.no_sound"])[0]["content"]
    assert "SAFETY" not in plain and "open the battery" not in plain  # unsafe advice never primed
    assert format_prompt("q", system="S")[0]["content"] == "S"
    with pytest.raises(ValueError, match="non-empty"):
        format_prompt("   ")
