"""`flask audit-kit record`: follow the demo guide in Chromium and film it.

A real screen recording: Chromium's DevTools screencast sends a JPEG whenever the tab's picture
changes; the frames go through a pipe into the ffmpeg that imageio-ffmpeg installs, repeated as
needed (by their timestamps) to make a constant-rate H.264 MP4, 1280×720. The recording shows a
cursor that glides to each element before it is used, a caption bar per step, each required
tooltip held on screen, TikTok's authorization tab and the way back, the live status until the
post is published, and the post (or the creator's profile) opened on TikTok.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import queue
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

from webapp.auditkit.guide import Step, steps
from webapp.auditkit.walk import Show, shown_tooltips, walk

WIDTH, HEIGHT = 1280, 720
FPS = 15
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"]
# Pace, so a person can follow: read the caption, watch the pointer travel, see the result.
# The waits alone come to about a minute for the guide's 24 steps; pages, the worker and
# TikTok add the rest (90–130 s measured).
READ_MS = 600
GLIDE_MS = 600
RESULT_MS = 1000
HOVER_MS = 2000  # each required tooltip stays on screen at least this long (≥ 1.5 s)
TYPING_DELAY_MS = 45
CAPTION_BAR_PX = 76  # the caption bar's height; what the pointer goes to stays above it

# Drawn in every page of the recording's browser (the context bypasses the CSP): an arrow that
# follows the real mouse events, and the caption bar. Both ignore the pointer. Their state is
# kept in window.__rec*, which the recorder sets in the page and, for pages still to load, in
# later init scripts (these run in order, so the last one wins).
OVERLAY_JS = r"""(() => {
  const ARROW = '<svg xmlns="http://www.w3.org/2000/svg" width="28" height="28" ' +
    'viewBox="0 0 28 28">' +
    '<path d="M3 2 L3 23 L8.6 17.6 L12.4 26 L16.2 24.3 L12.5 16 L20 16 Z" fill="#111" ' +
    'stroke="#fff" stroke-width="1.6" stroke-linejoin="round"/></svg>';
  // A modal <dialog> is drawn in the top layer, above any z-index: while one is open, the
  // cursor and the caption bar move into it so they stay on top.
  function host() {
    return document.querySelector('dialog:modal') || document.body;
  }
  function place() {
    const cursor = document.getElementById('rec-cursor');
    const top = host();
    if (cursor && cursor.parentNode !== top) {
      top.append(document.getElementById('rec-caption'), cursor);
    }
  }
  function install() {
    if (!document.body || document.getElementById('rec-cursor')) return;
    const cursor = document.createElement('div');
    cursor.id = 'rec-cursor';
    cursor.innerHTML = ARROW;
    cursor.style.cssText = 'position:fixed;z-index:2147483647;pointer-events:none;width:28px;' +
      'height:28px;margin:-2px 0 0 -3px;transition:transform .12s;' +
      'filter:drop-shadow(0 1px 2px rgba(0,0,0,.45));';
    const at = window.__recCursor || [-100, -100];
    cursor.style.left = at[0] + 'px';
    cursor.style.top = at[1] + 'px';
    const bar = document.createElement('div');
    bar.id = 'rec-caption';
    bar.style.cssText = 'position:fixed;left:0;right:0;bottom:0;z-index:2147483646;' +
      'pointer-events:none;box-sizing:border-box;height:CAPTION_PXpx;padding:10px 22px;' +
      'background:#101218;color:#fff;font:600 19px/1.35 system-ui,sans-serif;';
    bar.innerHTML = '<div class="rec-action"></div><div class="rec-point" ' +
      'style="font-weight:400;font-size:15px;opacity:.85;margin-top:3px"></div>';
    // The reviewer's Guide panel would repeat the caption bar (and stays on the step where the
    // reviewer last moved it): hide it in the film. A blurred dialog backdrop takes Chromium
    // without a GPU ~0.3 s a frame: keep the dimming, drop the blur. Room below the page, so
    // its last button can scroll above the caption bar.
    const style = document.createElement('style');
    style.textContent = '.guide-panel{display:none!important}' +
      'html{padding-bottom:CAPTION_PXpx!important}' +
      'dialog{backdrop-filter:none!important;-webkit-backdrop-filter:none!important}';
    document.head.append(style);
    document.body.append(bar, cursor);
    window.__recShow();
    place();
    setInterval(place, 100);
  }
  window.__recShow = function () {
    const bar = document.getElementById('rec-caption');
    if (!bar) return;
    const caption = window.__recCaption || ['', ''];
    bar.querySelector('.rec-action').textContent = caption[0];
    bar.querySelector('.rec-point').textContent = caption[1];
    bar.style.display = caption[0] ? 'block' : 'none';
  };
  document.addEventListener('mousemove', (event) => {
    window.__recCursor = [event.clientX, event.clientY];
    place();
    const cursor = document.getElementById('rec-cursor');
    if (cursor) {
      cursor.style.left = event.clientX + 'px';
      cursor.style.top = event.clientY + 'px';
    }
  }, true);
  document.addEventListener('mousedown', () => {
    const cursor = document.getElementById('rec-cursor');
    if (cursor) cursor.style.transform = 'scale(.8)';
  }, true);
  document.addEventListener('mouseup', () => {
    const cursor = document.getElementById('rec-cursor');
    if (cursor) cursor.style.transform = '';
  }, true);
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', install);
  else install();
})();""".replace("CAPTION_PX", str(CAPTION_BAR_PX))
SET_CAPTION_JS = (
    "(_, caption) => { window.__recCaption = caption; window.__recShow && window.__recShow(); }"
)
# Put what the pointer goes to in the middle of the view: never under the caption bar.
CENTRE_JS = "(el) => el.scrollIntoView({block: 'center', inline: 'nearest'})"


class RecordError(Exception):
    """The recording could not be made; the message is one line for the operator."""


def chromium_path() -> str:
    """Return Debian's Chromium (or CHROMIUM_PATH), or raise RecordError."""
    path = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
    if not os.path.isfile(path):
        raise RecordError(f"no Chromium at {path} (apt-get install chromium, or set CHROMIUM_PATH)")
    return path


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


