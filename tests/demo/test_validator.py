"""demo.validator: step parsing and each check, on hand-written answers."""
from mighty.demo.config import DEFAULT_UNSAFE_PHRASES
from mighty.demo.validator import expects_steps, parse_steps, validate

GOOD = """Try these steps:
1. Turn Bluetooth off and on again on your phone.
2) Hold the power button for 7 seconds until the light flashes blue.
   Keep the headphones close to the phone.
Step 3: Select the headphones in the Bluetooth list.

If that fails, contact support."""


def check(answer, q="my bluetooth headphones will not pair", **kw):
    return validate(answer, question=q, unsafe_phrases=DEFAULT_UNSAFE_PHRASES, **kw)


def test_parse_steps_formats_and_continuations():
    assert parse_steps(GOOD) == [
        "Turn Bluetooth off and on again on your phone.",
        "Hold the power button for 7 seconds until the light flashes blue. Keep the headphones "
        "close to the phone.",
        "Select the headphones in the Bluetooth list."]
    assert parse_steps("no steps here\n- a bullet") == []


def test_good_answer_passes():
    v = check(GOOD)
    assert v.ok and v.failures == () and len(v.steps) == 3


def test_empty_and_short():
    assert check("   ").failures == ("empty",)
    assert "too_short" in check("Reset.").failures


def test_missing_steps_when_troubleshooting():
    v = check("You should probably reset the headphones and try again later, it usually works.")
    assert not v.ok and v.failures == ("no_steps",)


def test_steps_not_required_for_non_troubleshooting_or_escalation():
    assert expects_steps("my speaker won't turn on")
    assert not expects_steps("what is the capital of France")
    assert check("I can only help with device problems.", q="what is the capital of France").ok
    assert check("Stop using it now, unplug it and contact support.", escalation=True).ok


def test_unsafe_advice_fails():
    v = check(GOOD + "\n4. Puncture the battery to release the gas.")
    assert not v.ok and v.failures == ("unsafe:puncture the battery",)
    # kb entries add device-specific phrases; matching ignores case and spacing
    v = validate(GOOD, question="q", unsafe_phrases=["Flashes   BLUE"])
    assert v.failures == ("unsafe:flashes blue",)
