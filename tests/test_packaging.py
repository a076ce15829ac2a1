"""The wheel carries what an installed monitor needs: templates and sample feeds."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

from conftest import ROOT


def test_wheel_ships_templates_and_samples(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(ROOT)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (wheel,) = tmp_path.glob("monitor-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {"monitor/templates/digest.html.j2", "monitor/templates/digest.txt.j2"} <= names
    assert "monitor/samples/dw.xml" in names
    assert any(name.endswith("entry_points.txt") for name in names)
