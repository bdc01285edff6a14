"""The wheel carries every file the package reads: configs, the frozen eval set, the demo UI.

A `pip install` user has no checkout; a data file left out of the wheel fails only there.
"""
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def tracked(*paths: str) -> list[str]:
    return subprocess.run(["git", "ls-files", *paths], cwd=ROOT, capture_output=True, text=True,
                          check=True).stdout.split()


@pytest.mark.slow
def test_the_wheel_holds_every_tracked_package_file_and_nothing_else_at_top_level(tmp_path):
    src = tmp_path / "src"  # a copy of the tracked files: no stale build/ or egg-info of the checkout
    for f in tracked("mighty", "setup.cfg", "pyproject.toml", "README.md"):
        (src / f).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / f, src / f)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
                    "-w", str(tmp_path / "dist"), str(src)], check=True, capture_output=True, timeout=300)
    (wheel,) = (tmp_path / "dist").glob("mighty-*.whl")
    shipped = set(zipfile.ZipFile(wheel).namelist())
    missing = sorted(set(tracked("mighty")) - shipped)
    assert not missing, f"not in the wheel (add them to setup.cfg [options.package_data]): {missing[:10]}"
    top = {n.split("/")[0] for n in shipped if not n.split("/")[0].endswith(".dist-info")}
    assert top == {"mighty"}, f"the wheel installs top-level names besides mighty: {top - {'mighty'}}"
