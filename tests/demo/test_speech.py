"""Real faster-whisper tiny.en on a real espeak-ng WAV; espeak-ng read-back; upload limits."""
import io
import subprocess
import wave

import pytest

from mighty.demo.stt import AudioError, Transcriber
from mighty.demo.tts import synthesize


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


def flac_silence(seconds: int, rate: int = 8000) -> bytes:
    import av
    import numpy as np

    out = io.BytesIO()
    with av.open(out, "w", format="flac") as c:
        stream = c.add_stream("flac", rate=rate, layout="mono")
        minute = np.zeros((1, rate * 60), np.int16)
        for _ in range(seconds // 60):
            frame = av.AudioFrame.from_ndarray(minute, format="s16", layout="mono")
            frame.sample_rate = rate
            for p in stream.encode(frame):
                c.mux(p)
        for p in stream.encode(None):
            c.mux(p)
    return out.getvalue()


def test_long_compressed_silence_is_refused_before_it_is_decoded(stt):
    # One hour of FLAC silence is ~0.66 MB, under the byte cap; decoded whole at 16 kHz it
    # would be 115 MB of s16 plus 230 MB of float32. Decoding must stop at max_seconds (10 s).
    import tracemalloc

    clip = flac_silence(3600)
    assert len(clip) < stt.max_bytes
    tracemalloc.start()
    with pytest.raises(AudioError) as e:
        stt.decode(clip)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert (e.value.code, e.value.status) == ("audio_too_long", 413)
    assert peak < 20e6, f"decoding held {peak / 1e6:.0f} MB: the clip was decoded past the limit"


def test_bounded_decode_keeps_a_clip_under_the_limit_whole(stt, speech_wav):
    from faster_whisper.audio import decode_audio

    ours = stt.decode(speech_wav.read_bytes())
    theirs = decode_audio(str(speech_wav), sampling_rate=16000)
    assert ours.dtype == theirs.dtype and ours.shape == theirs.shape
    assert abs(ours - theirs).max() == 0


def test_tts_wav_is_valid_and_intelligible(stt):
    wav = synthesize("1. Turn on Bluetooth.\n2. Hold the power button.")
    with wave.open(io.BytesIO(wav)) as w:  # sizes patched: the wave module accepts it
        assert w.getnchannels() == 1 and w.getnframes() / w.getframerate() > 1.5
    text = stt.transcribe(wav).text.lower()
    assert "step" in text and "bluetooth" in text and "power" in text
