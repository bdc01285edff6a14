from mighty.data.tagging import DEVICE_LEXICON, SYMPTOM_LEXICON, compile_lexicon, tag, tag_records

LEX = {"device_type": DEVICE_LEXICON, "symptom_category": SYMPTOM_LEXICON}


def test_tags_device_and_symptom():
    dev, sym = compile_lexicon(DEVICE_LEXICON), compile_lexicon(SYMPTOM_LEXICON)
    assert tag("My PodPair Air 2 earbuds won't charge in the case", dev) == "true_wireless_earbuds"
    assert tag("the smart bulb flickers when dimmed", dev) == "smart_bulb"
    assert tag("the battery is swollen and smells of burning", sym) == "safety"
    assert tag("my headset mic is too quiet on calls", sym) == "microphone"
    assert tag("what is the capital of France", dev) is None


def test_fills_missing_and_reports_agreement():
    recs = [{"id": 1, "q": "earbuds will not pair", "device_type": "true_wireless_earbuds", "symptom": "wont_pair"},
            {"id": 2, "q": "my soundbar hums", "device_type": "over_ear_headphones", "symptom": "humming_subwoofer"},
            {"id": 3, "q": "router keeps dropping wifi"},
            {"id": 4, "q": "hello there"}]
    out, rep = tag_records(recs, text_field="q", lexicons=LEX)
    assert out[2]["device_type"] == "wifi_router" and out[2]["tag_source"] == {"device_type": "lexicon"}
    assert out[3]["device_type"] is None and rep["device_type"]["untagged"] == 1
    assert rep["device_type"]["compared"] == 2 and rep["device_type"]["accuracy"] == 0.5
    assert rep["device_type"]["top_confusions"] == {"over_ear_headphones->soundbar": 1}
    assert out[0]["symptom_category"] == "pairing" and rep["symptom_category"]["compared"] == 2
    assert recs[2].get("device_type") is None  # inputs untouched
