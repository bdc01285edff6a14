"""Which device a question names, from the KB's own vocabulary."""
from mighty.data.devices import DeviceVocab, Mention

KB = [{"issue_id": "s.pair.mini", "device_type": "bluetooth_speaker", "model_family": "BoomCube Mini portable speaker"},
      {"issue_id": "s.pair.max", "device_type": "bluetooth_speaker", "model_family": "BoomCube Max IP67 outdoor speaker"},
      {"issue_id": "s.hum.tower", "device_type": "bluetooth_speaker", "model_family": "PartyTower 1000 party speaker"},
      {"issue_id": "h.pair", "device_type": "smart_speaker", "model_family": "HomeEcho Mini smart speaker"},
      {"issue_id": "t.cycle", "device_type": "smart_thermostat", "model_family": "ThermaHome T5 24 V smart thermostat"},
      {"issue_id": "e.case", "device_type": "true_wireless_earbuds", "model_family": "PodPair Air 2-series earbuds"},
      {"issue_id": "w.dongle", "device_type": "wired_headset", "model_family": "OfficeVox USB-A dongle headset"}]


def test_names_device_types_brands_families_and_generic_nouns():
    v = DeviceVocab.from_kb(KB)
    assert v.mention("my bluetooth speaker keeps disconnecting") == Mention(frozenset({"bluetooth_speaker"}))
    # the bare noun is ambiguous between the KB's speakers; "speakerphone" is no speaker
    assert v.mention("the Speakers crackle").types == {"bluetooth_speaker", "smart_speaker"}
    assert not v.mention("the speakerphone echoes")
    assert v.mention("my thermostat clicks").types == {"smart_thermostat"}
    assert v.mention("earbuds won't charge").types == {"true_wireless_earbuds"}
    assert v.mention("my OfficeVox dongle is hot") == Mention(
        frozenset({"wired_headset"}), frozenset({"OfficeVox USB-A dongle headset"}))
    assert v.mention("the partytower hums").families == {"PartyTower 1000 party speaker"}
    # a brand names its device type; brand + model names the family, BoomCube Mini not HomeEcho Mini
    assert v.mention("my BoomCube died") == Mention(frozenset({"bluetooth_speaker"}))
    assert v.mention("boomcube mini died").families == {"BoomCube Mini portable speaker"}
    assert v.mention("HomeEcho Mini will not pair").families == {"HomeEcho Mini smart speaker"}
    assert v.mention("my earbuds won't pair with my smart speaker").types == {"true_wireless_earbuds",
                                                                              "smart_speaker"}
    assert not v.mention("what is the capital of France")


def test_generic_nouns_only_for_device_types_the_kb_has():
    v = DeviceVocab.from_kb(KB[:1])
    assert not v.mention("my router drops wifi")  # no router in this KB
    assert v.mention("my speaker drops").types == {"bluetooth_speaker"}  # smart_speaker not in it
