"""Every shipped models config composes, and the generate app runs end to end on the tiny model."""
import subprocess
import sys
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("model", ["smollm2_135m", "tiny"])
def test_generate_config_composes(model):
    with initialize_config_dir(config_dir=str(ROOT / "mighty" / "conf"), version_base="1.3"):
        cfg = compose("generate", overrides=[f"model={model}", "prompt=hello"])
    assert cfg.prompt == "hello" and cfg.model.source in ("smollm2-135m-instruct", "random")


def test_generate_app_runs_on_tiny_model():
    proc = subprocess.run(
        [sys.executable, "-m", "mighty.experiments.generate", "model=tiny", "prompt=my speaker hums",
         "max_new_tokens=6", "temperature=0.7", "top_k=20"],
        cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "w" in proc.stdout and "tokens in" in proc.stdout


def test_stream_printer_decodes_incrementally():
    import io

    import numpy as np

    from mighty.experiments.generate import StreamPrinter

    class Tok:
        def decode(self, ids):
            return "".join({5: "Re", 6: "set", 7: " it"}[i] for i in ids)

    out = io.StringIO()
    printer = StreamPrinter(Tok(), out)
    for step, t in enumerate([5, 6, 7]):
        printer(step, np.array([t]), np.array([True]))
    printer(3, np.array([0]), np.array([False]))  # after EOS: nothing printed
    assert out.getvalue() == "Reset it"
