"""`flask audit-kit record`: follow the demo guide in Chromium and write an MP4 (1280×720) with
a caption per step, built with the ffmpeg that imageio-ffmpeg installs."""

from __future__ import annotations

import os
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

from webapp.auditkit.guide import STEPS
from webapp.auditkit.walk import walk

WIDTH, HEIGHT = 1280, 720
SECONDS_PER_STEP = 2
FPS = 10
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"]
CAPTION_JS = """(text) => {
  let bar = document.getElementById('cadence-caption');
  if (!bar) {
    bar = document.createElement('div');
    bar.id = 'cadence-caption';
    document.body.appendChild(bar);
  }
  bar.textContent = text;
  bar.style.cssText = 'position:fixed;left:0;right:0;bottom:0;z-index:2147483647;' +
    'background:rgba(0,0,0,.82);color:#fff;font:20px/1.35 sans-serif;padding:12px 18px;';
}"""


class RecordError(Exception):
    """The recording could not be made; the message is one line for the operator."""


def chromium_path() -> str:
    """Return Debian's Chromium (or CHROMIUM_PATH), or raise RecordError."""
    path = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
    if not os.path.isfile(path):
        raise RecordError(f"no Chromium at {path} (apt-get install chromium, or set CHROMIUM_PATH)")
    return path


def record(
    out: Path,
    *,
    base_url: str,
    email: str,
    password: str,
    headless: bool = True,
    progress: Callable[[str], None] = print,
) -> Path:
    """Walk the guide at base_url and write the MP4 to out; return its path."""
    import imageio_ffmpeg
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        frames = Path(tmp)

        def shoot(number, step, shown) -> None:
            shown.evaluate(CAPTION_JS, f"Step {number}/{len(STEPS)}: {step.action}")
            shown.screenshot(path=str(frames / f"step{number:03d}.png"))
            progress(f"[{number}/{len(STEPS)}] {step.action}")

        def person(step, tab) -> None:
            tab.bring_to_front()
            progress(
                f"[{STEPS.index(step) + 1}/{len(STEPS)}] Waiting for you: sign in to TikTok and "
                "authorize in the browser window; the recording goes on by itself."
            )

        try:
            with sync_playwright() as driver:
                browser = driver.chromium.launch(
                    executable_path=chromium_path(), headless=headless, args=CHROMIUM_FLAGS
                )
                context = browser.new_context(
                    viewport={"width": WIDTH, "height": HEIGHT}, bypass_csp=True
                )
                walk(
                    context.new_page(),
                    base_url,
                    email,
                    password,
                    on_step=shoot,
                    wait_for_person=None if headless else person,
                )
                browser.close()
        except PlaywrightError as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise RecordError(f"the walk through the guide stopped: {first}") from None
        out.parent.mkdir(parents=True, exist_ok=True)
        done = subprocess.run(
            [
                imageio_ffmpeg.get_ffmpeg_exe(),
                "-y",
                "-loglevel",
                "error",
                "-framerate",
                f"1/{SECONDS_PER_STEP}",
                "-i",
                str(frames / "step%03d.png"),
                "-vf",
                f"scale={WIDTH}:{HEIGHT},fps={FPS},format=yuv420p",
                "-c:v",
                "libx264",
                "-t",
                str(len(STEPS) * SECONDS_PER_STEP),
                "-movflags",
                "+faststart",
                str(out),
            ],
            capture_output=True,
            text=True,
            timeout=600,
        )
        if done.returncode != 0:
            raise RecordError(f"ffmpeg could not write {out}: {done.stderr.strip()[-200:]}")
    progress(f"wrote {out} ({out.stat().st_size / 1e6:.1f} MB)")
    return out