class Encoder:
    """ffmpeg reading JPEG frames on a pipe and writing a constant-rate H.264 MP4.

    Frames are handed over at once and written by a thread, so a busy ffmpeg never holds up
    the browser (which would slow the film down).
    """

    def __init__(self, out: Path, fps: int = FPS):
        import imageio_ffmpeg

        self.out = out
        self.dt = 1 / fps
        self.start: float | None = None  # timestamp of the first frame: the video's 0 s
        self.next_tick = 0.0
        self.last: bytes | None = None
        self.written = 0
        self.failure = ""
        self.queue: queue.Queue = queue.Queue()
        self.log = tempfile.TemporaryFile()  # noqa: SIM115 - ffmpeg's stderr, read at the end
        self.process = subprocess.Popen(
            [
                imageio_ffmpeg.get_ffmpeg_exe(),
                "-y",
                "-loglevel",
                "error",
                "-f",
                "image2pipe",
                "-c:v",
                "mjpeg",
                "-framerate",
                str(fps),
                "-i",
                "-",
                "-vf",
                f"scale={WIDTH}:{HEIGHT}:force_original_aspect_ratio=decrease,"
                f"pad={WIDTH}:{HEIGHT}:(ow-iw)/2:(oh-ih)/2:white,scale=out_range=tv,format=yuv420p",
                "-c:v",
                "libx264",
                "-preset",
                "veryfast",
                "-crf",
                "27",
                "-pix_fmt",
                "yuv420p",
                "-r",
                str(fps),
                "-movflags",
                "+faststart",
                str(out),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=self.log,
        )
        self.writer = threading.Thread(target=self._write, name="recording-encoder", daemon=True)
        self.writer.start()

    def at(self, timestamp: float) -> float:
        """Return the video time (seconds) of a wall-clock timestamp."""
        return 0.0 if self.start is None else timestamp - self.start

    def frame(self, jpeg: bytes, timestamp: float) -> None:
        """Take a frame shown from timestamp on."""
        if self.start is None:
            self.start = timestamp
        self.queue.put((jpeg, timestamp))

    def _write(self) -> None:
        while True:
            item = self.queue.get()
            jpeg, timestamp = item if item is not None else (None, self.until)
            if self.start is not None and self.next_tick == 0.0:
                self.next_tick = self.start
            # Every tick shows the latest frame taken before it: a still page repeats its frame.
            while self.last is not None and self.next_tick <= timestamp and not self.failure:
                try:
                    self.process.stdin.write(self.last)
                except (BrokenPipeError, OSError) as exc:
                    self.failure = self._error() or str(exc)
                self.written += 1
                self.next_tick += self.dt
            if item is None:
                return
            self.last = jpeg

    def _error(self) -> str:
        self.log.seek(0)
        return self.log.read().decode(errors="replace").strip()[-300:].replace("\n", " ")

    def close(self, until: float) -> None:
        """Write the last frame up to until, then finish the file."""
        self.until = until
        self.queue.put(None)
        self.writer.join(300)
        with contextlib.suppress(OSError):
            self.process.stdin.close()
        code = self.process.wait(300)
        if self.failure or code != 0 or self.written == 0:
            problem = self.failure or self._error() or "no frames"
            raise RecordError(f"ffmpeg could not write {self.out}: {problem}")

    def abort(self) -> None:
        """Stop ffmpeg and remove the unfinished file."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)
        self.until = 0.0
        self.queue.put(None)
        self.writer.join(10)
        self.out.unlink(missing_ok=True)


class Screencast:
    """Chromium's screencast of one tab at a time, fed to an Encoder."""

    def __init__(self, encoder: Encoder):
        self.encoder = encoder
        self.session = None
        self.page = None

    def watch(self, page) -> None:
        """Film page from now on (and stop filming the tab before)."""
        if page is self.page:
            return
        self.stop()
        page.bring_to_front()
        session = page.context.new_cdp_session(page)

        def on_frame(params: dict) -> None:
            taken = params.get("metadata", {}).get("timestamp") or time.time()
            self.encoder.frame(base64.b64decode(params["data"]), taken)
            session.send("Page.screencastFrameAck", {"sessionId": params["sessionId"]})

        session.on("Page.screencastFrame", on_frame)
        session.send(
            "Page.startScreencast",
            {"format": "jpeg", "quality": 80, "maxWidth": WIDTH, "maxHeight": HEIGHT},
        )
        self.session, self.page = session, page

    def stop(self) -> None:
        """Stop filming the current tab."""
        if self.session is None:
            return
        from playwright.sync_api import Error as PlaywrightError

        # The tab may be closed already: nothing to stop then.
        with contextlib.suppress(PlaywrightError):
            self.session.send("Page.stopScreencast")
            self.session.detach()
        self.session = self.page = None


class Recording(Show):
    """The walk's show for a recording: captions, the pointer gliding, pauses, tab switches."""

    typing_delay_ms = TYPING_DELAY_MS

    def __init__(self, screencast: Screencast, progress: Callable[[str], None]):
        self.screencast = screencast
        self.progress = progress
        self.encoder = screencast.encoder
        self.cursor: dict[int, tuple[float, float]] = {}  # per tab: where the mouse is
        self.caption = ["", ""]
        self.steps: list[dict] = []
        self.hovers: list[dict] = []

    def now(self) -> float:
        """Return the current video time in seconds."""
        return round(self.encoder.at(time.time()), 3)

    def _caption(self, page) -> None:
        page.context.add_init_script(f"window.__recCaption = {json.dumps(self.caption)};")
        page.locator("html").evaluate(SET_CAPTION_JS, self.caption)

    def begin(self, number: int, total: int, step: Step, page) -> None:
        """Caption the step on screen and in the progress lines."""
        if self.encoder.failure:  # stop at once rather than film the rest for nothing
            raise RecordError(f"ffmpeg stopped taking frames: {self.encoder.failure}")
        if self.steps:
            self.steps[-1]["to"] = self.now()
        self.caption = [
            f"Step {number}/{total}: {step.action}",
            f"Guideline point {step.point}" if step.point else "",
        ]
        self.screencast.watch(page)
        self._caption(page)
        self.steps.append({"number": number, "action": step.action, "from": self.now()})
        self.progress(f"[{number}/{total}] {step.action}")
        page.wait_for_timeout(READ_MS)

    def point(self, page, target) -> None:
        """Glide the mouse (and the drawn arrow) to the middle of target."""
        target.first.evaluate(CENTRE_JS)
        box = target.first.bounding_box()
        if box is None:
            return
        x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        y = min(y, HEIGHT - CAPTION_BAR_PX - 12)
        x0, y0 = self.cursor.get(id(page), (WIDTH * 0.6, HEIGHT * 0.45))
        moves = max(8, GLIDE_MS // 30)
        for i in range(1, moves + 1):
            t = i / moves
            ease = t * t * (3 - 2 * t)
            page.mouse.move(x0 + (x - x0) * ease, y0 + (y - y0) * ease)
            page.wait_for_timeout(GLIDE_MS / moves)
        self.cursor[id(page)] = (x, y)
        page.context.add_init_script(f"window.__recCursor = [{x:.0f}, {y:.0f}];")

    def switch(self, page) -> None:
        """Film another tab, with the step's caption on it."""
        self.screencast.watch(page)
        from playwright.sync_api import Error as PlaywrightError

        # A tab still loading gets the caption from the init script instead.
        with contextlib.suppress(PlaywrightError):
            self._caption(page)
        if id(page) not in self.cursor:
            # A new tab: the pointer enters it where it was in the tab before.
            previous = list(self.cursor.values())[-1] if self.cursor else (WIDTH / 2, HEIGHT / 2)
            page.mouse.move(*previous)
            self.cursor[id(page)] = previous
        page.wait_for_timeout(RESULT_MS // 2)

    def hover_shown(self, number: int, step: Step, page) -> None:
        """Hold the tooltip on screen, checking the page all along that it is shown."""
        start = self.now()
        checks = []
        deadline = time.monotonic() + HOVER_MS / 1000
        while True:
            checks.append([self.now(), step.tooltip in shown_tooltips(page)])
            if time.monotonic() >= deadline:
                break
            page.wait_for_timeout(200)
        self.hovers.append(
            {
                "number": number,
                "label": step.label,
                "tooltip": step.tooltip,
                "from": start,
                "to": self.now(),
                "checks": checks,
            }
        )
        self.progress(
            f"    tooltip “{step.tooltip}” on screen {start:.1f}–{self.now():.1f} s "
            f"({sum(ok for _, ok in checks)}/{len(checks)} checks saw it)"
        )

    def pause(self, page) -> None:
        """Leave the result on screen."""
        page.wait_for_timeout(RESULT_MS)


def record(
    out: Path,
    *,
    base_url: str,
    email: str,
    password: str,
    audited: bool = False,
    headless: bool = True,
    log: Path | None = None,
    progress: Callable[[str], None] = print,
) -> Path:
    """Walk the guide at base_url and film it into the MP4 out; return its path.

    log, when given, receives the timeline as JSON: each step's and each tooltip's time range in
    the video, with the page checks made while the tooltip was filmed.
    """
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright

    guide = steps(audited)
    executable = chromium_path()
    if not headless and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        raise RecordError(
            "a browser window needs a display (DISPLAY is not set): run this on a desktop, "
            "under xvfb-run, or with --headless against the sandbox"
        )
    out.parent.mkdir(parents=True, exist_ok=True)
    encoder = Encoder(out)
    screencast = Screencast(encoder)
    show = Recording(screencast, progress)

    def person(step, tab) -> None:
        tab.bring_to_front()
        progress(
            f"[{guide.index(step) + 1}/{len(guide)}] Waiting for you: sign in to TikTok with the "
            "private demo account and authorize in the browser window; the recording goes on "
            "by itself."
        )

    try:
        with sync_playwright() as driver:
            browser = driver.chromium.launch(
                executable_path=executable, headless=headless, args=CHROMIUM_FLAGS
            )
            context = browser.new_context(
                viewport={"width": WIDTH, "height": HEIGHT}, bypass_csp=True
            )
            context.add_init_script(OVERLAY_JS)
            page = context.new_page()
            screencast.watch(page)
            walk(
                page,
                base_url,
                email,
                password,
                audited=audited,
                show=show,
                wait_for_person=None if headless else person,
            )
            show.steps[-1]["to"] = show.now()
            screencast.page.wait_for_timeout(RESULT_MS)
            screencast.stop()
            browser.close()
    except (PlaywrightError, AssertionError) as exc:
        encoder.abort()
        raise RecordError(f"the walk through the guide stopped: {_first_line(exc)}") from None
    except RecordError:
        encoder.abort()
        raise
    encoder.close(time.time())
    seconds = encoder.written / FPS
    if log is not None:
        log.write_text(
            json.dumps(
                {
                    "fps": FPS,
                    "size": [WIDTH, HEIGHT],
                    "seconds": seconds,
                    "steps": show.steps,
                    "hovers": show.hovers,
                },
                indent=1,
            )
        )
    progress(f"wrote {out} ({seconds:.0f} s, {out.stat().st_size / 1e6:.1f} MB)")
    return out
