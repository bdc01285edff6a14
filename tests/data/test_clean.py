import pytest

from mighty.data.clean import clean_records, clean_text, fix_mojibake, strip_signature


def test_strips_planted_url_signature_and_chatter():
    raw = ("Hi all! My speaker won't pair.  Any help?\nTried a reset, see https://ex.com/a?b=1 "
           "or mail me at bob@ex.com\nThanks,\nBob\n--\nSent from my iPhone")
    out, kinds = clean_text(raw)
    assert out == "Hi all! My speaker won't pair.\nTried a reset, or mail me at"
    assert kinds == ["chatter", "email", "signature", "url", "whitespace"]


@pytest.mark.parametrize("sig", ["Sent from my tablet", "-- sent from my phone", "-- \nMarta | tinkerer",
                                 "/ Tom (forum moderator, volunteer)", 'Regards, K. | "It worked"',
                                 "Cheers, Dave | My rig: 5800X, 32 GB"])
def test_forum_signatures_and_what_follows_them(sig):
    body = "1. Hold the power button.\n2. Pair again.\nGood luck!"
    out, kinds = clean_text(f"{body}\n\n{sig} Unrelated but the baking show is great.\nMore at http://x.example.com/a")
    assert out == body and "signature" in kinds


def test_off_topic_asides_go_but_on_topic_ones_stay():
    text = ("My soundbar hums. btw my cat just knocked my coffee over. PS: the subwoofer hums too. "
            "Also, does anyone know a good pizza place near the station? lol")
    out, kinds = clean_text(text)
    assert out == "My soundbar hums. PS: the subwoofer hums too." and kinds == ["chatter"]


def test_fixes_mojibake_and_normalises_unicode():
    out, kinds = clean_text("The caseâ€™s LED blinks\u200b ｒｅｄ  after ﬁve seconds")
    assert out == "The case's LED blinks red after five seconds"
    assert {"mojibake", "unicode", "whitespace"} <= set(kinds)
    assert fix_mojibake("Ã©couteurs") == "écouteurs"


def test_leaves_clean_text_alone():
    text = "1. Hold the power button for 10 seconds.\n2. Best results come after a full charge."
    assert clean_text(text) == (text, [])


def test_sign_off_mid_text_is_kept():
    text = "Thanks for the tip.\nThe speaker pairs now but drops after a minute."
    assert strip_signature(text) == (text, False)


def test_clean_records_reports_and_keeps_inputs():
    recs = [{"id": "a", "text": "https://x.io/only-a-link"}, {"id": "b", "text": "No sound. lol\nhttp://x.io"},
            {"id": "c", "text": "lol"}]
    out, rep = clean_records(recs, ["text"], id_field="id")
    assert [r["id"] for r in out] == ["b", "c"] and out[0]["text"] == "No sound."
    assert out[1]["text"] == "lol"  # chatter removal never empties a text
    assert rep.n_emptied == 1 and rep.changes["url"] == 2 and rep.changes["chatter"] == 1
    assert recs[1]["text"] == "No sound. lol\nhttp://x.io"  # inputs untouched
