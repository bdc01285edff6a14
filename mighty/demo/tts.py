"""Text to speech read-back with Debian espeak-ng (WAV bytes, no files left behind)."""
from __future__ import annotations

import re
import shutil
import subprocess


class TtsUnavailable(RuntimeError):
    pass


def espeak_path() -> str:
    path = shutil.which("espeak-ng")
    if path is None:
        raise TtsUnavailable("espeak-ng is not installed (apt-get install -y espeak-ng; "
                             "`make setup` does it)")
    return path


def speakable(text: str) -> str:
    """Numbered steps read well as 'Step 1. ...'; markdown symbols are dropped."""
    text = re.sub(r"(?m)^\s*(\d{1,2})[.)]\s+", r"Step \1. ", text)
    return re.sub(r"[*_#`>]+", " ", text).strip()


def synthesize(text: str, *, voice: str = "en-us", wpm: int = 165, timeout_s: float = 30.0) -> bytes:
    """WAV bytes (RIFF, 16-bit mono 22.05 kHz)."""
    # Text goes through stdin, so nothing the user typed becomes a command-line argument.
    proc = subprocess.run([espeak_path(), "-v", voice, "-s", str(wpm), "--stdout"],
                          input=speakable(text).encode(), capture_output=True, timeout=timeout_s)
    if proc.returncode != 0 or not proc.stdout.startswith(b"RIFF"):
        raise RuntimeError(f"espeak-ng failed (rc={proc.returncode}): "
                           f"{proc.stderr.decode(errors='replace')[:300]}")
    return fix_wav_sizes(proc.stdout)


def fix_wav_sizes(wav: bytes) -> bytes:
    """espeak-ng writing to a pipe cannot seek back, so its RIFF/data sizes are 0xFFFFFFFF
    placeholders. Patch them so every player and `wave` module accepts the file."""
    import struct

    b = bytearray(wav)
    if b[:4] != b"RIFF":
        return wav
    b[4:8] = struct.pack("<I", len(b) - 8)
    i = 12
    while i + 8 <= len(b):
        cid, size = bytes(b[i:i + 4]), struct.unpack("<I", b[i + 4:i + 8])[0]
        if cid == b"data":
            b[i + 4:i + 8] = struct.pack("<I", len(b) - i - 8)
            break
        i += 8 + size
    return bytes(b)
