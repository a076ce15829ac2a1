"""Render the sample digest in headless Chromium, at 1024 and 375 pixels wide.

    python docs/screenshots.py [--out docs]

Runs `monitor` on the bundled sample feeds in a temporary folder, writes the
pending digest's HTML with ``monitor digest --preview``, and has Chromium
(Debian's ``chromium`` and ``fonts-noto-cjk`` packages) take screenshots,
light and dark, so a person can check how the email looks; one more with
small limits shows the headline list and the counts of what was left out. The PNGs in docs/
were made this way.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VIEWS = [("digest-1024.png", 1024, 1000, False), ("digest-375.png", 375, 1500, False),
         ("digest-375-dark.png", 375, 1500, True)]  # fmt: skip
# The same samples with small limits, to show what a busy day's digest does: the
# headlines after the first two without summaries, related entries and headlines
# over the limits named in counts.
CAPPED = "max_stories = 3\nmax_summaries = 2\nmax_related = 0\n"
CAPPED_VIEW = ("digest-1024-capped.png", 1024, 760, False)


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if path := shutil.which(name):
            return path
    sys.exit("screenshots: Chromium not found (apt-get install chromium)")


def main() -> None:
    parser = argparse.ArgumentParser(description="Screenshots of the sample digest.")
    parser.add_argument("--out", default=str(ROOT / "docs"), help="folder for the PNG files")
    args = parser.parse_args()
    browser = chromium()
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        shutil.copy(ROOT / "config.example.toml", work)
        shutil.copytree(ROOT / "monitor" / "samples", work / "monitor" / "samples")
        monitor = [sys.executable, "-m", "monitor"]
        config = ["--config", str(work / "config.example.toml")]
        subprocess.run([*monitor, "run", "--no-digest", *config], check=True, cwd=ROOT)
        preview = work / "digest.html"
        subprocess.run(
            [*monitor, "digest", *config, "--preview", str(preview)], check=True, cwd=ROOT
        )
        text = (work / "config.example.toml").read_text(encoding="utf-8")
        (work / "capped.toml").write_text(text.replace("[digest]\n", f"[digest]\n{CAPPED}", 1))
        capped = work / "capped.html"
        subprocess.run(
            [*monitor, "digest", "--config", str(work / "capped.toml"), "--preview", str(capped)],
            check=True,
            cwd=ROOT,
        )
        views = [(view, preview) for view in VIEWS] + [(CAPPED_VIEW, capped)]
        for (name, width, height, dark), page in views:
            command = [
                browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                "--no-first-run", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", f"--user-data-dir={work / 'profile'}", "--hide-scrollbars",
                f"--window-size={width},{height}", f"--screenshot={Path(args.out) / name}",
            ]  # fmt: skip
            if dark:
                command.append("--force-dark-mode")
                command.append("--blink-settings=preferredColorScheme=0")
            subprocess.run([*command, page.as_uri()], check=True, capture_output=True)
            print(f"wrote {Path(args.out) / name}")


if __name__ == "__main__":
    main()
