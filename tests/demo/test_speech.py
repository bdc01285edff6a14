"""Real faster-whisper tiny.en on a real espeak-ng WAV; espeak-ng read-back; upload limits."""
import io
import subprocess
import wave

import pytest

from demo.stt import AudioError, Transcriber
from demo.tts import synthesize


@pytest.fixture(scope="module")
def stt():
    return Transcriber(lexicon=["Bluetooth", "headphones", "AirPods"], max_bytes=1_000_000,
                       max_seconds=10)


def test_transcribes_espeak_question(stt, speech_wav):
    t = stt.transcribe(speech_wav.read_bytes())
    words = t.text.lower()
    for w in ("my", "bluetooth", "headphones", "will", "not", "pair"):
        assert w in words, t
    assert 2.0 < t.duration_s < 5.0 and t.language == "en"


def test_decodes_ogg_opus(stt, speech_wav, tmp_path):
    # MediaRecorder sends webm/ogg opus; PyAV (inside faster-whisper) must decode it.
    import av

    out = io.BytesIO()
    with av.open(str(speech_wav)) as src, av.open(out, "w", format="ogg") as dst:
        stream = dst.add_stream("libopus", rate=48000)
        resampler = av.AudioResampler(format="s16", layout="mono", rate=48000)
        for frame in src.decode(audio=0):
            for f in resampler.resample(frame):
                for p in stream.encode(f):
                    dst.mux(p)
        for p in stream.encode(None):
            dst.mux(p)
    assert "bluetooth" in stt.transcribe(out.getvalue()).text.lower()


def test_limits(stt, speech_wav):
    with pytest.raises(AudioError) as e:
        stt.transcribe(b"")
    assert (e.value.code, e.value.status) == ("empty_audio", 400)
    with pytest.raises(AudioError) as e:
        stt.transcribe(b"\x00" * 1_000_001)
    assert (e.value.code, e.value.status) == ("audio_too_large", 413)
    with pytest.raises(AudioError) as e:
        stt.transcribe(b"this is not audio" * 100)
    assert (e.value.code, e.value.status) == ("bad_audio", 415)
    # 12 s of audio (under the byte limit at 16 kHz mono) is over the 10 s limit
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1), w.setsampwidth(2), w.setframerate(16000)
        w.writeframes(b"\x00\x00" * 16000 * 12)
    with pytest.raises(AudioError) as e:
        stt.transcribe(buf.getvalue())
    assert (e.value.code, e.value.status) == ("audio_too_long", 413)


def test_tts_wav_is_valid_and_intelligible(stt):
    wav = synthesize("1. Turn on Bluetooth.\n2. Hold the power button.")
    with wave.open(io.BytesIO(wav)) as w:  # sizes patched: the wave module accepts it
        assert w.getnchannels() == 1 and w.getnframes() / w.getframerate() > 1.5
    text = stt.transcribe(wav).text.lower()
    assert "step" in text and "bluetooth" in text and "power" in text
